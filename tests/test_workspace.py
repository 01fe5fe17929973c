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


# ----------------------------------------------------------------------------- classroom owners

def test_for_owner_keeps_own_things_apart_and_shares_teacher_datasets(tmp_path):
    from synth_core.workspace import get_workspace

    server = get_workspace(tmp_path / "ws")
    (server.datasets_dir / "teacher.h5").write_bytes(b"x")
    fox = server.for_owner("Fox-42")
    owl = server.for_owner("owl-7")
    assert fox.owner == "fox-42" and fox.root == server.root / "users" / "fox-42"
    assert fox.runs_dir != owl.runs_dir and fox.jobs_dir != server.jobs_dir
    assert fox.optuna_db.parent == fox.root and fox.runs_dir.is_dir()
    assert fox.queue_dir == owl.queue_dir == server.jobs_dir  # one queue for the room
    assert fox.cache_dir == server.cache_dir
    assert fox.dataset_path("teacher") == server.datasets_dir / "teacher.h5"
    assert fox.dataset_path("mine") == fox.datasets_dir / "mine.h5"
    (fox.datasets_dir / "mine.h5").write_bytes(b"y")
    assert [p.name for p in fox.list_datasets()] == ["mine.h5", "teacher.h5"]
    assert [p.name for p in owl.list_datasets()] == ["teacher.h5"]
    assert server.owners() == ["fox-42", "owl-7"]
    assert server.for_owner("fox-42").for_owner("owl-7").root == owl.root


def test_owner_cannot_rename_or_delete_the_teachers_dataset(tmp_path):
    from synth_core.data.datasets import delete_dataset, rename_dataset
    from synth_core.workspace import get_workspace

    server = get_workspace(tmp_path / "ws")
    (server.datasets_dir / "teacher.h5").write_bytes(b"x")
    fox = server.for_owner("fox-42")
    with pytest.raises(InputError, match="shared by the teacher and read-only"):
        rename_dataset("teacher", "mine", fox)
    with pytest.raises(InputError, match="read-only"):
        delete_dataset("teacher", fox)
    assert (server.datasets_dir / "teacher.h5").is_file()
    (fox.datasets_dir / "own.h5").write_bytes(b"y")
    rename_dataset("own", "renamed", fox)
    assert (fox.datasets_dir / "renamed.h5").is_file()


@pytest.mark.parametrize("code", ["", "a", "-fox", "fox-", "../x", "x" * 40, "f o x"])
def test_owner_code_refuses_bad_codes(tmp_path, code):
    from synth_core.workspace import get_workspace

    with pytest.raises(InputError, match="classroom code"):
        get_workspace(tmp_path / "ws").for_owner(code)


def test_new_owner_code_is_valid_and_varied():
    from synth_core.workspace import check_owner_code, new_owner_code

    codes = {new_owner_code() for _ in range(20)}
    assert len(codes) > 15 and all(check_owner_code(c) == c for c in codes)


def test_rename_dataset_that_went_meanwhile_or_onto_a_new_one_is_a_clear_error(tmp_path,
                                                                             monkeypatch):
    import os

    from synth_core.data import datasets
    from synth_core.workspace import get_workspace

    ws = get_workspace(tmp_path / "ws")
    (ws.datasets_dir / "a.h5").write_bytes(b"a")
    real_link = os.link

    def raced(src, dst):  # another session renamed 'a' between our check and our move
        os.unlink(src)
        return real_link(src, dst)
    monkeypatch.setattr(datasets.os, "link", raced)
    with pytest.raises(StorageError, match="renamed or deleted just now"):
        datasets.rename_dataset("a", "b", ws)
    monkeypatch.setattr(datasets.os, "link", real_link)
    (ws.datasets_dir / "c.h5").write_bytes(b"c")
    (ws.datasets_dir / "d.h5").write_bytes(b"d")
    monkeypatch.setattr(datasets.Path, "exists", lambda self: False)  # 'd' appears after the check
    with pytest.raises(StorageError, match="already exists"):
        datasets.rename_dataset("c", "d", ws)
    assert (ws.datasets_dir / "d.h5").read_bytes() == b"d"  # nothing overwritten
