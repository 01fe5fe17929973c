"""Min-max scaling to [0, 1], the thesis's choice for VGGish features.

A thin wrapper over scikit-learn's ``MinMaxScaler`` that is fitted on training
rows only, serialises to two plain arrays (stored in feature files under
``/scaler`` and in run folders as ``scaler.json``) and inverts generated data
back to the original scale. Constant columns map to 0 and invert exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.preprocessing import MinMaxScaler

from synth_core.errors import InputError
from synth_core.workspace import atomic_write_json, read_json


@dataclass
class MinMaxScaling:
    """Per-feature min-max scaling; ``data_min_`` and ``data_max_`` are set by fit."""

    clip: bool = False

    def fit(self, X: np.ndarray) -> "MinMaxScaling":
        X = _as_matrix(X, "X")
        if X.shape[0] == 0:
            raise InputError("cannot fit a scaler on 0 rows; give at least one training row")
        if not np.isfinite(X).all():
            raise InputError("cannot fit a scaler on data with NaN or infinite values; "
                             "clean the features first")
        self._set(X.min(axis=0), X.max(axis=0))
        return self

    def _set(self, data_min: np.ndarray, data_max: np.ndarray) -> None:
        self.data_min_ = np.asarray(data_min, dtype=np.float64)
        self.data_max_ = np.asarray(data_max, dtype=np.float64)
        sk = MinMaxScaler(feature_range=(0.0, 1.0), clip=self.clip)
        # Fit on the two extreme rows: gives exactly data_min_/data_max_ (constant
        # columns get scale 1, so they map to 0 and invert exactly).
        sk.fit(np.vstack([self.data_min_, self.data_max_]))
        self._sk = sk

    @property
    def n_features(self) -> int:
        return int(self.data_min_.shape[0])

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = self._check(X)
        return self._sk.transform(X).astype(np.float32)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        X = self._check(X)
        return self._sk.inverse_transform(X).astype(np.float32)

    def _check(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "data_min_"):
            raise InputError("this scaler is not fitted yet; call fit(X) on the training rows")
        X = _as_matrix(X, "X")
        if X.shape[1] != self.n_features:
            raise InputError(f"X has {X.shape[1]} features but the scaler was fitted on "
                             f"{self.n_features}; use data of the same width")
        return X

    def to_dict(self) -> dict[str, list[float]]:
        return {"data_min": self.data_min_.tolist(), "data_max": self.data_max_.tolist(),
                "clip": self.clip}

    @classmethod
    def from_dict(cls, state: dict) -> "MinMaxScaling":
        scaler = cls(clip=bool(state.get("clip", False)))
        scaler._set(np.asarray(state["data_min"]), np.asarray(state["data_max"]))
        return scaler

    def save(self, path: str | os.PathLike[str]) -> None:
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "MinMaxScaling":
        state = read_json(Path(path))
        if state is None:
            raise InputError(f"{path}: scaler file is missing; re-train or re-extract")
        return cls.from_dict(state)


def _as_matrix(X: np.ndarray, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError(f"{name} must be 2-D [rows, features]; got shape {X.shape}")
    return X
