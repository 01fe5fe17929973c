"""Numbers for synthetic data: utility, fidelity, diversity, detection, copying.

Each metric is a small pure function on arrays or :class:`FeatureSet` s that
returns a small dataclass (compute-then-draw: the page and the CLI only render
these records):

* :func:`classifier_utility` – train a seeded scikit-learn classifier (MLP or
  logistic regression) on one set and test it on real rows: accuracy, macro-F1
  (with bootstrap 95 % intervals), the full classification report and the
  confusion matrix. Trained on synthetic rows this is TSTR, on real rows TRTR,
  on both the augmentation check.
* :func:`prdc` – precision, recall, density and coverage with k nearest
  neighbours (Naeem et al. 2020, "Reliable fidelity and diversity metrics").
* :func:`frechet_distance` – Frechet distance between Gaussians fitted to the
  real and synthetic rows; :func:`frechet_distance_frames` does it per VGGish
  frame (rows reshaped to ``feature_shape`` [frames, 128]) as in the Frechet
  Audio Distance.
* :func:`classifier_two_sample_test` – cross-validated AUC of a classifier told
  to separate real from synthetic rows; 0.5 means indistinguishable.
* :func:`copy_check` – distance from each synthetic row to its nearest real
  training row against the real-to-real nearest-neighbour distances; rows
  closer than nearly all real pairs are flagged as near-copies.
* :func:`psnr` – peak signal-to-noise ratio of reconstructions (images).

:func:`scorecard` runs them all for one real training set, one real test set
and any number of synthetic sets, next to a reference set ("real held-out":
real test rows scored the same way, i.e. what a perfect generator would get).
The :class:`Scorecard` turns into JSON (:meth:`Scorecard.to_dict`) and CSV rows
(:meth:`Scorecard.to_rows`). :func:`evaluate_job` is the background-job entry
point (``jobs.JOB_KINDS``); the augmentation benchmark's is ``augment.augment_job``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import logging
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.events import Callback, Log, Progress, emit
from synth_core.features import FeatureSet, array_digest
from synth_core.workspace import atomic_write_bytes, atomic_write_json, read_json, safe_name

logger = logging.getLogger(__name__)

REFERENCE = "real held-out"  # name of the reference set in a scorecard
_EPS = 1e-12


# --------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class MetricInfo:
    """How to read one metric: display label, group, range and the one-line meaning."""

    label: str
    group: str  # utility, fidelity, diversity, detection, copying, images
    scale: str  # range and direction, e.g. "0 to 1, higher is better"
    meaning: str


METRICS: dict[str, MetricInfo] = {
    "tstr_accuracy": MetricInfo(
        "Train synthetic, test real: accuracy", "utility", "0 to 1, higher is better",
        "A classifier trained only on this set, scored on real test rows; the reference "
        "column is train-on-real (TRTR)."),
    "tstr_macro_f1": MetricInfo(
        "Train synthetic, test real: macro-F1", "utility", "0 to 1, higher is better",
        "F1 averaged over classes with equal weight, so rare classes count as much as common "
        "ones."),
    "augmented_accuracy": MetricInfo(
        "Real + synthetic, test real: accuracy", "utility", "0 to 1, higher is better",
        "Adding this set to the real training rows; above the reference means the synthetic "
        "rows help."),
    "augmented_macro_f1": MetricInfo(
        "Real + synthetic, test real: macro-F1", "utility", "0 to 1, higher is better",
        "Macro-F1 of real + synthetic training against real training alone (reference)."),
    "precision": MetricInfo(
        "Precision", "fidelity", "0 to 1, higher is better",
        "Share of synthetic rows that fall inside the real data's k-NN balls: are they "
        "realistic?"),
    "density": MetricInfo(
        "Density", "fidelity", "0 and up, about 1 for real data",
        "How many real k-NN balls hold each synthetic row, over k; well above 1 means "
        "samples crowd the dense real regions."),
    "recall": MetricInfo(
        "Recall", "diversity", "0 to 1, higher is better",
        "Share of real rows inside the synthetic k-NN balls: does the set reach all of the "
        "real variety?"),
    "coverage": MetricInfo(
        "Coverage", "diversity", "0 to 1, higher is better",
        "Share of real rows whose k-NN ball holds at least one synthetic row; robust to "
        "outliers, unlike recall."),
    "frechet": MetricInfo(
        "Frechet distance", "fidelity", "0 and up, lower is better",
        "Distance between Gaussians fitted to real and synthetic rows (as FID/FAD); depends "
        "on the number of rows, so compare sets of equal size."),
    "frechet_frames": MetricInfo(
        "Frechet distance per frame", "fidelity", "0 and up, lower is better",
        "The same on single frames (rows reshaped to feature_shape), as in the Frechet "
        "Audio Distance on VGGish frames."),
    "detection_auc": MetricInfo(
        "Real-vs-synthetic AUC", "detection", "0.5 is best, 1 means fully separable",
        "Cross-validated AUC of a classifier trying to tell synthetic from real rows; 0.5 "
        "means it cannot."),
    "copy_fraction": MetricInfo(
        "Near-copies", "copying", "0 to 1, about the reference is expected",
        "Share of rows closer to a training row than 99 % of real rows are to each other; "
        "well above the reference means memorised training rows."),
    "nn_distance_ratio": MetricInfo(
        "Distance to training / real-to-real", "copying", "about 1 is expected, near 0 is "
        "copying", "Median distance to the nearest training row over the median real-to-real "
        "nearest distance."),
    "psnr": MetricInfo(
        "Reconstruction PSNR (dB)", "images", "higher is better (about 32 dB is good on "
        "MNIST)", "Peak signal-to-noise ratio of the model's reconstructions of real test "
        "images."),
}


# --------------------------------------------------------------------------- results

@dataclass
class ClassifierScore:
    """One classifier trained on one set and tested on the real test rows."""

    set: str
    mode: str  # "trtr" (real), "tstr" (synthetic) or "augmented" (real + synthetic)
    classifier: str
    accuracy: float
    macro_f1: float
    accuracy_ci: tuple[float, float]
    macro_f1_ci: tuple[float, float]
    n_train: int
    n_test: int
    labels: list[int]
    class_names: list[str]
    confusion: list[list[int]]  # [true class, predicted class]
    report: dict[str, Any]      # sklearn classification_report(output_dict=True)
    seconds: float = 0.0


@dataclass(frozen=True)
class PRDC:
    """Precision, recall, density and coverage (Naeem et al. 2020)."""

    precision: float
    recall: float
    density: float
    coverage: float
    k: int
    n_real: int
    n_fake: int


@dataclass(frozen=True)
class Detection:
    """Classifier two-sample test: pooled out-of-fold AUC and the per-fold AUCs."""

    auc: float
    fold_aucs: list[float]
    detector: str
    n_real: int
    n_fake: int


@dataclass
class CopyCheck:
    """Nearest-training-row distances of a set against real-to-real distances."""

    median_distance: float        # synthetic row -> nearest training row
    real_median_distance: float   # training row -> nearest other training row
    threshold: float              # flag rows at or below this distance
    quantile: float               # threshold = this quantile of the real-to-real distances
    n_flagged: int
    fraction_flagged: float
    flagged_rows: list[int]       # first rows flagged (row numbers in the set)
    nearest_train_rows: list[int]  # their nearest training rows

    @property
    def distance_ratio(self) -> float:
        return self.median_distance / max(self.real_median_distance, _EPS)


@dataclass(frozen=True)
class PSNRResult:
    mean_db: float
    median_db: float
    data_range: float
    n_rows: int


@dataclass
class MetricRow:
    """One number of the scorecard with its interval and what it means."""

    set: str
    metric: str            # key of METRICS
    value: float | None
    detail: str = ""       # classifier name for utility metrics
    low: float | None = None
    high: float | None = None
    reference: float | None = None  # the same metric for the reference set

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.metric]

    @property
    def label(self) -> str:
        return self.info.label + (f" [{self.detail}]" if self.detail else "")


@dataclass
class ClassRow:
    """Per-class numbers of one set (None where a class had too few rows)."""

    set: str
    class_index: int
    class_name: str
    n_real: int
    n_synthetic: int
    precision: float | None = None
    recall: float | None = None
    density: float | None = None
    coverage: float | None = None
    frechet: float | None = None
    f1_synthetic: float | None = None  # TSTR F1 of this class (first classifier)
    f1_real: float | None = None       # TRTR F1 of this class


@dataclass(frozen=True)
class EvaluateConfig:
    """Options of :func:`scorecard`; the CLI and the page build one."""

    k: int = 5
    classifiers: tuple[str, ...] = ("mlp", "logreg")
    detector: str = "quadratic"
    n_folds: int = 5
    test_size: float = 0.3
    test_folds: tuple[int, ...] | None = None
    random_state: int = 0
    frechet_frames: bool | None = None  # None: when the data has a 2-D feature_shape and frames
    augmentation: bool = True
    per_class: bool = True
    reference: bool = True
    copy_quantile: float = 0.01
    max_rows: int = 5000  # cap for the k-NN and detection metrics (subsampled, seeded)
    bootstrap: int = 200
    # BLAS threads while scoring: the classifiers multiply small batches, where threads
    # mostly wait on each other (7x slower on a busy 2-core machine); None = library default.
    blas_threads: int | None = 1

    def __post_init__(self) -> None:
        if self.k < 1:
            raise InputError(f"k must be at least 1; got {self.k}; 5 is the usual choice")
        for name in self.classifiers:
            if name not in CLASSIFIERS:
                raise InputError(f"classifier {name!r} is unknown; choose from "
                                 + ", ".join(CLASSIFIERS))
        if self.detector not in DETECTORS:
            raise InputError(f"detector {self.detector!r} is unknown; choose from "
                             + ", ".join(DETECTORS))
        if self.n_folds < 2:
            raise InputError(f"n_folds must be at least 2 for cross-validation; got {self.n_folds}")
        if not 0.0 < self.test_size < 1.0:
            raise InputError(f"test_size must be between 0 and 1; got {self.test_size}; "
                             "0.3 keeps 30 % of the rows for testing")
        if not 0.0 < self.copy_quantile < 0.5:
            raise InputError(f"copy_quantile must be between 0 and 0.5; got {self.copy_quantile}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "EvaluateConfig":
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"evaluation options: unknown {sorted(unknown)}; known options are "
                             + ", ".join(sorted(known)))
        for key in ("classifiers", "test_folds"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)


ROW_COLUMNS = ["section", "set", "group", "metric", "detail", "class", "value", "low", "high",
               "reference", "scale", "meaning"]


@dataclass
class Scorecard:
    """Everything :func:`scorecard` measured; JSON via to_dict, CSV via to_rows."""

    sets: list[str]                   # reference first (when included), then synthetic sets
    metrics: list[MetricRow]
    per_class: list[ClassRow]
    classifiers: list[ClassifierScore]
    copies: dict[str, CopyCheck]
    notes: list[str]
    real: dict[str, Any]              # n_train, n_test, n_features, class_names, split
    config: dict[str, Any]
    seconds: float = 0.0
    created: str = ""

    def metric(self, set_name: str, metric: str, detail: str = "") -> MetricRow | None:
        for row in self.metrics:
            if row.set == set_name and row.metric == metric and row.detail == detail:
                return row
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sets": list(self.sets),
            "metrics": [asdict(r) | {"label": r.label, "group": r.info.group,
                                     "scale": r.info.scale, "meaning": r.info.meaning}
                        for r in self.metrics],
            "per_class": [asdict(r) for r in self.per_class],
            "classifiers": [asdict(c) for c in self.classifiers],
            "copies": {name: asdict(c) | {"distance_ratio": c.distance_ratio}
                       for name, c in self.copies.items()},
            "notes": list(self.notes), "real": dict(self.real), "config": dict(self.config),
            "seconds": self.seconds, "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Scorecard":
        """Rebuild from :meth:`to_dict` output (a saved JSON report)."""

        def _take(klass, row):
            names = {f.name for f in fields(klass)}
            return klass(**{k: v for k, v in row.items() if k in names})

        classifiers = []
        for row in data.get("classifiers", []):
            score = _take(ClassifierScore, row)
            score.accuracy_ci = tuple(score.accuracy_ci)
            score.macro_f1_ci = tuple(score.macro_f1_ci)
            classifiers.append(score)
        return cls(sets=list(data.get("sets", [])),
                   metrics=[_take(MetricRow, r) for r in data.get("metrics", [])],
                   per_class=[_take(ClassRow, r) for r in data.get("per_class", [])],
                   classifiers=classifiers,
                   copies={k: _take(CopyCheck, v) for k, v in data.get("copies", {}).items()},
                   notes=list(data.get("notes", [])), real=dict(data.get("real", {})),
                   config=dict(data.get("config", {})), seconds=float(data.get("seconds", 0.0)),
                   created=str(data.get("created", "")))

    def to_rows(self) -> list[dict[str, Any]]:
        """Long-format rows (columns :data:`ROW_COLUMNS`): overall metrics, then per class."""
        rows = []
        for r in self.metrics:
            rows.append({"section": "overall", "set": r.set, "group": r.info.group,
                         "metric": r.metric, "detail": r.detail, "class": "", "value": r.value,
                         "low": r.low, "high": r.high, "reference": r.reference,
                         "scale": r.info.scale, "meaning": r.info.meaning})
        per_class_metrics = ("n_real", "n_synthetic", "precision", "recall", "density",
                             "coverage", "frechet", "f1_synthetic", "f1_real")
        for c in self.per_class:
            for name in per_class_metrics:
                rows.append({"section": "per_class", "set": c.set, "group": "per_class",
                             "metric": name, "detail": "", "class": c.class_name,
                             "value": getattr(c, name), "low": None, "high": None,
                             "reference": None, "scale": "", "meaning": ""})
        return rows

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=ROW_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.to_rows():
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        return buffer.getvalue()

    def table(self) -> list[dict[str, Any]]:
        """One row per metric, one column per set: what the scorecard shows."""
        order = {key: i for i, key in enumerate(METRICS)}
        keys = sorted({(r.metric, r.detail) for r in self.metrics},
                      key=lambda md: (order[md[0]], md[1]))
        out = []
        for metric, detail in keys:
            info = METRICS[metric]
            row: dict[str, Any] = {"metric": info.label + (f" [{detail}]" if detail else ""),
                                   "group": info.group}
            for name in self.sets:
                found = self.metric(name, metric, detail)
                row[name] = _format_value(found)
            row["range"] = info.scale
            row["meaning"] = info.meaning
            out.append(row)
        return out


def _format_value(row: MetricRow | None) -> str:
    if row is None or row.value is None or not np.isfinite(row.value):
        return "n/a"
    large = row.metric in ("frechet", "frechet_frames", "psnr") and abs(row.value) >= 10
    digits = 1 if large else 3
    text = f"{row.value:.{digits}f}"
    if row.low is not None and row.high is not None:
        text += f" ({row.low:.{digits}f}-{row.high:.{digits}f})"
    return text


# --------------------------------------------------------------------------- classifiers

def _make_mlp(n_rows: int, n_classes: int, min_count: int, random_state: int):
    from sklearn.neural_network import MLPClassifier

    # Early stopping holds out a stratified 10 %: only when every class can give rows to it.
    early = n_rows >= 20 * n_classes and min_count >= 5
    fitted_rows = int(n_rows * 0.9) if early else n_rows  # rows left after the 10 % hold-out
    return MLPClassifier(hidden_layer_sizes=(128,), early_stopping=early, max_iter=100,
                         n_iter_no_change=8, batch_size=max(1, min(256, fitted_rows)),
                         learning_rate_init=1e-3, alpha=1e-3, random_state=random_state)


def _make_logreg(n_rows: int, n_classes: int, min_count: int, random_state: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=300, random_state=random_state)


# name -> factory(n_rows, n_classes, min_count, random_state); every one is standardised first.
CLASSIFIERS: dict[str, Callable[..., Any]] = {"mlp": _make_mlp, "logreg": _make_logreg}


def make_classifier(name: str, y: np.ndarray, *, random_state: int = 0):
    """A seeded scikit-learn pipeline (standardise, then classify) for labels ``y``."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name not in CLASSIFIERS:
        raise InputError(f"classifier {name!r} is unknown; choose from " + ", ".join(CLASSIFIERS))
    counts = np.unique(y, return_counts=True)[1] if len(y) else np.zeros(1, dtype=int)
    model = CLASSIFIERS[name](len(y), len(counts), int(counts.min()), random_state)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    return make_pipeline(StandardScaler(), model)


def _squares(Z: np.ndarray) -> np.ndarray:
    return np.hstack([Z, Z ** 2])  # [n, c] -> [n, 2c]: linear and quadratic terms


def _make_detector_head(name: str, random_state: int):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if name == "quadratic":
        return [FunctionTransformer(_squares), StandardScaler(),
                LogisticRegression(max_iter=300, random_state=random_state)]
    if name == "logreg":
        return [LogisticRegression(max_iter=300, random_state=random_state)]
    if name == "mlp":
        return [MLPClassifier(hidden_layer_sizes=(128,), early_stopping=True, max_iter=100,
                              n_iter_no_change=8, alpha=1e-3, random_state=random_state)]
    return [HistGradientBoostingClassifier(max_iter=100, random_state=random_state)]


# Detectors for the real-vs-synthetic test. "quadratic" (logistic regression on the leading
# principal components and their squares) sees shifted means and shrunken or inflated
# variances, the usual marks of a VAE, at a fraction of an MLP's cost.
DETECTORS: dict[str, str] = {
    "quadratic": "logistic regression on principal components and their squares",
    "logreg": "logistic regression on principal components",
    "mlp": "MLP on principal components",
    "boosting": "histogram gradient boosting on principal components",
}


def make_detector(name: str, *, n_components: int | None, random_state: int = 0):
    """Pipeline: standardise, PCA to ``n_components`` (None: keep all), then the detector."""
    import warnings

    from sklearn.decomposition import PCA
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name not in DETECTORS:
        raise InputError(f"detector {name!r} is unknown; choose from " + ", ".join(DETECTORS))
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    steps = [StandardScaler()]
    if n_components is not None:
        # covariance_eigh: one D x D eigendecomposition, far faster than randomized SVD here.
        steps.append(PCA(n_components=n_components, svd_solver="covariance_eigh"))
    return make_pipeline(*steps, *_make_detector_head(name, random_state))


def _bootstrap_intervals(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, *,
                         n_boot: int, random_state: int) -> tuple[tuple[float, float],
                                                                  tuple[float, float]]:
    """95 % percentile intervals of accuracy and macro-F1 over resampled test rows."""
    n = len(y_true)
    if n_boot <= 0 or n == 0:
        return (float("nan"), float("nan")), (float("nan"), float("nan"))
    rng = np.random.default_rng(random_state)
    index = rng.integers(0, n, size=(n_boot, n))  # [B, n]
    codes = (y_true[index] * n_classes + y_pred[index]
             + (np.arange(n_boot) * n_classes * n_classes)[:, None])
    confusion = np.bincount(codes.ravel(), minlength=n_boot * n_classes * n_classes)
    confusion = confusion.reshape(n_boot, n_classes, n_classes)  # [B, true, pred]
    tp = np.einsum("bii->bi", confusion).astype(float)
    fp = confusion.sum(axis=1) - tp
    fn = confusion.sum(axis=2) - tp
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    accuracy = tp.sum(axis=1) / n
    macro = f1.mean(axis=1)
    q = [2.5, 97.5]
    a_lo, a_hi = np.percentile(accuracy, q)
    f_lo, f_hi = np.percentile(macro, q)
    return (float(a_lo), float(a_hi)), (float(f_lo), float(f_hi))


def classifier_utility(train: FeatureSet, test: FeatureSet, *, classifier: str = "mlp",
                       random_state: int = 0, set_name: str = "", mode: str = "tstr",
                       n_boot: int = 200) -> ClassifierScore:
    """Train ``classifier`` on ``train`` and score it on ``test`` (real rows).

    Labels are indices into ``test.class_names``; the report and the confusion
    matrix cover every class of the test set (a class missing from the training
    rows simply gets F1 0).
    """
    from sklearn.metrics import classification_report, confusion_matrix, f1_score

    _require_labels(train, set_name or "training set")
    _require_labels(test, "real test set")
    if len(np.unique(train.labels)) < 2:
        raise InputError(f"{set_name or 'training set'}: has a single class "
                         f"({int(train.labels[0])}); a classifier needs rows of at least two "
                         "classes; generate rows for more classes")
    started = time.perf_counter()
    model = make_classifier(classifier, train.labels, random_state=random_state)
    model.fit(train.features, train.labels)
    predicted = model.predict(test.features).astype(np.int64)
    n_classes = max(len(test.class_names), int(test.labels.max()) + 1, int(predicted.max()) + 1)
    labels = list(range(n_classes))
    names = _names(test.class_names, n_classes)
    report = classification_report(test.labels, predicted, labels=labels, target_names=names,
                                   output_dict=True, zero_division=0)
    accuracy = float(np.mean(predicted == test.labels))
    macro = float(f1_score(test.labels, predicted, labels=labels, average="macro",
                           zero_division=0))
    acc_ci, f1_ci = _bootstrap_intervals(test.labels, predicted, n_classes, n_boot=n_boot,
                                         random_state=random_state)
    return ClassifierScore(
        set=set_name, mode=mode, classifier=classifier, accuracy=accuracy, macro_f1=macro,
        accuracy_ci=acc_ci, macro_f1_ci=f1_ci, n_train=train.n_samples, n_test=test.n_samples,
        labels=labels, class_names=names,
        confusion=confusion_matrix(test.labels, predicted, labels=labels).tolist(),
        report=report, seconds=time.perf_counter() - started)


def _names(class_names: Sequence[str], n_classes: int) -> list[str]:
    names = list(class_names)[:n_classes]
    return names + [str(i) for i in range(len(names), n_classes)]


# --------------------------------------------------------------------------- k-NN metrics

def _as_rows(X: np.ndarray | FeatureSet, name: str) -> np.ndarray:
    if isinstance(X, FeatureSet):
        X = X.features
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError(f"{name}: expected a 2-D matrix [rows, features]; got shape {X.shape}")
    if not np.isfinite(X).all():
        raise InputError(f"{name}: contains NaN or infinite values; remove those rows first")
    return X


def _subsample(X: np.ndarray, n: int, random_state: int) -> np.ndarray:
    if len(X) <= n:
        return X
    rng = np.random.default_rng(random_state)
    return X[np.sort(rng.choice(len(X), size=n, replace=False))]


def _kth_neighbour_distance(X: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Distance from each row to its k-th nearest other row: [N].

    Computed with the same ``pairwise_distances`` as the real-to-synthetic
    distances in :func:`prdc`, so that a row's own neighbours compare equal to
    its radius (two different distance routines differ in the last bits).
    """
    from sklearn.metrics import pairwise_distances

    out = np.empty(len(X))
    for start in range(0, len(X), chunk):
        d = pairwise_distances(X[start:start + chunk], X)  # [c, N], the row itself included
        out[start:start + chunk] = np.partition(d, k, axis=1)[:, k]
    return out


def prdc(real: np.ndarray | FeatureSet, fake: np.ndarray | FeatureSet, *, k: int = 5,
         real_name: str = "real", fake_name: str = "synthetic", chunk: int = 2048) -> PRDC:
    """Precision, recall, density and coverage of ``fake`` against ``real``.

    Naeem et al. (2020): each real row gets a ball reaching its k-th nearest
    real neighbour (likewise for synthetic rows). Precision = share of
    synthetic rows inside some real ball; recall = share of real rows inside
    some synthetic ball; density = mean number of real balls holding a
    synthetic row, over k; coverage = share of real balls holding a synthetic
    row. The scores depend on the row counts: compare sets of equal size.
    """
    real = _as_rows(real, real_name)
    fake = _as_rows(fake, fake_name)
    _check_width(real, fake, real_name, fake_name)
    for X, name in ((fake, fake_name), (real, real_name)):
        if len(X) <= k:
            raise InputError(f"{name}: has {len(X)} rows; k-nearest-neighbour metrics with "
                             f"k={k} need at least {k + 1}; add rows or lower k")
    return _prdc(real, fake, k=k, real_radii=_kth_neighbour_distance(real, k), chunk=chunk)


def _prdc(real: np.ndarray, fake: np.ndarray, *, k: int, real_radii: np.ndarray,
          chunk: int = 2048) -> PRDC:
    """:func:`prdc` on checked float rows, with the real balls' radii [N] given (reusable)."""
    from sklearn.metrics import pairwise_distances

    fake_radii = _kth_neighbour_distance(fake, k)  # [M]
    balls_per_fake = np.zeros(len(fake), dtype=np.int64)
    covered = np.zeros(len(real), dtype=bool)
    recalled = np.zeros(len(real), dtype=bool)
    for start in range(0, len(real), chunk):
        stop = min(start + chunk, len(real))
        d = pairwise_distances(real[start:stop], fake)  # [c, M]
        inside_real = d < real_radii[start:stop, None]
        balls_per_fake += inside_real.sum(axis=0)
        covered[start:stop] = inside_real.any(axis=1)
        recalled[start:stop] = (d < fake_radii[None, :]).any(axis=1)
    return PRDC(precision=float(np.mean(balls_per_fake > 0)), recall=float(recalled.mean()),
                density=float(balls_per_fake.sum() / (k * len(fake))),
                coverage=float(covered.mean()), k=k, n_real=len(real), n_fake=len(fake))


class _RealBalls:
    """Real rows' k-NN radii, computed once per (rows, count) and reused for every set.

    The scorecard compares each set with a seeded subsample of the real rows of
    the same size; sets of equal size (or classes of equal count) meet the same
    subsample, so its N x N distances need computing only once.
    """

    def __init__(self, k: int, random_state: int) -> None:
        self.k = k
        self.random_state = random_state
        self._radii: dict[tuple[Any, int], np.ndarray] = {}

    def prdc(self, key: Any, real: np.ndarray, fake: np.ndarray, n: int) -> PRDC:
        """PRDC of ``n`` rows of ``fake`` against ``n`` rows of ``real`` (``key`` names real)."""
        real = _subsample(real, n, self.random_state)
        if (key, n) not in self._radii:
            self._radii[key, n] = _kth_neighbour_distance(real, self.k)  # [n]
        return _prdc(real, _subsample(fake, n, self.random_state + 1), k=self.k,
                     real_radii=self._radii[key, n])


# --------------------------------------------------------------------------- Frechet

@dataclass(frozen=True)
class _Gaussian:
    mean: np.ndarray  # [D]
    cov: np.ndarray   # [D, D]
    sqrt_cov: np.ndarray  # [D, D], symmetric square root of cov


def _gaussian(X: np.ndarray, name: str) -> _Gaussian:
    if len(X) < 2:
        raise InputError(f"{name}: has {len(X)} row(s); the Frechet distance needs at least 2 "
                         "to estimate a covariance; add rows")
    cov = np.atleast_2d(np.cov(X, rowvar=False))
    w, v = np.linalg.eigh(cov)
    sqrt_cov = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    return _Gaussian(X.mean(axis=0), cov, sqrt_cov)


def _frechet(a: _Gaussian, b: _Gaussian) -> float:
    # Tr(sqrtm(Ca Cb)) = sum of sqrt(eigenvalues of Ca^1/2 Cb Ca^1/2), a symmetric PSD
    # matrix, so eigvalsh is exact and stable even for singular covariances.
    middle = a.sqrt_cov @ b.cov @ a.sqrt_cov
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    value = float(np.sum((a.mean - b.mean) ** 2) + np.trace(a.cov) + np.trace(b.cov)
                  - 2.0 * trace_sqrt)
    return max(value, 0.0)


def frechet_distance(real: np.ndarray | FeatureSet, fake: np.ndarray | FeatureSet, *,
                     real_name: str = "real", fake_name: str = "synthetic") -> float:
    """Frechet distance ||mu_r - mu_f||^2 + Tr(C_r + C_f - 2 (C_r C_f)^1/2) on the rows."""
    real = _as_rows(real, real_name)
    fake = _as_rows(fake, fake_name)
    _check_width(real, fake, real_name, fake_name)
    return _frechet(_gaussian(real, real_name), _gaussian(fake, fake_name))


def frame_rows(X: np.ndarray, feature_shape: Sequence[int], name: str = "features") -> np.ndarray:
    """Rows [N, F*C] reshaped to one row per frame: [N*F, C] (feature_shape = [F, C])."""
    shape = [int(s) for s in feature_shape]
    if len(shape) != 2 or shape[0] * shape[1] != X.shape[1]:
        raise InputError(f"{name}: feature_shape {shape} does not split {X.shape[1]} features "
                         "into [frames, values per frame]; per-frame Frechet needs e.g. [4, 128] "
                         "for 512 VGGish features, or turn the per-frame option off")
    return X.reshape(X.shape[0] * shape[0], shape[1])  # [N, F*C] -> [N*F, C]


def frechet_distance_frames(real: np.ndarray | FeatureSet, fake: np.ndarray | FeatureSet,
                            feature_shape: Sequence[int], *, real_name: str = "real",
                            fake_name: str = "synthetic") -> float:
    """Frechet distance between single frames (Frechet Audio Distance style)."""
    real = _as_rows(real, real_name)
    fake = _as_rows(fake, fake_name)
    _check_width(real, fake, real_name, fake_name)
    return _frechet(_gaussian(frame_rows(real, feature_shape, real_name), real_name),
                    _gaussian(frame_rows(fake, feature_shape, fake_name), fake_name))


# --------------------------------------------------------------------------- detection

def classifier_two_sample_test(real: np.ndarray | FeatureSet, fake: np.ndarray | FeatureSet, *,
                               detector: str = "quadratic", n_folds: int = 5,
                               max_rows: int = 1000,
                               n_components: int = 64, random_state: int = 0,
                               real_name: str = "real", fake_name: str = "synthetic"
                               ) -> Detection:
    """Cross-validated AUC of ``detector`` separating real (0) from synthetic (1) rows.

    Both sides are subsampled to the same count (at most ``max_rows``) so that
    neither dominates; 0.5 means the classifier cannot tell them apart. Rows
    are standardised and reduced to ``n_components`` principal components
    inside each fold (speed; the leading components carry the differences a
    generator typically leaves, such as shrunken variance).
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold

    real = _as_rows(real, real_name)
    fake = _as_rows(fake, fake_name)
    _check_width(real, fake, real_name, fake_name)
    n = min(len(real), len(fake), max_rows)
    needed = 2 * n_folds
    for X, name in ((real, real_name), (fake, fake_name)):
        if len(X) < needed:
            raise InputError(f"{name}: has {len(X)} rows; the real-vs-synthetic test with "
                             f"{n_folds}-fold cross-validation needs at least {needed}; add rows "
                             "or use fewer folds")
    X = np.vstack([_subsample(real, n, random_state), _subsample(fake, n, random_state + 1)])
    y = np.repeat([0, 1], n)
    # Identical rows (a synthetic row that copies a real one) share a fold: split apart, the
    # detector would learn "this point is real" from one copy and call the other real too,
    # pushing the AUC below 0.5. Copies are the copy check's business.
    _, groups = np.unique(np.ascontiguousarray(X).view(np.dtype((np.void, X.dtype.itemsize
                                                                  * X.shape[1]))),
                          return_inverse=True)
    scores = np.zeros(len(y))
    fold_aucs = []
    reduce_to = min(n_components, X.shape[1], int(len(y) * (1 - 1 / n_folds)) - 1)
    reduce_to = reduce_to if reduce_to < X.shape[1] else None
    folds = StratifiedGroupKFold(n_folds, shuffle=True, random_state=random_state)
    for train_idx, test_idx in folds.split(X, y, groups.reshape(-1)):
        model = make_detector(detector, n_components=reduce_to, random_state=random_state)
        model.fit(X[train_idx], y[train_idx])
        scores[test_idx] = model.predict_proba(X[test_idx])[:, 1]
        fold_aucs.append(float(roc_auc_score(y[test_idx], scores[test_idx])))
    return Detection(auc=float(roc_auc_score(y, scores)), fold_aucs=fold_aucs,
                     detector=detector, n_real=n, n_fake=n)


# --------------------------------------------------------------------------- copying

class _TrainNeighbours:
    """Nearest training rows, fitted once and queried for every set."""

    def __init__(self, train: np.ndarray, *, quantile: float, max_reference_rows: int,
                 random_state: int) -> None:
        from sklearn.neighbors import NearestNeighbors

        if len(train) < 2:
            raise InputError(f"real training set: has {len(train)} row(s); the copy check needs "
                             "at least 2 to measure real-to-real distances")
        self.train = train
        self.index = NearestNeighbors(n_neighbors=2, algorithm="brute").fit(train)
        rng = np.random.default_rng(random_state)
        query = (rng.choice(len(train), size=max_reference_rows, replace=False)
                 if len(train) > max_reference_rows else np.arange(len(train)))
        distances, _ = self.index.kneighbors(train[query], n_neighbors=2)
        self.real_distances = distances[:, 1]  # nearest other training row
        self.quantile = quantile
        self.threshold = float(np.quantile(self.real_distances, quantile))

    def check(self, X: np.ndarray, *, max_listed: int = 100) -> CopyCheck:
        distances, nearest = self.index.kneighbors(X, n_neighbors=1)
        distances, nearest = distances[:, 0], nearest[:, 0]
        flagged = np.flatnonzero(distances <= self.threshold)
        return CopyCheck(
            median_distance=float(np.median(distances)),
            real_median_distance=float(np.median(self.real_distances)),
            threshold=self.threshold, quantile=self.quantile, n_flagged=int(len(flagged)),
            fraction_flagged=float(len(flagged) / max(len(X), 1)),
            flagged_rows=flagged[:max_listed].tolist(),
            nearest_train_rows=nearest[flagged[:max_listed]].tolist())


def copy_check(train: np.ndarray | FeatureSet, synthetic: np.ndarray | FeatureSet, *,
               quantile: float = 0.01, max_reference_rows: int = 2000,
               random_state: int = 0) -> CopyCheck:
    """Flag synthetic rows closer to a training row than ``quantile`` of real-to-real pairs.

    The real-to-real distances are from training rows to their nearest other
    training row (at most ``max_reference_rows`` of them, seeded). A generator
    that makes new rows is flagged about as often as ``quantile``; one that
    copies its training rows is flagged far more often.
    """
    train = _as_rows(train, "real training set")
    synthetic = _as_rows(synthetic, "synthetic set")
    _check_width(train, synthetic, "real training set", "synthetic set")
    return _TrainNeighbours(train, quantile=quantile, max_reference_rows=max_reference_rows,
                            random_state=random_state).check(synthetic)


# --------------------------------------------------------------------------- images

def psnr(original: np.ndarray, reconstructed: np.ndarray, *,
         data_range: float | None = None) -> PSNRResult:
    """Per-row PSNR = 10 log10(range^2 / MSE), averaged; range defaults to the data's span."""
    original = _as_rows(original, "original")
    reconstructed = _as_rows(reconstructed, "reconstruction")
    if original.shape != reconstructed.shape:
        raise InputError(f"reconstruction has shape {reconstructed.shape} but the original has "
                         f"{original.shape}; reconstruct every row of the same data")
    span = float(data_range if data_range is not None else original.max() - original.min())
    if span <= 0:
        raise InputError(f"data_range must be positive; got {span}; pass the pixel range "
                         "(1.0 for images in [0, 1])")
    mse = np.maximum(np.mean((original - reconstructed) ** 2, axis=1), 1e-10)  # [N]
    per_row = 10.0 * np.log10(span ** 2 / mse)
    return PSNRResult(mean_db=float(per_row.mean()), median_db=float(np.median(per_row)),
                      data_range=span, n_rows=len(per_row))


# --------------------------------------------------------------------------- input checks

def _check_width(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise InputError(f"{b_name}: has {b.shape[1]} features per row but {a_name} has "
                         f"{a.shape[1]}; compare sets made from the same features (same "
                         "extractor and frames)")


def _require_labels(data: FeatureSet, name: str) -> None:
    if data.n_samples == 0:
        raise InputError(f"{name}: has no rows; choose a dataset with rows")
    if not data.is_labeled:
        missing = int((data.labels < 0).sum())
        raise InputError(f"{name}: {missing} of {data.n_samples} rows have no label (-1); the "
                         "classifier metrics need a label on every row; label the data on the "
                         "Data step or generate with class labels")


def _default_names(names: Sequence[str]) -> bool:
    return all(str(n) == str(i) for i, n in enumerate(names))


def check_sets(real_train: FeatureSet, synthetic_sets: dict[str, FeatureSet],
               real_test: FeatureSet) -> list[str]:
    """Raise on inputs that cannot be compared; return notes on ones that can, with caveats."""
    notes = []
    _require_labels(real_train, "real training set")
    _require_labels(real_test, "real test set")
    real_train.check_finite("real training set")
    real_test.check_finite("real test set")
    if real_test.n_features != real_train.n_features:
        raise InputError(f"real test set: has {real_test.n_features} features per row but the "
                         f"real training set has {real_train.n_features}; use test rows made "
                         "with the same extractor")
    train_classes = set(np.unique(real_train.labels).tolist())
    missing = sorted(set(np.unique(real_test.labels).tolist()) - train_classes)
    if missing:
        raise InputError(f"real test set: has class(es) {_class_list(missing, real_test)} that "
                         "the real training set lacks; a classifier cannot learn them; test on "
                         "the same classes or add training rows for them")
    if (real_train.class_names and real_test.class_names
            and not _default_names(real_test.class_names)
            and real_train.class_names[:len(real_test.class_names)] != real_test.class_names):
        raise InputError(f"real test set: class names {real_test.class_names} differ from the "
                         f"training set's {real_train.class_names}; label both with the same "
                         "classes in the same order")
    if (array_digest(real_train.features) == array_digest(real_test.features)):
        raise InputError("real test set: is the same data as the real training set; pass "
                         "held-out rows as the test set, or leave it out to split automatically")
    if (real_train.folds is not None and real_test.folds is not None
            and set(real_train.folds.tolist()) & set(real_test.folds.tolist())):
        shared = sorted(set(real_train.folds.tolist()) & set(real_test.folds.tolist()))
        raise InputError(f"real test set: shares fold(s) {shared} with the real training set; "
                         "rows of one fold come from the same recordings, so test on folds "
                         "the training set does not use")
    if not synthetic_sets:
        notes.append("No synthetic set given: only the reference (real held-out) is scored.")
    for name, data in synthetic_sets.items():
        label = f"synthetic set {name!r}"
        if data.n_samples == 0:
            raise InputError(f"{label}: has no rows; generate some first")
        data.check_finite(label)
        if data.n_features != real_train.n_features:
            raise InputError(f"{label}: has {data.n_features} features per row but the real "
                             f"training set has {real_train.n_features}; generate from a model "
                             "trained on this dataset (same extractor and frames)")
        labeled = data.labels >= 0
        extra = sorted(set(np.unique(data.labels[labeled]).tolist()) - train_classes)
        if extra:
            raise InputError(f"{label}: has class(es) {extra} that the real training set lacks "
                             f"(it has {sorted(train_classes)}); the label sets do not match; "
                             "pick the synthetic set made from this dataset")
        if (data.class_names and not _default_names(data.class_names)
                and real_train.class_names
                and real_train.class_names[:len(data.class_names)] != data.class_names):
            raise InputError(f"{label}: class names {data.class_names} do not match the real "
                             f"training set's {real_train.class_names}; the label sets do not "
                             "match; pick the synthetic set made from this dataset")
        if not labeled.all():
            notes.append(f"{name}: {int((~labeled).sum())} rows have no class label, so the "
                         "classifier and per-class metrics skip this set.")
        else:
            absent = sorted(train_classes - set(np.unique(data.labels).tolist()))
            if absent:
                notes.append(f"{name}: has no rows of class(es) "
                             f"{_class_list(absent, real_train)}; a classifier trained on it "
                             "cannot predict them.")
        _check_folds(name, data, real_test)
    return notes


def _check_folds(name: str, synthetic: FeatureSet, real_test: FeatureSet) -> None:
    """Never test on a fold that fed the generator (UrbanSound8K style folds)."""
    if real_test.folds is None:
        return
    used: set[int] = set()
    if synthetic.folds is not None:
        used |= set(synthetic.folds[synthetic.folds >= 0].tolist())
    for key in ("train_folds", "folds"):
        value = synthetic.attrs.get(key)
        if isinstance(value, (list, tuple)):
            used |= {int(v) for v in value}
    leaked = sorted(used & set(real_test.folds.tolist()))
    if leaked:
        raise InputError(f"synthetic set {name!r}: was generated from fold(s) {leaked}, which "
                         "are test folds; testing on data that fed the generator overstates "
                         "its quality; test on other folds (--test-folds) or train the "
                         "generator without them")


def _class_list(labels: Sequence[int], data: FeatureSet) -> str:
    return ", ".join(f"{i} ({data.class_names[i]})" if 0 <= i < len(data.class_names) else str(i)
                     for i in labels)


# --------------------------------------------------------------------------- splitting

@dataclass
class RealSplit:
    train: FeatureSet
    test: FeatureSet
    note: str
    test_folds: list[int] = field(default_factory=list)


def split_real(real: FeatureSet, *, test_folds: Sequence[int] | None = None,
               test_size: float = 0.3, random_state: int = 0) -> RealSplit:
    """Split real rows into train and test: by predefined folds when the data has them
    (default: the last fold is the test fold), otherwise 70/30 stratified by class."""
    from sklearn.model_selection import train_test_split

    _require_labels(real, "real data")
    if real.folds is not None:
        present = sorted(set(real.folds.tolist()))
        chosen = sorted(set(int(f) for f in test_folds)) if test_folds else [present[-1]]
        unknown = sorted(set(chosen) - set(present))
        if unknown:
            raise InputError(f"test folds {unknown} are not in the data (its folds are "
                             f"{present}); choose test folds from those")
        is_test = np.isin(real.folds, chosen)
        if is_test.all():
            raise InputError(f"test folds {chosen} are all the folds of the data; keep at least "
                             "one fold for training")
        note = (f"No real test set given: tested on predefined fold(s) {chosen} and trained on "
                f"the other folds {sorted(set(present) - set(chosen))}. Make sure the generator "
                "was not trained on the test folds.")
        return RealSplit(real.subset(~is_test), real.subset(is_test), note, chosen)
    if test_folds:
        raise InputError(f"test folds {list(test_folds)} were given but the real data has no "
                         "folds; leave test folds out to split 70/30, or use data with /folds")
    counts = np.bincount(real.labels)
    counts = counts[counts > 0]
    if counts.min() < 2:
        raise InputError(f"real data: a class has {counts.min()} row; a stratified train/test "
                         "split needs at least 2 rows per class; add rows or pass a real test "
                         "set")
    index = np.arange(real.n_samples)
    try:
        train_idx, test_idx = train_test_split(index, test_size=test_size,
                                               stratify=real.labels, random_state=random_state)
    except ValueError as exc:
        raise InputError(f"real data: cannot split {real.n_samples} rows {1 - test_size:.0%}/"
                         f"{test_size:.0%} by class ({exc}); add rows or pass a real test "
                         "set") from exc
    note = (f"No real test set given: split the real rows {1 - test_size:.0%}/{test_size:.0%} "
            f"by class (seed {random_state}). If the generator was trained on all real rows, "
            "train-on-synthetic scores are optimistic; pass a held-out test set when you can.")
    return RealSplit(real.subset(np.sort(train_idx)), real.subset(np.sort(test_idx)), note)


# --------------------------------------------------------------------------- scorecard

Reconstructor = Callable[[np.ndarray, np.ndarray], np.ndarray]


def scorecard(real_train: FeatureSet, synthetic_sets: dict[str, FeatureSet],
              real_test: FeatureSet | None = None, *, config: EvaluateConfig | None = None,
              reconstructors: dict[str, Reconstructor] | None = None,
              callback: Callback | None = None) -> Scorecard:
    """Every metric for each synthetic set, next to the real held-out reference.

    ``real_test`` None splits ``real_train`` (by folds, else 70/30 by class) and
    says so in the notes. ``reconstructors`` maps a set name to a function
    ``(X, labels) -> X_hat`` (a run's ``reconstruct``) for the PSNR row.
    """
    from threadpoolctl import threadpool_limits

    config = config or EvaluateConfig()
    with threadpool_limits(limits=config.blas_threads):
        return _scorecard(real_train, synthetic_sets, real_test, config=config,
                          reconstructors=reconstructors, callback=callback)


def _scorecard(real_train: FeatureSet, synthetic_sets: dict[str, FeatureSet],
               real_test: FeatureSet | None, *, config: EvaluateConfig,
               reconstructors: dict[str, Reconstructor] | None,
               callback: Callback | None) -> Scorecard:
    started = time.perf_counter()
    notes: list[str] = []
    split_note = "real test set given"
    if real_test is None:
        split = split_real(real_train, test_folds=config.test_folds, test_size=config.test_size,
                           random_state=config.random_state)
        real_train, real_test, split_note = split.train, split.test, split.note
        notes.append(split.note)
    notes += check_sets(real_train, synthetic_sets, real_test)
    _check_sizes(real_train, synthetic_sets, real_test, config)
    seed = config.random_state
    train_X = real_train.features.astype(np.float64)

    sets: dict[str, FeatureSet] = {}
    if config.reference:
        sets[REFERENCE] = real_test
    sets.update(synthetic_sets)
    n_classes = len(real_train.class_names)
    frame_shape = _frame_shape(real_train, config.frechet_frames)

    steps = max(1, len(sets) * (4 + len(config.classifiers) * (1 + config.augmentation)) + 2)
    done = 0

    def step(message: str) -> None:
        nonlocal done
        done += 1
        emit(callback, Progress(min(done / steps, 0.99), message, stage="evaluate"))

    metrics: list[MetricRow] = []
    scores: list[ClassifierScore] = []
    copies: dict[str, CopyCheck] = {}
    per_class: list[ClassRow] = []
    class_gaussians: dict[int, _Gaussian] = {}  # real training rows per class, fitted once
    balls = _RealBalls(config.k, seed)  # real k-NN radii, shared by sets of equal size

    # Utility: train on real once per classifier (TRTR), then each set (TSTR, augmented).
    trtr: dict[str, ClassifierScore] = {}
    for name in config.classifiers:
        trtr[name] = classifier_utility(real_train, real_test, classifier=name,
                                        random_state=seed, set_name="real", mode="trtr",
                                        n_boot=config.bootstrap)
        scores.append(trtr[name])
        step(f"train on real, test on real ({name})")
    real_gauss = _gaussian(train_X, "real training set")
    real_frames = (_gaussian(frame_rows(train_X, frame_shape, "real training set"),
                             "real training set frames") if frame_shape else None)
    neighbours = _TrainNeighbours(train_X, quantile=config.copy_quantile,
                                  max_reference_rows=min(config.max_rows, 2000),
                                  random_state=seed)
    step("real-to-real distances")

    for name, data in sets.items():
        is_ref = name == REFERENCE
        label = "real test set" if is_ref else f"synthetic set {name!r}"
        X = data.features.astype(np.float64)
        labeled = data.is_labeled
        if labeled:
            for clf in config.classifiers:
                if is_ref:
                    score = trtr[clf]
                else:
                    score = classifier_utility(data, real_test, classifier=clf, random_state=seed,
                                               set_name=name, mode="tstr",
                                               n_boot=config.bootstrap)
                    scores.append(score)
                    step(f"{name}: train on synthetic, test on real ({clf})")
                metrics += _utility_rows(name, "tstr", score)
                if config.augmentation and not is_ref:
                    both = _concat(real_train, data)
                    aug = classifier_utility(both, real_test, classifier=clf, random_state=seed,
                                             set_name=name, mode="augmented",
                                             n_boot=config.bootstrap)
                    scores.append(aug)
                    metrics += _utility_rows(name, "augmented", aug)
                    step(f"{name}: real + synthetic, test on real ({clf})")
        # Fidelity and diversity: k-NN balls on equal-size sets (Naeem et al. compare n to n).
        result = balls.prdc("all", train_X, X, min(len(X), len(train_X), config.max_rows))
        metrics += [MetricRow(name, key, getattr(result, key))
                    for key in ("precision", "recall", "density", "coverage")]
        step(f"{name}: precision, recall, density, coverage")
        metrics.append(MetricRow(name, "frechet", _frechet(real_gauss, _gaussian(X, label))))
        if frame_shape:
            metrics.append(MetricRow(name, "frechet_frames", _frechet(
                real_frames, _gaussian(frame_rows(X, frame_shape, label), label))))
        step(f"{name}: Frechet distance")
        detection = classifier_two_sample_test(train_X, X, detector=config.detector,
                                               n_folds=config.n_folds,
                                               max_rows=min(config.max_rows, 1000),
                                               random_state=seed, real_name="real training set",
                                               fake_name=label)
        metrics.append(MetricRow(name, "detection_auc", detection.auc,
                                 low=min(detection.fold_aucs), high=max(detection.fold_aucs)))
        step(f"{name}: real-vs-synthetic detection")
        copies[name] = neighbours.check(X)
        metrics.append(MetricRow(name, "copy_fraction", copies[name].fraction_flagged))
        metrics.append(MetricRow(name, "nn_distance_ratio", copies[name].distance_ratio))
        step(f"{name}: copy check")
        if reconstructors and name in reconstructors:
            reconstructed = reconstructors[name](real_test.features, real_test.labels)
            value = psnr(real_test.features, reconstructed,
                         data_range=float(train_X.max() - train_X.min()) or 1.0)
            metrics.append(MetricRow(name, "psnr", value.mean_db))
        if config.per_class and labeled:
            first = config.classifiers[0] if config.classifiers else None
            base = trtr.get(first) if first else None
            own = base if is_ref else next((s for s in scores if s.set == name
                                            and s.mode == "tstr" and s.classifier == first), None)
            per_class += _per_class_rows(name, real_train, data, config, base, own,
                                         class_gaussians, balls)
        emit(callback, Log(f"evaluated {name}"))

    if config.reference:
        ref_values = {(r.metric, r.detail): r.value for r in metrics if r.set == REFERENCE}
        for row in metrics:
            if row.metric.startswith("augmented_"):
                base = trtr.get(row.detail)
                row.reference = (base.accuracy if row.metric.endswith("accuracy")
                                 else base.macro_f1) if base else None
            else:
                row.reference = ref_values.get((row.metric, row.detail))
    real_info = {"n_train": real_train.n_samples, "n_test": real_test.n_samples,
                 "n_features": real_train.n_features, "n_classes": n_classes,
                 "class_names": list(real_train.class_names), "split": split_note,
                 "frame_shape": list(frame_shape) if frame_shape else None,
                 "modality": real_train.attrs.get("modality", ""),
                 "feature_shape": real_train.attrs.get("feature_shape")}
    emit(callback, Progress(1.0, "scorecard ready", stage="evaluate"))
    return Scorecard(sets=list(sets), metrics=metrics, per_class=per_class, classifiers=scores,
                     copies=copies, notes=notes, real=real_info, config=config.to_dict(),
                     seconds=time.perf_counter() - started,
                     created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))


def _check_sizes(real_train: FeatureSet, synthetic_sets: dict[str, FeatureSet],
                 real_test: FeatureSet, config: EvaluateConfig) -> None:
    """Refuse, before any slow work, sets too small for k neighbours or cross-validation."""
    needed = max(config.k + 1, 2 * config.n_folds)
    named = [("real training set", real_train)]
    named += [("real test set", real_test)] if config.reference else []
    named += [(f"synthetic set {name!r}", data) for name, data in synthetic_sets.items()]
    for label, data in named:
        if data.n_samples < needed:
            raise InputError(
                f"{label}: has {data.n_samples} rows; k-nearest-neighbour metrics with "
                f"k={config.k} need at least {config.k + 1} and the real-vs-synthetic test "
                f"with {config.n_folds}-fold cross-validation at least {2 * config.n_folds}; "
                "add rows, or lower k / the number of folds")


def _utility_rows(name: str, mode: str, score: ClassifierScore) -> list[MetricRow]:
    return [MetricRow(name, f"{mode}_accuracy", score.accuracy, score.classifier,
                      *score.accuracy_ci),
            MetricRow(name, f"{mode}_macro_f1", score.macro_f1, score.classifier,
                      *score.macro_f1_ci)]


def _concat(real: FeatureSet, synthetic: FeatureSet) -> FeatureSet:
    return FeatureSet(features=np.vstack([real.features, synthetic.features]),
                      labels=np.concatenate([real.labels, synthetic.labels]),
                      class_names=real.class_names)


def _frame_shape(data: FeatureSet, wanted: bool | None) -> tuple[int, int] | None:
    shape = data.attrs.get("feature_shape")
    usable = (isinstance(shape, (list, tuple)) and len(shape) == 2
              and int(shape[0]) * int(shape[1]) == data.n_features and int(shape[0]) > 1)
    if wanted is None:
        # Automatic only for frame-based audio features (attrs frames), not for images.
        return (int(shape[0]), int(shape[1])) if usable and data.attrs.get("frames") else None
    if not wanted:
        return None
    if not usable:
        raise InputError(f"real training set: per-frame Frechet needs a feature_shape attribute "
                         f"[frames, values] that splits its {data.n_features} features; it has "
                         f"{shape!r}; turn the per-frame option off")
    return int(shape[0]), int(shape[1])


def _per_class_rows(name: str, real_train: FeatureSet, data: FeatureSet, config: EvaluateConfig,
                    trtr: ClassifierScore | None, tstr: ClassifierScore | None,
                    real_gaussians: dict[int, _Gaussian], balls: _RealBalls
                    ) -> list[ClassRow]:
    rows = []
    for index, class_name in enumerate(real_train.class_names):
        real = real_train.features[real_train.labels == index].astype(np.float64)
        fake = data.features[data.labels == index].astype(np.float64)
        row = ClassRow(name, index, class_name, len(real), len(fake))
        n = min(len(real), len(fake), config.max_rows)
        if n > config.k:
            result = balls.prdc(index, real, fake, n)
            row.precision, row.recall = result.precision, result.recall
            row.density, row.coverage = result.density, result.coverage
        if len(real) >= 2 and len(fake) >= 2:
            if index not in real_gaussians:
                real_gaussians[index] = _gaussian(real, f"real class {class_name}")
            row.frechet = _frechet(real_gaussians[index],
                                   _gaussian(fake, f"{name} class {class_name}"))
        for score, attr in ((tstr, "f1_synthetic"), (trtr, "f1_real")):
            if score is not None and class_name in score.report:
                setattr(row, attr, float(score.report[class_name]["f1-score"]))
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- saving and jobs

def save_report(card: Scorecard, path: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
    """Write the scorecard as JSON at ``path`` and CSV next to it (same stem)."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise InputError(f"report path {str(path)!r} must end in .json; the CSV is written next "
                         "to it")
    csv_path = path.with_suffix(".csv")
    for target in (path, csv_path):
        if target.exists() and not overwrite:
            raise StorageError(f"{target} already exists; choose another name, delete it, or "
                               "pass --overwrite")
    atomic_write_json(path, card.to_dict())
    atomic_write_bytes(csv_path, card.to_csv().encode("utf-8"))
    return {"json": path, "csv": csv_path}


def load_report(path: str | Path) -> Scorecard:
    data = read_json(path)
    if data is None:
        raise StorageError(f"{path}: no such report; run the evaluation again")
    return Scorecard.from_dict(data)


def set_names(refs: Sequence[str]) -> list[str]:
    """Short unique names for synthetic set references (file stems, numbered on clashes)."""
    names: list[str] = []
    for ref in refs:
        base = Path(str(ref)).stem if not str(ref).startswith("builtin:") else str(ref)
        name, i = base, 2
        while name in names or name == REFERENCE:
            name, i = f"{base}-{i}", i + 1
        names.append(name)
    return names


def run_evaluation(workspace, *, real_train: str, synthetic: Sequence[str],
                   real_test: str | None = None, config: EvaluateConfig | None = None,
                   callback: Callback | None = None) -> Scorecard:
    """Load the references (builtin:NAME, workspace names, paths) and build the scorecard."""
    from synth_core.data.datasets import load_dataset

    emit(callback, Progress(0.0, "loading data", stage="load"))
    train = load_dataset(real_train, workspace)
    test = load_dataset(real_test, workspace) if real_test else None
    sets = {name: load_dataset(ref, workspace)
            for name, ref in zip(set_names(synthetic), synthetic)}
    source_folds: dict[str, np.ndarray | None] = {}  # generators' datasets, each read once
    for name, data in sets.items():
        folds = _generator_folds(data, workspace, source_folds)
        if folds is not None and "train_folds" not in data.attrs:
            data.attrs["train_folds"] = folds
            emit(callback, Log(f"{name}: its generator was trained on fold(s) {folds}"))
    reconstructors = _reconstructors(sets, train, workspace, callback)
    return scorecard(train, sets, test, config=config, reconstructors=reconstructors,
                     callback=callback)


def _run_path(data: FeatureSet, workspace) -> Path | None:
    """The folder of the run that generated ``data`` (attrs model_run), if it names one."""
    run_dir = data.attrs.get("model_run")
    if not run_dir:
        return None
    path = Path(str(run_dir))
    return path if path.is_absolute() else workspace.root / path


def _generator_folds(data: FeatureSet, workspace,
                     source_folds: dict[str, np.ndarray | None]) -> list[int] | None:
    """Folds of the rows the set's generator was trained on (from its run's split), if known.

    ``source_folds`` caches the folds of each generator's dataset by reference, so
    sets from runs on the same dataset read it once. Only JSON is read from the run
    (``Run.load`` would load the weights too).
    """
    from synth_core.data.datasets import load_dataset
    from synth_core.errors import SynthError

    path = _run_path(data, workspace)
    meta = read_json(path / "config.json") if path is not None and path.is_dir() else None
    if not meta or not meta.get("dataset_ref"):
        return None
    ref = meta["dataset_ref"]
    if ref not in source_folds:
        try:
            source_folds[ref] = load_dataset(ref, workspace).folds
        except SynthError:
            source_folds[ref] = None
    folds = source_folds[ref]
    if folds is None:
        return None
    split = read_json(path / "split.json", {}) or {}
    rows = [int(i) for key in ("train_index", "val_index", "train", "val")
            for i in split.get(key, [])]
    rows = [i for i in rows if 0 <= i < len(folds)] or list(range(len(folds)))
    return sorted(set(folds[rows].tolist()))


def _reconstructors(sets: dict[str, FeatureSet], real: FeatureSet, workspace,
                    callback: Callback | None) -> dict[str, Reconstructor]:
    """Image data: each set's model (attrs model_run) reconstructs real test rows for PSNR."""
    if real.attrs.get("modality") != "image":
        return {}
    out: dict[str, Reconstructor] = {}
    for name, data in sets.items():
        path = _run_path(data, workspace)
        if path is None:
            continue
        try:
            from synth_core.training.runs import Run

            run = Run.load(path)
        except (ImportError, OSError, ValueError) as exc:
            emit(callback, Log(f"{name}: no PSNR, its model {data.attrs['model_run']} could "
                               f"not be loaded ({exc})", level="warning"))
            continue
        if run.n_features != real.n_features:
            continue
        conditional = bool(getattr(run, "is_conditional", False))
        out[name] = (lambda X, y, run=run, conditional=conditional:
                     run.reconstruct(X, y if conditional else None))
    return out


def reports_dir(workspace) -> Path:
    """``reports/`` in the workspace: evaluation reports (JSON + CSV)."""
    path = workspace.root / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def evaluate_job(params: dict[str, Any], ctx) -> dict[str, Any]:
    """Background job: params {real_train, synthetic: [refs], real_test?, config?, name?}."""
    workspace = ctx.workspace
    config = EvaluateConfig.from_dict(params.get("config"))
    card = run_evaluation(workspace, real_train=params["real_train"],
                          synthetic=list(params.get("synthetic") or []),
                          real_test=params.get("real_test") or None, config=config,
                          callback=ctx)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = safe_name(params.get("name") or f"evaluate-{stamp}-{ctx.job_id[-6:]}")
    paths = save_report(card, reports_dir(workspace) / f"{name}.json")
    return {"report": str(paths["json"]), "csv": str(paths["csv"]), "sets": card.sets,
            "seconds": round(card.seconds, 2),
            "message": f"scored {len(card.sets)} set(s) in {card.seconds:.1f} s"}
