"""Background jobs: long work in a separate process, tracked through the workspace.

A job is a folder ``jobs/<id>/`` holding

    spec.json      what to run: kind (a key of JOB_KINDS), params, title
    status.json    state, progress, message, result, error (written by the worker only)
    events.jsonl   typed events appended by the worker (epochs for loss curves...)
    log.txt        the worker's log and stderr
    cancel         present once the user asked to cancel (written by the page only)

:func:`submit_job` puts the job in the queue (:mod:`synth_core.job_queue`:
first in first out, a bounded number running at once, a per-owner limit on
waiting jobs) and starts a worker (``synth_core.commands.worker``) in its own
process session; the worker waits as "queued" until its turn, then runs. So
the job outlives a widget click, a page switch, a browser refresh and a
restart of the Streamlit server. Pages find jobs again with
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

from synth_core import job_queue
from synth_core.errors import DamagedError, InputError, JobCancelled, SynthError
from synth_core.events import EpochEnd, Event, Log, Progress, event_to_dict
from synth_core.workspace import Damaged, Workspace, atomic_write_json, read_json, safe_name

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
_QUEUE_POLL_S = 0.5        # how often a waiting worker looks at the queue


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
    owner: str = ""                    # classroom code of the session that submitted it
    position: int | None = None        # while queued: jobs ahead of this one
    estimate_s: float | None = None    # while queued: rough wait before it starts

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
    """Queue a job of ``kind``, start its worker process and return its first status.

    ``target`` ("module:function") overrides the registry entry; tests use it.
    Refused (InputError) when the owner already has ``max_queued()`` jobs waiting.
    """
    if kind not in JOB_KINDS and target is None:
        raise InputError(f"unknown job kind {kind!r}; choose one of {sorted(JOB_KINDS)}")
    job_id = f"{_dt.datetime.now():%Y%m%d-%H%M%S}-{safe_name(kind)}-{secrets.token_hex(3)}"
    job_dir = _job_dir(workspace, job_id)
    with job_queue.locked(workspace):
        queue = job_queue.read_queue(workspace, is_waiting=is_waiting)
        mine = sum(1 for entry in queue.waiting if entry.owner == workspace.owner)
        limit = job_queue.max_queued()
        if mine >= limit:
            who = f"session {workspace.owner!r}" if workspace.owner else "this workspace"
            raise InputError(f"{who} already has {mine} jobs waiting in the queue (the limit is "
                             f"{limit}); wait until one starts, or cancel one on its page "
                             f"(`python -m synth_core jobs` lists them)")
        job_dir.mkdir(parents=True)
        spec = {"id": job_id, "kind": kind, "title": title or kind, "params": params,
                "target": target or JOB_KINDS[kind], "created": _now(), "owner": workspace.owner}
        # JSON round trip now, so a non-serialisable param fails here, not in the worker.
        atomic_write_json(job_dir / "spec.json", spec)
        status = JobStatus(id=job_id, kind=kind, title=spec["title"], created=spec["created"],
                           params=params, owner=workspace.owner, position=len(queue.waiting),
                           message="queued: waiting for the worker to start")
        atomic_write_json(job_dir / "status.json", status.__dict__)
        folder = str(job_dir.relative_to(workspace.queue_dir.parent))
        queue.waiting.append(job_queue.QueueEntry(job_id, workspace.owner, kind, folder))
        job_queue.write_queue(workspace, queue)
    log = open(job_dir / "log.txt", "ab")
    env = dict(os.environ)
    # The worker must import synth_core from this checkout even when started elsewhere.
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    owner = ["--owner", workspace.owner] if workspace.owner else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "synth_core.commands.worker", "--workspace", str(workspace.base),
         *owner, job_id],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
        start_new_session=True, cwd=root)
    log.close()
    # Reap the child when it ends so it never lingers as a zombie of the server.
    threading.Thread(target=proc.wait, daemon=True, name=f"reap-{job_id}").start()
    return status


def is_waiting(job_dir: Path) -> bool:
    """True while the job in ``job_dir`` waits in the queue (queued, worker alive, not cancelled)."""
    if (job_dir / "cancel").exists():
        return False
    try:
        return _status_of(job_dir).state == "queued"
    except (SynthError, OSError):
        return False


def _damaged_job(job_dir: Path, reason: str) -> Damaged:
    return Damaged("job", job_dir, reason,
                   f"delete the folder {job_dir} (its job can no longer be followed), and start "
                   "the job again if you still need its result")


def _status_of(job_dir: Path) -> JobStatus:
    """The status in ``job_dir``; DamagedError when the file is cut or not a status record."""
    try:
        data = read_json(job_dir / "status.json")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DamagedError(_damaged_job(job_dir, f"status.json is not valid JSON ({exc}); it "
                                        "was cut while being written or edited")) from exc
    if data is None:
        raise InputError(f"no job {job_dir.name!r} in {job_dir.parent}; it may have been deleted")
    try:
        if not isinstance(data, dict):
            raise TypeError(f"a {type(data).__name__}, not an object")
        status = JobStatus(**{k: v for k, v in data.items() if k in JobStatus.__dataclass_fields__})
        if not isinstance(status.state, str) or not isinstance(status.id, str):
            raise TypeError("state or id is not text")
    except TypeError as exc:
        raise DamagedError(_damaged_job(job_dir, f"status.json is not a job status ({exc})")
                           ) from exc
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


def get_job(workspace: Workspace, job_id: str) -> JobStatus:
    """Current status of a job; a job whose worker died is reported as failed.

    A status file that cannot be read raises :class:`DamagedError` (its record
    says how to remove the job's folder).
    """
    return _status_of(_job_dir(workspace, job_id))


def list_jobs(workspace: Workspace, kind: str | None = None, *, limit: int | None = None
              ) -> list[JobStatus]:
    """Jobs in the workspace, newest first, optionally of one kind (damaged ones left out)."""
    return scan_jobs(workspace, kind, limit=limit)[0]


def scan_jobs(workspace: Workspace, kind: str | None = None, *, limit: int | None = None
              ) -> tuple[list[JobStatus], list[Damaged]]:
    """Jobs that can be read (newest first), and the damaged job records beside them."""
    if not workspace.jobs_dir.is_dir():
        return [], []
    jobs: list[JobStatus] = []
    damaged: list[Damaged] = []
    for job_dir in sorted(workspace.jobs_dir.iterdir(), reverse=True):
        if not job_dir.is_dir() or not (job_dir / "status.json").is_file():
            continue
        try:
            status = _status_of(job_dir)
        except DamagedError as exc:
            damaged.append(exc.damaged)
            continue
        except InputError:
            continue  # deleted meanwhile
        if kind is None or status.kind == kind:
            jobs.append(status)
        if limit is not None and len(jobs) >= limit:
            break
    return jobs, damaged


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
        self.stopping = False  # set once the job is ending (cancelled, or its function returned)
        # A write skipped by the rate limit is made by a timer once the interval has passed:
        # the last event before a long quiet stretch (a slow epoch, a step that waits) was
        # otherwise never shown, and the page kept the one before it.
        self._lock = threading.Lock()
        self._pending = False
        self._flusher: threading.Timer | None = None
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
            self.stopping = True  # Cancel's SIGTERM may still be on its way: see run_worker
            raise JobCancelled(f"job {self.job_id} was cancelled")

    @property
    def cancel_requested(self) -> bool:
        return (self.job_dir / "cancel").exists()

    def write_status(self, *, force: bool = False) -> None:
        with self._lock:
            wait = _STATUS_INTERVAL_S - (time.monotonic() - self._last_write)
            if force or wait <= 0:
                self._write_locked()
            elif not self._pending:
                self._pending = True
                self._flusher = threading.Timer(wait, self._flush)
                self._flusher.daemon = True
                self._flusher.start()

    def _write_locked(self) -> None:
        atomic_write_json(self.job_dir / "status.json", self._status.__dict__)
        self._last_write = time.monotonic()
        self._drop_pending()

    def _drop_pending(self) -> None:
        self._pending = False
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None

    def _flush(self) -> None:
        with self._lock:
            if self._pending:
                self._write_locked()

    def close(self) -> None:
        with self._lock:
            self._drop_pending()
        self._events.close()


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def run_worker(workspace: Workspace, job_id: str) -> int:
    """Run one job in this process (the body of ``python -m synth_core worker``).

    The worker first waits in the queue (state "queued", with its position and a
    wait estimate in the status) until its job is first in line and a run slot
    is free; then it sets its torch/BLAS threads and runs the job function.
    """
    job_dir = _job_dir(workspace, job_id)
    try:
        spec = read_json(job_dir / "spec.json")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DamagedError(_damaged_job(job_dir, f"spec.json is not valid JSON ({exc})")) from exc
    if not isinstance(spec, dict) or "target" not in spec:
        raise InputError(f"no job {job_id!r} in {workspace.jobs_dir}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stdout, force=True)
    status = get_job(workspace, job_id)
    status.pid, status.owner = os.getpid(), str(spec.get("owner", workspace.owner))
    ctx = JobContext(workspace, job_id, status)

    def _on_sigterm(signum: int, frame: Any) -> None:
        # Cancel writes its flag file, then sends SIGTERM. A worker that saw the file first is
        # already stopping: the signal must not raise again inside its clean-up.
        if ctx.stopping:
            return
        ctx.stopping = True
        raise JobCancelled(f"job {job_id} was cancelled")

    # Before the status names this process (its first write, below; that is when Cancel may
    # send SIGTERM): an early SIGTERM must become a cancellation, not kill the worker and read
    # as a failure.
    signal.signal(signal.SIGTERM, _on_sigterm)
    code = 0
    slot: job_queue.Slot | None = None
    began = 0.0
    try:
        ctx.write_status(force=True)
        slot = _wait_for_turn(workspace, job_id, status, ctx, kind=str(spec.get("kind", "")))
        threads = job_queue.worker_threads()
        job_queue.set_worker_threads(threads)
        status.state, status.started, status.message = "running", _now(), "starting"
        status.position = status.estimate_s = None
        ctx.write_status(force=True)
        ctx.log(f"running in slot {slot.index + 1} of {job_queue.max_workers()} with "
                f"{threads} thread(s)")
        began = time.monotonic()
        fn = _resolve(spec["target"])
        job_queue.set_worker_threads(threads)  # torch may have been imported just now
        result = fn(spec.get("params", {}), ctx)
        ctx.stopping = True
        status.state, status.progress = "done", 1.0
        status.result = result or {}
        status.message = status.result.get("message", "finished")
    except JobCancelled:
        status.state, status.message = "cancelled", "cancelled by the user"
        status.position = status.estimate_s = None
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
        # A SIGTERM from now on comes too late to stop anything: ignored until the final status
        # is written. With the default action it killed the worker before that write (the
        # cancel file seen first, its SIGTERM arriving during clean-up), and the job read as
        # failed, "ended without reporting a result".
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        status.finished = _now()
        ctx.write_status(force=True)
        ctx.close()
        if slot is not None:
            slot.release()
        if status.state == "done" and began:
            _record_duration(workspace, status.kind, time.monotonic() - began)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return code


def _wait_for_turn(workspace: Workspace, job_id: str, status: JobStatus, ctx: "JobContext", *,
                   kind: str) -> job_queue.Slot:
    """Wait (state "queued") until this job is first in line and a run slot is free."""
    folder = str(_job_dir(workspace, job_id).relative_to(workspace.queue_dir.parent))
    shown: tuple[Any, ...] = ()
    while True:
        ctx.check_cancelled()
        slot = None
        with job_queue.locked(workspace):
            queue = job_queue.read_queue(workspace, is_waiting=is_waiting)
            position = queue.position(job_id)
            if position is None:  # dropped from a rebuilt or edited queue file: back in line
                queue.waiting.append(job_queue.QueueEntry(job_id, status.owner, kind, folder))
                position = len(queue.waiting) - 1
            if position == 0:
                slot = job_queue.try_slot(workspace)
                if slot is not None:
                    queue.waiting.pop(0)
            job_queue.write_queue(workspace, queue)
        if slot is not None:
            return slot
        estimate = queue.estimate_seconds(position, kind)
        if (position, estimate) != shown:
            shown = (position, estimate)
            status.position, status.estimate_s = position, estimate
            ahead = ("next in line" if position == 0 else
                     f"{position} job{'s' if position > 1 else ''} ahead")
            wait = f", about {_duration(estimate)}" if estimate is not None else ""
            status.message = f"queued: {ahead}{wait} ({job_queue.max_workers()} run at once)"
            ctx.write_status(force=True)
        time.sleep(_QUEUE_POLL_S)


def _record_duration(workspace: Workspace, kind: str, seconds: float) -> None:
    """Remember how long a finished job ran (the queue's wait estimates use it)."""
    try:
        with job_queue.locked(workspace):
            queue = job_queue.read_queue(workspace, is_waiting=is_waiting)
            queue.recent.append({"kind": kind, "seconds": round(seconds, 2)})
            job_queue.write_queue(workspace, queue)
    except OSError as exc:  # a full disk must not turn a finished job into a failed one
        logger.warning("could not record the job's duration: %s", exc)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def queue_positions(workspace: Workspace) -> tuple[dict[str, int], str]:
    """Waiting job id -> place in line (0 = next), and a note when the queue file was rebuilt."""
    with job_queue.locked(workspace):
        queue = job_queue.read_queue(workspace, is_waiting=is_waiting)
        if queue.note:
            job_queue.write_queue(workspace, queue)
    return {entry.id: k for k, entry in enumerate(queue.waiting)}, queue.note


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
