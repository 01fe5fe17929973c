"""Step 6, Evaluate: numbers that say whether synthetic rows are any good.

* :mod:`.scorecard` – :func:`scorecard` / :func:`run_evaluation`: TSTR/TRTR with an
  MLP, logistic regression and a random forest, precision/recall/density/coverage,
  Frechet distance, detection AUC, copy check, per-feature spread and shape, PSNR,
  each beside real held-out rows and a per-class Gaussian baseline
  (:class:`EvaluateConfig` sets the options).
* :mod:`.metrics` – the metrics as pure functions on arrays.
* :mod:`.classifiers` – the seeded classifiers and real-vs-synthetic detectors.
* :mod:`.holdout` – real train/test splits and the leakage check that refuses a
  synthetic set whose generator saw a test row.
* :mod:`.report` – the :class:`Scorecard` record, its JSON/CSV and report files.
* :mod:`.augmentation` – the tabular study's augmentation benchmark.
"""

from synth_core._lazy import lazy_exports

_EXPORTS = {
    "EvaluateConfig": "scorecard", "scorecard": "scorecard", "run_evaluation": "scorecard",
    "evaluate_job": "scorecard",
    "Scorecard": "report", "METRICS": "report", "REFERENCE": "report",
    "save_report": "report", "load_report": "report", "reports_dir": "report",
    "prdc": "metrics", "frechet_distance": "metrics", "frechet_distance_frames": "metrics",
    "classifier_two_sample_test": "metrics", "copy_check": "metrics", "psnr": "metrics",
    "feature_agreement": "metrics",
    "classifier_utility": "classifiers", "make_classifier": "classifiers",
    "CLASSIFIERS": "classifiers", "DETECTORS": "classifiers",
    "split_real": "holdout", "stratified_split": "holdout", "check_leakage": "holdout",
    "parse_ints": "holdout",
    "AugmentConfig": "augmentation", "augment_benchmark": "augmentation",
    "augment_job": "augmentation",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
