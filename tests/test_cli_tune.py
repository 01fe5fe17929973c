"""``python -m synth_core tune``: arguments, JSON summary, plots, one-line errors."""

from __future__ import annotations

import json

import optuna
import pytest

from synth_core.cli import main
from synth_core.features import write_features
from tests.conftest import make_blobs, missing_tool

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


def test_cli_tune_epochs_fixes_the_epochs_range(workspace, blobs_file, capsys):
    """`tune --epochs N`, as `train --epochs N`: every trial trains at most N epochs."""
    code = _tune(workspace, "--data", blobs_file, "--study", "short", "--trials", "2",
                 "--ranges", '{"latent_dim": [2, 4], "hidden": [8, 16]}', "--epochs", "2",
                 "--batch-size", "16")
    assert code == 0, capsys.readouterr().err
    study = optuna.load_study(study_name="short", storage=workspace.optuna_url)
    assert study.user_attrs["synth_core"]["space"]["epochs"] == [2, 2]
    assert all(t.params.get("epochs", 2) == 2 for t in study.trials)


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
    (["--epochs", "3", "--ranges", '{"epochs": [2, 3]}'], "--epochs 3 and an epochs range in "
                                                          "--ranges both set the epochs"),
    (["--epochs", "0"], "--epochs 0: give a whole number of at least 1"),
])
def test_cli_tune_bad_input_is_one_line_error(workspace, blobs_file, capsys, args, message):
    code = _tune(workspace, "--data", blobs_file, "--study", "bad",
                 *(["--ranges", RANGES] if "--ranges" not in args else []), *args)
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1
    assert json.loads(captured.out) == {"ok": False, "error": captured.err.strip()[len("error: "):]}


def test_cli_tune_epochs_beside_a_ranges_file(workspace, blobs_file, tmp_path, capsys):
    """--epochs reads what a ranges file sets, not its name: a file that sets epochs is
    refused (it was silently overridden), one whose name only says "epochs" is not."""
    sets = tmp_path / "with.json"
    sets.write_text('{"latent_dim": [2, 3], "hidden": [8, 8], "epochs": [5, 9]}')
    assert _tune(workspace, "--data", blobs_file, "--study", "f1", "--ranges", str(sets),
                 "--epochs", "2", "--trials", "1") == 2
    err = capsys.readouterr().err
    assert "--epochs 2 and an epochs range in --ranges both set the epochs" in err
    named = tmp_path / "epochs-free.json"
    named.write_text('{"latent_dim": [2, 3], "hidden": [8, 8]}')
    assert _tune(workspace, "--data", blobs_file, "--study", "f2", "--ranges", str(named),
                 "--epochs", "1", "--trials", "1", "--batch-size", "16") == 0, \
        capsys.readouterr().err
    study = optuna.load_study(study_name="f2", storage=workspace.optuna_url)
    assert study.user_attrs["synth_core"]["space"]["epochs"] == [1, 1]
    assert study.user_attrs["synth_core"]["space"]["latent_dim"] == [2, 3]  # from the file


# ----------------------------------------------------------------------------- PostgreSQL

@pytest.fixture(scope="module")
def postgres():
    """A real PostgreSQL server for this module (skipped when not installed, except in CI)."""
    from tests import pg_server

    try:
        server = pg_server.start()
    except FileNotFoundError as exc:
        missing_tool(str(exc), pg_server.REQUIRE_ENV)
    yield server
    server.remove()


@pytest.fixture
def postgres_url(postgres):
    return postgres.url


def _worker(workspace, verb: str, *args: str):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "synth_core", "-q", "--workspace",
                             str(workspace.root), verb, "--json", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_tune_workers_share_a_postgres_study_and_retry_a_killed_workers_trial(
        workspace, blobs_file, postgres_url):
    import time

    from optuna.trial import TrialState

    from synth_core.training.tuning import open_storage, worker_rows

    # Trials long enough (20 epochs) to kill one mid-way; no pruning, so all finish.
    first = _worker(workspace, "tune", "--data", blobs_file, "--study", "shared",
                    "--storage", postgres_url, "--trials", "4", "--heartbeat", "1",
                    "--ranges", '{"latent_dim": [2, 4], "hidden": [8, 16], "epochs": [20, 20]}',
                    "--batch-size", "16", "--patience", "0", "--startup-trials", "50")
    storage = open_storage(postgres_url)
    deadline = time.monotonic() + 90
    killed_trial = None
    while killed_trial is None and time.monotonic() < deadline and first.poll() is None:
        try:
            study = optuna.load_study(study_name="shared", storage=storage)
            running = [t for t in study.get_trials(states=(TrialState.RUNNING,))
                       if (t.user_attrs.get("worker") or {}).get("pid") == first.pid]
            killed_trial = running[0].number if running else None
        except KeyError:  # the study is not created yet
            pass
        time.sleep(0.1)
    assert killed_trial is not None, first.communicate(timeout=30)
    first.kill()  # mid-trial: no goodbye, its heartbeat just stops
    first.wait(timeout=30)
    workers = [_worker(workspace, "tune-worker", "--storage", postgres_url, "--study", "shared",
                       "--heartbeat", "1") for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err
        assert json.loads(out)["study"] == "shared"
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials()
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) >= 4
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert [t.number for t in failed] == [killed_trial]
    # On this machine the joining worker sees the dead pid at once (recover_crashed_trials);
    # on another machine the heartbeat does it (next test): either way it runs again.
    retried = [t for t in trials if t.user_attrs.get("retry_of") == killed_trial
               or t.system_attrs.get("failed_trial") == killed_trial]
    assert len(retried) == 1 and retried[0].state == TrialState.COMPLETE
    assert retried[0].params == failed[0].params
    rows = {r["worker"].rsplit(":", 1)[1]: r for r in worker_rows(study)}
    assert rows[str(first.pid)]["failed"] == 1
    assert {str(w.pid) for w in workers} <= set(rows)  # both joined workers ran trials


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # ask() outside optimize
def test_heartbeat_fails_and_retries_the_trial_of_a_worker_on_another_machine(postgres_url):
    import time

    from optuna.trial import TrialState

    from synth_core.training.tuning import (WORKER_ATTR, SearchSpace, TuneConfig,
                                            create_or_load_study, open_storage, run_study)

    config = TuneConfig(model="vae", study_name="heartbeat", storage=postgres_url, n_trials=2,
                        space=SearchSpace(latent_dim=(2, 4), hidden=(8, 16), lr=(1e-3, 1e-2),
                                          epochs=(2, 3)),
                        heartbeat_interval=1, train={"batch_size": 16, "device": "cpu"})
    storage = open_storage(postgres_url, heartbeat_interval=1)
    study, _ = create_or_load_study(config, storage, n_features=16)
    silent = study.ask()  # a trial of a worker elsewhere that beat once, then died
    config.space.suggest(silent, config.base_train_config())
    silent.set_user_attr(WORKER_ATTR, {"host": "another-machine", "pid": 1})
    storage.record_heartbeat(silent._trial_id)
    time.sleep(2.5)  # > grace period (2 x heartbeat)
    run_study(make_blobs(), config)
    trials = study.get_trials()
    assert trials[silent.number].state == TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == silent.number]
    assert len(retried) == 1 and retried[0].state == TrialState.COMPLETE
    assert retried[0].params == trials[silent.number].params


def test_tune_worker_refuses_an_unknown_study_in_one_line(workspace, postgres_url, capsys):
    code = main(["-q", "--workspace", str(workspace.root), "tune-worker", "--storage",
                 postgres_url, "--study", "nope"])
    err = capsys.readouterr().err
    assert code == 2 and "study 'nope' not found" in err and len(err.strip().splitlines()) == 1


def test_a_postgres_restart_mid_study_loses_no_finished_trial(workspace, blobs_file, postgres):
    import time

    from optuna.trial import TrialState

    from synth_core.training.tuning import open_storage

    proc = _worker(workspace, "tune", "--data", blobs_file, "--study", "restart",
                   "--storage", postgres.url, "--trials", "3", "--heartbeat", "1",
                   "--ranges", '{"latent_dim": [2, 4], "hidden": [8, 16], "epochs": [20, 20]}',
                   "--batch-size", "16", "--patience", "0", "--startup-trials", "50")
    storage = open_storage(postgres.url)
    deadline = time.monotonic() + 120
    done: list = []
    while not done and time.monotonic() < deadline and proc.poll() is None:
        try:
            done = optuna.load_study(study_name="restart", storage=storage).get_trials(
                states=(TrialState.COMPLETE,))
        except KeyError:
            pass
        time.sleep(0.2)
    assert done, proc.communicate(timeout=30)
    postgres.stop()
    postgres.start()
    out, err = proc.communicate(timeout=300)
    if proc.returncode != 0:  # it lost the connection mid-trial: one clear line, exit 2
        assert proc.returncode == 2 and "lost the database during the study" in err, err
        assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
    again = _worker(workspace, "tune-worker", "--storage", postgres.url, "--study", "restart",
                    "--heartbeat", "1")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    study = optuna.load_study(study_name="restart", storage=open_storage(postgres.url))
    assert study.trials[done[0].number].state == TrialState.COMPLETE  # nothing lost
    assert len(study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))) >= 3
