"""Feature files: the HDF5 layout every step reads and writes.

Layout (DESIGN.md)::

    /features  float32 [N, D]   one row per clip/image (original scale)
    /labels    int64   [N]      0..K-1; -1 when unlabeled
    /ids       utf-8   [N]      source file or index (optional)
    /folds     int64   [N]      predefined folds, e.g. UrbanSound8K (optional)
    /parents   int64   [N, 2]   generated files: interpolation end points (optional)
    /seen_ids  utf-8   [M]      generated files: ids of the real rows the generator was
                                fitted on (optional; any length, not one per row)
    /scaler/data_min, /scaler/data_max  float64 [D]  min-max scaler (optional)
    attrs: class_names (JSON list), source, extractor, frames, sample_rate,
           feature_shape (JSON), created, synth_core_version, and for generated
           files model_run, mode, seed, held_out_folds (JSON list of ints)

:class:`FeatureSet` is the in-memory form. Files are written atomically and
never over an existing file unless ``overwrite=True``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from synth_core import __version__
from synth_core.errors import InputError, StorageError

_JSON_ATTRS = ("class_names", "feature_shape")


@dataclass
class FeatureSet:
    """Rows of features with labels and provenance.

    ``features`` is float32 [N, D]; ``labels`` int64 [N] (-1 = unlabeled);
    optional ``ids`` (N strings), ``folds`` int64 [N], ``parents`` int64 [N, 2];
    ``scaler`` is ``{"data_min": [D], "data_max": [D]}`` when one is stored.
    ``seen_ids`` (generated sets): ids of the real rows the generator was fitted
    on, so an evaluation can refuse test rows the generator saw; its length is
    that of the training rows, not N.
    """

    features: np.ndarray
    labels: np.ndarray
    class_names: list[str] = field(default_factory=list)
    ids: list[str] | None = None
    folds: np.ndarray | None = None
    parents: np.ndarray | None = None
    scaler: dict[str, np.ndarray] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    seen_ids: list[str] | None = None

    def __post_init__(self) -> None:
        self.features = np.asarray(self.features, dtype=np.float32)
        if self.features.ndim != 2:
            raise InputError(f"features must be a 2-D matrix [rows, features]; got shape "
                             f"{self.features.shape}; reshape each sample to one row")
        n = self.features.shape[0]
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if self.labels.shape[0] != n:
            raise InputError(f"labels has {self.labels.shape[0]} entries but features has {n} rows; "
                             "give one label per row (-1 for unlabeled)")
        if self.ids is not None:
            self.ids = [str(i) for i in self.ids]
            if len(self.ids) != n:
                raise InputError(f"ids has {len(self.ids)} entries but features has {n} rows")
        if self.seen_ids is not None:
            if isinstance(self.seen_ids, (str, bytes)):
                raise InputError(f"seen_ids must be a list of row ids, not one string "
                                 f"({self.seen_ids[:40]!r}); wrap it in a list")
            self.seen_ids = [s.decode("utf-8") if isinstance(s, bytes) else str(s)
                             for s in self.seen_ids]
        for name in ("folds", "parents"):
            value = getattr(self, name)
            if value is not None:
                value = np.asarray(value, dtype=np.int64)
                if value.shape[0] != n:
                    raise InputError(f"{name} has {value.shape[0]} rows but features has {n}")
                setattr(self, name, value)
        self.class_names = [str(c) for c in self.class_names]
        if not self.class_names and n and self.labels.max(initial=-1) >= 0:
            self.class_names = [str(i) for i in range(int(self.labels.max()) + 1)]

    @property
    def n_samples(self) -> int:
        return int(self.features.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.features.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def is_labeled(self) -> bool:
        return bool(self.n_samples) and bool((self.labels >= 0).all())

    def subset(self, index: np.ndarray) -> "FeatureSet":
        """Rows ``index`` (bool mask or integer positions) as a new FeatureSet."""
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        return replace(
            self,
            features=self.features[index],
            labels=self.labels[index],
            ids=[self.ids[i] for i in index] if self.ids is not None else None,
            folds=self.folds[index] if self.folds is not None else None,
            parents=self.parents[index] if self.parents is not None else None,
            attrs=dict(self.attrs),
        )

    def check_finite(self, name: str = "features") -> None:
        """Raise if any feature is NaN or infinite, naming rows and the fix."""
        bad = ~np.isfinite(self.features)
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))
            shown = ", ".join(str(r) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
            raise InputError(f"{name}: {len(rows)} row(s) contain NaN or infinite values "
                             f"(rows {shown}); remove or impute them before using this data")


def write_features(path: str | os.PathLike[str], data: FeatureSet, *,
                   overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` in the HDF5 layout; atomic, refuses to overwrite."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise StorageError(f"{path} already exists; choose another name, delete it first, "
                           "or pass overwrite=True (--overwrite on the CLI)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as handle:
            handle.create_dataset("features", data=data.features.astype(np.float32),
                                  compression="gzip", compression_opts=4, shuffle=True)
            handle.create_dataset("labels", data=data.labels.astype(np.int64))
            if data.ids is not None:
                handle.create_dataset("ids", data=np.array(data.ids, dtype=object),
                                      dtype=h5py.string_dtype("utf-8"))
            if data.seen_ids is not None:
                handle.create_dataset("seen_ids", data=np.array(data.seen_ids, dtype=object),
                                      shape=(len(data.seen_ids),),
                                      dtype=h5py.string_dtype("utf-8"))
            if data.folds is not None:
                handle.create_dataset("folds", data=data.folds.astype(np.int64))
            if data.parents is not None:
                handle.create_dataset("parents", data=data.parents.astype(np.int64))
            if data.scaler is not None:
                group = handle.create_group("scaler")
                for key in ("data_min", "data_max"):
                    group.create_dataset(key, data=np.asarray(data.scaler[key], dtype=np.float64))
            attrs = {"created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                     "synth_core_version": __version__, **data.attrs,
                     "class_names": data.class_names}
            for key, value in attrs.items():
                if value is None:
                    continue
                if key in _JSON_ATTRS or isinstance(value, (list, tuple, dict)):
                    handle.attrs[key] = json.dumps(value)
                else:
                    handle.attrs[key] = value
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StorageError(f"could not write {path}: {exc}; free disk space or pick another "
                           "folder (nothing existing was changed)") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True)
class FeatureHeader:
    """What a feature file holds, read without loading the matrix (for lists and checks)."""

    path: Path
    n_samples: int
    n_features: int
    class_names: list[str]
    attrs: dict[str, Any]


def _open_layout(path: Path) -> h5py.File:
    """Open ``path`` read-only after checking it is HDF5 with a 2-D '/features' dataset."""
    if not path.is_file():
        raise StorageError(f"{path}: no such feature file; check the path or list datasets "
                           "with `python -m synth_core datasets`")
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: not a readable HDF5 file ({exc}); export your features as "
                         "HDF5, CSV or NPZ and import them") from exc
    if "features" not in handle or not isinstance(handle["features"], h5py.Dataset):
        found = ", ".join(sorted(handle.keys())) or "nothing"
        handle.close()
        raise InputError(
            f"{path}: expected a '/features' dataset [rows, features] but found {found}; "
            "use `python -m synth_core import` for other layouts (e.g. one matrix with the "
            "label in the last column)")
    shape = handle["features"].shape
    if len(shape) != 2:
        handle.close()
        raise InputError(f"{path}: '/features' has shape {shape}, expected 2-D [rows, features]")
    return handle


def _read_attrs(handle: h5py.File) -> dict[str, Any]:
    """File attributes as plain Python values (JSON attributes decoded)."""
    attrs: dict[str, Any] = {}
    for key, value in handle.attrs.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if isinstance(value, str) and (key in _JSON_ATTRS or value[:1] in "[{"):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        elif hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
            value = value.item()
        elif hasattr(value, "tolist"):
            value = value.tolist()
        attrs[key] = value
    return attrs


def read_header(path: str | os.PathLike[str]) -> FeatureHeader:
    """Rows, width, class names and attributes of a feature file; the matrix stays on disk."""
    path = Path(path)
    with _open_layout(path) as handle:
        n_samples, n_features = handle["features"].shape
        attrs = _read_attrs(handle)
        class_names = [str(c) for c in (attrs.pop("class_names", None) or [])]
        if not class_names and n_samples and "labels" in handle:
            # As read_features does: a class per label value present, named by its value.
            class_names = _name_classes_by_value(handle["labels"][()])[1]
    return FeatureHeader(path=path, n_samples=int(n_samples), n_features=int(n_features),
                         class_names=class_names, attrs=attrs)


def _strings(handle: h5py.File, name: str) -> list[str] | None:
    """A 1-D utf-8 string dataset as a list (None when absent)."""
    if name not in handle:
        return None
    values = handle[name][()]
    if np.ndim(values) != 1:
        raise InputError(f"{handle.filename}: '/{name}' has shape {np.shape(values)}, expected "
                         "a 1-D list of strings; rewrite the file with synth_core")
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def _name_classes_by_value(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Labels of a file that stores no class names -> (labels 0..K-1, names of the values).

    Files written here always store ``class_names``, so their labels (classes with no rows
    included, e.g. a test split) are kept as they are. A file made elsewhere may hold labels
    such as 3, 7, 9 with no names: numbering classes 0..max would invent empty classes 0..8
    that a CVAE then conditions on. As the CSV and NPZ importers do, the values present
    become classes 0..K-1 named by their values ("3", "7", "9"); rows below 0 stay
    unlabelled as they are. Done on reading, not only on import, so the file gives the same
    classes whether it is imported or opened directly (``train --data F.h5``, the dataset
    list). FeatureSet itself still numbers nameless labels 0..max: in memory a label is an
    index into the classes, which may have no rows.
    """
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)  # [N]
    labeled = labels >= 0
    values = np.unique(labels[labeled])
    if values.size == 0:
        return labels, []
    compact = labels.copy()
    compact[labeled] = np.searchsorted(values, labels[labeled])
    return compact, [str(v) for v in values.tolist()]


def read_features(path: str | os.PathLike[str]) -> FeatureSet:
    """Read a feature file written by :func:`write_features` (or a compatible one).

    Labels without stored class names are renumbered to the classes present (see
    :func:`_name_classes_by_value`). Raises :class:`InputError` naming the file when it is
    not HDF5 or does not have this layout; thesis-style single-matrix files are read by
    ``synth_core.data.importers`` instead.
    """
    path = Path(path)
    with _open_layout(path) as handle:
        features = handle["features"][()]
        n = features.shape[0]
        labels = handle["labels"][()] if "labels" in handle else np.full(n, -1, dtype=np.int64)
        ids = _strings(handle, "ids")
        seen_ids = _strings(handle, "seen_ids")
        folds = handle["folds"][()] if "folds" in handle else None
        parents = handle["parents"][()] if "parents" in handle else None
        scaler = None
        if "scaler" in handle:
            scaler = {k: handle["scaler"][k][()] for k in ("data_min", "data_max")
                      if k in handle["scaler"]}
            if len(scaler) != 2:
                scaler = None
        attrs = _read_attrs(handle)
    class_names = attrs.pop("class_names", None) or []
    if not class_names:
        labels, class_names = _name_classes_by_value(labels)
    try:
        return FeatureSet(features=features, labels=labels, class_names=class_names, ids=ids,
                          folds=folds, parents=parents, scaler=scaler, attrs=attrs,
                          seen_ids=seen_ids)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc


def file_digest(path: str | os.PathLike[str]) -> str:
    """A short content hash of a file (for cache keys).

    Remembered per (path, modification time, size), so pages that build cache keys on
    every rerun hash a file once, not on each widget change.
    """
    info = os.stat(path)
    return _file_digest(str(Path(path).resolve()), info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.blake2b(digest_size=12)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def array_digest(*arrays: np.ndarray) -> str:
    """A short content hash of arrays (shape, dtype and bytes)."""
    digest = hashlib.blake2b(digest_size=12)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(str((array.shape, array.dtype.str)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
