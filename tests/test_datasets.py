"""Datasets by reference, and damaged dataset files (synth_core/data/datasets.py)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from synth_core.data.datasets import (check_dataset, list_dataset_refs, load_dataset,
                                      save_dataset, scan_datasets)
from synth_core.errors import DamagedError, InputError
from synth_core.workspace import Damaged, newer_version, remove_damaged


def _damage(workspace) -> dict[str, str]:
    """Three damaged files beside a good one -> the reason each must give."""
    (workspace.datasets_dir / "text.h5").write_bytes(b"plain text")
    with h5py.File(workspace.datasets_dir / "nofeatures.h5", "w") as handle:
        handle["X"] = np.zeros((3, 2))
    with h5py.File(workspace.datasets_dir / "short-ids.h5", "w") as handle:
        handle["features"] = np.zeros((4, 2), dtype=np.float32)
        handle["ids"] = np.array([b"a", b"b"])
    return {"text": "not a readable HDF5", "nofeatures": "expected a '/features' dataset",
            "short-ids": "/ids has shape (2,)"}


def test_scan_datasets_lists_damaged_files_beside_good_ones(workspace, blobs):
    save_dataset(blobs, "good", workspace)
    reasons = _damage(workspace)
    good, damaged = scan_datasets(workspace)
    assert [p.stem for p in good] == ["good"]
    assert sorted(d.path.stem for d in damaged) == sorted(reasons)
    for item in damaged:
        assert item.kind == "dataset" and reasons[item.path.stem] in item.reason
        assert "check --remove" in item.fix and item.message().startswith("damaged dataset ")
    assert list_dataset_refs(workspace)[-1] == "good"  # damaged files are not offered
    assert all(f"{name}.h5" not in " ".join(list_dataset_refs(workspace)) for name in reasons)


def test_load_dataset_of_a_damaged_file_raises_damaged_error(workspace):
    _damage(workspace)
    with pytest.raises(DamagedError, match="damaged dataset .*text.h5: not a readable HDF5"):
        load_dataset("text", workspace)


def test_dataset_from_a_newer_version_is_damaged_and_kept(workspace, blobs):
    path = save_dataset(blobs, "future", workspace)
    with h5py.File(path, "a") as handle:
        handle.attrs["synth_core_version"] = "42.0"
    problem = check_dataset(path)
    assert problem is not None and "42.0" in problem.reason and "newer" in problem.reason
    assert "update synth_core" in problem.fix and path.exists()


def test_check_dataset_follows_a_rewritten_file(workspace, blobs):
    path = workspace.datasets_dir / "later.h5"
    path.write_bytes(b"junk")
    assert check_dataset(path) is not None
    save_dataset(blobs, "later", workspace, overwrite=True)  # replaced: checked again
    assert check_dataset(path) is None


def test_remove_damaged_deletes_only_inside_the_workspace(workspace, tmp_path):
    _damage(workspace)
    item = next(d for d in scan_datasets(workspace)[1] if d.path.stem == "text")
    remove_damaged(item, workspace)
    assert not item.path.exists() and (workspace.datasets_dir / "nofeatures.h5").exists()
    outside = tmp_path / "elsewhere.h5"
    outside.write_bytes(b"junk")
    with pytest.raises(InputError, match="not inside the workspace"):
        remove_damaged(Damaged("dataset", outside, "junk", "remove it"), workspace)
    assert outside.exists()


@pytest.mark.parametrize("found, newer", [("0.2.0", True), ("1.0", True), ("0.1.0", False),
                                          ("0.0.9", False), ("", False), ("dev", False)])
def test_newer_version(found, newer):
    assert newer_version(found, "0.1.0") is newer
