"""Jobs survive the browser and the server: refresh, restart, two tabs at once.

* Refresh mid-training: the progress bar and the live loss curves are drawn again
  from the workspace (the job runs in its own process), and Cancel still works.
* Restart the server mid-job: a new ``streamlit run`` on the same workspace finds
  the running job, shows its progress and then its result.
* Two tabs press Train at the same moment on one workspace: both runs finish, in
  separate run folders, complete and loadable with ``Run.load``; no half-written
  or temporary file is left behind.
"""

from __future__ import annotations

import re
import time

import pytest

from synth_core.jobs import get_job, list_jobs, submit_job, wait_for_job
from synth_core.workspace import get_workspace
from tests.browser.conftest import StreamlitServer, assert_no_exception, wait_for_app
from tests.browser.test_workflow import click, number, settle, text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROGRESS = '[data-testid="stProgress"]'
TRAIN = re.compile(r"^\W*Train$")  # the form's submit button (its icon has no text)


@pytest.fixture
def fresh_workspace(tmp_path):
    return get_workspace(tmp_path / "workspace")


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1200})
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


def _fill_train_form(page, *, epochs: int, batch: int = 64, hidden: str = "16") -> None:
    number(page, "Latent size", 2)
    text(page, "Hidden layers", hidden)
    number(page, "Epochs", epochs)
    number(page, "Batch size", batch)
    number(page, "Patience", 0)


def _progress_text(page, *, timeout_s: float = 120.0) -> str:
    """The progress bar's label; polled, since the polling fragment redraws it every second."""
    bar = page.locator(PROGRESS).first
    bar.wait_for(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        try:
            text = page.locator(PROGRESS).first.inner_text(timeout=5_000).strip()
        except Exception:  # noqa: BLE001 - detached while the fragment redraws: try again
            text = ""
        if text:
            return text
        page.wait_for_timeout(200)
    return text


def test_refresh_mid_training_keeps_progress_and_cancel(fresh_workspace, context):
    server = StreamlitServer(fresh_workspace.root).start()
    try:
        page = context.new_page()
        page.goto(f"{server.url}/Train")
        wait_for_app(page)
        # Long enough to still run after the refresh (it is cancelled below).
        _fill_train_form(page, epochs=3000, batch=16)
        click(page, TRAIN)
        page.wait_for_function(  # a few epochs in: the live loss curves are drawn
            "() => /epoch [1-9]\\d*\\//.test(document.body.innerText)", timeout=120_000)
        before = _progress_text(page)
        assert "Training a vae" in before

        page.reload()
        wait_for_app(page)
        assert_no_exception(page)
        after = _progress_text(page)
        assert "Training a vae" in after and "epoch" in after
        page.locator('.js-plotly-plot').first.wait_for(timeout=30_000)  # live curves again
        job = list_jobs(fresh_workspace, "train")[0]
        assert get_job(fresh_workspace, job.id).is_active

        page.get_by_role("button", name="Cancel").first.click()
        status = wait_for_job(fresh_workspace, job.id, timeout=60)
        assert status.state == "cancelled"
        page.get_by_text("cancelled").first.wait_for(timeout=30_000)
        assert_no_exception(page)
        assert fresh_workspace.list_runs() == []  # nothing half-saved
    finally:
        server.stop()


def test_server_restart_mid_job_finds_the_job_and_its_result(fresh_workspace, context, tmp_path):
    server = StreamlitServer(fresh_workspace.root).start()
    # A stand-in for training that reports 5 of 40 steps, then holds at a gate file until the
    # test lets it go: it is surely running while the server restarts (no timing race).
    gate = tmp_path / "go"
    job = submit_job(fresh_workspace, "train", {"n": 40, "delay": 0.05, "gate": str(gate),
                                                "gate_after": 5},
                     title="Training a vae on builtin:digits", target="tests.job_targets:count")
    try:
        page = context.new_page()
        page.goto(f"{server.url}/Train")
        wait_for_app(page)
        assert "Training a vae" in _progress_text(page)
    finally:
        server.stop()
    assert get_job(fresh_workspace, job.id).is_active, "the job must outlive the server"

    server = StreamlitServer(fresh_workspace.root).start()
    try:
        page = context.new_page()
        page.goto(f"{server.url}/Train")
        wait_for_app(page)
        assert_no_exception(page)
        # The running job's own progress: its last event before the gate (epoch 5 of 40).
        deadline = time.monotonic() + 60
        while "epoch 5/40" not in _progress_text(page) and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert "epoch 5/40" in _progress_text(page)
        gate.touch()
        wait_for_job(fresh_workspace, job.id, timeout=120)
        page.locator('[data-testid="stAlertContentSuccess"]').filter(
            has_text="counted to 40").first.wait_for(timeout=60_000)
        assert_no_exception(page)
    finally:
        gate.touch()  # never leave the worker waiting
        server.stop()


def test_two_tabs_train_at_once_on_one_workspace(fresh_workspace, context):
    from synth_core.training.runs import Run

    server = StreamlitServer(fresh_workspace.root).start()
    try:
        tabs = [context.new_page(), context.new_page()]
        for tab, hidden in zip(tabs, ("16", "24")):
            tab.goto(f"{server.url}/Train")
            wait_for_app(tab)
            _fill_train_form(tab, epochs=8, hidden=hidden)
        # Press Train in both tabs as close together as possible.
        buttons = [tab.get_by_role("button", name=TRAIN).first for tab in tabs]
        for button in buttons:
            button.click()
        for tab in tabs:
            settle(tab)
            assert_no_exception(tab)
        deadline = time.monotonic() + 30
        while len(list_jobs(fresh_workspace, "train")) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        jobs = list_jobs(fresh_workspace, "train")
        assert len(jobs) == 2
        results = [wait_for_job(fresh_workspace, j.id, timeout=240) for j in jobs]
        assert [r.state for r in results] == ["done", "done"], [r.error for r in results]
        run_dirs = {r.result["run_dir"] for r in results}
        assert len(run_dirs) == 2, "each tab must get its own run folder"
        hidden = sorted(Run.load(d).config.hidden for d in run_dirs)
        assert hidden == [(16,), (24,)]
        for tab in tabs:  # each tab shows its own finished job
            tab.locator('[data-testid="stAlertContentSuccess"]').filter(
                has_text="finished after 8 epochs").first.wait_for(timeout=60_000)
            assert_no_exception(tab)
    finally:
        server.stop()
    leftovers = [p for p in fresh_workspace.root.rglob("*") if p.name.endswith(".tmp")
                 or p.name.startswith(".tmp")]
    assert not leftovers, leftovers
    assert all((d / "config.json").is_file() for d in fresh_workspace.runs_dir.iterdir())


def test_two_train_jobs_in_the_same_second_get_two_run_folders(fresh_workspace):
    """The race behind two tabs, without a browser: both jobs start at once."""
    from synth_core.data.datasets import save_dataset
    from synth_core.training.runs import Run
    from tests.conftest import make_blobs

    save_dataset(make_blobs(), "blobs", fresh_workspace)
    config = {"model": "vae", "latent_dim": 2, "hidden": [8], "epochs": 3, "batch_size": 16,
              "patience": 0, "device": "cpu", "lr": 0.01}
    jobs = [submit_job(fresh_workspace, "train", {"dataset": "blobs", "config": config})
            for _ in range(2)]
    results = [wait_for_job(fresh_workspace, j.id, timeout=180) for j in jobs]
    assert [r.state for r in results] == ["done", "done"], [r.error for r in results]
    dirs = {r.result["run_dir"] for r in results}
    assert len(dirs) == 2
    assert all(Run.load(d).n_features == 16 for d in dirs)
