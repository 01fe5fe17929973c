"""optuna-dashboard as a background process over the workspace's study storage.

:func:`start_dashboard` launches ``optuna-dashboard STORAGE --host 127.0.0.1
--port N`` on a free port in its own process session and records ``{pid, port,
url, storage}`` in ``optuna-dashboard.json`` in the workspace, so that a page
finds the running dashboard again after a refresh or a server restart
(:func:`dashboard_status`) and can stop it (:func:`stop_dashboard`). Only the
process recorded there is ever signalled, and only while it is still an
optuna-dashboard process.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from synth_core.errors import StorageError
from synth_core.jobs import pid_alive
from synth_core.workspace import Workspace, atomic_write_json, read_json

STATE_FILE = "optuna-dashboard.json"
LOG_FILE = "optuna-dashboard.log"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class DashboardInfo:
    pid: int
    port: int
    url: str
    storage: str


def _state_path(workspace: Workspace) -> Path:
    return workspace.root / STATE_FILE


def _command() -> list[str]:
    """The optuna-dashboard executable of this Python environment."""
    beside = Path(sys.executable).parent / "optuna-dashboard"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("optuna-dashboard")
    if found:
        return [found]
    # The package has no __main__; its console script calls _cli.main.
    return [sys.executable, "-c", "from optuna_dashboard._cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _is_dashboard(pid: int) -> bool:
    """True while ``pid`` is alive and is an optuna-dashboard process (not a reused pid)."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except FileNotFoundError:
        return True  # no /proc (macOS): trust kill(0)
    return b"optuna" in cmdline and b"dashboard" in cmdline


def dashboard_status(workspace: Workspace) -> DashboardInfo | None:
    """The dashboard started from this workspace, if it is still running."""
    state = read_json(_state_path(workspace))
    if not state:
        return None
    try:
        info = DashboardInfo(**{k: state[k] for k in ("pid", "port", "url", "storage")})
    except (KeyError, TypeError):
        return None
    if not _is_dashboard(int(info.pid)):
        _state_path(workspace).unlink(missing_ok=True)
        return None
    return info


def start_dashboard(workspace: Workspace, storage: str, *, timeout: float = 30.0) -> DashboardInfo:
    """Start optuna-dashboard on ``storage`` (URL or journal path); reuse a running one.

    A dashboard already running on the same storage is returned as is; one on
    another storage is stopped first. Raises :class:`StorageError` with the
    dashboard's own log when it does not answer within ``timeout`` seconds.
    """
    running = dashboard_status(workspace)
    if running is not None:
        if running.storage == storage:
            return running
        stop_dashboard(workspace)
    from synth_core.training.tuning.storage import driver_url, is_journal, open_storage

    # optuna-dashboard refuses a storage that does not exist yet: create it empty.
    open_storage(storage)
    hint = ["--storage-class", "JournalFileStorage"] if is_journal(storage) else []
    port = _free_port()
    log_path = workspace.root / LOG_FILE
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([*_command(), driver_url(storage), *hint, "--host", HOST,
                                 "--port", str(port)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=str(workspace.root))
    info = DashboardInfo(pid=proc.pid, port=port, url=f"http://{HOST}:{port}", storage=storage)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(info.url + "/api/meta", timeout=2):
                atomic_write_json(_state_path(workspace), asdict(info))
                return info
        except OSError:
            time.sleep(0.3)
    if proc.poll() is None:
        proc.terminate()
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-800:]
    raise StorageError(f"optuna-dashboard did not start on {storage}: {' '.join(tail.split())}"
                       " ; check that optuna-dashboard is installed (pip install "
                       "optuna-dashboard) and that the storage opens")


def stop_dashboard(workspace: Workspace, *, timeout: float = 10.0) -> bool:
    """Stop the recorded dashboard; returns whether one was running."""
    info = dashboard_status(workspace)
    _state_path(workspace).unlink(missing_ok=True)
    if info is None:
        return False
    try:
        os.killpg(info.pid, signal.SIGTERM)  # its own session: the server and any children
    except ProcessLookupError:
        return False
    except PermissionError:
        os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _is_dashboard(info.pid):
        try:  # reap it if it is our child; otherwise just wait for it to go
            os.waitpid(info.pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    if _is_dashboard(info.pid):
        os.killpg(info.pid, signal.SIGKILL)
    return True
