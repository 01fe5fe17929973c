"""Workspace paths, safe names and atomic writes."""

from __future__ import annotations

import pytest

from synth_core.errors import InputError, StorageError
from synth_core.workspace import atomic_write_bytes, read_json, atomic_write_json, safe_name


@pytest.mark.parametrize("raw, expected", [
    ("my data.h5", "my_data.h5"), ("../../etc/passwd", "etc_passwd"), ("Café", "Cafe"),
    ("...", "unnamed"), ("a/b\\c", "a_b_c"), ("<script>", "script"),
])
def test_safe_name(raw, expected):
    assert safe_name(raw) == expected


def test_inside_refuses_escape(workspace):
    assert workspace.inside("uploads", "a.wav").is_relative_to(workspace.root.resolve())
    with pytest.raises(InputError, match="outside the workspace"):
        workspace.inside("uploads", "../../x")


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "x.json"
    atomic_write_json(path, {"a": 1})

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(StorageError, match="No space left"):
        atomic_write_bytes(path, b"new")
    assert read_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temp file left


def test_json_nan_written_as_null(tmp_path):
    atomic_write_json(tmp_path / "x.json", {"v": float("nan")})
    assert read_json(tmp_path / "x.json") == {"v": None}


def test_atomic_write_interrupted_leaves_no_temp_file(tmp_path, monkeypatch):
    from synth_core.errors import JobCancelled

    path = tmp_path / "x.json"
    atomic_write_json(path, {"a": 1})

    def cancelled(fd):
        raise JobCancelled("cancelled mid-write")

    monkeypatch.setattr("os.fsync", cancelled)
    with pytest.raises(JobCancelled):
        atomic_write_bytes(path, b"new")
    assert read_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
