"""``python -m synth_core train``: flags, presets, JSON summary, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

from synth_core.cli import build_parser, main
from synth_core.commands.train import config_from_args
from synth_core.data.datasets import save_dataset
from synth_core.training.runs import Run
from tests.conftest import ROOT

FAST = ["--latent-dim", "2", "--hidden", "16", "--epochs", "2", "--batch-size", "16",
        "--device", "cpu"]


def test_cli_train_flags_override_preset():
    args = build_parser().parse_args(["train", "--data", "x", "--preset", "thesis-cvae",
                                      "--hidden", "512,256", "--kl-warmup", "5"])
    config = config_from_args(args)
    assert (config.model, config.latent_dim, config.lr, config.epochs) == ("cvae", 8, 6.79e-4, 180)
    assert config.hidden == (512, 256) and config.kl_warmup_epochs == 5


def test_cli_train_json_summary(blobs, workspace, capsys):
    save_dataset(blobs, "blobs", workspace)
    out = workspace.root / "my-run"
    code = main(["--workspace", str(workspace.root), "-q", "train", "--data", "blobs",
                 "--model", "cvae", "--out", str(out), "--json", *FAST])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["ok"] and summary["run_dir"] == str(out) and summary["epochs_run"] == 2
    assert {"best_val_loss", "seconds_per_epoch"} <= set(summary)
    assert Run.load(out).config.model == "cvae"


def test_cli_train_default_out_is_a_new_run_and_epochs_on_stderr(blobs, workspace, capsys):
    save_dataset(blobs, "blobs", workspace)
    code = main(["--workspace", str(workspace.root), "train", "--data", "blobs", "--json", *FAST])
    captured = capsys.readouterr()
    assert code == 0 and "epoch 2/2" in captured.err
    run_dir = json.loads(captured.out.strip().splitlines()[-1])["run_dir"]
    assert workspace.list_runs()[0].as_posix() == run_dir


def test_cli_train_bad_input_is_one_line_error(workspace):
    proc = subprocess.run(
        [sys.executable, "-m", "synth_core", "--workspace", str(workspace.root), "train",
         "--data", "builtin:digits", "--latent-dim", "100", "--epochs", "1", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "latent_dim: 100 is above the number of features (64)" in proc.stderr
    assert json.loads(proc.stdout)["ok"] is False


def test_cli_train_refuses_lr_and_batch(blobs, workspace, capsys):
    save_dataset(blobs, "blobs", workspace)
    base = ["--workspace", str(workspace.root), "-q", "train", "--data", "blobs"]
    assert main([*base, *FAST, "--lr", "0"]) == 2
    assert "lr (learning rate) must be a positive number" in capsys.readouterr().err
    assert main([*base, *FAST[:-4], "--batch-size", "1000"]) == 2
    assert "fewer than one batch of 1000" in capsys.readouterr().err
