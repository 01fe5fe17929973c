"""Tune: Optuna studies over the VAE/CVAE hyperparameters, the way the thesis ran them.

One module per concept: :mod:`.space` (``SearchSpace``, the thesis's range
presets, ``TuneConfig``), :mod:`.storage` (opening SQLite / journal /
PostgreSQL storages, named studies, trials of dead workers), :mod:`.study`
(the ``Objective``, ``run_study``, the ``tune_job`` background job),
:mod:`.records` (summaries, trial rows, narrowing the ranges, the best
``TrainConfig``) and :mod:`.plots` (Optuna's own figures).
"""

from synth_core._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("MODELS", "PARAMS", "REQUIRED_PARAMS", "OPTIONAL_PARAMS", "ParamSpec",
                     "SearchSpace", "RANGE_PRESETS", "RangePreset", "presets_for",
                     "fit_latent_range", "parse_ranges", "TuneConfig",
                     "train_config_from_dict"), "space"),
    **dict.fromkeys(("STUDY_ATTR", "CONFIG_ATTR", "WORKER_ATTR", "RETRY_ATTR", "MAX_RETRIES",
                     "storage_label", "is_journal", "resolve_storage_url", "open_storage",
                     "list_studies", "scan_studies", "study_problem", "StudyInfo", "load_study", "unused_study_name", "driver_url",
                     "create_or_load_study", "recover_crashed_trials"), "storage"),
    **dict.fromkeys(("Objective", "TuneResult", "check_data", "fit_to_data", "subsample",
                     "run_study", "tune_job"), "study"),
    **dict.fromkeys(("RangeChange", "RangeProposal", "narrow_ranges", "StudySummary",
                     "study_summary", "trial_rows", "best_train_config", "study_dataset",
                     "study_space", "study_model", "worker_label", "worker_rows"),
                    "records"),
    **dict.fromkeys(("PLOTS", "StudyPlot", "study_figures", "write_plots"), "plots"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
