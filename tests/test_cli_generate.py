"""The ``generate`` CLI verb: every mode, its JSON summary and its errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from synth_core.cli import main
from synth_core.features import read_features
from tests.test_generation import train_tiny_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny VAE run and one CVAE run shared by the tests of this module."""
    from synth_core.workspace import get_workspace

    ws = get_workspace(tmp_path_factory.mktemp("cli-generate") / "workspace")
    return ws, train_tiny_run(ws, epochs=2), train_tiny_run(ws, model="cvae", epochs=2)


def _generate(capsys, ws, *args):
    code = main(["--workspace", str(ws.root), "--json", "-q", "generate", *map(str, args)])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else {}), captured.err


def test_cli_generate_batch_protocol(trained, tmp_path, capsys):
    ws, vae, _ = trained
    out = tmp_path / "g.h5"
    code, summary, _ = _generate(capsys, ws, "--run", vae, "--out", out, "--interpolate",
                                 "--pairs", 2, "--steps", 5, "--seed", 1)
    assert code == 0 and summary["ok"] and summary["n_samples"] == 10 * 2 * 3
    data = read_features(out)
    assert data.parents.shape == (60, 2)
    assert data.attrs["mode"] == "interpolate" and data.attrs["seed"] == 1
    assert data.attrs["model_run"] == str(vae)
    assert data.attrs["feature_shape"] == [8, 8] and data.class_names[0] == "0"


def test_cli_generate_plain_name_saves_in_exports_where_evaluate_finds_it(trained, capsys):
    """--out NAME was refused as "unknown export format ''"; like import's --out NAME it
    names a workspace file (exports/NAME.h5, beside the Generate page's sets), which
    evaluate --synthetic NAME then finds, and which is not overwritten by a second run."""
    ws, _, cvae = trained
    code, summary, _ = _generate(capsys, ws, "--run", cvae, "--out", "by-name", "--per-class", 12)
    assert code == 0 and summary["out"] == str(ws.exports_dir / "by-name.h5")
    before = (ws.exports_dir / "by-name.h5").read_bytes()
    code, summary, err = _generate(capsys, ws, "--run", cvae, "--out", "by-name", "--per-class", 3)
    assert code == 2 and "already exists" in summary["error"] and "--overwrite" in summary["error"]
    assert (ws.exports_dir / "by-name.h5").read_bytes() == before
    from synth_core.data.datasets import dataset_path

    assert dataset_path("by-name", ws) == ws.exports_dir / "by-name.h5"


def test_cli_generate_pair_cross_prior_and_formats(trained, tmp_path, capsys):
    ws, vae, _ = trained
    code, summary, _ = _generate(capsys, ws, "--run", vae, "--out", tmp_path / "p.csv",
                                 "--interpolate", "--from", 0, "--to", 5, "--t", "0.25,0.5",
                                 "--path", "spherical")
    assert code == 0 and summary["n_samples"] == 2
    table = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1, ndmin=2)
    assert table.shape == (2, 65)
    code, summary, _ = _generate(capsys, ws, "--run", vae, "--out", tmp_path / "c.npz",
                                 "--interpolate", "--pairs", 3, "--cross", "3,8")
    assert code == 0 and summary["n_samples"] == 30 and summary["classes"] == [3, 8]
    assert np.load(tmp_path / "c.npz")["parents"].shape == (30, 2)
    code, summary, _ = _generate(capsys, ws, "--run", vae, "--out", tmp_path / "prior.h5",
                                 "--prior", 7)
    assert code == 0 and read_features(tmp_path / "prior.h5").n_samples == 7


def test_cli_generate_cvae_per_class(trained, tmp_path, capsys):
    ws, _, cvae = trained
    code, summary, _ = _generate(capsys, ws, "--run", cvae, "--out", tmp_path / "k.h5",
                                 "--per-class", 4, "--classes", "1,7")
    assert code == 0 and summary["n_samples"] == 8
    np.testing.assert_array_equal(read_features(tmp_path / "k.h5").labels, [1] * 4 + [7] * 4)


@pytest.mark.parametrize("args, message", [
    (["--interpolate", "--from", 3, "--to", 3], "rows 3 and 3"),
    (["--interpolate", "--from", 0, "--to", 4, "--t", 1.5], "t = 1.5 is outside [0, 1]"),
    (["--interpolate", "--from", 0], "--from I and --to J"),
    (["--interpolate", "--cross", "3,42"], "class 42 is not a class this model knows"),
    (["--per-class", 5, "--prior-kind", "normal"], "not a conditional model"),
    (["--balance", 0], "--balance 0"),
])
def test_cli_generate_bad_input_exits_2_with_message(trained, tmp_path, capsys, args, message):
    ws, vae, _ = trained
    code, summary, err = _generate(capsys, ws, "--run", vae, "--out", tmp_path / "bad.h5", *args)
    assert code == 2 and not summary["ok"]
    assert message in summary["error"] and err.startswith("error: ")
    assert not (tmp_path / "bad.h5").exists()


def test_cli_generate_refuses_existing_out_and_missing_data(trained, tmp_path, capsys):
    ws, vae, cvae = trained
    out = tmp_path / "keep.h5"
    out.write_bytes(b"precious")
    code, summary, _ = _generate(capsys, ws, "--run", vae, "--out", out, "--prior", 3)
    assert code == 2 and "already exists" in summary["error"]
    assert out.read_bytes() == b"precious"
    moved = ws.dataset_path("digits-small")
    moved.rename(moved.with_suffix(".bak"))
    try:
        code, summary, _ = _generate(capsys, ws, "--run", vae, "--out", tmp_path / "x.h5",
                                     "--interpolate")
        assert code == 2 and "digits-small" in summary["error"] and "restore" in summary["error"]
        # Class sampling needs no real rows: it still works, with a warning.
        code, summary, err = _generate(capsys, ws, "--run", cvae, "--out", tmp_path / "y.h5",
                                       "--per-class", 2)
        assert code == 0 and summary["n_samples"] == 20
    finally:
        moved.with_suffix(".bak").rename(moved)


def test_cli_generate_help_runs_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "synth_core", "generate", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--interpolate" in proc.stdout and "--cross" in proc.stdout


def test_cli_generate_mixture_prior_output_sample_and_balance(trained, tmp_path, capsys):
    ws, vae, _ = trained
    code, summary, _ = _generate(capsys, ws, "--run", vae, "--out", tmp_path / "m.h5",
                                 "--per-class", 3, "--classes", "0,5", "--prior-kind", "mixture",
                                 "--output", "sample", "--seed", 4)
    assert code == 0 and summary["output"] == "sample" and summary["prior"] == "mixture"
    out = read_features(tmp_path / "m.h5")
    np.testing.assert_array_equal(out.labels, [0] * 3 + [5] * 3)
    assert out.attrs["output"] == "sample" and out.attrs["prior"] == "mixture"
    # The run saw its training and validation rows only (20% of each class held out for tests).
    from synth_core.training.runs import Run

    seen = Run.load(vae).seen_index()
    assert len(out.seen_ids or []) in (0, len(seen)) and out.attrs["held_out_folds"] == []
    code, summary, _ = _generate(capsys, ws, "--run", vae, "--out", tmp_path / "b.csv",
                                 "--balance", 50)
    assert code == 0 and summary["n_samples"] == 50 and summary["prior"] == "mixture"
    table = np.loadtxt(tmp_path / "b.csv", delimiter=",", skiprows=1)
    real = read_features(ws.dataset_path("digits-small"))
    expected = np.bincount(real.labels, minlength=10) / real.n_samples * 50
    assert np.abs(np.bincount(table[:, -1].astype(int), minlength=10) - expected).max() < 1.5


def test_cli_generate_run_by_name(trained, tmp_path, capsys):
    """``--run`` takes the name the pages and ``jobs`` show, not only a path."""
    ws, vae, _ = trained
    assert vae.parent == ws.runs_dir
    code, summary, _ = _generate(capsys, ws, "--run", vae.name, "--out", tmp_path / "n.h5",
                                 "--prior", 3)
    assert code == 0 and summary["n_samples"] == 3 and summary["run"] == str(ws.runs_dir / vae.name)
    code, _, err = _generate(capsys, ws, "--run", "no-such-run", "--out", tmp_path / "m.h5",
                             "--prior", 3)
    assert code == 2 and "no-such-run" in err and "no such run folder" in err
    assert not (tmp_path / "m.h5").exists()


def test_cli_generate_warns_when_interpolated_means_barely_move(tmp_path, capsys):
    """A default VAE on columns independent of each other (3 lognormal columns, a class
    shift) uses its code for little, so the batch protocol's decoded means (--output mean)
    sit near each class's centre: the summary says so and names --output sample, whose
    draws, the default, spread like the data and get no warning."""
    from synth_core.workspace import get_workspace

    ws = get_workspace(tmp_path / "workspace")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 240)
    table = rng.lognormal(size=(240, 3)) + 0.5 * labels[:, None]
    csv = tmp_path / "independent.csv"
    csv.write_text("a,b,c,label\n" + "".join(
        ",".join(f"{v:.4f}" for v in row) + f",{c}\n" for row, c in zip(table, labels)))
    base = ["--workspace", str(ws.root), "--json", "-q"]
    assert main([*base, "import", "--input", str(csv), "--out", str(tmp_path / "i.h5")]) == 0
    assert main([*base, "train", "--data", str(tmp_path / "i.h5"), "--model", "vae",
                 "--seed", "0"]) == 0
    run_dir = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_dir"]
    code, summary, _ = _generate(capsys, ws, "--run", run_dir, "--out", tmp_path / "m.h5",
                                 "--interpolate", "--output", "mean")
    assert code == 0 and summary["output"] == "mean"
    assert len(summary["warnings"]) == 1 and "--output sample" in summary["warnings"][0]
    # With no --output the protocol draws, as the Generate page does: no warning.
    code, summary, _ = _generate(capsys, ws, "--run", run_dir, "--out", tmp_path / "s.h5",
                                 "--interpolate")
    assert code == 0 and summary["output"] == "sample" and summary["warnings"] == []


def test_cli_generate_posterior_prior_by_class_and_in_bulk(trained, tmp_path, capsys):
    """--prior-kind posterior: codes drawn from the encoder's posterior of training rows,
    by class (an unconditional VAE too) or for a number of rows; recorded in the file."""
    ws, vae, cvae = trained
    code, summary, _ = _generate(capsys, ws, "--run", vae, "--out", tmp_path / "v.h5",
                                 "--per-class", 4, "--classes", "2,5", "--prior-kind",
                                 "posterior")
    assert code == 0 and summary["prior"] == "posterior" and summary["classes"] == [2, 5]
    saved = read_features(tmp_path / "v.h5")
    assert saved.attrs["prior"] == "posterior" and np.bincount(saved.labels)[[2, 5]].tolist() \
        == [4, 4]
    code, summary, _ = _generate(capsys, ws, "--run", cvae, "--out", tmp_path / "c.h5",
                                 "--prior", 12, "--prior-kind", "posterior")
    assert code == 0 and summary["n_samples"] == 12 and summary["prior"] == "posterior"


def test_cli_generate_baseline_fits_only_the_classes_asked_for_and_balance_names_the_left_out(
        tmp_path, capsys):
    """A class of one row stops a baseline only when it is asked for by name (a clear
    message; by default it is left out with a warning), and
    --balance names the classes its total gives no rows to, instead of leaving them out
    silently."""
    from synth_core.workspace import get_workspace

    ws = get_workspace(tmp_path / "workspace")
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(150, int), np.ones(150, int), [2]]
    table = rng.normal(size=(301, 3)) + labels[:, None]
    csv = tmp_path / "imbalanced.csv"
    csv.write_text("a,b,c,label\n" + "".join(
        ",".join(f"{v:.4f}" for v in row) + f",{'rare' if c == 2 else c}\n"
        for row, c in zip(table, labels)))
    base = ["--workspace", str(ws.root), "--json", "-q"]
    assert main([*base, "import", "--input", str(csv), "--out", "imbalanced"]) == 0
    capsys.readouterr()
    code, summary, _ = _generate(capsys, ws, "--baseline", "gaussian", "--data", "imbalanced",
                                 "--per-class", 5, "--classes", "0,1", "--out",
                                 tmp_path / "g.h5")
    # Fitted on classes 0 and 1 only, less the 20 % of each that train also holds out.
    assert code == 0 and summary["classes"] == [0, 1] and summary["n_train_rows"] == 240
    assert summary["n_held_out_rows"] == 60
    # Every class by default: the one-row class is left out with a warning, not a refusal.
    code, summary, err = _generate(capsys, ws, "--baseline", "gaussian", "--data",
                                   "imbalanced", "--per-class", 5, "--out", tmp_path / "all.h5")
    assert code == 0 and summary["classes"] == [0, 1] and summary["n_samples"] == 10
    assert summary["warnings"] == ["class(es) rare (1 row(s)) left out: the gaussian baseline "
                                   "needs at least 2 fitted rows of a class; add rows to them, "
                                   "or choose the classes to draw (--classes)"]
    code, _, err = _generate(capsys, ws, "--baseline", "gaussian", "--data", "imbalanced",
                             "--per-class", 5, "--classes", "0,1,2", "--out", tmp_path / "x.h5")
    assert code == 2 and "class 2: 1 row(s)" in err and not (tmp_path / "x.h5").exists()
    assert main([*base, "train", "--data", "imbalanced", "--model", "cvae", "--epochs", "3",
                 "--seed", "0"]) == 0
    run_dir = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_dir"]
    code, summary, _ = _generate(capsys, ws, "--run", run_dir, "--balance", 20, "--out",
                                 tmp_path / "b.h5")
    assert code == 0 and summary["classes"] == [0, 1]
    assert any("'rare'" in w and "--per-class" in w for w in summary["warnings"])
    # Prior draws that skip the rare class say so too.
    code, summary, _ = _generate(capsys, ws, "--run", run_dir, "--prior", 20, "--out",
                                 tmp_path / "p.h5")
    assert code == 0 and 2 not in summary["classes"]
    assert any(w.startswith("20 rows drawn from the prior have none of 1 class(es): 'rare'")
               for w in summary["warnings"])
