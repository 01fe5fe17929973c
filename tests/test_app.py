"""AppTest of the home page."""

from __future__ import annotations

from tests.conftest import app_test, make_blobs
from synth_core.data.datasets import save_dataset


def test_home_shows_workspace_summary(workspace):
    save_dataset(make_blobs(), "blobs", workspace)
    at = app_test("app.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Datasets"] == "3"  # two embedded + one saved
    assert metrics["Trained models"] == "0"


def test_home_tour_runs_and_shows_path(workspace):
    from synth_core.jobs import list_jobs, wait_for_job

    at = app_test("app.py").run()
    at.button(key="tour-start").click().run()
    assert not at.exception
    jobs = list_jobs(workspace, "tour")
    assert len(jobs) == 1
    status = wait_for_job(workspace, jobs[0].id, timeout=300)
    assert status.state == "done", status.error
    at = app_test("app.py").run()  # a fresh session finds the finished tour in the workspace
    assert not at.exception
    assert any("3 to an 8" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) >= 1
