"""The MNIST IDX reader on tiny generated files (synth_core/data/mnist.py); never downloads."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from synth_core.errors import InputError
from synth_core.data.importers import import_features
from synth_core.data.mnist import load_mnist_idx, read_idx


def write_idx(path, array: np.ndarray, *, compress: bool = False) -> None:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}
    array = np.asarray(array)
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


def test_read_idx_plain_and_gz(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a-idx3-ubyte", images)
    write_idx(tmp_path / "a-idx3-ubyte.gz", images, compress=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte.gz"), images)
    ints = np.array([1, -2, 300], dtype=">i4")
    write_idx(tmp_path / "i.idx", ints)
    assert read_idx(tmp_path / "i.idx").tolist() == [1, -2, 300]


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x12\x34\x56\x78")
    with pytest.raises(InputError, match="bad magic"):
        read_idx(tmp_path / "bad")
    write_idx(tmp_path / "t", np.zeros((4, 2, 2), dtype=np.uint8))
    (tmp_path / "t").write_bytes((tmp_path / "t").read_bytes()[:-3])
    with pytest.raises(InputError, match="truncated"):
        read_idx(tmp_path / "t")


def test_load_mnist_idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz",
              rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 1, 2, 1, 0], np.uint8),
              compress=True)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (2, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([2, 2], np.uint8))
    data = load_mnist_idx(tmp_path)
    assert data.features.shape == (7, 784) and data.features.max() <= 1.0
    assert data.folds.tolist() == [0] * 5 + [1] * 2
    assert data.attrs["feature_shape"] == [28, 28] and data.attrs["modality"] == "image"
    assert data.attrs["test_folds"] == [1]  # t10k stays out of training by default
    assert import_features(tmp_path).n_samples == 7
    from synth_core.training.defaults import held_out_rows

    assert held_out_rows(data, None)[1].tolist() == [False] * 5 + [True] * 2
    # Only the training files: no test split to hold out.
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).unlink()
    assert "test_folds" not in load_mnist_idx(tmp_path).attrs


def test_load_mnist_idx_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no MNIST IDX files"):
        load_mnist_idx(tmp_path)
