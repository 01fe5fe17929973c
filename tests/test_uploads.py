"""Safe unpacking of uploads and zips (synth_core/data/uploads.py)."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth_core.errors import InputError
from synth_core.data.uploads import UploadLimits, save_uploaded_files, unpack_zip


def make_zip(entries: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _all_inside(workspace):
    root = workspace.root.resolve()
    return all(root in p.resolve().parents for p in workspace.uploads_dir.rglob("*"))


def test_unpack_zip_class_folders(workspace):
    dest = unpack_zip(make_zip({"clips/dog/a.wav": b"1", "clips/cat/b.wav": b"2",
                                "__MACOSX/clips/._a.wav": b"x"}), workspace, name="clips.zip")
    assert dest.parent == workspace.uploads_dir and dest.name == "clips"
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.wav")) == \
        ["clips/cat/b.wav", "clips/dog/a.wav"]
    assert not (dest / "__MACOSX").exists()
    again = unpack_zip(make_zip({"x.wav": b"1"}), workspace, name="clips.zip")
    assert again.name == "clips-2"  # never into an existing folder


@pytest.mark.parametrize("bad", ["../evil.wav", "a/../../evil.wav", "/etc/evil.wav",
                                 "C:/evil.wav", "..\\evil.wav"])
def test_unpack_zip_refuses_zip_slip(workspace, bad):
    with pytest.raises(InputError, match="refused"):
        unpack_zip(make_zip({"ok.wav": b"1", bad: b"2"}), workspace, name="slip")
    assert not list(workspace.uploads_dir.iterdir())
    assert not (workspace.root.parent / "evil.wav").exists()


def test_unpack_zip_refuses_symlink(workspace):
    with pytest.raises(InputError, match="symbolic link"):
        unpack_zip(make_zip({"ok.wav": b"1"}, symlink="link.wav"), workspace, name="link")


def test_unpack_zip_refuses_bomb_by_ratio(workspace):
    with pytest.raises(InputError, match="zip bomb"):
        unpack_zip(make_zip({"zeros.wav": b"\0" * 5_000_000}), workspace, name="bomb")
    assert not list(workspace.uploads_dir.iterdir())


def test_unpack_zip_limits_total_size_and_count(workspace):
    data = make_zip({f"{i}.wav": bytes(range(256)) * 4 for i in range(5)})
    with pytest.raises(InputError, match="more than 3 files"):
        unpack_zip(data, workspace, name="many", limits=UploadLimits(max_files=3))
    with pytest.raises(InputError, match="unpacks to more than"):
        unpack_zip(data, workspace, name="big", limits=UploadLimits(max_total_bytes=3000))


def test_unpack_zip_sanitises_odd_names(workspace):
    dest = unpack_zip(make_zip({"Klassé 1/My clip (1).WAV": b"1", "Klassé 1/My clip (1).wav": b"2",
                                "x/.hidden.wav": b"3"}), workspace, name="odd names!")
    names = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert dest.name == "odd_names"
    assert names == ["Klasse_1/My_clip_1-2.wav", "Klasse_1/My_clip_1.wav", "x/hidden.wav"]
    assert _all_inside(workspace)


def test_unpack_zip_not_a_zip(workspace):
    with pytest.raises(InputError, match="not a readable zip"):
        unpack_zip(b"hello", workspace, name="x")


def test_save_uploaded_files_into_class_folder(workspace):
    dest = save_uploaded_files([("../../a b.wav", b"1"), ("a b.wav", b"2")], workspace,
                               name="../up", subfolder="dog/../cat")
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == ["dog_.._cat/a_b-2.wav", "dog_.._cat/a_b.wav"]  # one folder, no escape
    assert _all_inside(workspace)
    with pytest.raises(InputError, match="no files"):
        save_uploaded_files([], workspace, name="x")


def test_unpack_zip_file_and_folder_of_one_name_is_refused_before_writing(workspace):
    # Found by the property test below: "a" and "a\\::" (-> a/unnamed) crashed half-way.
    for names in (["a", "a\\::"], ["a/x.wav", "a"]):
        with pytest.raises(InputError, match="is a file, but entry .* needs a folder"):
            unpack_zip(make_zip({n: b"x" for n in names}), workspace, name="clash")
    assert not list(workspace.uploads_dir.glob("clash*"))  # refused before any folder


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(alphabet=st.sampled_from(list("ab./\\:é _-")), min_size=1,
                              max_size=12), min_size=1, max_size=4))
def test_unpack_zip_never_writes_outside_property(workspace, names):
    try:
        dest = unpack_zip(make_zip({n: b"x" for n in names}), workspace, name="prop")
    except InputError:
        return
    root = dest.resolve()
    assert all(root in p.resolve().parents for p in dest.rglob("*"))
    assert _all_inside(workspace)
