"""The Tune page (AppTest): empty state, a finished 3-trial study, starting a study."""

from __future__ import annotations

from synth_core.data.datasets import save_dataset
from synth_core.jobs import list_jobs, wait_for_job
from synth_core.training.tuning.space import SearchSpace, TuneConfig
from synth_core.training.tuning.study import run_study
from tests.conftest import app_test, make_blobs

PAGE = "pages/3_Tune.py"
TINY = SearchSpace(latent_dim=(2, 4), hidden=(8, 16), lr=(1e-3, 1e-2), epochs=(2, 3))


def _study(workspace, name: str = "page-study", n_trials: int = 3) -> None:
    save_dataset(make_blobs(), "blobs", workspace)
    run_study(make_blobs(), TuneConfig(model="vae", study_name=name,
                                       storage=workspace.optuna_url, n_trials=n_trials, space=TINY,
                                       train={"batch_size": 16, "device": "cpu"}),
              dataset_ref="blobs")


def test_tune_page_without_studies_explains_what_to_do(workspace):
    at = app_test(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Tune"
    assert any("No study in this storage yet" in info.value for info in at.info)
    assert at.button(key="tune-start")  # the new-study form is there


def test_tune_page_shows_trials_plots_and_actions_of_a_study(workspace):
    _study(workspace)
    at = app_test(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="tune-study").value == "page-study"
    trials = at.dataframe[0].value
    assert len(trials) == 3 and {"state", "value", "pruned at epoch", "lr"} <= set(trials.columns)
    assert [m.label for m in at.metric] == ["Trials", "Complete", "Pruned", "Best value"]
    assert len(at.get("plotly_chart")) >= 4  # history, slice, intermediate, timeline (+importances)
    assert at.button(key="tune-train") and at.button(key="tune-dash-start")
    assert at.button(key="tune-narrow")  # 3 complete trials are enough to narrow


def test_tune_page_study_too_young_to_narrow_is_no_error(workspace):
    # Opening the page on a 2-trial study showed a red error box for the narrowing step.
    _study(workspace, n_trials=2)
    at = app_test(PAGE).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("at least 3 complete trials" in i.value and "has 2" in i.value for i in at.info)
    assert not any(b.key == "tune-narrow" for b in at.button)


def test_tune_page_refuses_inverted_range_without_starting(workspace):
    save_dataset(make_blobs(), "blobs", workspace)
    at = app_test(PAGE).run()
    at.selectbox(key="tune-dataset").set_value("blobs").run()
    at.number_input(key="tune-vae-exploration-epochs-lo").set_value(50).run()
    at.number_input(key="tune-vae-exploration-epochs-hi").set_value(10).run()
    at.button(key="tune-start").click().run()
    assert not at.exception
    assert any("inverted or empty" in e.value for e in at.error)
    assert list_jobs(workspace, "tune") == []


def test_tune_page_refuses_a_cvae_study_of_one_class_without_starting_a_job(workspace):
    one = make_blobs()
    one.labels[:] = 0
    one.class_names = ["only"]
    save_dataset(one, "one-class", workspace)
    at = app_test(PAGE).run()
    at.selectbox(key="tune-dataset").set_value("one-class").run()
    at.radio(key="tune-model").set_value("cvae").run()
    at.button(key="tune-start").click().run()
    assert not at.exception
    assert any("two classes" in e.value for e in at.error), [e.value for e in at.error]
    assert list_jobs(workspace, "tune") == []


def test_tune_page_narrowed_study_keeps_the_source_settings(workspace):
    _study(workspace)
    at = app_test(PAGE).run()
    at.button(key="tune-narrow").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    job = list_jobs(workspace, "tune")[0]
    config = job.params["config"]
    assert config["study_name"] == "page-study-narrowed" and config["n_trials"] == 3
    assert {"batch_size": 16, "device": "cpu"}.items() <= config["train"].items()  # kept
    assert config["space"]["latent_dim"][1] <= 16  # blobs has 16 features
    wait_for_job(workspace, job.id, timeout=240)


def test_tune_page_starts_a_three_trial_study_as_a_job(workspace):
    save_dataset(make_blobs(), "blobs", workspace)
    at = app_test(PAGE).run()
    at.selectbox(key="tune-dataset").set_value("blobs").run()
    assert any("capped at the dataset's 16 features" in c.value for c in at.caption)
    for name, (low, high) in TINY.to_dict().items():
        key = "tune-vae-exploration" + ("-16" if name == "latent_dim" else "")
        if name != "lr":
            at.number_input(key=f"{key}-{name}-lo").set_value(low).run()
            at.number_input(key=f"{key}-{name}-hi").set_value(high).run()
    at.number_input(key="tune-trials").set_value(3).run()
    at.text_input(key="tune-vae-exploration-name").set_value("from-page").run()
    at.button(key="tune-start").click().run()
    assert not at.exception, at.exception
    jobs = list_jobs(workspace, "tune")
    assert len(jobs) == 1 and jobs[0].params["config"]["study_name"] == "from-page"
    status = wait_for_job(workspace, jobs[0].id, timeout=180)
    assert status.state == "done", status.error
    assert status.result["n_complete"] + status.result["n_pruned"] == 3
    at.run()
    assert not at.exception
    assert at.selectbox(key="tune-study").value == "from-page"
    assert len(at.dataframe[0].value) == 3


def test_tune_page_shows_a_queued_job_with_its_place_and_cancels_it(workspace, monkeypatch):
    import time

    from synth_core.jobs import cancel_job, get_job, submit_job

    monkeypatch.setenv("SYNTH_MAX_WORKERS", "1")
    blocker = submit_job(workspace, "count", {"n": 400, "delay": 0.05},
                         target="tests.job_targets:count")
    queued = submit_job(workspace, "tune", {"n": 1, "config": {"study_name": "waits"}},
                        target="tests.job_targets:count")
    deadline = time.monotonic() + 30
    while get_job(workspace, blocker.id).state != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    # Submitted behind the blocker while it still waited, the job said "place 2" until its
    # own worker (slow to start under load) saw the blocker leave the line.
    while get_job(workspace, queued.id).position != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    at = app_test(PAGE).run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("Queued (place in the queue: 1") for c in at.caption)
    at.button(key="tune-job-cancel").click().run()
    assert not at.exception
    assert wait_for_job(workspace, queued.id, timeout=30).state == "cancelled"
    cancel_job(workspace, blocker.id)
    assert wait_for_job(workspace, blocker.id, timeout=30).state == "cancelled"


def test_tune_page_lists_a_damaged_study_and_keeps_working(workspace):
    import optuna

    from synth_core.training.tuning import STUDY_ATTR, open_storage

    _study(workspace)
    broken = optuna.create_study(study_name="broken", storage=open_storage(workspace.optuna_url))
    broken.set_user_attr(STUDY_ATTR, ["not", "a", "record"])
    at = app_test(PAGE).run()
    assert not at.exception, at.exception
    assert any("damaged study broken" in w.value for w in at.warning)
    assert at.selectbox(key="tune-study").value == "page-study"


def test_tune_page_in_classroom_mode_shows_only_this_codes_studies(workspace, monkeypatch):
    monkeypatch.setenv("SYNTH_CLASSROOM", "1")
    fox = workspace.for_owner("fox-42")
    _study(fox, name="fox-study")
    at = app_test(PAGE)
    at.query_params["who"] = "fox-42"
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="tune-study").value == "fox-study"
    assert at.session_state["owner_code"] == "fox-42"
    stranger = app_test(PAGE).run()  # no code in the URL: a new one, and nothing of fox's
    assert not stranger.exception
    code = stranger.session_state["owner_code"]
    assert code != "fox-42" and stranger.query_params["who"] in (code, [code])
    assert any("No study in this storage yet" in info.value for info in stranger.info)
    assert (workspace.root / "users" / code / "runs").is_dir()
