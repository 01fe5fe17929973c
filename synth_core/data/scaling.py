"""Feature transforms fitted on training rows: min-max, standardisation, quantile-to-normal.

A model sees features through one of these, chosen per dataset and saved with
the run (``TrainConfig.transform``):

* ``"minmax"`` -- per-feature min-max to [0, 1], the thesis's choice (and the
  one the thesis decoders need: their sigmoid output and the CVAE's binary
  cross-entropy live in [0, 1]). Also stored in feature files under ``/scaler``.
* ``"standard"`` -- zero mean and unit variance per feature.
* ``"quantile"`` -- each feature mapped through its empirical quantiles to a
  standard normal (scikit-learn's ``QuantileTransformer(output_distribution=
  "normal")``): skewed, heavy-tailed or multi-modal columns become Gaussian,
  which is what a Gaussian decoder models. The training minimum and maximum map to
  about -5.2 and +5.2 (scikit-learn's bounds), whatever the number of rows.
* ``"quantile-hazen"`` -- the same, but the sorted training values sit at the
  plotting positions (i + 0.5) / n (Hazen) instead of i / (n - 1): the extremes
  map to norm.ppf(0.5 / n), finite and shrinking with n (+-2.33 at n = 50), so a
  small table gets no +-5.2 outliers for the decoder to chase.

Each transform is fitted on training rows only, inverts generated data back to
the original scale, and serialises to plain JSON (``to_dict`` / ``from_dict``,
tagged with ``"kind"``; no pickle). Constant columns map to 0 and invert
exactly. scikit-learn is imported on first use, so the names are cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from synth_core.errors import InputError
from synth_core.workspace import atomic_write_json, read_json

TRANSFORM_KINDS: tuple[str, ...] = ("minmax", "standard", "quantile", "quantile-hazen")
TRANSFORM_TITLES: dict[str, str] = {
    "minmax": "min-max to [0, 1] (thesis)",
    "standard": "standardise (zero mean, unit variance)",
    "quantile": "quantile to normal (skewed or multi-modal columns)",
    "quantile-hazen": "quantile to normal, finite tails (plotting positions (i + 0.5) / n)",
}
MAX_QUANTILES = 1000  # scikit-learn's default; fewer when there are fewer training rows


class _Transform:
    """Shared checks, JSON saving and loading of the fitted transforms."""

    kind: ClassVar[str] = ""
    bounded: ClassVar[bool] = False  # training rows map into [0, 1]
    _fitted_attr: ClassVar[str] = ""

    def fit(self, X: np.ndarray) -> "_Transform":
        X = _as_matrix(X, "X")
        if X.shape[0] == 0:
            raise InputError(f"cannot fit the {self.kind} transform on 0 rows; give at least one "
                             "training row")
        if not np.isfinite(X).all():
            raise InputError(f"cannot fit the {self.kind} transform on data with NaN or infinite "
                             "values; clean the features first")
        self._fit(X)
        return self

    def _fit(self, X: np.ndarray) -> None:
        raise NotImplementedError

    def fit_domain(self, X: np.ndarray) -> "_Transform":
        """Remember the whole-number columns of the training rows ``X`` [N, D].

        ``inverse_transform`` then rounds generated values in those columns and keeps
        them within the range seen in training: pixel intensities, counts, 8-bit
        quantised embeddings and 0/1 flags come back as the values they can take.
        Without it, a classifier tells generated rows from real ones by the fractions
        alone (``benchmarks/quality.py`` on the 8x8 digits: detection AUC 1.00 for
        every generator). Runs call it; the feature file's /scaler does not.
        """
        X = _as_matrix(X, "X")
        lo, hi = X.min(axis=0), X.max(axis=0)
        whole = np.all(X == np.round(X), axis=0) & (hi > lo)              # [D] bool
        self.integer_columns_ = np.flatnonzero(whole)
        self.integer_min_, self.integer_max_ = lo[whole], hi[whole]
        return self

    def _snap(self, X: np.ndarray) -> np.ndarray:
        cols = getattr(self, "integer_columns_", None)
        if cols is not None and len(cols):
            X[:, cols] = np.clip(np.round(X[:, cols]), self.integer_min_, self.integer_max_)
        return X

    def _domain_dict(self) -> dict[str, Any]:
        if getattr(self, "integer_columns_", None) is None:
            return {}
        return {"integer_columns": self.integer_columns_.tolist(),
                "integer_min": self.integer_min_.tolist(),
                "integer_max": self.integer_max_.tolist()}

    def _load_domain(self, state: dict) -> "_Transform":
        if "integer_columns" in state:  # runs saved before fit_domain have none
            self.integer_columns_ = np.asarray(state["integer_columns"], dtype=np.int64)
            self.integer_min_ = np.asarray(state["integer_min"], dtype=np.float64)
            self.integer_max_ = np.asarray(state["integer_max"], dtype=np.float64)
        return self

    def _check(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, self._fitted_attr):
            raise InputError(f"this {self.kind} transform is not fitted yet; call fit(X) on the "
                             "training rows")
        X = _as_matrix(X, "X")
        if X.shape[1] != self.n_features:
            raise InputError(f"X has {X.shape[1]} features but the {self.kind} transform was "
                             f"fitted on {self.n_features}; use data of the same width")
        return X

    @property
    def n_features(self) -> int:
        return int(np.shape(getattr(self, self._fitted_attr))[-1])

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def save(self, path: str | os.PathLike[str]) -> None:
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "_Transform":
        state = read_json(Path(path))
        if state is None:
            raise InputError(f"{path}: the feature transform file is missing; re-train or "
                             "re-extract")
        loaded = transform_from_dict(state)
        if cls is not _Transform and not isinstance(loaded, cls):
            raise InputError(f"{path} holds a {loaded.kind} transform, not {cls.kind}")
        return loaded


@dataclass
class MinMaxScaling(_Transform):
    """Per-feature min-max scaling; ``data_min_`` and ``data_max_`` are set by fit."""

    clip: bool = False
    kind: ClassVar[str] = "minmax"
    bounded: ClassVar[bool] = True
    _fitted_attr: ClassVar[str] = "data_min_"

    def _fit(self, X: np.ndarray) -> None:
        self._set(X.min(axis=0), X.max(axis=0))

    def _set(self, data_min: np.ndarray, data_max: np.ndarray) -> None:
        from sklearn.preprocessing import MinMaxScaler

        self.data_min_ = np.asarray(data_min, dtype=np.float64)
        self.data_max_ = np.asarray(data_max, dtype=np.float64)
        sk = MinMaxScaler(feature_range=(0.0, 1.0), clip=self.clip)
        # Fit on the two extreme rows: gives exactly data_min_/data_max_ (constant
        # columns get scale 1, so they map to 0 and invert exactly).
        sk.fit(np.vstack([self.data_min_, self.data_max_]))
        self._sk = sk

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self._sk.transform(self._check(X)).astype(np.float32)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        return self._snap(self._sk.inverse_transform(self._check(X))).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "data_min": self.data_min_.tolist(),
                "data_max": self.data_max_.tolist(), "clip": self.clip, **self._domain_dict()}

    @classmethod
    def from_dict(cls, state: dict) -> "MinMaxScaling":
        scaler = cls(clip=bool(state.get("clip", False)))
        scaler._set(np.asarray(state["data_min"]), np.asarray(state["data_max"]))
        return scaler._load_domain(state)


@dataclass
class Standardisation(_Transform):
    """Per-feature (x - mean) / std; constant columns keep scale 1."""

    kind: ClassVar[str] = "standard"
    _fitted_attr: ClassVar[str] = "mean_"

    def _fit(self, X: np.ndarray) -> None:
        std = X.std(axis=0)
        self._set(X.mean(axis=0), np.where(std > 0, std, 1.0))

    def _set(self, mean: np.ndarray, scale: np.ndarray) -> None:
        self.mean_ = np.asarray(mean, dtype=np.float64)
        self.scale_ = np.asarray(scale, dtype=np.float64)

    def transform(self, X: np.ndarray) -> np.ndarray:
        return ((self._check(X) - self.mean_) / self.scale_).astype(np.float32)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        return self._snap(self._check(X) * self.scale_ + self.mean_).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
                **self._domain_dict()}

    @classmethod
    def from_dict(cls, state: dict) -> "Standardisation":
        scaler = cls()
        scaler._set(np.asarray(state["mean"]), np.asarray(state["scale"]))
        return scaler._load_domain(state)


@dataclass
class QuantileNormal(_Transform):
    """Each feature through its training quantiles to N(0, 1) (scikit-learn's transformer).

    Up to :data:`MAX_QUANTILES` quantiles (fewer with fewer rows); the inverse
    maps values beyond the extreme quantiles to the training minimum / maximum.
    Constant columns map to 0 (the middle of the normal) and back exactly.
    Fitted state: ``quantiles_`` [Q, D] and their probabilities ``references_`` [Q].
    """

    kind: ClassVar[str] = "quantile"
    _fitted_attr: ClassVar[str] = "quantiles_"
    # scikit-learn's bounds: values at or past the extreme quantiles go to probability 0 / 1,
    # i.e. norm.ppf(1e-7) = -5.2 / +5.2. The Hazen subclass keeps them at its end positions.
    _hard_bounds: ClassVar[bool] = True

    def _fit(self, X: np.ndarray) -> None:
        from sklearn.preprocessing import QuantileTransformer

        sk = QuantileTransformer(n_quantiles=min(MAX_QUANTILES, X.shape[0]),
                                 output_distribution="normal", subsample=None).fit(X)
        self.quantiles_, self.references_ = sk.quantiles_, sk.references_

    def _constant(self) -> np.ndarray:
        """[D] bool: columns with one value (scikit-learn would map them to -5.2, not 0)."""
        return self.quantiles_[0] == self.quantiles_[-1]

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = _quantile_forward(self._check(X), self.quantiles_, self.references_,
                              hard_bounds=self._hard_bounds)
        Z[:, self._constant()] = 0.0
        return Z.astype(np.float32)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        X = _quantile_inverse(self._check(X), self.quantiles_, self.references_)
        constant = self._constant()
        X[:, constant] = self.quantiles_[0, constant]
        return self._snap(X).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "quantiles": self.quantiles_.tolist(),
                "references": self.references_.tolist(), **self._domain_dict()}

    @classmethod
    def from_dict(cls, state: dict) -> "QuantileNormal":
        quantiles = np.asarray(state["quantiles"], dtype=np.float64)    # [n_quantiles, D]
        references = np.asarray(state["references"], dtype=np.float64)  # [n_quantiles]
        if quantiles.ndim != 2 or references.shape != (quantiles.shape[0],):
            raise ValueError(f"quantiles {list(quantiles.shape)} and references "
                             f"{list(references.shape)} do not fit together")
        scaler = cls()
        scaler.quantiles_, scaler.references_ = quantiles, references
        return scaler._load_domain(state)


@dataclass
class QuantileNormalHazen(QuantileNormal):
    """Quantile to N(0, 1) with the training rows at plotting positions (i + 0.5) / n.

    scikit-learn puts the i-th of n sorted training values at probability i / (n - 1),
    so the minimum and maximum land on its bounds, -5.2 and +5.2: on 50 rows each column
    then has std 1.38, not 1, and 4 % of its values are outliers. Hazen's positions put
    them at norm.ppf(0.5 / n) (-2.33 at n = 50, -3.29 at n = 1,000), the tails finite and
    shrinking with n. Ties get the middle of their positions (e.g. a column that is 0 in
    half the rows maps those rows to norm.ppf(0.25), not -5.2). Values past the training
    range map to the end positions on the way in and, as before, to the training minimum /
    maximum on the way back. Above :data:`MAX_QUANTILES` rows the quantiles are the
    Hazen-interpolated ones at evenly spaced positions from 0.5 / n to 1 - 0.5 / n.
    """

    kind: ClassVar[str] = "quantile-hazen"
    _hard_bounds: ClassVar[bool] = False

    def _fit(self, X: np.ndarray) -> None:
        n = X.shape[0]
        n_quantiles = min(MAX_QUANTILES, n)
        if n_quantiles == n:
            self.references_ = (np.arange(n) + 0.5) / n                   # [n]
            self.quantiles_ = np.sort(X, axis=0)                           # [n, D]
        else:
            self.references_ = np.linspace(0.5 / n, 1 - 0.5 / n, n_quantiles)
            self.quantiles_ = np.quantile(X, self.references_, axis=0, method="hazen")


# scikit-learn's QuantileTransformer maps one column at a time and calls scipy's norm.ppf per
# column: 3 s for one row of 6,464 features (a 64 x 101 spectrogram), 0.25 s for a 512-d row,
# too slow for a slider. These two do the same arithmetic (sklearn 1.9's _transform_col: the
# two-sided interpolation for repeated quantiles, the bounds, the clip) with the interpolation
# per column and the normal's ppf/cdf once over the whole matrix (tests check equality).
_BOUNDS = 1e-7  # sklearn.preprocessing._data.BOUNDS_THRESHOLD


def _quantile_forward(X: np.ndarray, quantiles: np.ndarray, references: np.ndarray, *,
                      hard_bounds: bool = True) -> np.ndarray:
    """[N, D] raw -> [N, D] standard normal through each column's quantiles [Q, D].

    ``hard_bounds``: scikit-learn's rule, values at or past the extreme quantiles go to
    probability 0 / 1; without it np.interp holds them at the end references.
    """
    from scipy.stats import norm

    U = np.empty_like(X, dtype=np.float64)
    for j in range(X.shape[1]):
        q, x = quantiles[:, j], X[:, j]
        u = 0.5 * (np.interp(x, q, references) - np.interp(-x, -q[::-1], -references[::-1]))
        if hard_bounds:
            u[x + _BOUNDS > q[-1]] = 1.0
            u[x - _BOUNDS < q[0]] = 0.0
        U[:, j] = u
    lo, hi = norm.ppf(_BOUNDS - np.spacing(1)), norm.ppf(1 - (_BOUNDS - np.spacing(1)))
    return np.clip(norm.ppf(U), lo, hi)


def _quantile_inverse(Z: np.ndarray, quantiles: np.ndarray, references: np.ndarray) -> np.ndarray:
    """[N, D] standard normal -> [N, D] raw scale (values past the extremes -> min / max)."""
    from scipy.stats import norm

    U = norm.cdf(Z)
    X = np.empty_like(U, dtype=np.float64)
    for j in range(U.shape[1]):
        q, u = quantiles[:, j], U[:, j]
        x = np.interp(u, references, q)
        x[u + _BOUNDS > 1.0] = q[-1]
        x[u - _BOUNDS < 0.0] = q[0]
        X[:, j] = x
    return X


TRANSFORMS: dict[str, type[_Transform]] = {
    "minmax": MinMaxScaling,
    "standard": Standardisation,
    "quantile": QuantileNormal,
    "quantile-hazen": QuantileNormalHazen,
}
FeatureTransform = _Transform  # the type every transform shares


def make_transform(kind: str) -> _Transform:
    """An unfitted transform of ``kind`` (one of :data:`TRANSFORM_KINDS`)."""
    try:
        return TRANSFORMS[kind]()
    except KeyError:
        raise InputError(f"transform: unknown feature transform {kind!r}; choose one of "
                         f"{', '.join(TRANSFORMS)}") from None


def transform_from_dict(state: dict) -> _Transform:
    """A fitted transform from its ``to_dict``; files without ``kind`` are min-max (older runs)."""
    if not isinstance(state, dict):
        raise InputError(f"a feature transform must be a JSON object; got {type(state).__name__}")
    kind = state.get("kind", "minmax")
    if kind not in TRANSFORMS:
        raise InputError(f"unknown feature transform {kind!r} in the saved state; this version "
                         f"knows {', '.join(TRANSFORMS)}")
    return TRANSFORMS[kind].from_dict(state)


def load_transform(path: str | os.PathLike[str]) -> _Transform:
    """The transform saved at ``path`` (a run's scaler.json), whatever its kind."""
    return _Transform.load(path)


def _as_matrix(X: np.ndarray, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError(f"{name} must be 2-D [rows, features]; got shape {X.shape}")
    return X
