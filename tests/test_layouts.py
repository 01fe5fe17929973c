"""Finding labelled clips: class folders, CSV, UrbanSound8K and ESC-50 (synth_core/data/layouts.py)."""

from __future__ import annotations

import pytest

from synth_core.errors import InputError
from synth_core.data.layouts import discover_clips
from tests.test_audio import write_tone


def test_discover_class_folders_skips_and_lists_bad_file(tmp_path):
    for cls in ("dog", "siren"):
        for i in range(2):
            write_tone(tmp_path / "clips" / cls / f"{i}.wav", 0.2)
    (tmp_path / "clips" / "dog" / "notes.txt").write_text("hi")
    (tmp_path / "clips" / "dog" / ".DS_Store").write_text("x")
    found = discover_clips(tmp_path / "clips")
    assert found.layout == "folders"
    assert found.class_names == ["dog", "siren"]
    assert [c.label for c in found.clips] == [0, 0, 1, 1]
    assert [s.file for s in found.skipped] == ["dog/notes.txt"]
    assert "unknown extension" in found.skipped[0].reason


def test_discover_looks_through_single_wrapper_folder(tmp_path):
    write_tone(tmp_path / "upload" / "data" / "a" / "x.wav", 0.2)
    write_tone(tmp_path / "upload" / "data" / "b" / "y.wav", 0.2)
    found = discover_clips(tmp_path / "upload")
    assert found.class_names == ["a", "b"]
    # The same shape may be one class with its takes in sub-folders: the summary says so.
    assert found.reading == ("upload/data/ holds only folders, so it was read as a wrapper "
                             "and its sub-folders are the classes (a, b); if 'data' is itself "
                             "the class, give a labels CSV (--labels) or put the clips straight "
                             "into its folder") and found.notes == []


def test_discover_notes_empty_folders_and_names_that_differ_only_in_case(tmp_path):
    for cls in ("dog", "Dog", "cat"):
        write_tone(tmp_path / "clips" / cls / "x.wav", 0.2)
    (tmp_path / "clips" / "empty_class").mkdir()
    found = discover_clips(tmp_path / "clips")
    # The same labels on every machine: the natural order, then the exact name.
    assert found.class_names == ["cat", "Dog", "dog"]
    assert found.notes == ["folder(s) empty_class hold no audio files and are not classes",
                           "class folders 'Dog', 'dog' differ only in case: they are separate "
                           "classes here, but would be one folder on macOS or Windows; rename "
                           "one if they are the same class"]


def test_discover_single_class_folder_is_a_class(tmp_path):
    write_tone(tmp_path / "upload" / "dog" / "x.wav", 0.2)
    found = discover_clips(tmp_path / "upload")
    assert found.class_names == ["dog"] and found.clips[0].label == 0


def test_discover_loose_files_are_unlabeled(tmp_path):
    write_tone(tmp_path / "x.wav", 0.2)
    write_tone(tmp_path / "y.wav", 0.2)
    found = discover_clips(tmp_path)
    assert found.layout == "files" and found.class_names == []
    assert all(c.label == -1 for c in found.clips)


def test_discover_csv_labels_and_missing_file(tmp_path):
    write_tone(tmp_path / "a.wav", 0.2)
    write_tone(tmp_path / "b.wav", 0.2)
    csv = tmp_path / "labels.csv"
    csv.write_text("file,label,fold\na.wav,cat,1\nb.wav,bird,2\nc.wav,cat,1\n")
    found = discover_clips(tmp_path, labels=str(csv))
    assert found.class_names == ["bird", "cat"]
    assert [(c.id, c.label, c.fold) for c in found.clips] == [("a.wav", 1, 1), ("b.wav", 0, 2)]
    assert found.skipped[0].file == "c.wav" and "missing" in found.skipped[0].reason


def test_discover_csv_without_columns_explains(tmp_path):
    write_tone(tmp_path / "a.wav", 0.2)
    csv = tmp_path / "labels.csv"
    csv.write_text("name,kind\na.wav,cat\n")
    with pytest.raises(InputError, match="needs a file column"):
        discover_clips(tmp_path, labels=str(csv))


US8K_HEADER = "slice_file_name,fsID,start,end,salience,fold,classID,class"


def _us8k(root, rows, *, missing=(), extra=()) -> list[str]:
    """An UrbanSound8K folder: the metadata CSV of ``rows`` (file, fold, class id, name),
    a short tone for each listed file but those ``missing``; returns the CSV's lines."""
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    lines = [US8K_HEADER]
    for name, fold, cid, cls in rows:
        lines.append(f"{name},1,0,4,1,{fold},{cid},{cls}")
        if name not in missing:
            write_tone(root / "audio" / f"fold{fold}" / name, 0.2)
    (root / "metadata" / "UrbanSound8K.csv").write_text("\n".join([*lines, *extra]) + "\n")
    return lines


def test_discover_urbansound8k_keeps_folds_and_class_names(tmp_path):
    root = tmp_path / "UrbanSound8K"
    rows = [("100-0-0-0.wav", 1, 0, "air_conditioner"), ("101-1-0-0.wav", 2, 1, "car_horn"),
            ("102-1-0-1.wav", 2, 1, "car_horn"), ("103-0-0-0.wav", 3, 0, "air_conditioner")]
    _us8k(root, rows, missing=["103-0-0-0.wav"])  # one listed file is missing on disk
    found = discover_clips(root)
    assert found.layout == "urbansound8k"
    assert found.class_names == ["air_conditioner", "car_horn"]
    assert [(c.label, c.fold) for c in found.clips] == [(0, 1), (1, 2), (1, 2)]
    assert found.has_folds
    assert [s.file for s in found.skipped] == ["audio/fold3/103-0-0-0.wav"]
    assert found.clip_seconds == 4.0  # UrbanSound8K slices last at most 4 s


def test_discover_urbansound8k_with_some_classes_numbers_them_and_notes_unlisted_files(
        tmp_path):
    """A metadata CSV cut down to classes 3, 5 and 9 (a legitimate subset) used to be
    refused; files on disk that it does not list were dropped without a word."""
    root = tmp_path / "UrbanSound8K"
    rows = [("1-3-0-0.wav", 1, 3, "dog_bark"), ("2-5-0-0.wav", 1, 5, "engine_idling"),
            ("3-9-0-0.wav", 2, 9, "street_music"), ("4-3-0-0.wav", 2, 3, "dog_bark")]
    _us8k(root, rows)
    write_tone(root / "audio" / "fold1" / "5-0-0-0.wav", 0.2)  # on disk, not in the CSV
    found = discover_clips(root)
    assert found.class_names == ["dog_bark", "engine_idling", "street_music"]
    assert [c.label for c in found.clips] == [0, 1, 2, 0]
    assert found.notes == [
        "UrbanSound8K.csv holds class ids 3, 5, 9 only, so they are numbered 0..2 here: "
        "3 (dog_bark) -> 0, 5 (engine_idling) -> 1, 9 (street_music) -> 2",
        "1 audio file(s) under audio/ are not listed in UrbanSound8K.csv and were left out "
        "(e.g. audio/fold1/5-0-0-0.wav); add rows for them to the CSV to use them"]
    # One id with two names is still refused, naming it.
    _us8k(root, rows, extra=["6-3-0-0.wav,1,0,4,1,1,3,siren"])
    with pytest.raises(InputError, match=r"classID 3 appear\(s\) with more than one class"):
        discover_clips(root)


def test_discover_urbansound8k_clips_without_their_csv_take_the_class_from_the_name(
        tmp_path):
    """UrbanSound8K's audio/ folder without metadata/: fold1..fold10 used to become ten
    "classes"; loose clips had no class at all. The names carry the class id."""
    root = tmp_path / "UrbanSound8K"
    for name, fold in (("101415-3-0-2.wav", 1), ("7061-6-0-0.wav", 1), ("9031-3-1-0.wav", 2)):
        write_tone(root / "audio" / f"fold{fold}" / name, 0.2)
    found = discover_clips(root)  # the audio/ wrapper is looked through
    assert found.layout == "urbansound8k-names" and found.has_folds
    assert found.class_names == ["dog_bark", "gun_shot"]
    assert sorted((c.id, c.label, c.fold) for c in found.clips) == [
        ("fold1/101415-3-0-2.wav", 0, 1), ("fold1/7061-6-0-0.wav", 1, 1),
        ("fold2/9031-3-1-0.wav", 0, 2)]
    assert found.clip_seconds == 4.0
    assert found.notes[0].startswith("no metadata/UrbanSound8K.csv here, but all 3 clip names "
                                     "(in fold folders) follow UrbanSound8K's")
    loose = tmp_path / "sample"
    write_tone(loose / "101415-3-0-2.wav", 0.2)
    found = discover_clips(loose)
    assert found.class_names == ["dog_bark"] and found.clips[0].fold is None
    # One name off the pattern: the usual reading (loose files, no labels).
    write_tone(loose / "my recording.wav", 0.2)
    assert discover_clips(loose).layout == "files"


def test_discover_esc50(tmp_path):
    root = tmp_path / "ESC-50"
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "esc50.csv").write_text(
        "filename,fold,target,category,esc10,src_file,take\n"
        "1-1-A-0.wav,1,0,dog,True,1,A\n2-1-A-1.wav,2,1,rooster,False,1,A\n")
    write_tone(root / "audio" / "1-1-A-0.wav", 0.2)
    write_tone(root / "audio" / "2-1-A-1.wav", 0.2)
    found = discover_clips(root)
    assert found.layout == "esc50" and found.class_names == ["dog", "rooster"]
    assert [(c.label, c.fold) for c in found.clips] == [(0, 1), (1, 2)]
    assert found.clip_seconds == 5.0  # the layout's own clip length drives extraction


def test_discover_layout_clip_seconds_only_for_official_layouts(tmp_path):
    write_tone(tmp_path / "dog" / "a.wav", 0.2)
    assert discover_clips(tmp_path).clip_seconds is None


def test_discover_missing_or_empty_input(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        discover_clips(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    with pytest.raises(InputError, match="no usable audio clips"):
        discover_clips(tmp_path / "empty")
