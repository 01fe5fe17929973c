"""The workspace: one folder holding everything a session produces.

Layout (see DESIGN.md)::

    datasets/<name>.h5      feature files
    runs/<model>-<stamp>/   trained models
    optuna.db               Optuna studies (SQLite); optuna.journal for shared studies
    jobs/<id>/              background jobs: spec.json, status.json, events.jsonl, log
    cache/                  t-SNE maps etc., keyed by content hash
    uploads/                unpacked uploads
    jobs/queue.json         the job queue (FIFO, shared by every owner) and jobs/.slots/
    users/<code>/           classroom mode: one owner's runs, studies, sets, uploads, jobs

The folder is ``./workspace`` unless ``SYNTH_WORKSPACE`` or ``--workspace``
names another. Writes go through :func:`atomic_write_bytes` so that a crash or a
full disk never leaves a half-written file that looks complete, and paths built
from user text go through :func:`safe_name` / :meth:`Workspace.inside` so that
nothing is written outside the workspace.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth_core.errors import InputError, StorageError

ENV_VAR = "SYNTH_WORKSPACE"
DEFAULT_ROOT = "workspace"
CLASSROOM_ENV = "SYNTH_CLASSROOM"   # "1": each browser session gets its own users/<code>/ folder
USERS_DIR = "users"
_OWNER_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$")
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Workspace:
    """Paths inside one workspace folder. Create with :func:`get_workspace`.

    In classroom mode each browser session works in ``users/<code>/`` of the
    server's workspace (:meth:`for_owner`): runs, studies, generated sets, uploads
    and jobs live there, while the datasets the teacher imported into the
    server's own ``datasets/`` are visible read-only (``shared``). Everything
    else calls the same properties, so pages need not know which mode runs.
    """

    root: Path
    shared: Path | None = None   # the server's workspace when this is an owner's folder
    owner: str = ""              # classroom code; "" = the one user of a plain workspace

    @property
    def base(self) -> Path:
        """The server's workspace folder (the root itself unless this is an owner's folder)."""
        return self.shared if self.shared is not None else self.root

    @property
    def queue_dir(self) -> Path:
        """Where the job queue and its worker slots live: shared by every owner."""
        return self.base / "jobs"

    @property
    def users_dir(self) -> Path:
        return self.base / USERS_DIR

    @property
    def shared_datasets_dir(self) -> Path | None:
        """The teacher's datasets, read-only for an owner; None for a plain workspace."""
        return self.shared / "datasets" if self.shared is not None else None

    def for_owner(self, code: str) -> "Workspace":
        """The folder of classroom owner ``code`` inside this (the server's) workspace."""
        checked = check_owner_code(code)
        base = self.base
        return Workspace(base / USERS_DIR / checked, shared=base, owner=checked).ensure()

    def owners(self) -> list[str]:
        """Codes of the owners that have a folder in this workspace."""
        users = self.users_dir
        return sorted(p.name for p in users.iterdir() if p.is_dir()) if users.is_dir() else []

    def is_own(self, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` lies in this owner's own folder (always True for a plain workspace)."""
        if self.shared is None:
            return True
        return Path(path).absolute().is_relative_to(self.root.absolute())

    def check_own(self, path: str | os.PathLike[str], *, what: str = "item") -> None:
        """Refuse to rename or delete something that is not this owner's (the teacher's data)."""
        if not self.is_own(path):
            raise InputError(f"{what} {Path(path).name!r} is shared by the teacher and read-only "
                             f"for {self.owner!r}; only your own items can be renamed or deleted "
                             "(save a copy under a new name to change it)")

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def jobs_dir(self) -> Path:
        return self.root / "jobs"

    @property
    def cache_dir(self) -> Path:
        # Keyed by content hash, so owners share it (embedded datasets are built once).
        return self.base / "cache"

    @property
    def uploads_dir(self) -> Path:
        return self.root / "uploads"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def optuna_db(self) -> Path:
        return self.root / "optuna.db"

    @property
    def optuna_journal(self) -> Path:
        return self.root / "optuna.journal"

    @property
    def optuna_url(self) -> str:
        """SQLite URL of the studies database (optuna-dashboard opens it)."""
        return f"sqlite:///{self.optuna_db}"

    def ensure(self) -> "Workspace":
        """Create the folder tree if needed and return self."""
        for path in (self.datasets_dir, self.runs_dir, self.jobs_dir, self.cache_dir,
                     self.uploads_dir, self.exports_dir):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def dataset_path(self, name: str) -> Path:
        """Path of the workspace dataset called ``name`` (sanitised).

        An owner's own dataset of that name wins; else the teacher's shared one
        when it exists; else where the owner's own one would be written.
        """
        stem = safe_name(name.removesuffix(".h5"))
        own = self.datasets_dir / f"{stem}.h5"
        shared = self.shared_datasets_dir
        if shared is not None and not own.exists() and (shared / f"{stem}.h5").is_file():
            return shared / f"{stem}.h5"
        return own

    def inside(self, *parts: str | os.PathLike[str]) -> Path:
        """Join ``parts`` under the root, refusing anything that escapes it."""
        root = self.root.resolve()
        path = root.joinpath(*[str(p) for p in parts]).resolve()
        if path != root and root not in path.parents:
            raise InputError(
                f"path {os.path.join(*[str(p) for p in parts])!r} points outside the workspace "
                f"{root}; use a plain name inside it")
        return path

    def list_datasets(self) -> list[Path]:
        """Feature files by name: the owner's own, then the teacher's shared ones not shadowed."""
        own = sorted(self.datasets_dir.glob("*.h5")) if self.datasets_dir.is_dir() else []
        shared = self.shared_datasets_dir
        if shared is None or not shared.is_dir():
            return own
        names = {p.name for p in own}
        return own + [p for p in sorted(shared.glob("*.h5")) if p.name not in names]

    def run_path(self, name: str | os.PathLike[str]) -> Path:
        """A run folder given as a path, or by its name under ``runs/``.

        ``train`` prints the folder's path, the pages and ``jobs`` show its name;
        either works. Returns the path as given when neither exists, so the
        caller names what the user typed in its message.
        """
        path = Path(name)
        if path.is_dir():
            return path
        by_name = self.runs_dir / path.name
        if str(path) == path.name and by_name.is_dir():
            return by_name
        return path

    def list_runs(self) -> list[Path]:
        """Run folders that finished saving (they hold config.json), newest first."""
        if not self.runs_dir.is_dir():
            return []
        runs = [p for p in self.runs_dir.iterdir() if (p / "config.json").is_file()]
        return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)


def get_workspace(root: str | os.PathLike[str] | None = None) -> Workspace:
    """The workspace at ``root``, else ``$SYNTH_WORKSPACE``, else ``./workspace``."""
    chosen = root or os.environ.get(ENV_VAR) or DEFAULT_ROOT
    return Workspace(Path(chosen).expanduser().absolute()).ensure()


def classroom_enabled() -> bool:
    """True when ``SYNTH_CLASSROOM`` asks for one folder per browser session."""
    return os.environ.get(CLASSROOM_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def check_owner_code(code: str) -> str:
    """A classroom code as stored: 3-32 lower-case letters, digits and inner dashes."""
    text = str(code).strip().lower()
    if not _OWNER_CODE.match(text):
        raise InputError(f"classroom code {str(code)[:40]!r} is not valid: use 3 to 32 letters, "
                         "digits or dashes (not at either end), e.g. fox-42")
    return text


def new_owner_code() -> str:
    """A fresh short code that is easy to read aloud and type (e.g. 'k7m-q2p')."""
    import secrets

    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
    pick = lambda n: "".join(secrets.choice(alphabet) for _ in range(n))  # noqa: E731
    return f"{pick(3)}-{pick(3)}"


def safe_name(name: str, *, default: str = "unnamed", max_length: int = 80) -> str:
    """A file-system-safe version of user text: letters, digits, '.', '_', '-'.

    Accents are folded ('é' -> 'e'), everything else becomes '_', leading dots
    are dropped (no hidden files, no '..'), and the result is never empty.
    """
    folded = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    cleaned = _SAFE_CHARS.sub("_", folded).strip("._-")
    cleaned = cleaned[:max_length].rstrip("._-")
    return cleaned or default


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half.

    A temporary file in the same folder is written, flushed and renamed over the
    target. On failure (disk full...) the temporary file is removed, the old
    file stays, and a :class:`StorageError` says what happened.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise StorageError(f"could not write {path}: {exc.strerror or exc}; "
                           "free some disk space or choose another folder") from exc
    except BaseException:
        # Cancel (SIGTERM -> JobCancelled) or Ctrl-C mid-write: no stray temp file either.
        _discard(tmp)
        raise


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """JSON version of :func:`atomic_write_bytes` (UTF-8, indented, NaN as null)."""
    text = json.dumps(json_safe(obj), indent=2, ensure_ascii=False, allow_nan=False)
    atomic_write_bytes(path, text.encode("utf-8"))


def read_json(path: str | os.PathLike[str], default: Any = None) -> Any:
    """Read a JSON file, returning ``default`` when it does not exist."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def json_safe(obj: Any) -> Any:
    """Replace NaN/inf floats by None and numpy scalars/paths by plain values."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return json_safe(obj.item())
    if hasattr(obj, "tolist"):
        return json_safe(obj.tolist())
    return obj


@dataclass(frozen=True)
class Damaged:
    """A workspace item that could not be read: listed with the reason and the way out.

    Readers of the workspace (run lists, dataset lists, job lists, studies) return
    these beside the good items instead of raising, so one damaged item never takes
    a page or a verb down for the others. ``fix`` says how to remove or repair it.
    """

    kind: str      # "run" | "dataset" | "job" | "study"
    path: Path
    reason: str    # what is wrong, e.g. "config.json is not valid JSON (cut at byte 120)"
    fix: str       # e.g. "delete the folder runs/vae-20261202-101500, or retrain"

    def message(self) -> str:
        """One line for the CLI (exit 2) and for st.warning on the pages."""
        return f"damaged {self.kind} {self.path}: {self.reason}; {self.fix}"


def remove_damaged(item: Damaged, workspace: Workspace) -> None:
    """Delete a damaged item's file or folder; only on the user's explicit request.

    Refuses anything outside the workspace, so a record built from another folder
    (a run given by path on the CLI) is never deleted from here.
    """
    import shutil

    path = workspace.inside(Path(item.path).absolute().relative_to(workspace.root.absolute())) \
        if Path(item.path).absolute().is_relative_to(workspace.root.absolute()) else None
    if path is None or path == workspace.root.resolve():
        raise InputError(f"{item.path} is not inside the workspace {workspace.root}; remove it "
                         "yourself if you no longer need it")
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def newer_version(found: object, current: str) -> bool:
    """True when version text ``found`` (e.g. '0.3.1') is newer than ``current``."""
    def parts(text: object) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", str(text))[:3])
    return bool(parts(found)) and parts(found) > parts(current)
