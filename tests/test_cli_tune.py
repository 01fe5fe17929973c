"""``python -m synth_core tune``: arguments, JSON summary, plots, one-line errors."""

from __future__ import annotations

import json

import optuna
import pytest

from synth_core.cli import main
from synth_core.features import write_features
from tests.conftest import make_blobs

RANGES = '{"latent_dim": [2, 4], "hidden": [8, 16], "epochs": [2, 3]}'


@pytest.fixture
def blobs_file(tmp_path):
    return str(write_features(tmp_path / "blobs.h5", make_blobs()))


def _tune(workspace, *args: str) -> int:
    return main(["-q", "--workspace", str(workspace.root), "tune", "--json", *args])


def test_cli_tune_runs_study_in_workspace_db_and_writes_plots(workspace, blobs_file, tmp_path,
                                                              capsys):
    code = _tune(workspace, "--data", blobs_file, "--study", "cli", "--trials", "3",
                 "--ranges", RANGES, "--batch-size", "16", "--plots", str(tmp_path / "plots"))
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["ok"] is True
    assert summary["study"] == "cli" and summary["new_trials"] == 3
    assert summary["n_complete"] + summary["n_pruned"] == 3
    assert summary["storage"] == workspace.optuna_url  # the default storage
    assert any(p.endswith("cli-history.html") for p in summary["plots"])
    study = optuna.load_study(study_name="cli", storage=workspace.optuna_url)
    assert study.user_attrs["synth_core"]["space"]["epochs"] == [2, 3]


def test_cli_tune_journal_storage_and_preset(workspace, blobs_file, tmp_path, capsys):
    journal = tmp_path / "studies.journal"
    code = _tune(workspace, "--data", blobs_file, "--study", "j", "--trials", "2",
                 "--storage", str(journal), "--preset", "cvae-exploitation-2", "--model", "cvae",
                 "--ranges", '{"latent_dim": [2, 8], "epochs": [2, 2], "hidden": [8, 8]}',
                 "--batch-size", "16")
    assert code == 0, capsys.readouterr().err
    study = optuna.load_study(study_name="j", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))))
    assert study.user_attrs["synth_core"]["space"]["lr"] == [5e-4, 7e-4]  # from the preset
    assert study.user_attrs["synth_core"]["model"] == "cvae"


@pytest.mark.parametrize("args, message", [
    (["--trials", "0"], "trials must be a positive whole number; got 0"),
    (["--ranges", '{"lr": [0, 0.1]}'], "learning rate (lr) must be positive"),
    (["--ranges", '{"epochs": [50, 10]}'], "inverted or empty: low 50 > high 10"),
    (["--storage", "sqlite:////no/such/folder/x.db"], "folder /no/such/folder does not exist"),
    (["--preset", "fast"], "preset 'fast' is unknown"),
])
def test_cli_tune_bad_input_is_one_line_error(workspace, blobs_file, capsys, args, message):
    code = _tune(workspace, "--data", blobs_file, "--study", "bad",
                 *(["--ranges", RANGES] if "--ranges" not in args else []), *args)
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1
    assert json.loads(captured.out) == {"ok": False, "error": captured.err.strip()[len("error: "):]}
