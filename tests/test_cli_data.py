"""The `extract` and `import` CLI verbs (synth_core/commands/extract.py, import_.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from synth_core.cli import main
from synth_core.features import read_features
from tests.conftest import ROOT
from tests.test_audio import write_tone


def _run(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.strip().splitlines(), err


def test_cli_extract_json_summary(capsys, workspace, tmp_path):
    for cls in ("a", "b"):
        write_tone(tmp_path / "clips" / cls / "x.wav", 1.0, 8000, 300 if cls == "a" else 2000)
    (tmp_path / "clips" / "a" / "junk.wav").write_bytes(b"junk")
    code, lines, err = _run(capsys, "--workspace", str(workspace.root), "--json", "extract",
                            "--input", str(tmp_path / "clips"), "--out", "tones.h5",
                            "--duration", "1.0", "--frames", "1")
    assert code == 0 and len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["ok"] and summary["n_clips"] == 2 and summary["n_features"] == 128
    assert summary["skipped"][0]["file"] == "a/junk.wav"
    assert summary["path"] == str(workspace.datasets_dir / "tones.h5")
    assert "%" in err  # progress on stderr
    code, lines, err = _run(capsys, "--workspace", str(workspace.root), "--json", "extract",
                            "--input", str(tmp_path / "clips"), "--out", "tones.h5",
                            "--duration", "1.0", "--frames", "1")
    assert code == 2 and "already exists" in json.loads(lines[0])["error"]


def test_cli_import_csv_to_path(capsys, workspace, tmp_path):
    (tmp_path / "m.csv").write_text("f1,f2,species\n1,2,a\n3,4,b\n")
    out = tmp_path / "out" / "m.h5"
    code, lines, _ = _run(capsys, "--workspace", str(workspace.root), "import", "--json",
                          "--input", str(tmp_path / "m.csv"), "--out", str(out),
                          "--label-column", "species")
    assert code == 0 and json.loads(lines[0])["n_samples"] == 2
    assert read_features(out).class_names == ["a", "b"]


def test_cli_bad_input_exits_2_with_one_line(workspace, tmp_path):
    (tmp_path / "bad.csv").write_text("f1,label\n1,a\nx,b\n")
    proc = subprocess.run(
        [sys.executable, "-m", "synth_core", "--workspace", str(workspace.root), "import",
         "--input", str(tmp_path / "bad.csv"), "--out", "bad"],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error: input bad.csv: column 'f1' holds non-numeric text")
    assert not workspace.dataset_path("bad").exists()


def _esc50(root, seconds: float = 5.0):
    (root / "meta").mkdir(parents=True)
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for i in range(4):
        write_tone(root / "audio" / f"1-{i}-A-{i % 2}.wav", seconds, 8000, 300 + 300 * (i % 2))
        lines.append(f"1-{i}-A-{i % 2}.wav,{1 + i % 2},{i % 2},{['dog', 'rain'][i % 2]},True,{i},A")
    (root / "meta" / "esc50.csv").write_text("\n".join(lines) + "\n")
    return root


def test_cli_extract_without_flags_uses_the_esc50_clip_length(capsys, workspace, tmp_path):
    root = _esc50(tmp_path / "ESC-50")
    code, lines, err = _run(capsys, "--workspace", str(workspace.root), "extract", "--json",
                            "--input", str(root), "--out", "esc", "-q")
    assert code == 0 and err == ""
    summary = json.loads(lines[0])
    assert summary["n_clips"] == 4 and summary["n_skipped"] == 0
    assert (summary["duration"], summary["frames"], summary["n_features"]) == (5.0, 5, 640)
    assert "esc50 layout" in summary["duration_policy"]
    attrs = read_features(workspace.dataset_path("esc")).attrs
    assert attrs["duration"] == 5.0 and attrs["duration_policy"] == "layout"
    # The thesis's UrbanSound8K filter is one flag away (and refuses these 5 s clips).
    code, lines, _ = _run(capsys, "--workspace", str(workspace.root), "extract", "--json",
                          "--input", str(root), "--out", "esc-thesis", "--preset", "us8k-thesis")
    assert code == 2 and "none of the 4 clips" in json.loads(lines[0])["error"]
    assert not workspace.dataset_path("esc-thesis").exists()


def test_cli_extract_preset_conflicting_flags_are_refused(capsys, workspace, tmp_path):
    root = _esc50(tmp_path / "ESC-50", seconds=1.0)
    code, lines, _ = _run(capsys, "--workspace", str(workspace.root), "--json", "extract",
                          "--input", str(root), "--out", "x", "--preset", "us8k-thesis",
                          "--duration", "5")
    assert code == 2 and "drop --duration" in json.loads(lines[0])["error"]


def test_cli_import_small_tables_two_features_three_rows_per_class(capsys, workspace, tmp_path):
    rows = ["f1,f2,label"] + [f"{0.1 * i:.1f},{0.05 * i:.2f},{'ab'[i % 2]}" for i in range(6)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    code, lines, _ = _run(capsys, "--workspace", str(workspace.root), "--json", "import",
                          "--input", str(tmp_path / "t.csv"), "--out", "tiny")
    summary = json.loads(lines[0])
    assert code == 0 and summary["n_features"] == 2 and summary["class_counts"] == {"a": 3, "b": 3}
    code, lines, _ = _run(capsys, "--workspace", str(workspace.root), "--json", "datasets",
                          "--details")
    listed = {d["ref"]: d for d in json.loads(lines[0])["datasets"]}
    assert listed["tiny"]["n_features"] == 2 and listed["tiny"]["n_samples"] == 6


def test_cli_import_notes_renumbered_labels_numeric_ids_and_a_possible_class_column(
        capsys, workspace, tmp_path):
    """What import decided for the user is in the summary, each with its fix: labels of an
    HDF5 file without class names (3, 7, 9: were ten classes "0".."9"), a numeric id column
    (was a feature), a whole-number column that may be the classes (was only "(no labels)")."""
    import h5py
    import numpy as np

    with h5py.File(tmp_path / "other.h5", "w") as handle:
        handle.create_dataset("features", data=np.random.default_rng(0).random((9, 2)))
        handle.create_dataset("labels", data=np.array([3, 7, 9] * 3))
    (tmp_path / "idnum.csv").write_text("id,f0,f1,label\n" + "".join(
        f"{1000 + i},{i / 10},{i / 20},{i % 3}\n" for i in range(9)))
    (tmp_path / "clsname.csv").write_text("a,b,cls\n" + "".join(
        f"{i / 10},{i / 7:.3f},{i % 3}\n" for i in range(9)))
    ws = ["--workspace", str(workspace.root), "--json", "import", "--input"]
    code, lines, _ = _run(capsys, *ws, str(tmp_path / "other.h5"), "--out", "other")
    summary = json.loads(lines[0])
    assert code == 0 and summary["class_counts"] == {"3": 3, "7": 3, "9": 3}
    assert "renumbered 0..2" in summary["message"] and len(summary["notes"]) == 1
    code, lines, _ = _run(capsys, *ws, str(tmp_path / "idnum.csv"), "--out", "idnum")
    summary = json.loads(lines[0])
    assert code == 0 and summary["n_features"] == 2 and summary["id_column"] == "id"
    assert read_features(workspace.dataset_path("idnum")).ids[0] == "1000"
    code, lines, _ = _run(capsys, *ws, str(tmp_path / "clsname.csv"), "--out", "clsname")
    summary = json.loads(lines[0])
    assert code == 0 and not summary["labeled"]
    assert "--label-column 'cls'" in summary["message"]
    code, lines, _ = _run(capsys, *ws, str(tmp_path / "clsname.csv"), "--out", "clsname2",
                          "--label-column", "cls")
    assert json.loads(lines[0])["class_counts"] == {"0": 3, "1": 3, "2": 3}
