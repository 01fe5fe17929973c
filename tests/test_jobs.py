"""The background job runner: real worker processes writing to the workspace."""

from __future__ import annotations

import time

import pytest

from synth_core.errors import InputError
from synth_core.jobs import (cancel_job, get_job, list_jobs, read_events, read_log, submit_job,
                             wait_for_job)


def test_job_runs_to_done_with_progress_and_events(workspace):
    job = submit_job(workspace, "count", {"n": 5}, target="tests.job_targets:count")
    status = wait_for_job(workspace, job.id, timeout=60)
    assert status.state == "done"
    assert status.progress == 1.0
    assert status.result == {"counted": 5, "message": "counted to 5"}
    epochs = read_events(workspace, job.id, event_type="EpochEnd")
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4, 5]
    assert "counted" in read_log(workspace, job.id)


def test_job_found_again_by_listing(workspace):
    first = submit_job(workspace, "count", {"n": 1}, target="tests.job_targets:count")
    wait_for_job(workspace, first.id, timeout=60)
    time.sleep(1.1)  # ids sort by second
    second = submit_job(workspace, "count", {"n": 1}, target="tests.job_targets:count")
    wait_for_job(workspace, second.id, timeout=60)
    found = list_jobs(workspace, "count")
    assert [j.id for j in found] == [second.id, first.id]
    assert all(j.is_done for j in found)


def test_job_cancel_stops_worker(workspace):
    job = submit_job(workspace, "count", {"n": 200, "delay": 0.05},
                     target="tests.job_targets:count")
    deadline = time.monotonic() + 30
    while get_job(workspace, job.id).state != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    cancel_job(workspace, job.id)
    status = wait_for_job(workspace, job.id, timeout=30)
    assert status.state == "cancelled"
    assert status.progress < 1.0


def test_job_user_error_is_reported_as_message(workspace):
    job = submit_job(workspace, "x", {}, target="tests.job_targets:refuse")
    status = wait_for_job(workspace, job.id, timeout=60)
    assert status.state == "failed"
    assert "must be positive" in status.error


def test_job_crash_keeps_traceback_in_log(workspace):
    job = submit_job(workspace, "x", {}, target="tests.job_targets:crash")
    status = wait_for_job(workspace, job.id, timeout=60)
    assert status.state == "failed"
    assert "RuntimeError: boom" in status.error
    assert "Traceback" in read_log(workspace, job.id)


def test_job_dead_worker_reported_failed(workspace):
    import os
    import signal

    job = submit_job(workspace, "count", {"n": 200, "delay": 0.05},
                     target="tests.job_targets:count")
    deadline = time.monotonic() + 30
    while get_job(workspace, job.id).pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(get_job(workspace, job.id).pid, signal.SIGKILL)
    status = wait_for_job(workspace, job.id, timeout=30)
    assert status.state == "failed"
    assert "ended without reporting" in status.error


def test_submit_job_unknown_kind_refused(workspace):
    with pytest.raises(InputError, match="unknown job kind"):
        submit_job(workspace, "nope", {})
