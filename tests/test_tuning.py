"""synth_core.training.tuning and tuning_dashboard: search space, objective, studies, narrowing, records."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from synth_core.errors import InputError, StorageError
from synth_core.training.tuning import (CONFIG_ATTR, RANGE_PRESETS, RETRY_ATTR, WORKER_ATTR, Objective,
                               SearchSpace, TuneConfig, best_train_config, create_or_load_study,
                               list_studies, narrow_ranges, open_storage, parse_ranges,
                               run_study, study_figures, study_summary, trial_rows, write_plots)
from tests.conftest import ROOT, make_blobs

TINY = SearchSpace(latent_dim=(2, 4), hidden=(8, 16), lr=(1e-3, 1e-2), epochs=(2, 3))
TRAIN = {"batch_size": 16, "device": "cpu", "patience": 0}


def _config(tmp_path, **changes) -> TuneConfig:
    values = dict(model="vae", study_name="s", storage=f"sqlite:///{tmp_path}/optuna.db",
                  n_trials=3, space=TINY, n_startup_trials=1, n_warmup_steps=1,
                  interval_steps=1, train=dict(TRAIN))
    values.update(changes)
    return TuneConfig(**values)


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    """A finished 4-trial study (shared by the record tests)."""
    tmp = tmp_path_factory.mktemp("study")
    config = _config(tmp, n_trials=4, space=SearchSpace(latent_dim=(2, 4), hidden=(8, 16),
                                                        lr=(1e-3, 1e-2), epochs=(3, 4)))
    run_study(make_blobs(), config, dataset_ref="blobs")
    return optuna.load_study(study_name="s", storage=config.storage)


# ----------------------------------------------------------------------------- search space

def test_presets_hold_the_thesis_ranges():
    assert RANGE_PRESETS["exploration"].space.to_dict() == {
        "latent_dim": [3, 203], "hidden": [150, 400], "lr": [1e-5, 1e-2], "epochs": [20, 100]}
    assert RANGE_PRESETS["vae-exploitation-2"].space.lr == (2e-4, 4e-4)
    assert RANGE_PRESETS["cvae-exploitation-1"].space.to_dict() == {
        "latent_dim": [6, 50], "hidden": [300, 450], "lr": [3e-4, 9.3e-4], "epochs": [40, 150]}


@pytest.mark.parametrize("ranges, message", [
    ({"epochs": [100, 20]}, "inverted or empty"),
    ({"lr": [0, 1e-2]}, "must be positive"),
    ({"lr": [-1e-3, 1e-2]}, "must be positive"),
    ({"latent_dim": []}, r"\[low, high\]"),
    ({"hidden": [1.5, 20]}, "whole numbers"),
    ({"depth": [1, 2]}, "unknown parameter"),
    ({"latent_dim": None}, "missing or empty"),
])
def test_search_space_refuses_bad_ranges(ranges, message):
    with pytest.raises(InputError, match=message):
        parse_ranges(ranges)


def test_parse_ranges_merges_json_over_preset():
    space = parse_ranges('{"epochs": [5, 9], "batch_size": [16, 64]}', preset="vae-exploitation-1")
    assert space.epochs == (5, 9) and space.batch_size == (16, 64)
    assert space.latent_dim == (10, 100)
    with pytest.raises(InputError, match="not valid JSON"):
        parse_ranges("{epochs: 1}")
    with pytest.raises(InputError, match="preset 'nope' is unknown"):
        parse_ranges(None, preset="nope")


def test_tune_config_refuses_zero_trials(tmp_path):
    with pytest.raises(InputError, match="trials must be a positive whole number; got 0"):
        _config(tmp_path, n_trials=0).validate()


# ----------------------------------------------------------------------------- objective

def test_objective_reports_every_epoch_and_completes(tmp_path):
    study = optuna.create_study(pruner=optuna.pruners.NopPruner(),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    base = _config(tmp_path).base_train_config()
    study.optimize(Objective(make_blobs(), TINY, base), n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert sorted(trial.intermediate_values) == list(range(1, trial.params["epochs"] + 1))
    assert trial.value == pytest.approx(min(trial.intermediate_values.values()))
    assert trial.user_attrs[CONFIG_ATTR]["latent_dim"] == trial.params["latent_dim"]
    assert trial.user_attrs[WORKER_ATTR]["pid"] == os.getpid()


def test_objective_raises_trial_pruned_when_the_pruner_says_so(tmp_path):
    # ThresholdPruner(upper=0): every positive loss is "too high" -> pruned at the first report.
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))
    base = _config(tmp_path).base_train_config()
    study.optimize(Objective(make_blobs(), TINY, base), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert all(t.last_step == 1 for t in study.trials)


# ----------------------------------------------------------------------------- studies

def test_run_study_resumes_up_to_the_trial_count(tmp_path):
    data = make_blobs()
    first = run_study(data, _config(tmp_path, n_trials=2))
    assert first.created and first.n_new == 2
    again = run_study(data, _config(tmp_path, n_trials=3))
    assert not again.created and again.n_new == 1
    assert again.summary.n_complete + again.summary.n_pruned == 3


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # study.ask() below
def test_run_study_recovers_trial_of_crashed_worker(tmp_path):
    config = _config(tmp_path, n_trials=2)
    storage = open_storage(config.storage)
    study, _ = create_or_load_study(config, storage, n_features=16)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    crashed = study.ask({"latent_dim": optuna.distributions.IntDistribution(2, 4)})
    crashed.set_user_attr(WORKER_ATTR, {"host": socket.gethostname(), "pid": dead.pid})
    result = run_study(make_blobs(), config)
    assert result.recovered == [crashed.number]
    trials = optuna.load_study(study_name="s", storage=config.storage).trials
    assert trials[crashed.number].state == TrialState.FAIL  # kept, not lost
    retried = [t for t in trials if t.user_attrs.get(RETRY_ATTR) == crashed.number]
    assert len(retried) == 1 and retried[0].params["latent_dim"] == crashed.params["latent_dim"]
    assert not [t for t in trials if t.state == TrialState.RUNNING]


def test_two_worker_processes_share_one_journal_study(tmp_path, workspace):
    from synth_core.features import write_features

    write_features(tmp_path / "blobs.h5", make_blobs())
    journal = tmp_path / "shared.journal"
    command = [sys.executable, "-m", "synth_core", "-q", "--workspace", str(workspace.root),
               "tune", "--data", str(tmp_path / "blobs.h5"), "--study", "shared",
               "--storage", str(journal), "--trials", "6", "--batch-size", "16", "--threads", "1",
               "--ranges", '{"latent_dim": [2, 4], "hidden": [8, 16], "epochs": [2, 3]}']
    workers = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [w.communicate(timeout=240) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    study = optuna.load_study(study_name="shared", storage=open_storage(str(journal)))
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) >= 6
    assert [t.number for t in study.trials] == list(range(len(study.trials)))
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
    assert len({t.user_attrs[WORKER_ATTR]["pid"] for t in study.trials}) == 2


def test_existing_study_with_other_ranges_is_refused_and_kept(tmp_path):
    run_study(make_blobs(), _config(tmp_path, n_trials=1))
    other = dict(TINY.to_dict(), epochs=[2, 5])
    with pytest.raises(InputError, match="exists with another search space.*trials are kept"):
        run_study(make_blobs(), _config(tmp_path, n_trials=2, space=SearchSpace(**other)))
    assert len(optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path}/optuna.db")
               .trials) == 1


def test_unreachable_or_malformed_storage_is_reported(tmp_path):
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(f"sqlite:///{tmp_path}/missing/optuna.db")
    with pytest.raises(StorageError, match="storage postgresql://u:\\*\\*\\*@"):
        open_storage("postgresql://u:secret@127.0.0.1:1/db")
    with pytest.raises(InputError, match="neither a database URL nor a journal"):
        open_storage("optuna.db")


def test_dataset_too_small_for_validation_split(tmp_path):
    tiny = make_blobs(n_per_class=1, n_classes=2)
    with pytest.raises(InputError, match="too few for a 10% validation split"):
        run_study(tiny, _config(tmp_path, train={**TRAIN, "val_fraction": 0.1}))
    assert not (tmp_path / "optuna.db").exists() or not list_studies(f"sqlite:///{tmp_path}/optuna.db")


def test_preset_latent_range_is_cut_to_the_features_and_a_typed_one_is_refused(tmp_path):
    """The default (exploration) latent range 3-203 was made for 512 VGGish features; with no
    ranges given, tune refused every table of fewer than 203 features (breast cancer, wine)."""
    preset_latent = RANGE_PRESETS["exploration"].space.latent_dim
    logs = []
    space = SearchSpace(latent_dim=preset_latent, hidden=(8, 16), lr=(1e-3, 1e-2), epochs=(2, 3))
    result = run_study(make_blobs(), _config(tmp_path, n_trials=2, space=space),
                       callback=lambda event: logs.append(getattr(event, "message", "")))
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path}/optuna.db")
    assert all(3 <= t.params["latent_dim"] <= 16 for t in study.trials)
    assert any("3-203 of the preset is cut to 3-16" in m for m in logs), logs
    assert result is not None
    with pytest.raises(InputError, match="latent_dim.*only 16 features"):
        run_study(make_blobs(), _config(tmp_path, study_name="typed",
                                        space=SearchSpace(latent_dim=(3, 30), hidden=(8, 16),
                                                          lr=(1e-3, 1e-2), epochs=(2, 3))))


# ----------------------------------------------------------------------------- narrowing

def _trial(value: float, latent: int, hidden: int, lr: float, epochs: int):
    return create_trial(
        value=value, params={"latent_dim": latent, "hidden": hidden, "lr": lr, "epochs": epochs},
        distributions={"latent_dim": IntDistribution(1, 1000), "hidden": IntDistribution(1, 1000),
                       "lr": FloatDistribution(1e-5, 1e-2, log=True),
                       "epochs": IntDistribution(1, 1000)})


def test_narrow_ranges_widens_crowded_bound_and_tightens_the_rest():
    space = RANGE_PRESETS["exploration"].space
    good = [_trial(0.10 + i / 100, latent=40 + 5 * i, hidden=380 + 5 * i, lr=3e-4 * (1 + i / 10),
                   epochs=90 + i) for i in range(4)]
    bad = [_trial(1.0 + i, latent=180, hidden=160, lr=5e-3, epochs=25) for i in range(16)]
    proposal = narrow_ranges(bad + good, space)
    assert proposal.n_best == 4 and proposal.n_complete == 20
    new = proposal.space
    assert 3 < new.latent_dim[0] <= 40 and 55 <= new.latent_dim[1] < 203  # tightened
    assert 1e-5 < new.lr[0] <= 3e-4 and 3.9e-4 <= new.lr[1] < 1e-2
    assert new.hidden[1] > 400 and new.hidden[0] > 150    # best crowd the top: widened
    assert new.epochs[1] > 100                             # 90-93 of 20-100: widened
    actions = {c.param: c.action for c in proposal.changes}
    assert actions == {"latent_dim": "tightened", "hidden": "widened", "lr": "tightened",
                       "epochs": "widened"}


def test_narrow_ranges_never_crosses_hard_limits():
    space = SearchSpace(latent_dim=(1, 20), hidden=(8, 16), lr=(1e-4, 1e-2), epochs=(1, 10))
    trials = [_trial(0.1 * i, latent=1, hidden=12, lr=1e-3, epochs=1) for i in range(1, 6)]
    new = narrow_ranges(trials, space).space
    assert new.latent_dim[0] == 1 and new.epochs[0] == 1


def test_narrow_ranges_caps_the_latent_size_at_the_data_width():
    """Best values crowding the top of latent 2-5 widened it to 6 on 5-feature data, and
    the narrowed study then failed in its job."""
    space = SearchSpace(latent_dim=(2, 5), hidden=(8, 16), lr=(1e-4, 1e-2), epochs=(1, 10))
    trials = [_trial(0.1 * i, latent=5, hidden=12, lr=1e-3, epochs=5) for i in range(1, 6)]
    assert narrow_ranges(trials, space).space.latent_dim[1] > 5
    proposal = narrow_ranges(trials, space, n_features=5)
    assert proposal.space.latent_dim[1] == 5
    change = next(c for c in proposal.changes if c.param == "latent_dim")
    assert change.action == "capped" and "capped at the data's 5 features" in change.reason


def test_narrow_ranges_needs_complete_trials():
    with pytest.raises(InputError, match="at least 3 complete trials; the study has 1"):
        narrow_ranges([_trial(0.1, 10, 200, 1e-3, 50)], RANGE_PRESETS["exploration"].space)


# ----------------------------------------------------------------------------- records

def test_study_records_and_best_config(small_study):
    summary = study_summary(small_study)
    assert summary.n_trials == 4 and summary.n_complete + summary.n_pruned == 4
    rows = trial_rows(small_study)
    assert [r["trial"] for r in rows] == [0, 1, 2, 3]
    assert {"state", "value", "pruned at epoch", "latent_dim", "lr"} <= set(rows[0])
    config = best_train_config(small_study)
    assert config.latent_dim == summary.best_params["latent_dim"]
    assert config.hidden == (summary.best_params["hidden"],)
    assert list_studies(small_study._storage)[0].model == "vae"


def test_study_figures_carry_the_trials(small_study):
    plots = {p.key: p for p in study_figures(small_study)}
    assert set(plots) == {"history", "slice", "importances", "intermediate", "timeline"}
    complete = [t for t in small_study.trials if t.state == TrialState.COMPLETE]
    history = plots["history"].figure
    values = [y for trace in history.data if trace.name == "Objective Value" for y in trace.y]
    assert sorted(values) == sorted(t.value for t in complete)
    slice_axes = {plots["slice"].figure.layout[k].title.text
                  for k in plots["slice"].figure.layout if k.startswith("xaxis")}
    assert {"epochs", "hidden", "latent_dim", "lr"} <= slice_axes
    n_with_steps = sum(bool(t.intermediate_values) for t in small_study.trials)
    assert len(plots["intermediate"].figure.data) == n_with_steps
    if len(complete) >= 2:
        bars = plots["importances"].figure.data[0]
        assert set(bars.y) <= {"epochs", "hidden", "latent_dim", "lr"}
    else:
        assert plots["importances"].figure is None and "two" in plots["importances"].note


def test_write_plots_writes_html_for_offline_use(small_study, tmp_path):
    paths = write_plots(small_study, tmp_path / "plots")
    assert {p.name for p in paths} >= {"s-history.html", "s-slice.html", "s-timeline.html"}
    assert (tmp_path / "plots" / "plotly.min.js").is_file()
    assert 'src="plotly.min.js"' in paths[0].read_text()


# ----------------------------------------------------------------------------- dashboard

def test_dashboard_starts_is_found_again_and_stops(workspace):
    from synth_core.training.dashboard import dashboard_status, start_dashboard, stop_dashboard

    info = start_dashboard(workspace, workspace.optuna_url)
    try:
        assert info.url.startswith("http://127.0.0.1:")
        assert dashboard_status(workspace) == info  # from the pid file, as after a refresh
        with urllib.request.urlopen(info.url + "/api/studies", timeout=10) as response:
            assert response.status == 200
        assert start_dashboard(workspace, workspace.optuna_url) == info  # reused
    finally:
        assert stop_dashboard(workspace)
    assert dashboard_status(workspace) is None


# ----------------------------------------------------------------------------- shared studies

def test_driver_url_maps_a_plain_postgresql_url_to_the_installed_driver():
    from synth_core.training.tuning import driver_url

    assert driver_url("postgresql://me@db.lab/studies") == "postgresql+psycopg://me@db.lab/studies"
    assert driver_url("postgres://me:pw@db:5433/s") == "postgresql+psycopg://me:pw@db:5433/s"
    for kept in ("postgresql+psycopg2://me@db/s", "sqlite:///x.db", "mysql+pymysql://u@h/d"):
        assert driver_url(kept) == kept


def test_worker_rows_count_each_workers_trials():
    from synth_core.training.tuning import worker_rows

    study = optuna.create_study()
    dist = {"lr": FloatDistribution(1e-4, 1e-2, log=True)}
    for value, state, pid in [(0.5, TrialState.COMPLETE, 1), (0.3, TrialState.COMPLETE, 2),
                              (None, TrialState.FAIL, 1), (0.2, TrialState.COMPLETE, 2),
                              (None, TrialState.PRUNED, 2)]:
        study.add_trial(create_trial(state=state, value=value, params={"lr": 1e-3},
                                     distributions=dist,
                                     user_attrs={WORKER_ATTR: {"host": "lab", "pid": pid}}))
    study.add_trial(create_trial(value=0.9, params={"lr": 1e-3}, distributions=dist))
    rows = {r["worker"]: r for r in worker_rows(study)}
    assert set(rows) == {"lab:1", "lab:2"}  # the trial without a worker is left out
    assert rows["lab:1"] | {"last trial": 0} == {
        "worker": "lab:1", "trials": 2, "complete": 1, "pruned": 0, "failed": 1, "running": 0,
        "best value": 0.5, "last trial": 0}
    assert rows["lab:2"]["best value"] == 0.2 and rows["lab:2"]["pruned"] == 1
    assert trial_rows(study)[0]["worker"] == "lab:1"


def test_scan_studies_lists_a_damaged_study_record_apart(tmp_path):
    from synth_core.training.tuning import STUDY_ATTR, scan_studies

    url = f"sqlite:///{tmp_path}/optuna.db"
    storage = open_storage(url)
    good = optuna.create_study(study_name="good", storage=storage)
    good.set_user_attr(STUDY_ATTR, {"model": "vae", "space": TINY.to_dict()})
    optuna.create_study(study_name="foreign", storage=storage)  # made elsewhere: fine
    for name, record in [("cut", "{\"model\": \"va"), ("ranges", {
            "model": "vae", "space": {"epochs": [9, 2], "latent_dim": [2, 4], "hidden": [8, 8],
                                      "lr": [1e-3, 1e-2]}})]:
        optuna.create_study(study_name=name, storage=storage).set_user_attr(STUDY_ATTR, record)
    infos, damaged = scan_studies(storage)
    assert sorted(i.name for i in infos) == ["foreign", "good"]
    reasons = {d.path.name: d.message() for d in damaged}
    assert "not an object" in reasons["cut"] and "optuna delete-study" in reasons["cut"]
    assert "inverted or empty" in reasons["ranges"]
