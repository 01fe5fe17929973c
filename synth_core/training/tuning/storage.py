"""Where studies live: Optuna storages, named studies, and trials left by dead workers.

:func:`open_storage` turns a URL or a journal-file path into an Optuna storage
(SQLite for one process, a journal file when several worker processes on one
machine share a study, PostgreSQL/MySQL across machines, with heartbeats so a
dead worker's trial is failed and retried). :func:`create_or_load_study`
creates or joins a named study and refuses one made for other ranges or data;
:func:`recover_crashed_trials` fails and re-queues trials of a dead local worker.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.jobs import pid_alive
from synth_core.training.tuning.space import SearchSpace, TuneConfig
from synth_core.workspace import Damaged, Workspace

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

STUDY_ATTR = "synth_core"          # study user attribute: model, space, dataset, n_features
CONFIG_ATTR = "config"             # trial user attribute: the full TrainConfig as a dict
WORKER_ATTR = "worker"             # trial user attribute: {"host", "pid"} of the process running it
RETRY_ATTR = "retry_of"            # trial user attribute: number of the crashed trial it repeats
MAX_RETRIES = 2
JOURNAL_SUFFIXES = (".journal", ".log")


# --------------------------------------------------------------------------- storage

def storage_label(url: str) -> str:
    """The URL with any password hidden (for messages and pages)."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def is_journal(url: str) -> bool:
    return "://" not in url and Path(url).suffix.lower() in JOURNAL_SUFFIXES


def resolve_storage_url(url: str | None, workspace: Workspace | None) -> str:
    """``url``, or the workspace's SQLite database when empty."""
    if url and str(url).strip():
        return str(url).strip()
    if workspace is None:
        raise InputError("storage: no URL given and no workspace to default to; pass --storage "
                         "sqlite:///optuna.db or a path ending .journal")
    return workspace.optuna_url


def driver_url(url: str) -> str:
    """``url`` with the PostgreSQL driver that is installed named in it.

    SQLAlchemy reads a plain ``postgresql://user@host/db`` as psycopg2, which is
    not a requirement here; psycopg (3) is, so such a URL (and ``postgres://``)
    becomes ``postgresql+psycopg://``. A URL naming its driver stays as given.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("postgresql", "postgres"):
        return url
    import importlib.util

    for module, driver in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{driver}://{rest}"
    raise StorageError(f"storage {storage_label(url)}: no PostgreSQL driver is installed; "
                       "pip install 'psycopg[binary]' (pinned in requirements.txt)")


def open_storage(url: str, *, heartbeat_interval: int = 60) -> "optuna.storages.BaseStorage":
    """An Optuna storage for ``url``.

    * a path ending ``.journal`` or ``.log``: Optuna's journal file (several
      worker processes on one machine or a shared file system may use it);
    * ``sqlite:///path``: one process (threads are fine);
    * ``postgresql://`` / ``mysql+pymysql://``...: workers on several machines.

    Database storages get a heartbeat every ``heartbeat_interval`` seconds, so
    a trial whose worker died (on any machine) is failed once its heartbeat is
    ``2 x heartbeat_interval`` old, and queued again by Optuna's retry callback
    (``RetryHeartbeatStaleTrialCallback``; ``RetryFailedTrialCallback`` is its
    deprecated name in Optuna 5); the next trial any worker starts picks it up.
    Raises :class:`StorageError` naming the URL when it cannot be opened.
    """
    import optuna

    label = storage_label(url)
    if is_journal(url):
        path = Path(url).expanduser()
        if not path.parent.is_dir():
            raise StorageError(f"storage {label}: folder {path.parent} does not exist; create it "
                               "or give a journal path in an existing folder")
        from optuna.storages.journal import JournalFileBackend

        try:
            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
        except OSError as exc:
            raise StorageError(f"storage {label}: cannot open the journal file ({exc}); check "
                               "the path and its permissions") from exc
    if "://" not in url:
        raise InputError(f"storage {label!r} is neither a database URL nor a journal file; use "
                         "sqlite:///path/optuna.db, postgresql://user@host/db, or a path ending "
                         ".journal")
    if url.startswith("sqlite:///"):
        db_path = Path(url[len("sqlite:///"):]).expanduser()
        if str(db_path) not in ("", ":memory:") and not db_path.parent.is_dir():
            raise StorageError(f"storage {label}: folder {db_path.parent} does not exist; create "
                               "it or choose another path")
    url = driver_url(url)
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.8
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES)
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=heartbeat_interval, grace_period=2 * heartbeat_interval,
                heartbeat_stale_trial_callback=retry,
                engine_kwargs={"pool_pre_ping": True} if not url.startswith("sqlite") else None)
    except ImportError as exc:
        raise StorageError(f"storage {label}: the database driver for this URL is not installed "
                           f"({exc}); pip install it (psycopg[binary] for postgresql://, PyMySQL "
                           "for mysql+pymysql://) or use a SQLite or journal storage") from exc
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many types for a bad URL
        reason = " ".join(str(exc).split())[:300]
        raise StorageError(f"storage {label}: cannot connect ({type(exc).__name__}: {reason}); "
                           "check the URL, that the server is running and reachable, and the "
                           "credentials") from exc


def list_studies(storage: "optuna.storages.BaseStorage | str") -> list["StudyInfo"]:
    """The studies in a storage that can be read, newest first (see :func:`scan_studies`)."""
    return scan_studies(storage)[0]


def study_problem(user_attrs: dict[str, Any]) -> str | None:
    """What is wrong with a study's synth_core record, or None when it reads fine.

    A study made elsewhere (no record) is fine; a record that is not an object,
    names an unknown model or holds ranges this version refuses is damaged.
    """
    from synth_core.training.tuning.space import MODELS

    meta = user_attrs.get(STUDY_ATTR)
    if meta is None:
        return None
    if not isinstance(meta, dict):
        return f"its {STUDY_ATTR!r} record is a {type(meta).__name__}, not an object"
    if meta.get("model") not in MODELS:
        return f"its record names model {meta.get('model')!r}, not one of {', '.join(MODELS)}"
    if meta.get("space") is not None:
        try:
            SearchSpace.from_dict(meta["space"])
        except InputError as exc:
            return f"its recorded search space is not valid ({exc})"
    return None


def scan_studies(storage: "optuna.storages.BaseStorage | str"
                 ) -> tuple[list["StudyInfo"], list[Damaged]]:
    """Studies that can be read (newest first), and the damaged ones beside them."""
    import optuna

    infos = []
    damaged = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=True):
        problem = study_problem(summary.user_attrs)
        if problem is not None:
            damaged.append(Damaged(
                "study", Path(summary.study_name), problem,
                f"delete it with `optuna delete-study --storage URL --study-name "
                f"{summary.study_name}` (its trials go with it), or leave it and start a new "
                "study under another name"))
            continue
        meta = summary.user_attrs.get(STUDY_ATTR, {})
        best = summary.best_trial
        infos.append(StudyInfo(
            name=summary.study_name, n_trials=summary.n_trials,
            model=str(meta.get("model", "")), dataset=str(meta.get("dataset", "")),
            best_value=best.value if best is not None else None,
            started=summary.datetime_start.isoformat(timespec="seconds")
            if summary.datetime_start else ""))
    return sorted(infos, key=lambda s: s.started, reverse=True), damaged


@dataclass(frozen=True)
class StudyInfo:
    name: str
    n_trials: int
    model: str
    dataset: str
    best_value: float | None
    started: str


def load_study(name: str, storage: "optuna.storages.BaseStorage | str") -> "optuna.Study":
    """An existing study (for reading), with a clear error when there is none of that name."""
    import optuna

    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError as exc:
        names = optuna.get_all_study_names(storage)
        raise InputError(f"study {name!r} not found in the storage; existing studies: "
                         f"{', '.join(names) or 'none'}") from exc


def unused_study_name(storage: "optuna.storages.BaseStorage | str", base: str) -> str:
    """``base`` if free, else ``base-2``, ``base-3``..."""
    import optuna

    names = set(optuna.get_all_study_names(storage))
    if base not in names:
        return base
    stem = base.rsplit("-", 1)[0] if base.rsplit("-", 1)[-1].isdigit() else base
    k = 2
    while f"{stem}-{k}" in names:
        k += 1
    return f"{stem}-{k}"


def _make_sampler(seed: int) -> "optuna.samplers.BaseSampler":
    import optuna

    return optuna.samplers.TPESampler(seed=seed)


def _make_pruner(config: TuneConfig) -> "optuna.pruners.BasePruner":
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=config.n_startup_trials,
                                       n_warmup_steps=config.n_warmup_steps,
                                       interval_steps=config.interval_steps)


def create_or_load_study(config: TuneConfig, storage: "optuna.storages.BaseStorage", *,
                         dataset_ref: str = "", n_features: int | None = None
                         ) -> tuple["optuna.Study", bool]:
    """Create the named study, or join it when it exists; returns ``(study, created)``.

    An existing study must have been made for the same model, ranges and data
    width, otherwise its trials are not comparable and an :class:`InputError`
    says so (the study is left untouched).
    """
    import optuna

    # The whole config (less the storage URL, which may hold a password) lets
    # `tune-worker` on another machine join with nothing but the study's name.
    settings = {k: v for k, v in config.to_dict().items() if k != "storage"}
    meta = {"model": config.model, "space": config.space.to_dict(), "dataset": dataset_ref,
            "n_features": n_features, "config": settings}
    try:
        with _quiet_optuna():
            study = optuna.create_study(storage=storage, study_name=config.study_name,
                                        sampler=_make_sampler(config.seed),
                                        pruner=_make_pruner(config), direction=config.direction,
                                        load_if_exists=False)
        study.set_user_attr(STUDY_ATTR, meta)
        return study, True
    except optuna.exceptions.DuplicatedStudyError:
        pass
    existing = optuna.load_study(study_name=config.study_name, storage=storage)
    # A worker joining (or resuming) gets its own seed so that it does not draw the
    # very same parameters as the first worker.
    seed = int(np.random.SeedSequence([config.seed, len(existing.trials), os.getpid()])
               .generate_state(1)[0])
    study = optuna.load_study(study_name=config.study_name, storage=storage,
                              sampler=_make_sampler(seed), pruner=_make_pruner(config))
    _check_compatible(study, config, meta)
    if STUDY_ATTR not in study.user_attrs:
        study.set_user_attr(STUDY_ATTR, meta)
    return study, False


def _check_compatible(study: "optuna.Study", config: TuneConfig, meta: dict[str, Any]) -> None:
    name = config.study_name
    if study.direction.name.lower() != config.direction:
        raise InputError(f"study {name!r} exists and {study.direction.name.lower()}s its value, "
                         f"not {config.direction}; pick another study name")
    old = study.user_attrs.get(STUDY_ATTR)
    if old is None:
        if study.trials:
            raise InputError(f"study {name!r} exists but was not made by this tool (no search "
                             "space recorded); pick another study name")
        return
    if old.get("model") != meta["model"]:
        raise InputError(f"study {name!r} exists for model {old.get('model')!r}, not "
                         f"{meta['model']!r}; pick another study name, e.g. "
                         f"{meta['model']}-{name}")
    if old.get("space") != meta["space"]:
        old_space = SearchSpace.from_dict(old["space"]).describe() if old.get("space") else "?"
        raise InputError(
            f"study {name!r} exists with another search space ({old_space}) than the one given "
            f"({config.space.describe()}); pick a new study name for new ranges, or use the "
            "study's own ranges to continue it. Its trials are kept.")
    if (old.get("n_features") and meta["n_features"]
            and int(old["n_features"]) != int(meta["n_features"])):
        raise InputError(f"study {name!r} was run on data with {old['n_features']} features, "
                         f"this dataset has {meta['n_features']}; pick another study name")


def recover_crashed_trials(study: "optuna.Study", *, max_retries: int = MAX_RETRIES) -> list[int]:
    """Fail trials left RUNNING by a dead worker on this machine and queue them again.

    A worker records ``{"host", "pid"}`` on each trial it runs. When that host is
    this machine and the process is gone, the trial can never finish: it is
    marked FAIL (so nothing is lost, the record stays) and its parameters are
    enqueued again, at most ``max_retries`` times per original trial. Workers on
    other machines are covered by the database heartbeat instead. Returns the
    numbers of the trials recovered.
    """
    from optuna.trial import TrialState

    storage = study._storage  # noqa: SLF001 - Study exposes no public storage accessor
    study_id = storage.get_study_id_from_name(study.study_name)
    host = socket.gethostname()
    recovered = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get(WORKER_ATTR) or {}
        if worker.get("host") != host or not worker.get("pid") or pid_alive(int(worker["pid"])):
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        try:
            if not storage.set_trial_state_values(trial_id, TrialState.FAIL):
                continue
        except RuntimeError:  # finished meanwhile
            continue
        recovered.append(trial.number)
        original = trial.user_attrs.get(RETRY_ATTR, trial.number)
        retries = sum(1 for t in study.get_trials(deepcopy=False)
                      if t.user_attrs.get(RETRY_ATTR) == original)
        if retries < max_retries and trial.params:
            study.enqueue_trial(trial.params, user_attrs={RETRY_ATTR: original})
        logger.warning("trial %d of study %s was left running by dead process %s; marked failed"
                       "%s", trial.number, study.study_name, worker.get("pid"),
                       " and queued again" if retries < max_retries else "")
    return recovered


class _quiet_optuna:
    """Optuna logs every trial at INFO; our callback reports them instead."""

    def __enter__(self) -> None:
        import optuna

        self.before = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)

    def __exit__(self, *exc: Any) -> None:
        import optuna

        optuna.logging.set_verbosity(self.before)
