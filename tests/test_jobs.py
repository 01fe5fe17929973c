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


def test_last_progress_before_a_quiet_stretch_reaches_the_status(workspace, tmp_path):
    """Status writes are rate-limited; the last event before a long wait (here: 5 quick
    steps, then a gate) used to stay unwritten until the next event, and the page showed
    the step before it (a browser test saw 'step 4 of 40' for a minute)."""
    gate = tmp_path / "go"
    job = submit_job(workspace, "count", {"n": 40, "gate": str(gate), "gate_after": 5},
                     target="tests.job_targets:count")
    try:
        deadline = time.monotonic() + 30
        while get_job(workspace, job.id).progress < 5 / 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        status = get_job(workspace, job.id)
        assert status.state == "running" and status.progress == pytest.approx(5 / 40)
        assert status.message.startswith("epoch 5/40")
    finally:
        gate.touch()
    assert wait_for_job(workspace, job.id, timeout=60).state == "done"


def test_cancel_whose_sigterm_arrives_during_clean_up_still_reads_cancelled(workspace):
    """Cancel writes a flag file, then sends SIGTERM. A worker that saw the file first had reset
    SIGTERM to its default action, so the signal killed it before its final status write and
    the job read as failed (seen once in CI under load)."""
    job = submit_job(workspace, "count", {}, target="tests.job_targets:cancel_with_late_sigterm")
    status = wait_for_job(workspace, job.id, timeout=60)
    assert status.state == "cancelled", (status.state, status.error)
    assert status.finished


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


# ----------------------------------------------------------------------------- the queue

def _wait_state(workspace, job_id, state, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = get_job(workspace, job_id)
        if status.state == state:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {state}: {get_job(workspace, job_id)}")


def test_queue_runs_one_at_a_time_first_in_first_out(workspace, monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTH_MAX_WORKERS", "1")
    gates = [tmp_path / f"gate-{i}" for i in range(3)]
    jobs = [submit_job(workspace, "count", {"n": 2, "gate": str(gate)},
                       target="tests.job_targets:count") for gate in gates]
    second = _wait_state(workspace, jobs[1].id, "queued")
    _wait_state(workspace, jobs[0].id, "running")  # held at its gate: nothing moves on
    third = _wait_state(workspace, jobs[2].id, "queued")
    deadline = time.monotonic() + 30
    while third.position != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        third = get_job(workspace, jobs[2].id)
    assert third.state == "queued" and third.position == 1 and "1 job ahead" in third.message
    for gate in gates:
        gate.touch()
    assert [j.position for j in jobs] == [0, 1, 2]  # places in line at submit time
    assert second.state == "queued"
    done = [wait_for_job(workspace, j.id, timeout=60) for j in jobs]
    assert [s.state for s in done] == ["done"] * 3
    spans = [(s.started, s.finished) for s in done]
    assert spans == sorted(spans)  # FIFO
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end  # never two at once (timestamps to the second)
    # Finished jobs feed the wait estimate of the next ones.
    from synth_core.job_queue import read_queue
    assert len(read_queue(workspace, is_waiting=lambda p: False).recent) == 3


def test_queue_cancel_while_queued(workspace, monkeypatch):
    monkeypatch.setenv("SYNTH_MAX_WORKERS", "1")
    first = submit_job(workspace, "count", {"n": 100, "delay": 0.05},
                       target="tests.job_targets:count")
    waiting = submit_job(workspace, "count", {"n": 1}, target="tests.job_targets:count")
    _wait_state(workspace, first.id, "running")
    _wait_state(workspace, waiting.id, "queued")
    cancel_job(workspace, waiting.id)
    assert wait_for_job(workspace, waiting.id, timeout=30).state == "cancelled"
    cancel_job(workspace, first.id)
    assert wait_for_job(workspace, first.id, timeout=30).state == "cancelled"


def test_queue_limit_per_owner_refuses_with_a_message(workspace, monkeypatch):
    monkeypatch.setenv("SYNTH_MAX_WORKERS", "1")
    monkeypatch.setenv("SYNTH_MAX_QUEUED", "2")
    student = workspace.for_owner("fox-42")
    jobs = [submit_job(student, "count", {"n": 50, "delay": 0.05},
                       target="tests.job_targets:count") for _ in range(2)]
    with pytest.raises(InputError, match="already has 2 jobs waiting.*limit is 2"):
        submit_job(student, "count", {"n": 1}, target="tests.job_targets:count")
    other = submit_job(workspace.for_owner("owl-7"), "count", {"n": 1},
                       target="tests.job_targets:count")  # another session is not held back
    assert get_job(workspace.for_owner("owl-7"), other.id).owner == "owl-7"
    for job in jobs:
        cancel_job(student, job.id)
    for job in jobs:
        assert wait_for_job(student, job.id, timeout=30).state == "cancelled"
    assert wait_for_job(workspace.for_owner("owl-7"), other.id, timeout=60).state == "done"


def test_queue_damaged_file_is_rebuilt_from_status_files(workspace, monkeypatch, tmp_path):
    from synth_core.jobs import queue_positions

    monkeypatch.setenv("SYNTH_MAX_WORKERS", "1")
    gate = tmp_path / "gate"  # the first job runs until the checks are done
    first = submit_job(workspace, "count", {"n": 1, "gate": str(gate)},
                       target="tests.job_targets:count")
    second = submit_job(workspace, "count", {"n": 1}, target="tests.job_targets:count")
    from synth_core import job_queue
    from synth_core.jobs import is_waiting

    _wait_state(workspace, first.id, "running")
    # Damage and read under the queue's lock: the waiting worker polls the file too, and
    # would otherwise rebuild it first (a race that failed under CI load).
    with job_queue.locked(workspace):
        (workspace.jobs_dir / "queue.json").write_text('{"waiting": [{"id": ', encoding="utf-8")
        state = job_queue.read_queue(workspace, is_waiting=is_waiting)
        job_queue.write_queue(workspace, state)
    assert [entry.id for entry in state.waiting] == [second.id]
    assert "damaged" in state.note and "rebuilt" in state.note
    assert queue_positions(workspace) == ({second.id: 0}, "")  # the rebuilt file reads clean
    gate.touch()
    assert wait_for_job(workspace, second.id, timeout=60).state == "done"


def test_worker_threads_times_workers_is_cores(workspace, monkeypatch):
    from synth_core.job_queue import cores

    monkeypatch.setenv("SYNTH_MAX_WORKERS", "1")
    job = submit_job(workspace, "x", {}, target="tests.job_targets:threads")
    result = wait_for_job(workspace, job.id, timeout=60).result
    assert result == dict.fromkeys(("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                    "OPENBLAS_NUM_THREADS"), str(cores()))


def test_queue_settings_refuse_bad_values(monkeypatch):
    from synth_core.job_queue import max_workers

    monkeypatch.setenv("SYNTH_MAX_WORKERS", "zero")
    with pytest.raises(InputError, match="SYNTH_MAX_WORKERS='zero'.*positive whole number"):
        max_workers()


def test_damaged_status_file_is_listed_not_raised(workspace):
    from synth_core.errors import DamagedError
    from synth_core.jobs import scan_jobs

    good = submit_job(workspace, "count", {"n": 1}, target="tests.job_targets:count")
    wait_for_job(workspace, good.id, timeout=60)
    bad = workspace.jobs_dir / "20260101-000000-train-abcdef"
    bad.mkdir()
    (bad / "status.json").write_text('{"id": "20260101-000000-train-abcdef", "state": "runn',
                                     encoding="utf-8")
    jobs, damaged = scan_jobs(workspace)
    assert [j.id for j in jobs] == [good.id]
    assert len(damaged) == 1 and damaged[0].kind == "job"
    assert "not valid JSON" in damaged[0].message() and "delete the folder" in damaged[0].message()
    with pytest.raises(DamagedError, match="status.json is not valid JSON"):
        get_job(workspace, bad.name)
    (bad / "status.json").write_text('["not", "a", "status"]', encoding="utf-8")
    assert "not a job status" in scan_jobs(workspace)[1][0].reason


def test_jobs_verb_lists_state_owner_and_queue_position(workspace, monkeypatch, capsys):
    import json

    from synth_core.cli import main

    monkeypatch.setenv("SYNTH_MAX_WORKERS", "1")
    running = submit_job(workspace, "count", {"n": 100, "delay": 0.05},
                         target="tests.job_targets:count")
    fox = workspace.for_owner("fox-42")
    waiting = submit_job(fox, "count", {"n": 1}, target="tests.job_targets:count")
    _wait_state(workspace, running.id, "running")
    broken = workspace.jobs_dir / "20260101-000000-x-000000"
    broken.mkdir()
    (broken / "status.json").write_text("{", encoding="utf-8")
    assert main(["--workspace", str(workspace.root), "jobs", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["id"]: r for r in out["jobs"]}
    assert rows[running.id]["state"] == "running" and rows[running.id]["owner"] == ""
    assert rows[waiting.id] | {"message": ""} == rows[waiting.id] | {
        "state": "queued", "owner": "fox-42", "position": 0, "message": ""}
    assert out["workers"] == 1 and out["queued"] == 1
    assert len(out["damaged"]) == 1 and "20260101-000000-x-000000" in out["damaged"][0]
    cancel_job(fox, waiting.id)
    cancel_job(workspace, running.id)
    assert wait_for_job(fox, waiting.id, timeout=30).state == "cancelled"
    assert wait_for_job(workspace, running.id, timeout=30).state == "cancelled"
