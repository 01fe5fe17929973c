"""Background jobs: long work in a separate process, tracked through the workspace.

A job is a folder ``jobs/<id>/`` holding

    spec.json      what to run: kind (a key of JOB_KINDS), params, title
    status.json    state, progress, message, result, error (written by the worker only)
    events.jsonl   typed events appended by the worker (epochs for loss curves...)
    log.txt        the worker's log and stderr
    cancel         present once the user asked to cancel (written by the page only)

:func:`submit_job` starts ``python -m synth_core worker <id>`` in its own
process session, so the job outlives a widget click, a page switch, a browser
refresh and a restart of the Streamlit server. Pages find jobs again with
:func:`list_jobs` / :func:`get_job`, never through session state. Each file has
one writer, and every write is atomic.

A job function has the signature ``fn(params: dict, ctx: JobContext) -> dict``;
``ctx`` is the event callback to hand to core functions (it raises
:class:`JobCancelled` once Cancel was pressed) and the returned dict is stored
as the job's result.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from synth_core.errors import InputError, JobCancelled, SynthError
from synth_core.events import EpochEnd, Event, Log, Progress, event_to_dict
from synth_core.workspace import Workspace, atomic_write_json, read_json, safe_name

logger = logging.getLogger(__name__)

# kind -> "module:function". Adding a kind of job means one entry here.
JOB_KINDS: dict[str, str] = {
    "extract": "synth_core.data.extraction:extract_job",
    "import": "synth_core.data.importers:import_job",
    "train": "synth_core.training.trainer:train_job",
    "tune": "synth_core.training.tuning.study:tune_job",
    "generate": "synth_core.generation.generator:generate_job",
    "map": "synth_core.generation.map_jobs:map_job",
    "evaluate": "synth_core.evaluation.scorecard:evaluate_job",
    "augment": "synth_core.evaluation.augmentation:augment_job",
    "tour": "synth_core.tour:tour_job",
}

ACTIVE_STATES = ("queued", "running")  # then "done", "failed" or "cancelled"
_STATUS_INTERVAL_S = 0.25  # at most ~4 status writes a second


@dataclass
class JobStatus:
    """What a page needs to show one job."""

    id: str
    kind: str
    title: str = ""
    state: str = "queued"
    progress: float = 0.0
    message: str = ""
    created: str = ""
    started: str | None = None
    finished: str | None = None
    pid: int | None = None
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_done(self) -> bool:
        return self.state == "done"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _job_dir(workspace: Workspace, job_id: str) -> Path:
    return workspace.jobs_dir / safe_name(job_id)


def submit_job(workspace: Workspace, kind: str, params: dict[str, Any], *, title: str = "",
               target: str | None = None) -> JobStatus:
    """Start a job of ``kind`` in a background process and return its first status.

    ``target`` ("module:function") overrides the registry entry; tests use it.
    """
    if kind not in JOB_KINDS and target is None:
        raise InputError(f"unknown job kind {kind!r}; choose one of {sorted(JOB_KINDS)}")
    job_id = f"{_dt.datetime.now():%Y%m%d-%H%M%S}-{safe_name(kind)}-{secrets.token_hex(3)}"
    job_dir = _job_dir(workspace, job_id)
    job_dir.mkdir(parents=True)
    spec = {"id": job_id, "kind": kind, "title": title or kind, "params": params,
            "target": target or JOB_KINDS[kind], "created": _now()}
    # JSON round trip now, so a non-serialisable param fails here, not in the worker.
    atomic_write_json(job_dir / "spec.json", spec)
    status = JobStatus(id=job_id, kind=kind, title=spec["title"], created=spec["created"],
                       params=params, message="waiting for the worker to start")
    atomic_write_json(job_dir / "status.json", status.__dict__)
    log = open(job_dir / "log.txt", "ab")
    env = dict(os.environ)
    # The worker must import synth_core from this checkout even when started elsewhere.
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.Popen(
        [sys.executable, "-m", "synth_core", "--workspace", str(workspace.root), "worker", job_id],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
        start_new_session=True, cwd=root)
    log.close()
    # Reap the child when it ends so it never lingers as a zombie of the server.
    threading.Thread(target=proc.wait, daemon=True, name=f"reap-{job_id}").start()
    return status


def get_job(workspace: Workspace, job_id: str) -> JobStatus:
    """Current status of a job; a job whose worker died is reported as failed."""
    job_dir = _job_dir(workspace, job_id)
    data = read_json(job_dir / "status.json")
    if data is None:
        raise InputError(f"no job {job_id!r} in {workspace.jobs_dir}; it may have been deleted")
    status = JobStatus(**{k: v for k, v in data.items() if k in JobStatus.__dataclass_fields__})
    if status.is_active:
        created = _parse_time(status.created)
        if status.pid is not None and not pid_alive(status.pid):
            status.state = "failed"
            status.error = status.error or ("the worker process ended without reporting a result "
                                            "(killed, or out of memory); see the job log and "
                                            "start the job again")
        elif status.pid is None and created and time.time() - created > 60:
            status.state = "failed"
            status.error = "the worker process never started; see the job log"
    return status


def list_jobs(workspace: Workspace, kind: str | None = None, *, limit: int | None = None
              ) -> list[JobStatus]:
    """Jobs in the workspace, newest first, optionally of one kind."""
    if not workspace.jobs_dir.is_dir():
        return []
    jobs = []
    for job_dir in sorted(workspace.jobs_dir.iterdir(), reverse=True):
        if not (job_dir / "status.json").is_file():
            continue
        try:
            status = get_job(workspace, job_dir.name)
        except (InputError, json.JSONDecodeError):
            continue
        if kind is None or status.kind == kind:
            jobs.append(status)
        if limit is not None and len(jobs) >= limit:
            break
    return jobs


def cancel_job(workspace: Workspace, job_id: str) -> None:
    """Ask a job to stop: a flag file the worker polls, and SIGTERM to its process."""
    job_dir = _job_dir(workspace, job_id)
    (job_dir / "cancel").write_text(_now())
    status = get_job(workspace, job_id)
    if status.is_active and status.pid and pid_alive(status.pid):
        try:
            os.kill(status.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def read_events(workspace: Workspace, job_id: str, *, event_type: str | None = None
                ) -> list[dict[str, Any]]:
    """Events the worker appended so far (optionally one type, e.g. ``"EpochEnd"``)."""
    path = _job_dir(workspace, job_id) / "events.jsonl"
    if not path.is_file():
        return []
    events = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line being written right now
            if event_type is None or event.get("type") == event_type:
                events.append(event)
    return events


def read_log(workspace: Workspace, job_id: str, *, tail_chars: int = 20_000) -> str:
    path = _job_dir(workspace, job_id) / "log.txt"
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    return text[-tail_chars:]


def wait_for_job(workspace: Workspace, job_id: str, *, timeout: float = 300.0,
                 poll: float = 0.2) -> JobStatus:
    """Block until the job ends (for the CLI and tests; pages poll instead)."""
    deadline = time.monotonic() + timeout
    while True:
        status = get_job(workspace, job_id)
        if not status.is_active:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {status.state} after {timeout:.0f} s")
        time.sleep(poll)


class JobContext:
    """Handed to a job function: event callback, cancellation, paths.

    Calling it with an event records the event; every call also checks whether
    Cancel was pressed and raises :class:`JobCancelled` if so.
    """

    def __init__(self, workspace: Workspace, job_id: str, status: JobStatus) -> None:
        self.workspace = workspace
        self.job_id = job_id
        self.job_dir = _job_dir(workspace, job_id)
        self._status = status
        self._last_write = 0.0
        self._events = open(self.job_dir / "events.jsonl", "a", encoding="utf-8")
        self._logger = logging.getLogger(f"synth_core.job.{job_id}")

    def __call__(self, event: Event) -> None:
        if isinstance(event, Progress):
            self._status.progress = max(0.0, min(1.0, float(event.fraction)))
            if event.message:
                self._status.message = event.message
        elif isinstance(event, EpochEnd):
            self._status.progress = event.epoch / max(event.n_epochs, 1)
            self._status.message = (f"epoch {event.epoch}/{event.n_epochs}: train {event.train_loss:.4g}"
                                    f", validation {event.val_loss:.4g}")
        elif isinstance(event, Log):
            self.log(event.message, level=event.level)
        if not isinstance(event, Log):
            self._events.write(json.dumps(event_to_dict(event), default=_json_default) + "\n")
            self._events.flush()
        self.write_status()
        self.check_cancelled()

    def log(self, message: str, *, level: str = "info") -> None:
        getattr(self._logger, level if level in ("info", "warning", "error") else "info")(message)

    def check_cancelled(self) -> None:
        if self.cancel_requested:
            raise JobCancelled(f"job {self.job_id} was cancelled")

    @property
    def cancel_requested(self) -> bool:
        return (self.job_dir / "cancel").exists()

    def write_status(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_write >= _STATUS_INTERVAL_S:
            atomic_write_json(self.job_dir / "status.json", self._status.__dict__)
            self._last_write = now

    def close(self) -> None:
        self._events.close()


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def run_worker(workspace: Workspace, job_id: str) -> int:
    """Run one job in this process (the body of ``python -m synth_core worker``)."""
    job_dir = _job_dir(workspace, job_id)
    spec = read_json(job_dir / "spec.json")
    if spec is None:
        raise InputError(f"no job {job_id!r} in {workspace.jobs_dir}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stdout, force=True)
    def _on_sigterm(signum: int, frame: Any) -> None:
        raise JobCancelled(f"job {job_id} was cancelled")

    # Before the status says "running" (which is when Cancel may send SIGTERM): an early
    # SIGTERM must become a cancellation, not kill the worker and read as a failure.
    signal.signal(signal.SIGTERM, _on_sigterm)
    status = get_job(workspace, job_id)
    status.state, status.pid, status.started = "running", os.getpid(), _now()
    status.message = "starting"
    ctx = JobContext(workspace, job_id, status)
    code = 0
    try:
        ctx.write_status(force=True)
        ctx.check_cancelled()
        fn = _resolve(spec["target"])
        result = fn(spec.get("params", {}), ctx)
        status.state, status.progress = "done", 1.0
        status.result = result or {}
        status.message = status.result.get("message", "finished")
    except JobCancelled:
        status.state, status.message = "cancelled", "cancelled by the user"
        ctx.log("cancelled by the user", level="warning")
        code = 3
    except SynthError as exc:
        status.state, status.error, status.message = "failed", str(exc), "failed"
        ctx.log(f"failed: {exc}", level="error")
        code = 2
    except Exception as exc:  # noqa: BLE001 - record the bug for the page, then exit non-zero
        status.state, status.message = "failed", "failed with an unexpected error"
        status.error = f"unexpected error: {type(exc).__name__}: {exc} (details in the job log)"
        ctx.log(traceback.format_exc(), level="error")
        code = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        status.finished = _now()
        ctx.write_status(force=True)
        ctx.close()
    return code


def _resolve(target: str) -> Callable[[dict[str, Any], JobContext], dict[str, Any]]:
    module_name, _, func_name = target.partition(":")
    if not module_name.startswith(("synth_core.", "tests.")):
        raise InputError(f"job target {target!r} is not part of synth_core")
    return getattr(importlib.import_module(module_name), func_name)


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs on this machine (a zombie counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie still answers kill(0); it is dead for our purposes
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return True


def _parse_time(text: str) -> float | None:
    try:
        return _dt.datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        return None
