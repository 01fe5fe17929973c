"""Steps 2 and 3, Train and Tune: fitting models and searching their settings.

The trainer (:mod:`.trainer`: ``TrainConfig``, presets, ``train_model``), run
folders that describe and reload themselves (:mod:`.runs`: ``Run``), Optuna
studies with pruning and range narrowing (:mod:`.tuning`), and the
optuna-dashboard process over the same storage (:mod:`.dashboard`).
"""

from synth_core._lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "trainer", "PRESETS": "trainer", "train_model": "trainer",
    "new_run_dir": "trainer", "Run": "runs", "run_summaries": "runs",
    "TuneConfig": "tuning.space", "SearchSpace": "tuning.space", "run_study": "tuning.study",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
