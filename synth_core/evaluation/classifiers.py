"""Classifiers of the scorecard: utility (TSTR/TRTR) and the real-vs-synthetic detectors.

:func:`classifier_utility` trains a seeded scikit-learn classifier (MLP,
logistic regression or random forest, each after standardisation) on one set
and tests it on real rows: accuracy, macro-F1 (with bootstrap 95 % intervals),
the classification report and the confusion matrix. Trained on synthetic rows
this is TSTR, on real rows TRTR, on both the augmentation check.
:func:`make_detector` builds the classifier of the two-sample test in
:mod:`.metrics`. Both families are registry dicts (:data:`CLASSIFIERS`,
:data:`DETECTORS`): a new one is one factory and one entry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from synth_core.errors import InputError
from synth_core.features import FeatureSet

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


# Below this many training rows the MLP is fitted with L-BFGS (full batch, to convergence, with
# weight decay alpha 1.0), as scikit-learn advises for small datasets. Adam with one batch of all
# rows per step got ~100 steps on a table of 50 rows, too few on wide ones, and without weight
# decay L-BFGS stops within ~10 iterations at zero training loss wherever the random start
# leads. Real-trained accuracy, 70/30, seeds 0-2 (Adam -> L-BFGS; logistic regression): wine
# 0.80 -> 0.99 (0.99), breast cancer 0.92 -> 0.97 (0.96), digits 0.95 -> 0.98 (0.97), demo
# sounds 0.99 -> 0.99, a 72 x 7,129 leukemia-like table 0.62 -> 0.92 (0.92; 0.2 s a fit, below), a
# 2,600 x 500 madelon-like one 0.73 -> 0.75 (0.72); alpha 1e-3 / 0.1 gave 0.89 / 0.86 on the
# leukemia-like table (6 seeds), equal elsewhere. Larger sets keep Adam in mini-batches with
# early stopping: full-batch L-BFGS on thousands of wide rows is slow and needs no help there.
MLP_LBFGS_MAX_ROWS = 2000
MLP_LBFGS_ALPHA = 1.0


def _make_mlp(n_rows: int, n_classes: int, min_count: int, random_state: int):
    from sklearn.neural_network import MLPClassifier

    if n_rows < MLP_LBFGS_MAX_ROWS:
        return MLPClassifier(hidden_layer_sizes=(128,), solver="lbfgs", max_iter=200,
                             alpha=MLP_LBFGS_ALPHA, random_state=random_state)
    # Early stopping holds out a stratified 10 %: only when every class can give rows to it.
    early = n_rows >= 20 * n_classes and min_count >= 5
    fitted_rows = int(n_rows * 0.9) if early else n_rows  # rows left after the 10 % hold-out
    return MLPClassifier(hidden_layer_sizes=(128,), early_stopping=early, max_iter=100,
                         n_iter_no_change=8, batch_size=max(1, min(256, fitted_rows)),
                         learning_rate_init=1e-3, alpha=1e-3, random_state=random_state)


def _make_logreg(n_rows: int, n_classes: int, min_count: int, random_state: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=300, random_state=random_state)


# Rows each tree of the forest draws (bootstrap), and the smallest leaf: the cap keeps the
# forest's cost flat in the number of training rows (7077 x 512: ~2 s on one core instead
# of ~50 s for fully grown trees on all rows) and 100 trees on 500-row draws still see
# nearly every row; leaves of 3 rows cut the deepest, noisiest splits (and time).
# Measured on benchmarks/evaluate.py data: TRTR accuracy 0.89 vs 0.85 for 20 full trees.
FOREST_MAX_SAMPLES = 500


def _make_forest(n_rows: int, n_classes: int, min_count: int, random_state: int):
    from sklearn.ensemble import RandomForestClassifier

    # n_jobs=1: the machine is shared and the scorecard limits threads itself.
    return RandomForestClassifier(
        n_estimators=100, max_features="sqrt", min_samples_leaf=3, n_jobs=1,
        random_state=random_state,
        max_samples=FOREST_MAX_SAMPLES if n_rows > FOREST_MAX_SAMPLES else None)


# name -> factory(n_rows, n_classes, min_count, random_state); every one is standardised first
# (harmless for the forest, which is scale-free).
CLASSIFIERS: dict[str, Callable[..., Any]] = {"mlp": _make_mlp, "logreg": _make_logreg,
                                              "forest": _make_forest}
CLASSIFIER_LABELS: dict[str, str] = {
    "mlp": "MLP (one hidden layer of 128; L-BFGS below 2,000 rows, else Adam with early "
           "stopping)",
    "logreg": "logistic regression",
    "forest": "random forest (100 trees, sqrt features, 500-row draws)",
}


def make_classifier(name: str, y: np.ndarray, *, random_state: int = 0,
                    n_features: int | None = None):
    """A seeded scikit-learn pipeline (standardise, then classify) for labels ``y``.

    With fewer rows than ``n_features`` the MLP learns on the rows' principal components (all
    of them: a rotation onto the span of the standardised training rows, nothing dropped).
    Its weight decay keeps the first layer's weights in that span anyway (the loss gradient
    X^T delta lies there), so the model and its optimum are the same, with rows x 128 first
    layer weights instead of features x 128: on a 50 x 7,129 table a fit took 10 s, mostly
    L-BFGS's own bookkeeping of 912,000 weights, and takes 0.2 s, at the same accuracy on
    12 of 12 splits (leukemia-like and demo sounds, seeds 0-5).
    """
    import warnings

    from sklearn.decomposition import PCA
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name not in CLASSIFIERS:
        raise InputError(f"classifier {name!r} is unknown; choose from " + ", ".join(CLASSIFIERS))
    counts = np.unique(y, return_counts=True)[1] if len(y) else np.zeros(1, dtype=int)
    model = CLASSIFIERS[name](len(y), len(counts), int(counts.min()), random_state)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if name == "mlp" and n_features is not None and len(y) < n_features:
        return make_pipeline(StandardScaler(), PCA(svd_solver="full"), model)
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


def make_detector(name: str, *, n_components: int | None, random_state: int = 0,
                  wide: bool = False):
    """Pipeline: standardise, PCA to ``n_components`` (None: keep all), then the detector.

    ``wide``: fewer training rows than features, where PCA decomposes the rows (an SVD of
    [rows, D]) rather than the D x D covariance (60 rows of 3,000 features: 0.01 s
    instead of 3.6 s a fold)."""
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
        # covariance_eigh: one D x D eigendecomposition, far faster than randomized SVD when
        # the rows outnumber the features.
        steps.append(PCA(n_components=n_components,
                         svd_solver="full" if wide else "covariance_eigh"))
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
    # Over the classes that occur in the resample's truth or predictions, as the point value.
    macro = f1.sum(axis=1) / np.maximum((denominator > 0).sum(axis=1), 1)
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
    rows simply gets F1 0); macro-F1 averages the classes the test rows hold or the
    classifier predicts.
    """
    from sklearn.metrics import classification_report, confusion_matrix, f1_score

    require_labels(train, set_name or "training set")
    require_labels(test, "real test set")
    if len(np.unique(train.labels)) < 2:
        raise InputError(f"{set_name or 'training set'}: has a single class "
                         f"({int(train.labels[0])}); a classifier needs rows of at least two "
                         "classes; generate rows for more classes")
    started = time.perf_counter()
    model = make_classifier(classifier, train.labels, random_state=random_state,
                            n_features=train.n_features)
    model.fit(train.features, train.labels)
    predicted = model.predict(test.features).astype(np.int64)
    n_classes = max(len(test.class_names), int(test.labels.max()) + 1, int(predicted.max()) + 1)
    labels = list(range(n_classes))
    names = _names(test.class_names, n_classes)
    report = classification_report(test.labels, predicted, labels=labels, target_names=names,
                                   output_dict=True, zero_division=0)
    accuracy = float(np.mean(predicted == test.labels))
    # Macro-F1 over the classes the test rows hold or the classifier predicts: a class with
    # no test row that is never predicted (a tiny class kept whole for training) is no miss.
    present = sorted(set(test.labels.tolist()) | set(predicted.tolist()))
    macro = float(f1_score(test.labels, predicted, labels=present, average="macro",
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


def require_labels(data: FeatureSet, name: str, *, needs: str = "the classifier metrics",
                   fix: str = "label the data on the Data step or generate with class labels"
                   ) -> None:
    if data.n_samples == 0:
        raise InputError(f"{name}: has no rows; choose a dataset with rows")
    if not data.is_labeled:
        missing = int((data.labels < 0).sum())
        raise InputError(f"{name}: {missing} of {data.n_samples} rows have no label (-1); "
                         f"{needs} need a label on every row; {fix}")
