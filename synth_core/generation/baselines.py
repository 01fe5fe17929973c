"""Baseline generators: simple models every VAE scorecard is compared against.

Three scikit-learn-style estimators (``__init__`` stores arguments, ``fit(X, y=None)``
validates and returns ``self``, fitted state ends in ``_``, ``sample`` takes a
``random_state``), each fitted per class when the rows are labelled:

* :class:`GaussianBaseline` – one multivariate Gaussian per class (the class mean
  and covariance, plus a small ridge on the diagonal so few rows or collinear
  features still give a usable distribution);
* :class:`CopulaBaseline` – a Gaussian copula per class: each feature keeps its
  empirical marginal (ranks -> normal scores on the way in, empirical quantiles on
  the way out) and the features' dependence is a Gaussian on the normal scores;
* :class:`SmoteBaseline` – SMOTE (imbalanced-learn): each new row lies on the
  segment between a real row and one of its ``k`` nearest neighbours of the same
  class.

Covariances are kept as factors ``L`` [D, r] with ``cov = L L^T + diag(ridge)``,
never as D x D matrices, so a 72-row table with 7,000 genes costs 72 x 7,000
numbers per class, not 7,000 x 7,000.

:data:`BASELINES` names them, :func:`fit_baseline` fits one, and
:func:`baseline_feature_set` turns one into a generated :class:`FeatureSet` with
provenance (``mode="baseline:<kind>"``, seed, source dataset, the rows fitted on
and the folds held out).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

import numpy as np

from synth_core.errors import InputError
from synth_core.gaussians import centred_factor
from synth_core.features import FeatureSet

# A hard cap so a typo (1e9 rows) fails at once instead of filling memory.
MAX_SAMPLES = 1_000_000
_COPIED_ATTRS = ("feature_shape", "modality", "extractor", "frames", "sample_rate", "dataset",
                 "column_names", "feature_names", "spectrogram")


# --------------------------------------------------------------------------- shared checks


def _check_X(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a finite float64 matrix [n_samples, n_features], or an InputError."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError(f"{name} must be a 2-D matrix [rows, features]; got shape {X.shape}; "
                         "reshape each sample to one row")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"{name} has shape {X.shape}; a baseline needs at least 2 rows and "
                         "1 feature")
    if not np.isfinite(X).all():
        rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
        raise InputError(f"{name}: {len(rows)} row(s) contain NaN or infinite values (first "
                         f"row {rows[0]}); remove or impute them before fitting a baseline")
    return X


def _check_y(y: Any, n: int) -> np.ndarray:
    if y is None:
        return np.full(n, -1, dtype=np.int64)
    y = np.asarray(y).reshape(-1)
    if y.shape[0] != n:
        raise InputError(f"y has {y.shape[0]} labels but X has {n} rows; give one label per row")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.mod(y, 1) == 0):
            raise InputError("y must hold integer class labels (0..K-1, or -1 for unlabelled "
                             f"rows); got values such as {y[np.mod(y, 1) != 0][0]!r}")
    y = y.astype(np.int64)
    if (y < 0).any() and (y >= 0).any():
        raise InputError(f"y mixes {int((y < 0).sum())} unlabelled row(s) (-1) with labelled "
                         "ones; label every row, or pass y=None to fit all rows as one group")
    return y


def _check_random_state(random_state: Any) -> int:
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, (int, np.integer)):
        raise InputError(f"random_state must be an integer seed; got {random_state!r}")
    if random_state < 0:
        raise InputError(f"random_state must be >= 0; got {random_state}")
    return int(random_state)


def _class_seeds(random_state: int, classes: list[int]) -> dict[int, np.random.Generator]:
    """One independent generator per class, so a class's rows do not depend on the others."""
    children = np.random.SeedSequence(random_state).spawn(len(classes))
    return {c: np.random.default_rng(s) for c, s in zip(classes, children)}


def split_counts(n: int, class_counts: Mapping[int, int]) -> dict[int, int]:
    """``n`` rows shared out in proportion to ``class_counts`` (largest remainders)."""
    classes = list(class_counts)
    weights = np.array([class_counts[c] for c in classes], dtype=np.float64)
    exact = n * weights / weights.sum()
    out = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - out), kind="stable")[: n - int(out.sum())]:
        out[i] += 1
    return {c: int(k) for c, k in zip(classes, out)}


# --------------------------------------------------------------------------- the estimators


class _ClassBaseline:
    """Shared fit/sample plumbing: validate, fit each class, draw per-class counts."""

    #: The fewest rows of one class the method can fit.
    min_rows: int = 2
    kind: str = ""

    def fit(self, X: Any, y: Any = None) -> "_ClassBaseline":
        """Fit one model per class of ``y`` (all rows as one group when ``y`` is None)."""
        self._check_params()
        X = _check_X(X)
        y = _check_y(y, X.shape[0])
        classes, sizes = np.unique(y, return_counts=True)
        small = [(int(c), int(k)) for c, k in zip(classes, sizes) if k < self.min_rows]
        if small:
            shown = ", ".join(f"class {c}: {k} row(s)" for c, k in small[:5])
            raise InputError(f"the {self.kind} baseline needs at least {self.min_rows} rows per "
                             f"class to fit ({shown}); add rows to those classes or leave them "
                             "out of the data")
        self.n_features_in_ = int(X.shape[1])
        self.classes_ = [int(c) for c in classes]
        self.class_counts_ = {int(c): int(k) for c, k in zip(classes, sizes)}
        self.states_ = {int(c): self._fit_class(X[y == c]) for c in classes}
        return self

    def sample(self, counts: Mapping[int, int] | int, *, random_state: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
        """New rows: ``counts[c]`` of each class ``c`` -> (X_new [N, D], y_new [N]).

        An integer ``counts`` is shared out in the fitted class balance.
        """
        if not hasattr(self, "states_"):
            raise InputError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) "
                             "before sample()")
        seed = _check_random_state(random_state)
        counts = self._check_counts(counts)
        rngs = _class_seeds(seed, list(counts))
        blocks, labels = [], []
        for c, n in counts.items():
            if n == 0:
                continue
            blocks.append(self._sample_class(self.states_[c], n, rngs[c]))  # [n, D]
            labels.append(np.full(n, c, dtype=np.int64))
        if not blocks:
            return np.empty((0, self.n_features_in_)), np.empty(0, dtype=np.int64)
        return np.vstack(blocks), np.concatenate(labels)

    def _check_counts(self, counts: Mapping[int, int] | int) -> dict[int, int]:
        if isinstance(counts, (int, np.integer)) and not isinstance(counts, bool):
            if counts < 0:
                raise InputError(f"counts = {counts}; give a number of rows >= 0")
            counts = split_counts(int(counts), self.class_counts_)
        if not isinstance(counts, Mapping):
            raise InputError(f"counts must be a dict {{class: rows}} or an integer; got "
                             f"{type(counts).__name__}")
        out: dict[int, int] = {}
        for c, n in counts.items():
            if int(c) not in self.class_counts_:
                raise InputError(f"counts asks for class {c}, which the baseline was not fitted "
                                 f"on (fitted classes: {self.classes_}); ask only for those")
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                raise InputError(f"count for class {c} = {n!r}; give a whole number >= 0")
            out[int(c)] = int(n)
        if sum(out.values()) > MAX_SAMPLES:
            raise InputError(f"counts ask for {sum(out.values())} rows, more than the limit of "
                             f"{MAX_SAMPLES}; ask for fewer")
        return out

    def _check_params(self) -> None:  # pragma: no cover - overridden
        pass

    def _fit_class(self, X: np.ndarray) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _sample_class(self, state: Any, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - overridden

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


class GaussianBaseline(_ClassBaseline):
    """A multivariate Gaussian per class: ``N(mean_c, cov_c + ridge * diag(cov_c))``.

    The ridge scales each feature's own variance, so a feature that is constant
    in a class (a blank pixel) stays constant in its samples instead of gaining
    noise a classifier could spot.
    """

    kind = "gaussian"

    def __init__(self, *, ridge: float = 1e-3) -> None:
        self.ridge = ridge

    def _check_params(self) -> None:
        if not (isinstance(self.ridge, (int, float)) and 0.0 <= self.ridge < 1.0):
            raise InputError(f"ridge = {self.ridge!r}; give a small non-negative number below "
                             "1, e.g. 1e-3")

    def _fit_class(self, X: np.ndarray) -> dict[str, np.ndarray]:
        var = X.var(axis=0, ddof=1)
        factor = centred_factor(X)
        # A constant stays exactly constant: the SVD leaves ~1e-10 in its factor row, and a
        # mean of n copies of 0.1 can be off in the last bit.
        constant = X.min(axis=0) == X.max(axis=0)
        var[constant] = 0.0
        factor[constant] = 0.0
        mean = X.mean(axis=0)
        mean[constant] = X[0, constant]
        return {"mean": mean, "factor": factor, "noise": np.sqrt(self.ridge * var)}

    def _sample_class(self, state: dict[str, np.ndarray], n: int,
                      rng: np.random.Generator) -> np.ndarray:
        factor = state["factor"]  # [D, r]
        w = rng.standard_normal((n, factor.shape[1]))  # [n, r]
        e = rng.standard_normal((n, factor.shape[0]))  # [n, D]
        return state["mean"] + w @ factor.T + e * state["noise"]

    def covariance(self, label: int) -> np.ndarray:
        """The fitted covariance [D, D] of class ``label`` (for checks; D x D memory)."""
        state = self.states_[int(label)]
        return state["factor"] @ state["factor"].T + np.diag(state["noise"] ** 2)

    def mean(self, label: int) -> np.ndarray:
        """The fitted mean [D] of class ``label``."""
        return self.states_[int(label)]["mean"]


class CopulaBaseline(_ClassBaseline):
    """A Gaussian copula per class with empirical marginals.

    Fit: each feature's values -> ranks -> ``u = rank / (n + 1)`` -> normal scores
    ``Phi^-1(u)``; the scores' correlation ``R`` is shrunk towards the identity by
    ``shrinkage`` (few rows give a noisy, singular ``R``). Sample: ``z ~ N(0, R)``,
    ``u = Phi(z)``, and each feature's value is the class's empirical quantile at
    ``u`` (linear between order statistics), so the marginals are the real ones
    and no value leaves the class's observed range.

    Written with numpy/scipy rather than the ``copulas`` package: the model is a
    few lines here, and the low-rank factor form keeps 7,000-feature tables
    cheap, which a D x D correlation matrix does not.
    """

    kind = "copula"

    def __init__(self, *, shrinkage: float = 0.05) -> None:
        self.shrinkage = shrinkage

    def _check_params(self) -> None:
        if not (isinstance(self.shrinkage, (int, float)) and 0.0 <= self.shrinkage <= 1.0):
            raise InputError(f"shrinkage = {self.shrinkage!r}; give a number in [0, 1] "
                             "(0 keeps the fitted correlation, 1 makes the features "
                             "independent)")

    def _fit_class(self, X: np.ndarray) -> dict[str, np.ndarray]:
        from scipy.stats import norm, rankdata

        n = X.shape[0]
        scores = norm.ppf(rankdata(X, axis=0) / (n + 1))  # [n, D] normal scores
        scores = scores - scores.mean(axis=0)
        std = scores.std(axis=0, ddof=1)
        # A constant feature has all-tied ranks: zero scores, and its quantile
        # function returns the constant whatever u is, so any scale works.
        scores = scores / np.where(std > 0, std, 1.0)
        return {"sorted": np.sort(X, axis=0),  # [n, D] order statistics
                "factor": centred_factor(scores)}  # [D, r], diag(L L^T) = 1

    def _sample_class(self, state: dict[str, np.ndarray], n: int,
                      rng: np.random.Generator) -> np.ndarray:
        from scipy.stats import norm

        factor, ordered = state["factor"], state["sorted"]
        w = rng.standard_normal((n, factor.shape[1]))  # [n, r]
        e = rng.standard_normal((n, factor.shape[0]))  # [n, D]
        # z ~ N(0, (1 - s) R + s I): unit variance per feature, dependence R.
        z = np.sqrt(1.0 - self.shrinkage) * (w @ factor.T) + np.sqrt(self.shrinkage) * e
        position = norm.cdf(z) * (ordered.shape[0] - 1)  # [n, D] in [0, rows - 1]
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, ordered.shape[0] - 1)
        frac = position - low
        cols = np.arange(ordered.shape[1])
        return ordered[low, cols] * (1.0 - frac) + ordered[high, cols] * frac


class SmoteBaseline(_ClassBaseline):
    """SMOTE (imbalanced-learn): new rows between a real row and a same-class neighbour.

    SMOTE oversamples – it returns the real rows plus new ones – so :meth:`sample`
    asks it for ``n_c + counts[c]`` rows of class ``c`` and keeps only the new
    ones. Each class uses ``min(k_neighbors, n_c - 1)`` neighbours, so a class of
    2 rows still works (new rows on the one segment between them).
    """

    kind = "smote"

    def __init__(self, *, k_neighbors: int = 5) -> None:
        self.k_neighbors = k_neighbors

    def _check_params(self) -> None:
        if isinstance(self.k_neighbors, bool) or not isinstance(self.k_neighbors, (int, np.integer)) \
                or self.k_neighbors < 1:
            raise InputError(f"k_neighbors = {self.k_neighbors!r}; give a whole number >= 1, "
                             "e.g. 5")

    def _fit_class(self, X: np.ndarray) -> np.ndarray:
        return X.copy()

    def _sample_class(self, state: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        from imblearn.over_sampling import SMOTE

        rows = state  # [n_c, D]
        k = int(min(self.k_neighbors, rows.shape[0] - 1))
        # imbalanced-learn refuses a target with one class; a placeholder row of
        # another label satisfies that check and is never resampled. SMOTE looks
        # for neighbours only among the rows of the class it oversamples, so the
        # placeholder never becomes an end point.
        X_fit = np.vstack([rows, rows[:1]])
        y_fit = np.r_[np.zeros(len(rows), dtype=np.int64), 1]
        seed = int(rng.integers(0, 2**31 - 1))
        smote = SMOTE(sampling_strategy={0: len(rows) + n}, k_neighbors=k, random_state=seed)
        X_res, y_res = smote.fit_resample(X_fit, y_fit)
        new = X_res[len(X_fit):]  # imbalanced-learn appends the new rows after the input
        if len(new) != n or (y_res[len(X_fit):] != 0).any():
            raise RuntimeError(f"SMOTE returned {len(new)} new rows, expected {n}")
        return new


BASELINES: dict[str, type[_ClassBaseline]] = {
    "gaussian": GaussianBaseline,
    "copula": CopulaBaseline,
    "smote": SmoteBaseline,
}


def _check_kind(kind: str) -> type[_ClassBaseline]:
    try:
        return BASELINES[kind]
    except (KeyError, TypeError):
        raise InputError(f"baseline {kind!r} is unknown; choose one of "
                         f"{', '.join(BASELINES)}") from None


def fit_baseline(kind: str, X: Any, y: Any = None, *, random_state: int = 0,
                 **params: Any) -> _ClassBaseline:
    """Fit the baseline ``kind`` (a :data:`BASELINES` name) on ``X`` [N, D] and ``y`` [N].

    ``random_state`` is checked here so a bad seed fails before fitting; the
    fits themselves are deterministic (the randomness is in :meth:`sample`).
    """
    cls = _check_kind(kind)
    _check_random_state(random_state)
    return cls(**params).fit(X, y)


# --------------------------------------------------------------------------- feature sets


def _check_train_rows(train_rows: Any, n: int) -> np.ndarray:
    if train_rows is None:
        return np.arange(n)
    rows = np.asarray(train_rows)
    if rows.dtype == bool:
        if rows.shape != (n,):
            raise InputError(f"train_rows is a mask of {rows.shape[0]} entries but the data "
                             f"has {n} rows; give one True/False per row")
        rows = np.flatnonzero(rows)
    rows = rows.astype(np.int64).reshape(-1)
    if rows.size == 0:
        raise InputError("train_rows is empty; give the rows to fit the baseline on")
    if rows.min() < 0 or rows.max() >= n:
        raise InputError(f"train_rows holds row {int(rows.max() if rows.max() >= n else rows.min())}"
                         f" but the data has rows 0..{n - 1}; give valid row numbers")
    if len(np.unique(rows)) != len(rows):
        raise InputError("train_rows repeats rows; give each row once")
    return rows


def fit_rows(data: FeatureSet, test_folds: Any = None,
             test_fraction: float | None = None) -> np.ndarray:
    """Rows a baseline may fit on: all rows outside ``test_folds``.

    ``test_folds`` None means the folds the dataset records as its test folds
    (attr ``test_folds``), if any; an empty list means none. Without test folds, the
    rows ``train`` holds out by default are left out too (``test_fraction`` None: the
    same derived share and the same rows, :func:`synth_core.training.defaults.test_share`,
    so Evaluate tests baselines and models on rows none of them saw); give 0 to fit on
    every row.
    """
    if test_folds is None:
        test_folds = data.attrs.get("test_folds") or []
    folds = sorted({int(f) for f in test_folds})
    if not folds:
        if test_fraction is not None and not 0.0 <= float(test_fraction) < 1.0:
            raise InputError(f"test fraction {test_fraction!r}: give a share of the rows in "
                             "[0, 1), e.g. 0.2, or 0 to fit on every row")
        from synth_core.training.defaults import test_share

        keep, _, _, _ = test_share(data.labels, test_fraction)
        return np.sort(keep)
    if test_fraction:
        raise InputError(f"test folds {folds} already hold rows out; give either test folds or "
                         "a test fraction, not both")
    if data.folds is None:
        raise InputError(f"test folds {folds} were given but the data has no folds; leave "
                         "the test folds out")
    rows = np.flatnonzero(~np.isin(data.folds, folds))
    if rows.size == 0:
        raise InputError(f"test folds {folds} hold every row; leave some folds for fitting")
    return rows


def class_counts(data: FeatureSet, rows: np.ndarray, per_class: int,
                 classes: Any = None) -> dict[int, int]:
    """``{class: per_class}`` for the classes of ``rows`` (or ``classes``, names or indices).

    Unlabelled rows form one group, class -1.
    """
    labels = data.labels[rows]
    present = sorted(set(labels.tolist())) if (labels >= 0).all() else [-1]
    if classes is None or present == [-1]:
        return {c: int(per_class) for c in present}
    names = {name: k for k, name in enumerate(data.class_names)}
    chosen = []
    for item in classes:
        text = str(item)
        k = names.get(text, int(text) if text.lstrip("-").isdigit() else None)
        if k not in present:
            raise InputError(f"class {text!r} is not among the fitted rows' classes "
                             f"({', '.join(data.class_names[c] for c in present)}); pick "
                             "from those")
        chosen.append(k)
    return {c: int(per_class) for c in chosen}


def fittable_counts(data: FeatureSet, rows: np.ndarray, counts: Mapping[int, int],
                    kind: str) -> tuple[dict[int, int], str | None]:
    """``counts`` without the classes too small for baseline ``kind`` to fit on ``rows``,
    and a warning naming them (None when every class fits).

    What a default request (every class) does, as Evaluate's baseline does: one class of
    a single row does not stop the others. Classes the user named are left to
    :func:`baseline_feature_set`, which refuses them with the reason.
    """
    need = _check_kind(kind).min_rows
    sizes = dict(zip(*np.unique(data.labels[rows], return_counts=True)))
    small = [c for c in counts if c >= 0 and sizes.get(c, 0) < need]
    if not small or len(small) == len(counts):
        return dict(counts), None
    named = ", ".join(f"{data.class_names[c] if c < len(data.class_names) else c} "
                      f"({int(sizes.get(c, 0))} row(s))" for c in small)
    return ({c: n for c, n in counts.items() if c not in small},
            f"class(es) {named} left out: the {kind} baseline needs at least {need} fitted rows "
            "of a class; add rows to them, or choose the classes to draw (--classes)")


def held_out_folds(data: FeatureSet, train_rows: np.ndarray) -> list[int]:
    """Folds of ``data`` none of whose rows are in ``train_rows`` (sorted; [] without folds)."""
    if data.folds is None:
        return []
    seen = set(np.unique(data.folds[train_rows]).tolist())
    return sorted(int(f) for f in np.unique(data.folds) if int(f) not in seen)


def _seen_ids(data: FeatureSet, train_rows: np.ndarray) -> list[str] | None:
    """Ids of the fitted rows; None when the data has no ids (row numbers of a subset
    would not match the same rows numbered in another split, so they are not invented)."""
    if data.ids is None:
        return None
    return [data.ids[i] for i in train_rows]


def baseline_feature_set(data: FeatureSet, kind: str, counts: Mapping[int, int] | int, *,
                         train_rows: Any = None, random_state: int = 0,
                         **params: Any) -> FeatureSet:
    """Fit baseline ``kind`` on ``data``'s ``train_rows`` (default all) and draw ``counts``.

    ``counts`` maps class -> new rows (an integer is shared out in the training
    rows' class balance; unlabelled data uses class -1). The result carries
    attrs ``mode="baseline:<kind>"``, ``seed``, ``source_dataset``,
    ``held_out_folds`` (JSON list: folds none of whose rows were fitted on) and
    ``n_train_rows``, and ``seen_ids`` (the fitted rows' ids; None when the data
    has none) where the FeatureSet has that field.
    """
    cls = _check_kind(kind)
    seed = _check_random_state(random_state)
    data.check_finite("data")
    rows = _check_train_rows(train_rows, data.n_samples)
    train = data.subset(rows)
    labelled = bool((train.labels >= 0).all())
    if (train.labels >= 0).any() and not labelled:
        raise InputError(f"the training rows mix {int((train.labels < 0).sum())} unlabelled "
                         "row(s) with labelled ones; label every row or drop the unlabelled ones")
    if labelled and isinstance(counts, Mapping):
        # Fit only the classes asked for: a class left out (too few rows to fit, say) must
        # not stop the others. A class that is not in the data is refused by sample().
        wanted = np.isin(train.labels, [int(c) for c, n in counts.items() if n])
        if wanted.any() and not wanted.all():
            rows, train = rows[wanted], train.subset(np.flatnonzero(wanted))
    model = fit_baseline(kind, train.features, train.labels if labelled else None,
                         random_state=seed, **params)
    X_new, y_new = model.sample(counts, random_state=seed)
    if len(y_new) == 0:
        raise InputError("counts asks for 0 rows; give at least one class a positive count")
    attrs = {"mode": f"baseline:{kind}", "seed": seed, "model": kind,
             "model_run": "", "baseline": cls.kind,
             "baseline_params": {k: v for k, v in vars(model).items() if not k.endswith("_")},
             "source": f"synth_core.generation.baselines ({kind})"}
    return fitted_feature_set(data, rows, X_new, y_new, id_prefix=kind, attrs=attrs)


def fitted_feature_set(data: FeatureSet, rows: np.ndarray, X_new: np.ndarray,
                       y_new: np.ndarray, *, id_prefix: str, attrs: dict[str, Any]
                       ) -> FeatureSet:
    """Rows a generator fitted on ``data``'s ``rows`` made, as a FeatureSet: ids
    ``<id_prefix>-<class>-<k>``, the classes' names, the data's shape and feature attrs,
    what it was fitted on (source dataset, row count, held-out folds) and the ids of the
    rows it saw (``seen_ids``, for the leakage checks); ``attrs`` adds the generator's own."""
    source = data.attrs.get("dataset") or data.attrs.get("source") or ""
    attrs = {**{k: data.attrs[k] for k in _COPIED_ATTRS if k in data.attrs},
             "source_dataset": str(source), "n_train_rows": int(len(rows)),
             # A list: write_features stores it as JSON, read_features returns a list.
             "held_out_folds": held_out_folds(data, rows), **attrs}
    per_class: dict[int, int] = {}
    ids = []
    for label in y_new.tolist():
        k = per_class.get(label, 0)
        per_class[label] = k + 1
        ids.append(f"{id_prefix}-{label}-{k}")
    extra: dict[str, Any] = {}
    if "seen_ids" in {f.name for f in fields(FeatureSet)}:
        extra["seen_ids"] = _seen_ids(data, rows)
    return FeatureSet(features=X_new.astype(np.float32), labels=y_new,
                      class_names=list(data.class_names), ids=ids,
                      parents=np.full((len(y_new), 2), -1), attrs=attrs, **extra)
