"""Optional MNIST: the standard IDX files from a folder, or OpenML when online.

MNIST is not embedded (11 MB); users who have it point at the folder holding
``train-images-idx3-ubyte[.gz]`` and ``train-labels-idx1-ubyte[.gz]`` (and the
``t10k-*`` test files, which become fold 1; training rows are fold 0), or fetch
it from OpenML (``mnist_784``) on a machine with internet, cached under the
workspace. Pixels are scaled to [0, 1] and ``feature_shape`` is [28, 28] so the
pages draw samples as images.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.features import FeatureSet
from synth_core.workspace import Workspace

# IDX type codes -> numpy dtypes (big-endian on disk).
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_SPLITS = (("train", 0), ("t10k", 1))


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (optionally gzipped): magic 0x0000TTNN, NN big-endian sizes, data."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:
        raise InputError(f"{path.name}: cannot be read as IDX ({exc}); download the file again") \
            from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise InputError(f"{path.name}: not an IDX file (bad magic number {raw[:4].hex()}); use "
                         "the original MNIST files such as train-images-idx3-ubyte.gz")
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise InputError(f"{path.name}: truncated IDX header; download the file again")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise InputError(f"{path.name}: IDX header says shape {shape} ({expected} bytes) but the "
                         f"file holds {len(raw) - header}; the file is truncated - download it "
                         "again")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(
        dtype.newbyteorder("="))


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                      stem.replace("-idx", ".idx") + ".gz"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def load_mnist_idx(folder: str | os.PathLike[str]) -> FeatureSet:
    """MNIST (or Fashion-MNIST) from the IDX files in ``folder``."""
    folder = Path(folder).expanduser()
    features, labels, folds = [], [], []
    for split, fold in _SPLITS:
        images = _find(folder, f"{split}-images-idx3-ubyte")
        label_file = _find(folder, f"{split}-labels-idx1-ubyte")
        if images is None or label_file is None:
            continue
        X = read_idx(images)
        y = read_idx(label_file)
        if X.ndim != 3 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise InputError(f"{images.name}/{label_file.name}: shapes {X.shape} and {y.shape} do "
                             "not match (images [N, rows, cols], labels [N]); use matching files")
        features.append(X.reshape(X.shape[0], -1).astype(np.float32) / 255.0)  # [N, rows*cols]
        labels.append(y.astype(np.int64))
        folds.append(np.full(X.shape[0], fold, dtype=np.int64))
        shape = [int(X.shape[1]), int(X.shape[2])]
    if not features:
        raise InputError(f"{folder}: no MNIST IDX files found; the folder must hold "
                         "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]")
    y = np.concatenate(labels)
    folds_all = np.concatenate(folds)
    attrs = {"source": f"MNIST IDX files in {folder}", "modality": "image",
             "feature_shape": shape, "extractor": "pixels",
             "folds_meaning": "0 = train, 1 = t10k test"}
    if len(np.unique(folds_all)) == 2:
        # The official test split stays out of training by default (train --test-folds, the
        # Train page), as extraction's --test-folds does for audio; evaluate tests on it.
        attrs["test_folds"] = [1]
    return FeatureSet(features=np.concatenate(features), labels=y,
                      class_names=[str(i) for i in range(int(y.max()) + 1)],
                      ids=[f"mnist-{i}" for i in range(len(y))], folds=folds_all, attrs=attrs)


def fetch_mnist_openml(workspace: Workspace) -> FeatureSet:
    """``fetch_openml('mnist_784')`` cached under ``cache/openml``; a clear error offline."""
    from sklearn.datasets import fetch_openml

    data_home = workspace.cache_dir / "openml"
    try:
        bunch = fetch_openml("mnist_784", version=1, as_frame=False, parser="auto", n_retries=1,
                             data_home=str(data_home))
    except Exception as exc:  # URLError, socket errors, HTTP errors: all mean "not reachable"
        raise StorageError(
            f"MNIST could not be fetched from OpenML ({type(exc).__name__}: {exc}); this machine "
            "seems offline. Download the four IDX files (train-images-idx3-ubyte.gz ...) on a "
            "machine with internet, copy them into a folder here and import that folder") from exc
    y = bunch.target.astype(np.int64)
    return FeatureSet(features=bunch.data.astype(np.float32) / 255.0, labels=y,
                      class_names=[str(i) for i in range(10)],
                      ids=[f"mnist-{i}" for i in range(len(y))],
                      folds=(np.arange(len(y)) >= 60000).astype(np.int64),
                      attrs={"source": "OpenML mnist_784", "modality": "image",
                             "feature_shape": [28, 28], "extractor": "pixels",
                             "folds_meaning": "0 = first 60000 (train), 1 = last 10000 (test)",
                             "test_folds": [1]})
