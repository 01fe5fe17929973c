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
