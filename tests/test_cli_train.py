"""``python -m synth_core train``: flags, presets, JSON summary, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
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


def _summary(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _table(n_per_class: int, n_features: int, n_classes: int = 3, *, folds=None):
    import numpy as np

    from synth_core.features import FeatureSet

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    X = rng.normal(size=(len(labels), n_features)) + labels[:, None]
    return FeatureSet(X.astype("float32"), labels, [f"c{i}" for i in range(n_classes)],
                      folds=folds)


def test_cli_train_no_flags_derives_and_reports_defaults(workspace, capsys):
    # A 37-feature table with cvae and no other flag (issue #11: latent 42 > 37 features).
    save_dataset(_table(20, 37), "wide", workspace)
    code = main(["--workspace", str(workspace.root), "-q", "train", "--data", "wide",
                 "--model", "cvae", "--epochs", "2", "--json"])
    assert code == 0
    summary = _summary(capsys)
    # 37 // 4 = 9 from the features, but a CVAE's code gets a unit per 4 rows of its smallest
    # class: 16 training rows a class (20 less the 20 % test share; no validation) -> 4.
    assert summary["derived"]["latent_dim"] == 4 and summary["derived"]["batch_size"] == 8
    assert summary["decoder"] == "sigma" and summary["transform"] == "quantile-hazen"
    assert "active_units" in summary and isinstance(summary["warnings"], list)
    # The figures the warnings judge (the rows Generate makes), not only the prior's means.
    collapse = json.loads((Path(summary["run_dir"]) / "metrics.json").read_text())["collapse"]
    assert summary["spread_ratio_generated"] == collapse["spread_ratio_generated"] > 0
    assert summary["copy_ratio"] == collapse["copy_ratio"] > 0
    run = Run.load(summary["run_dir"])
    assert run.config.latent_dim == 4 and run.derived["latent_dim"] == 4


def test_cli_train_tiny_tables_train_with_defaults(workspace, capsys):
    # 3 rows per class, and a 2-feature table: both train with no flags.
    save_dataset(_table(3, 5), "three-per-class", workspace)
    save_dataset(_table(30, 2), "two-features", workspace)
    for name in ("three-per-class", "two-features"):
        code = main(["--workspace", str(workspace.root), "-q", "train", "--data", name,
                     "--epochs", "2", "--json"])
        assert code == 0, capsys.readouterr().err
        summary = _summary(capsys)
        if name == "three-per-class":
            assert summary["derived"]["val_fraction"] == 0.0
            assert summary["derived"]["batch_size"] == 2
        else:
            assert summary["derived"]["latent_dim"] == 2


def test_cli_train_45_training_rows_default_batch(workspace, capsys):
    # The leukemia case of issue #11: 72 rows, 45 for training; default batch must fit.
    save_dataset(_table(15, 40, n_classes=3), "small", workspace)
    assert main(["--workspace", str(workspace.root), "-q", "train", "--data", "small",
                 "--val-fraction", "0", "--epochs", "1", "--json"]) == 0
    assert _summary(capsys)["derived"]["batch_size"] == 8
    # An explicit batch that does not fit is refused, naming the derived value.
    assert main(["--workspace", str(workspace.root), "-q", "train", "--data", "small",
                 "--batch-size", "128", "--epochs", "1"]) == 2
    assert "leave --batch-size out to fit it (it would be 8)" in capsys.readouterr().err


def test_cli_train_test_folds_are_held_out(workspace, capsys):
    import numpy as np

    data = _table(20, 6, folds=np.tile(np.arange(1, 6), 12))
    data.attrs["test_folds"] = [5]
    save_dataset(data, "folded", workspace)
    base = ["--workspace", str(workspace.root), "-q", "train", "--data", "folded",
            "--epochs", "1", "--json"]
    assert main(base) == 0  # default: the dataset's own test folds
    run = Run.load(_summary(capsys)["run_dir"])
    assert run.test_folds == (5,)
    assert not np.isin(run.seen_index(), np.flatnonzero(data.folds == 5)).any()
    np.testing.assert_array_equal(run.held_out_index(), np.flatnonzero(data.folds == 5))
    assert main([*base, "--test-folds", "4,5"]) == 0
    assert Run.load(_summary(capsys)["run_dir"]).meta["test_folds"] == [4, 5]
    assert main([*base, "--test-folds", "none", "--test-fraction", "0"]) == 0
    assert len(Run.load(_summary(capsys)["run_dir"]).seen_index()) == data.n_samples
    assert main([*base, "--test-folds", "none"]) == 0  # no folds: 20% of each class held out
    summary = _summary(capsys)
    assert summary["derived"]["test_fraction"] == 0.2
    assert len(Run.load(summary["run_dir"]).held_out_index()) == 12
    assert main([*base, "--test-folds", "9"]) == 2
    assert "has no fold 9" in capsys.readouterr().err


def test_cli_train_thesis_preset_is_exact_and_refuses_other_transforms():
    args = build_parser().parse_args(["train", "--data", "x", "--preset", "thesis-vae"])
    config = config_from_args(args)
    assert (config.latent_dim, config.hidden, config.lr, config.epochs, config.batch_size,
            config.decoder, config.transform) == (42, (483,), 2.78e-4, 176, None, "thesis",
                                                   "minmax")
    import pytest

    from synth_core.errors import InputError

    args = build_parser().parse_args(["train", "--data", "x", "--preset", "thesis-cvae",
                                      "--transform", "quantile"])
    with pytest.raises(InputError, match="use transform 'minmax' with the thesis decoder"):
        config_from_args(args)
