"""The job queue: a bounded number of job workers, first in first out, across owners.

Every background job (see :mod:`synth_core.jobs`) waits here before it runs.
The queue is one small file, ``jobs/queue.json`` in the server's workspace
(shared by every classroom owner), edited only under a file lock; it survives
a restart of the Streamlit server. A worker process runs a job only while it
holds one of ``max_workers()`` slot locks (``jobs/.slots/<k>.lock``), and it
takes one only when its job is first in line; the operating system releases
the lock when the process ends, even when it is killed, so a dead worker
never blocks the queue.

Each worker's torch/BLAS threads are set so that workers x threads = cores:
on a busy machine oversubscribed thread pools were measured 24x slower.
Settings (environment variables; Streamlit refuses unknown sections in
``.streamlit/config.toml``, so they are not read from there):

    SYNTH_MAX_WORKERS       jobs running at once (default: one per 2 cores, at least 1)
    SYNTH_MAX_QUEUED        jobs one owner may have waiting (default 5)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from synth_core.errors import InputError
from synth_core.workspace import Workspace, atomic_write_json

logger = logging.getLogger(__name__)

QUEUE_FILE = "queue.json"
LOCK_FILE = ".queue.lock"
SLOTS_DIR = ".slots"
MAX_WORKERS_ENV = "SYNTH_MAX_WORKERS"
MAX_QUEUED_ENV = "SYNTH_MAX_QUEUED"
DEFAULT_MAX_QUEUED = 5
_RECENT = 50  # finished-job durations kept for the wait estimate


def cores() -> int:
    """CPU cores this process may use (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def max_workers() -> int:
    """Jobs that run at once: ``$SYNTH_MAX_WORKERS``, else one per 2 cores (at least 1)."""
    return _env_int(MAX_WORKERS_ENV, max(1, cores() // 2))


def max_queued() -> int:
    """Jobs one owner may have waiting at once: ``$SYNTH_MAX_QUEUED``, else 5."""
    return _env_int(MAX_QUEUED_ENV, DEFAULT_MAX_QUEUED)


def worker_threads() -> int:
    """torch/BLAS threads of each job worker so that workers x threads = cores."""
    return max(1, cores() // max_workers())


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"environment variable {name}={text!r} must be a positive whole "
                         f"number; unset it for the default ({default})")
    return value


@dataclass(frozen=True)
class QueueEntry:
    """One waiting job: where its folder is, whose it is, what it is."""

    id: str
    owner: str
    kind: str
    folder: str          # the job's folder, relative to the queue's workspace

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "owner": self.owner, "kind": self.kind, "folder": self.folder}


@dataclass
class QueueState:
    """The queue file's content: waiting jobs in order, and recent job durations."""

    waiting: list[QueueEntry]
    recent: list[dict]              # {"kind": str, "seconds": float}, newest last
    note: str = ""                  # set when a damaged file was rebuilt

    def position(self, job_id: str) -> int | None:
        """0 for the first in line, None when the job is not waiting."""
        for k, entry in enumerate(self.waiting):
            if entry.id == job_id:
                return k
        return None

    def estimate_seconds(self, position: int, kind: str = "") -> float | None:
        """Rough wait before a job at ``position`` starts: finished jobs' median x rounds."""
        same = [r["seconds"] for r in self.recent if r.get("kind") == kind]
        seconds = same or [r["seconds"] for r in self.recent]
        if not seconds:
            return None
        rounds = math.ceil((position + 1) / max_workers())
        return rounds * statistics.median(seconds)


@contextlib.contextmanager
def locked(workspace: Workspace) -> Iterator[None]:
    """Hold the queue's file lock (every edit of queue.json happens inside)."""
    folder = workspace.queue_dir
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_queue(workspace: Workspace, *, is_waiting: Callable[[Path], bool]) -> QueueState:
    """The queue as stored; a damaged file is rebuilt from the jobs' status files.

    ``is_waiting(job_folder)`` says whether a job is still queued (from its
    status file); entries that are no longer waiting are dropped.
    """
    path = workspace.queue_dir / QUEUE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        waiting = [QueueEntry(str(e["id"]), str(e.get("owner", "")), str(e.get("kind", "")),
                              str(e["folder"])) for e in data.get("waiting", [])]
        recent = [r for r in data.get("recent", [])
                  if isinstance(r, dict) and isinstance(r.get("seconds"), (int, float))]
        note = ""
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
            AttributeError) as exc:
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
        waiting, recent = rebuild_waiting(workspace, is_waiting=is_waiting), []
        note = (f"the job queue file {path} was damaged ({reason}); rebuilt it from the status "
                f"files of {len(waiting)} waiting job(s), oldest first")
        logger.warning(note)
    base = workspace.queue_dir.parent
    waiting = [e for e in waiting if is_waiting(base / e.folder)]
    return QueueState(waiting=waiting, recent=recent[-_RECENT:], note=note)


def write_queue(workspace: Workspace, state: QueueState) -> None:
    atomic_write_json(workspace.queue_dir / QUEUE_FILE,
                      {"version": 1, "waiting": [e.to_dict() for e in state.waiting],
                       "recent": state.recent[-_RECENT:]})


def job_folders(workspace: Workspace) -> Iterator[tuple[str, Path]]:
    """(owner, job folder) for every job of the server's workspace and of its owners."""
    base = Workspace(workspace.base)
    folders = [("", base.jobs_dir)] + [(code, base.users_dir / code / "jobs")
                                       for code in base.owners()]
    for owner, jobs_dir in folders:
        if jobs_dir.is_dir():
            for job_dir in sorted(jobs_dir.iterdir()):
                if job_dir.is_dir() and not job_dir.name.startswith("."):
                    yield owner, job_dir


def rebuild_waiting(workspace: Workspace, *, is_waiting: Callable[[Path], bool]
                    ) -> list[QueueEntry]:
    """Waiting jobs found from their status files, oldest first (ids start with the time)."""
    base = workspace.queue_dir.parent
    entries = []
    for owner, job_dir in job_folders(workspace):
        if is_waiting(job_dir):
            spec = _read(job_dir / "spec.json")
            entries.append(QueueEntry(job_dir.name, owner, str(spec.get("kind", "")),
                                      str(job_dir.relative_to(base))))
    return sorted(entries, key=lambda e: (e.id, e.folder))


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


class Slot:
    """One of the ``max_workers()`` run slots, held through an open, locked file."""

    def __init__(self, handle, index: int) -> None:
        self._handle, self.index = handle, index

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the lock
            self._handle = None


def try_slot(workspace: Workspace) -> Slot | None:
    """Take a free run slot without waiting; None when all ``max_workers()`` are busy."""
    folder = workspace.queue_dir / SLOTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(max_workers()):
        handle = open(folder / f"{index}.lock", "a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return Slot(handle, index)
    return None


def busy_slots(workspace: Workspace) -> int:
    """How many run slots are held right now."""
    folder = workspace.queue_dir / SLOTS_DIR
    busy = 0
    for index in range(max_workers()):
        path = folder / f"{index}.lock"
        if not path.exists():
            continue
        with open(path, "a+b") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                busy += 1
    return busy


def set_worker_threads(n_threads: int) -> None:
    """Tell torch and the BLAS libraries to use ``n_threads`` in this process.

    The environment variables count for libraries imported after this call;
    torch's pool is set directly when torch is already loaded.
    """
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(n_threads)
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n_threads)
