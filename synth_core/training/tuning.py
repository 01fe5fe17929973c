"""Hyperparameter search with Optuna, the way the thesis did it.

What this module holds, top to bottom:

* :class:`SearchSpace` - the ranges searched (latent size, hidden units,
  learning rate on a log scale, epochs; optionally batch size, KL weight and
  layer count) and :data:`RANGE_PRESETS`, the thesis's Exploration and
  Exploitation ranges for the VAE and the CVAE.
* :class:`TuneConfig` - everything one study run needs (a frozen config, like
  ``TrainConfig``); forms, CLI flags and job params all produce one.
* Storage: :func:`open_storage` turns a URL or a journal-file path into an
  Optuna storage (SQLite for one process, a journal file when several worker
  processes share a study, PostgreSQL/MySQL across machines).
* :class:`Objective` - a callable class holding the data (loaded once) that
  trains with the project's trainer, reports the validation loss every epoch
  and raises ``optuna.TrialPruned`` when the pruner says so.
* :func:`run_study` - create or resume a named study (TPE seeded, MedianPruner)
  and run trials until the study holds ``n_trials`` finished ones; trials left
  running by a crashed local worker are marked failed and retried.
* :func:`narrow_ranges` - the exploration -> exploitation step: propose the
  next study's ranges from the best trials.
* Records for the page and the CLI: :func:`study_summary`, :func:`trial_rows`,
  :func:`study_figures` (Optuna's own plotly figures), :func:`write_plots`,
  :func:`best_train_config`.
* :func:`tune_job` - the background-job entry point (``jobs.JOB_KINDS["tune"]``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.events import Callback, EpochEnd, Log, Progress, emit
from synth_core.features import FeatureSet
from synth_core.jobs import pid_alive
from synth_core.workspace import Workspace

if TYPE_CHECKING:  # optuna and torch load lazily so `--help` and the pages stay fast
    import optuna
    import plotly.graph_objects as go

    from synth_core.training.config import TrainConfig

logger = logging.getLogger(__name__)

MODELS = ("vae", "cvae")
STUDY_ATTR = "synth_core"          # study user attribute: model, space, dataset, n_features
CONFIG_ATTR = "config"             # trial user attribute: the full TrainConfig as a dict
WORKER_ATTR = "worker"             # trial user attribute: {"host", "pid"} of the process running it
RETRY_ATTR = "retry_of"            # trial user attribute: number of the crashed trial it repeats
MAX_RETRIES = 2
JOURNAL_SUFFIXES = (".journal", ".log")


# --------------------------------------------------------------------------- search space

@dataclass(frozen=True)
class ParamSpec:
    """How one hyperparameter is searched and checked."""

    label: str
    integer: bool
    log: bool
    minimum: float          # smallest allowed value (inclusive unless ``positive``)
    positive: bool = False  # must be > 0 (learning rate)
    help: str = ""


PARAMS: dict[str, ParamSpec] = {
    "latent_dim": ParamSpec("latent size", True, False, 1,
                            help="dimensions of the latent code"),
    "hidden": ParamSpec("hidden units", True, False, 1,
                        help="units in each hidden layer of encoder and decoder"),
    "lr": ParamSpec("learning rate", False, True, 0.0, positive=True,
                    help="Adam learning rate, searched on a log scale"),
    "epochs": ParamSpec("epochs", True, False, 1,
                        help="training epochs (early stopping and pruning may end sooner)"),
    "batch_size": ParamSpec("batch size", True, True, 1,
                            help="rows per optimiser step, searched on a log scale"),
    "beta": ParamSpec("KL weight", False, False, 0.0,
                      help="weight of the KL term in the loss (1 = plain VAE)"),
    "n_layers": ParamSpec("layer count", True, False, 1,
                          help="hidden layers in encoder and decoder (all of the same width)"),
}
REQUIRED_PARAMS = ("latent_dim", "hidden", "lr", "epochs")
OPTIONAL_PARAMS = ("batch_size", "beta", "n_layers")


@dataclass(frozen=True)
class SearchSpace:
    """Inclusive ``(low, high)`` ranges; optional ones are ``None`` when not searched."""

    latent_dim: tuple[int, int]
    hidden: tuple[int, int]
    lr: tuple[float, float]
    epochs: tuple[int, int]
    batch_size: tuple[int, int] | None = None
    beta: tuple[float, float] | None = None
    n_layers: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        for name in PARAMS:
            value = getattr(self, name)
            if value is None and name in OPTIONAL_PARAMS:
                continue
            object.__setattr__(self, name, _check_range(name, value))

    def ranges(self) -> dict[str, tuple[float, float]]:
        """The searched parameters in a fixed order."""
        return {name: getattr(self, name) for name in PARAMS if getattr(self, name) is not None}

    def to_dict(self) -> dict[str, list[float]]:
        return {name: list(bounds) for name, bounds in self.ranges().items()}

    @classmethod
    def from_dict(cls, ranges: dict[str, Any], *, base: "SearchSpace | None" = None
                  ) -> "SearchSpace":
        """Ranges from JSON (``{"lr": [1e-5, 1e-2], ...}``); keys missing here come from ``base``.

        A value of ``null`` switches an optional parameter off.
        """
        if not isinstance(ranges, dict):
            raise InputError(f"ranges: expected a JSON object like {{\"latent_dim\": [3, 203]}}; "
                             f"got {type(ranges).__name__} {ranges!r}")
        unknown = sorted(set(ranges) - set(PARAMS))
        if unknown:
            raise InputError(f"ranges: unknown parameter(s) {', '.join(unknown)}; use "
                             f"{', '.join(PARAMS)}")
        merged: dict[str, Any] = base.to_dict() if base is not None else {}
        merged.update(ranges)
        missing = [name for name in REQUIRED_PARAMS if merged.get(name) is None]
        if missing:
            raise InputError(f"ranges: {', '.join(missing)} missing or empty; give each as "
                             "[low, high], e.g. \"epochs\": [20, 100], or start from a preset")
        return cls(**{name: merged.get(name) for name in PARAMS})

    def suggest(self, trial: "optuna.Trial", base: "TrainConfig") -> "TrainConfig":
        """Draw one configuration from ``trial``; unsearched settings come from ``base``."""
        changes: dict[str, Any] = {
            "latent_dim": trial.suggest_int("latent_dim", *self.latent_dim),
            "lr": trial.suggest_float("lr", *self.lr, log=True),
            "epochs": trial.suggest_int("epochs", *self.epochs),
        }
        hidden = trial.suggest_int("hidden", *self.hidden)
        n_layers = (trial.suggest_int("n_layers", *self.n_layers) if self.n_layers is not None
                    else max(len(base.hidden), 1))
        changes["hidden"] = (hidden,) * n_layers
        if self.batch_size is not None:
            changes["batch_size"] = trial.suggest_int("batch_size", *self.batch_size, log=True)
        if self.beta is not None:
            changes["beta"] = trial.suggest_float("beta", *self.beta)
        return dataclasses.replace(base, **changes)

    def describe(self) -> str:
        return ", ".join(f"{PARAMS[n].label} {_fmt(lo)}-{_fmt(hi)}"
                         for n, (lo, hi) in self.ranges().items())


def _check_range(name: str, value: Any) -> tuple[float, float]:
    spec = PARAMS[name]
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                       for v in value)):
        raise InputError(f"ranges: {spec.label} ({name}) must be [low, high] with two numbers; "
                         f"got {value!r}; e.g. \"{name}\": {_example(name)}")
    low, high = (float(v) for v in value)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError(f"ranges: {spec.label} ({name}) must be finite; got [{low}, {high}]")
    if spec.integer and (low != int(low) or high != int(high)):
        raise InputError(f"ranges: {spec.label} ({name}) takes whole numbers; got "
                         f"[{_fmt(low)}, {_fmt(high)}]; round them, e.g. {_example(name)}")
    if spec.positive and low <= 0:
        raise InputError(f"ranges: {spec.label} ({name}) must be positive (it is searched on a "
                         f"log scale); got low = {_fmt(low)}; use e.g. 1e-5")
    if low < spec.minimum:
        raise InputError(f"ranges: {spec.label} ({name}) must be at least {_fmt(spec.minimum)}; "
                         f"got low = {_fmt(low)}; e.g. {_example(name)}")
    if low > high:
        raise InputError(f"ranges: {spec.label} ({name}) is inverted or empty: low {_fmt(low)} > "
                         f"high {_fmt(high)}; swap them: [{_fmt(high)}, {_fmt(low)}]")
    if spec.integer:
        return int(low), int(high)
    return low, high


def _example(name: str) -> str:
    return str(RANGE_PRESETS["exploration"].space.to_dict().get(name, {
        "batch_size": [32, 256], "beta": [0.5, 2.0], "n_layers": [1, 3]}.get(name)))


def _fmt(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


@dataclass(frozen=True)
class RangePreset:
    """Named ranges from the thesis."""

    title: str
    models: tuple[str, ...]
    space: SearchSpace
    note: str = ""


RANGE_PRESETS: dict[str, RangePreset] = {
    "exploration": RangePreset(
        "Exploration", ("vae", "cvae"),
        SearchSpace(latent_dim=(3, 203), hidden=(150, 400), lr=(1e-5, 1e-2), epochs=(20, 100)),
        "wide first search (thesis, VAE and CVAE)"),
    "vae-exploitation-1": RangePreset(
        "VAE Exploitation 1", ("vae",),
        SearchSpace(latent_dim=(10, 100), hidden=(300, 450), lr=(1e-4, 8.3e-4), epochs=(49, 150)),
        "thesis: narrowed after the VAE exploration study"),
    "vae-exploitation-2": RangePreset(
        "VAE Exploitation 2", ("vae",),
        SearchSpace(latent_dim=(15, 60), hidden=(390, 490), lr=(2e-4, 4e-4), epochs=(90, 200)),
        "thesis: second narrowing for the VAE"),
    "cvae-exploitation-1": RangePreset(
        "CVAE Exploitation 1", ("cvae",),
        SearchSpace(latent_dim=(6, 50), hidden=(300, 450), lr=(3e-4, 9.3e-4), epochs=(40, 150)),
        "thesis: narrowed after the CVAE exploration study"),
    "cvae-exploitation-2": RangePreset(
        "CVAE Exploitation 2", ("cvae",),
        SearchSpace(latent_dim=(7, 30), hidden=(400, 490), lr=(5e-4, 7e-4), epochs=(100, 200)),
        "thesis: second narrowing for the CVAE"),
}


def presets_for(model: str) -> list[str]:
    """Names of the range presets that apply to ``model``."""
    return [name for name, preset in RANGE_PRESETS.items() if model in preset.models]


def parse_ranges(text_or_dict: str | dict | None, *, preset: str | None = None) -> SearchSpace:
    """A search space from a preset name and/or ranges JSON (a string, a dict or a file path).

    Ranges given explicitly override the preset's; with neither, Exploration.
    """
    if preset is not None and preset not in RANGE_PRESETS:
        raise InputError(f"preset {preset!r} is unknown; choose one of {', '.join(RANGE_PRESETS)}")
    base = RANGE_PRESETS[preset or "exploration"].space
    if text_or_dict is None or (isinstance(text_or_dict, str) and not text_or_dict.strip()):
        return base
    ranges: Any = text_or_dict
    if isinstance(text_or_dict, str):
        import json

        text = text_or_dict.strip()
        if not text.startswith("{") and Path(text).expanduser().is_file():
            text = Path(text).expanduser().read_text(encoding="utf-8")
        try:
            ranges = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"ranges: not valid JSON ({exc.msg} at character {exc.pos}): "
                             f"{text_or_dict[:80]!r}; write e.g. "
                             "'{\"latent_dim\": [3, 203], \"lr\": [1e-5, 1e-2]}'") from exc
    return SearchSpace.from_dict(ranges, base=base)


# --------------------------------------------------------------------------- config

@dataclass(frozen=True)
class TuneConfig:
    """One study run: which study, how many trials, the ranges, sampler and pruner settings.

    ``n_trials`` is the number of finished (complete or pruned) trials the study
    should hold: running the same command again resumes an interrupted study,
    and several workers with the same settings share the work.
    ``train`` holds TrainConfig fields that are not searched (patience,
    val_fraction, batch_size, device...).
    """

    model: str = "vae"
    study_name: str = "vae-exploration"
    storage: str = ""               # URL or journal path; "" = the workspace's optuna.db
    n_trials: int = 100
    n_jobs: int = 1
    timeout: float | None = None
    space: SearchSpace = RANGE_PRESETS["exploration"].space
    seed: int = 0
    n_startup_trials: int = 5       # MedianPruner: trials finished before pruning starts
    n_warmup_steps: int = 5         # MedianPruner: epochs before a trial can be pruned
    interval_steps: int = 3         # MedianPruner: check every this many epochs
    direction: str = "minimize"
    max_rows: int | None = None     # subsample the data for speed (None = all rows)
    threads: int | None = None      # torch CPU threads per trial (None = cores / n_jobs)
    train: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> "TuneConfig":
        if self.model not in MODELS:
            raise InputError(f"model {self.model!r} cannot be tuned here; choose one of "
                             f"{', '.join(MODELS)}")
        if not str(self.study_name).strip():
            raise InputError("study name is empty; give the study a name, e.g. vae-exploration")
        if len(self.study_name) > 200:
            raise InputError(f"study name is {len(self.study_name)} characters long; keep it "
                             "under 200")
        _positive_int("trials", self.n_trials, "e.g. --trials 100")
        _positive_int("jobs", self.n_jobs, "e.g. --jobs 1")
        if self.timeout is not None and not self.timeout > 0:
            raise InputError(f"timeout must be a positive number of seconds; got {self.timeout}; "
                             "leave it out to run until the trials are done")
        _positive_int("pruner startup trials", self.n_startup_trials, "e.g. 5", minimum=0)
        _positive_int("pruner warm-up epochs", self.n_warmup_steps, "e.g. 5", minimum=0)
        _positive_int("pruner interval", self.interval_steps, "e.g. 3")
        if self.direction not in ("minimize", "maximize"):
            raise InputError(f"direction must be minimize or maximize; got {self.direction!r}")
        if self.threads is not None:
            _positive_int("threads", self.threads, "e.g. 1, or leave it empty for cores/jobs")
        if self.max_rows is not None:
            _positive_int("max rows", self.max_rows, "or leave it empty to use all rows",
                          minimum=2)
        searched = set(self.space.ranges()) | {"model", "hidden"}
        unknown = sorted(set(self.train) - set(_train_fields()))
        if unknown:
            raise InputError(f"training settings: unknown field(s) {', '.join(unknown)}; use "
                             f"{', '.join(sorted(_train_fields()))}")
        clash = sorted(set(self.train) & searched)
        if clash:
            raise InputError(f"training settings: {', '.join(clash)} are searched by the study; "
                             "set them through the ranges instead")
        return self

    def base_train_config(self) -> "TrainConfig":
        """The TrainConfig every trial starts from (searched fields are replaced per trial)."""
        from synth_core.training.config import TrainConfig

        return TrainConfig(model=self.model, **self.train)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["space"] = self.space.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TuneConfig":
        data = dict(data)
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise InputError(f"tuning settings: unknown field(s) {', '.join(unknown)}")
        if "space" in data and not isinstance(data["space"], SearchSpace):
            data["space"] = SearchSpace.from_dict(data["space"])
        return cls(**data)


def _positive_int(name: str, value: Any, fix: str, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        rule = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
        raise InputError(f"{name} must be {rule}; got {value!r}; {fix}")


def _train_fields() -> list[str]:
    from synth_core.training.config import TrainConfig

    return [f.name for f in dataclasses.fields(TrainConfig)]


def train_config_from_dict(data: dict[str, Any]) -> "TrainConfig":
    """A TrainConfig from stored JSON; fields this version does not know are dropped."""
    from synth_core.training.config import TrainConfig

    known = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig.from_dict({k: v for k, v in data.items() if k in known})


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


def open_storage(url: str, *, heartbeat_interval: int = 60) -> "optuna.storages.BaseStorage":
    """An Optuna storage for ``url``.

    * a path ending ``.journal`` or ``.log``: Optuna's journal file (several
      worker processes on one machine or a shared file system may use it);
    * ``sqlite:///path``: one process (threads are fine);
    * ``postgresql://`` / ``mysql+pymysql://``...: workers on several machines.

    Database storages get a heartbeat, so trials of a worker that died are
    failed and retried (RetryHeartbeatStaleTrialCallback) when the study resumes.
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
                           f"({exc}); pip install it (psycopg2-binary for postgresql://, PyMySQL "
                           "for mysql+pymysql://) or use a SQLite or journal storage") from exc
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many types for a bad URL
        reason = " ".join(str(exc).split())[:300]
        raise StorageError(f"storage {label}: cannot connect ({type(exc).__name__}: {reason}); "
                           "check the URL, that the server is running and reachable, and the "
                           "credentials") from exc


def list_studies(storage: "optuna.storages.BaseStorage | str") -> list["StudyInfo"]:
    """The studies in a storage, newest first."""
    import optuna

    infos = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=True):
        meta = summary.user_attrs.get(STUDY_ATTR, {})
        best = summary.best_trial
        infos.append(StudyInfo(
            name=summary.study_name, n_trials=summary.n_trials,
            model=str(meta.get("model", "")), dataset=str(meta.get("dataset", "")),
            best_value=best.value if best is not None else None,
            started=summary.datetime_start.isoformat(timespec="seconds")
            if summary.datetime_start else ""))
    return sorted(infos, key=lambda s: s.started, reverse=True)


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

    meta = {"model": config.model, "space": config.space.to_dict(), "dataset": dataset_ref,
            "n_features": n_features}
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


# --------------------------------------------------------------------------- objective

class Objective:
    """The Optuna objective: train one configuration, minimise the validation loss.

    Holds the data once (Optuna-examples style) and calls the project's
    trainer without saving. Every epoch the validation loss is reported to
    the trial; when the pruner says so, ``optuna.TrialPruned`` is raised from
    inside the trainer's callback and ends the trial. ``callback`` receives
    throttled :class:`Progress` events (the job's progress bar); whatever it
    raises (``JobCancelled``) propagates.
    """

    def __init__(self, data: FeatureSet, space: SearchSpace, base: "TrainConfig", *,
                 callback: Callback | None = None, n_trials: int | None = None) -> None:
        self.data = data
        self.space = space
        self.base = base
        self.callback = callback
        self.n_trials = n_trials
        self.fraction = 0.0  # share of the study's trials finished (set by run_study)
        self._lock = threading.Lock()

    def __call__(self, trial: "optuna.Trial") -> float:
        import optuna

        from synth_core.training.trainer import train_model

        config = self.space.suggest(trial, self.base)
        trial.set_user_attr(CONFIG_ATTR, config.to_dict())
        trial.set_user_attr(WORKER_ATTR, {"host": socket.gethostname(), "pid": os.getpid()})
        last_sent = [0.0]

        def on_event(event: Any) -> None:
            if not isinstance(event, EpochEnd):
                return
            if math.isfinite(event.val_loss):
                trial.report(event.val_loss, event.epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {event.epoch}: validation loss "
                                         f"{event.val_loss:.5g} worse than the median")
            now = time.monotonic()
            if self.callback is not None and now - last_sent[0] >= 1.0:
                last_sent[0] = now
                of = f"/{self.n_trials}" if self.n_trials else ""
                self._send(Progress(fraction=self.fraction, stage="trial",
                                    message=f"trial {trial.number}{of}: epoch {event.epoch}/"
                                            f"{event.n_epochs}, validation {event.val_loss:.5g}"))

        try:
            result = train_model(self.data, config, run_dir=None, callback=on_event)
        except InputError as exc:
            # Inputs were checked before the study started, so what is left is about this
            # trial's draw (a learning rate so high that the loss was NaN from the start):
            # record it and let the study go on. NaN makes Optuna record the trial as FAIL.
            logger.warning("trial %d failed: %s", trial.number, exc)
            trial.set_user_attr("error", str(exc))
            return float("nan")
        if result.diverged:
            trial.set_user_attr("diverged", True)  # kept the weights from before the NaN
        if not math.isfinite(result.best_val_loss):
            return float("nan")
        trial.set_user_attr("epochs_run", result.epochs_run)
        trial.set_user_attr("seconds_per_epoch", result.seconds_per_epoch)
        return float(result.best_val_loss)

    def _send(self, event: Any) -> None:
        """Forward an event to the callback; trials in threads share it, so one at a time."""
        with self._lock:
            emit(self.callback, event)


# --------------------------------------------------------------------------- running

@dataclass
class TuneResult:
    """What one :func:`run_study` call did, and where the study stands."""

    study_name: str
    storage: str
    created: bool
    n_new: int
    summary: "StudySummary"
    seconds: float
    recovered: list[int] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"study": self.study_name, "storage": storage_label(self.storage),
                "created": self.created, "new_trials": self.n_new, "seconds": self.seconds,
                "recovered_trials": self.recovered, "plots": self.plots,
                **dataclasses.asdict(self.summary)}


def _trial_split(data: FeatureSet, config: TuneConfig) -> tuple[int, np.ndarray, np.ndarray]:
    """(rows a trial sees, train positions, val positions), for the size checks.

    With ``max_rows`` the subsample is drawn later, so it is split as unlabelled rows.
    """
    from synth_core.training.trainer import split_indices

    base = config.base_train_config()
    n = data.n_samples if config.max_rows is None else min(data.n_samples, config.max_rows)
    labels = data.labels if n == data.n_samples else np.full(n, -1)
    train_idx, val_idx = split_indices(labels, base.val_fraction, base.seed)
    return n, train_idx, val_idx


def check_data(data: FeatureSet, config: TuneConfig, *, name: str = "dataset") -> None:
    """Refuse data and ranges the trainer could not use, before a study is touched."""
    from synth_core.training.trainer import check_training_data

    base = config.base_train_config()
    n, train_idx, val_idx = _trial_split(data, config)
    if len(val_idx) < 1 or len(train_idx) < 2:
        raise InputError(f"{name}: {n} rows are too few for a {base.val_fraction:.0%} validation "
                         f"split ({len(train_idx)} training, {len(val_idx)} validation rows); "
                         "tuning compares validation losses, so it needs at least 3 rows and a "
                         "val_fraction above 0; use more data or a larger val_fraction")
    check_training_data(data, dataclasses.replace(base, latent_dim=1), name=name)
    low, high = config.space.latent_dim
    if high > data.n_features:
        raise InputError(f"ranges: latent size (latent_dim) goes up to {high} but {name} has "
                         f"only {data.n_features} features; lower the upper bound to at most "
                         f"{data.n_features}, e.g. [{min(low, data.n_features)}, "
                         f"{data.n_features}]")
    biggest_batch = config.space.batch_size[1] if config.space.batch_size else base.batch_size
    if biggest_batch > len(train_idx):
        raise InputError(f"batch size: {biggest_batch} is more than the {len(train_idx)} training "
                         f"rows of {name}; use a batch size of at most {len(train_idx)}")


def _fit_default_batch(data: FeatureSet, config: TuneConfig,
                       callback: Callback | None) -> TuneConfig:
    """A study that sets no batch size of its own gets the trainer's default, shrunk to fit
    small data (an explicit batch size that does not fit is refused by check_data)."""
    from synth_core.training.config import fit_batch_size

    if "batch_size" in config.train or config.space.batch_size is not None:
        return config
    base = config.base_train_config()
    n_train = len(_trial_split(data, config)[1])
    fitted = fit_batch_size(n_train, base.batch_size)
    if fitted == base.batch_size:
        return config
    emit(callback, Log(f"batch size {fitted} (the default {base.batch_size} is more than the "
                       f"{n_train} training rows)"))
    return dataclasses.replace(config, train={**config.train, "batch_size": fitted})


def subsample(data: FeatureSet, max_rows: int | None, *, random_state: int = 0) -> FeatureSet:
    """At most ``max_rows`` rows drawn without replacement (all rows when None)."""
    if max_rows is None or data.n_samples <= max_rows:
        return data
    rng = np.random.default_rng(random_state)
    return data.subset(np.sort(rng.choice(data.n_samples, size=max_rows, replace=False)))


def run_study(data: FeatureSet, config: TuneConfig, *, workspace: Workspace | None = None,
              callback: Callback | None = None, dataset_ref: str = "",
              plots_dir: str | os.PathLike[str] | None = None) -> TuneResult:
    """Create or resume ``config.study_name`` and run it until it holds ``n_trials`` trials.

    Finished (complete or pruned) trials already in the study count, so the
    same call resumes an interrupted study and several processes with the same
    settings share one study through its storage. Trials run ``n_jobs`` at a
    time in threads. ``plots_dir`` writes Optuna's figures there as HTML.
    """
    import optuna
    from optuna.trial import TrialState

    config.validate()
    config = _fit_default_batch(data, config, callback)
    check_data(data, config, name=dataset_ref or "dataset")
    base = config.base_train_config()
    url = resolve_storage_url(config.storage, workspace)
    storage = open_storage(url)
    study, created = create_or_load_study(config, storage, dataset_ref=dataset_ref,
                                          n_features=data.n_features)
    recovered = recover_crashed_trials(study)
    finished_states = (TrialState.COMPLETE, TrialState.PRUNED)
    already = len(study.get_trials(deepcopy=False, states=finished_states))
    remaining = config.n_trials - already
    data = subsample(data, config.max_rows, random_state=config.seed)
    start = time.monotonic()
    n_before = len(study.trials)
    if remaining > 0:
        emit(callback, Progress(already / config.n_trials, f"study {config.study_name}: "
                                f"{already} of {config.n_trials} trials already finished"))
        objective = Objective(data, config.space, base, callback=callback,
                              n_trials=config.n_trials)
        objective.fraction = already / config.n_trials

        def after_trial(study: "optuna.Study", trial: "optuna.trial.FrozenTrial") -> None:
            done = len(study.get_trials(deepcopy=False, states=finished_states))
            best = _best_value(study)
            objective.fraction = min(done / config.n_trials, 1.0)
            what = (f"value {trial.value:.5g}" if trial.state == TrialState.COMPLETE else
                    f"pruned at epoch {trial.last_step}" if trial.state == TrialState.PRUNED
                    else trial.state.name.lower())
            objective._send(Progress(
                objective.fraction,
                f"trial {trial.number} {what}; {done}/{config.n_trials} finished, best "
                f"{best:.5g}" if best is not None else f"trial {trial.number} {what}",
                stage="study"))

        callbacks = [optuna.study.MaxTrialsCallback(config.n_trials, states=finished_states),
                     after_trial]
        with _torch_threads(config.n_jobs, config.threads), _quiet_optuna():
            study.optimize(objective, n_trials=remaining, timeout=config.timeout,
                           n_jobs=config.n_jobs, callbacks=callbacks, catch=())
    else:
        emit(callback, Log(f"study {config.study_name} already holds {already} finished "
                           f"trials (asked for {config.n_trials}); pass a larger trial count "
                           "to continue it"))
    result = TuneResult(study_name=config.study_name, storage=url, created=created,
                        n_new=len(study.trials) - n_before, summary=study_summary(study),
                        seconds=round(time.monotonic() - start, 2), recovered=recovered)
    if plots_dir is not None:
        result.plots = [str(p) for p in write_plots(study, plots_dir)]
    return result


class _torch_threads:
    """Split the cores between ``n_jobs`` trial threads (torch's pool is global).

    Small MLPs gain little from several threads, and on a busy machine an
    oversubscribed pool is many times slower (measured: 7.7 s vs 0.8 s per epoch
    on a loaded 2-core box), so the default is cores / n_jobs, at least 1.
    """

    def __init__(self, n_jobs: int, threads: int | None) -> None:
        self.n_jobs, self.threads = n_jobs, threads

    def __enter__(self) -> None:
        import torch

        self.before = torch.get_num_threads()
        torch.set_num_threads(self.threads or max(1, (os.cpu_count() or 1) // self.n_jobs))

    def __exit__(self, *exc: Any) -> None:
        import torch

        torch.set_num_threads(self.before)


class _quiet_optuna:
    """Optuna logs every trial at INFO; our callback reports them instead."""

    def __enter__(self) -> None:
        import optuna

        self.before = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)

    def __exit__(self, *exc: Any) -> None:
        import optuna

        optuna.logging.set_verbosity(self.before)


# --------------------------------------------------------------------------- narrowing

@dataclass(frozen=True)
class RangeChange:
    """What :func:`narrow_ranges` did to one parameter, and why."""

    param: str
    old: tuple[float, float]
    new: tuple[float, float]
    best: tuple[float, float]      # lowest and highest value among the best trials
    action: str                    # "tightened", "widened low", "widened high", "kept", ...
    reason: str


@dataclass(frozen=True)
class RangeProposal:
    space: SearchSpace
    changes: list[RangeChange]
    n_best: int
    n_complete: int

    def rows(self) -> list[dict[str, Any]]:
        return [{"parameter": PARAMS[c.param].label, "current": f"{_fmt(c.old[0])} - "
                 f"{_fmt(c.old[1])}", "best trials": f"{_fmt(c.best[0])} - {_fmt(c.best[1])}",
                 "proposed": f"{_fmt(c.new[0])} - {_fmt(c.new[1])}", "why": c.reason}
                for c in self.changes]


def narrow_ranges(trials: Sequence["optuna.trial.FrozenTrial"], space: SearchSpace, *,
                  top_fraction: float = 0.2, min_best: int = 3, edge: float = 0.1,
                  widen: float = 0.5, margin: float = 0.25, direction: str = "minimize"
                  ) -> RangeProposal:
    """Propose the next study's ranges from the best complete trials.

    The best ``top_fraction`` of complete trials (at least ``min_best``) are
    taken. Per parameter, in the parameter's own scale (log for the learning
    rate and batch size):

    * when the best values crowd against a bound (within ``edge`` of the range
      width from it), that bound moves outward by ``widen`` x the width - the
      optimum may lie beyond it;
    * otherwise the bound moves in to the best values, padded by ``margin`` x
      their spread (at least 5 % of the old width) so the next study still
      explores around them.

    Bounds never cross a parameter's hard limit (latent size >= 1, learning
    rate > 0...).
    """
    from optuna.trial import TrialState

    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None
                and math.isfinite(t.value)]
    if len(complete) < min_best:
        raise InputError(f"narrowing the ranges needs at least {min_best} complete trials; the "
                         f"study has {len(complete)}; run more trials first")
    complete.sort(key=lambda t: t.value, reverse=direction == "maximize")
    n_best = max(min_best, int(math.ceil(top_fraction * len(complete))))
    best = complete[:n_best]
    ranges: dict[str, tuple[float, float]] = {}
    changes = []
    for name, (low, high) in space.ranges().items():
        spec = PARAMS[name]
        values = [_param_value(t, name) for t in best]
        values = [v for v in values if v is not None]
        if not values:
            ranges[name] = (low, high)
            changes.append(RangeChange(name, (low, high), (low, high), (low, high), "kept",
                                       "not recorded in the best trials"))
            continue
        fwd, inv = (math.log, math.exp) if spec.log else (float, float)
        lo_t, hi_t = fwd(low), fwd(high)
        width = hi_t - lo_t
        v_lo, v_hi = fwd(min(values)), fwd(max(values))
        pad = max(margin * (v_hi - v_lo), 0.05 * width)
        reasons = []
        if width > 0 and v_lo - lo_t <= edge * width:
            new_lo = lo_t - widen * width
            reasons.append("best values crowd the lower bound: widened it")
        else:
            new_lo = max(lo_t, v_lo - pad)
        if width > 0 and hi_t - v_hi <= edge * width:
            new_hi = hi_t + widen * width
            reasons.append("best values crowd the upper bound: widened it")
        else:
            new_hi = min(hi_t, v_hi + pad)
        new = _clip_to_spec(name, inv(new_lo), inv(new_hi))
        if reasons:
            action = "widened"
            if new == (low, high):
                reasons.append("(already at the smallest allowed value)")
        elif new == (low, high):
            action, reasons = "kept", ["best values spread over the whole range"]
        else:
            action = "tightened"
            reasons.append("tightened around the best values")
        ranges[name] = new
        changes.append(RangeChange(name, (low, high), new, (min(values), max(values)), action,
                                   "; ".join(reasons)))
    return RangeProposal(space=SearchSpace(**ranges), changes=changes, n_best=n_best,
                         n_complete=len(complete))


def _param_value(trial: "optuna.trial.FrozenTrial", name: str) -> float | None:
    if name in trial.params:
        return float(trial.params[name])
    config = trial.user_attrs.get(CONFIG_ATTR) or {}
    if name == "n_layers" and "hidden" in config:
        return float(len(config["hidden"]))
    value = config.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return float(value) if isinstance(value, (int, float)) else None


def _clip_to_spec(name: str, low: float, high: float) -> tuple[float, float]:
    spec = PARAMS[name]
    if spec.integer:
        low, high = math.floor(low + 1e-9), math.ceil(high - 1e-9)
        low = max(int(spec.minimum), low)
        high = max(low, high)
        return int(low), int(high)
    floor = spec.minimum if not spec.positive else 0.0
    low = max(low, floor) if not spec.positive else (low if low > 0 else high * 1e-3)
    low, high = float(f"{low:.3g}"), float(f"{high:.3g}")  # readable bounds, e.g. 2.4e-4
    return low, max(low, high)


# --------------------------------------------------------------------------- records

@dataclass(frozen=True)
class StudySummary:
    n_trials: int
    n_complete: int
    n_pruned: int
    n_failed: int
    n_running: int
    share_pruned: float             # pruned / (complete + pruned)
    best_number: int | None
    best_value: float | None
    best_params: dict[str, Any]


def _best_value(study: "optuna.Study") -> float | None:
    try:
        return float(study.best_value)
    except ValueError:  # no complete trial yet
        return None


def study_summary(study: "optuna.Study") -> StudySummary:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    count = {state: sum(t.state == state for t in trials) for state in TrialState}
    finished = count[TrialState.COMPLETE] + count[TrialState.PRUNED]
    try:
        best = study.best_trial
    except ValueError:
        best = None
    return StudySummary(
        n_trials=len(trials), n_complete=count[TrialState.COMPLETE],
        n_pruned=count[TrialState.PRUNED], n_failed=count[TrialState.FAIL],
        n_running=count[TrialState.RUNNING] + count[TrialState.WAITING],
        share_pruned=count[TrialState.PRUNED] / finished if finished else 0.0,
        best_number=best.number if best is not None else None,
        best_value=float(best.value) if best is not None else None,
        best_params=dict(best.params) if best is not None else {})


def trial_rows(study: "optuna.Study") -> list[dict[str, Any]]:
    """One row per trial for a table: number, state, value, pruned-at epoch, params, time."""
    from optuna.trial import TrialState

    rows = []
    for t in study.get_trials(deepcopy=False):
        duration = t.duration.total_seconds() if t.duration is not None else None
        row: dict[str, Any] = {
            "trial": t.number, "state": t.state.name.lower(),
            "value": t.value if t.state == TrialState.COMPLETE else None,
            "pruned at epoch": t.last_step if t.state == TrialState.PRUNED else None,
            "last epoch": t.last_step, "seconds": round(duration, 2) if duration else None}
        for name in PARAMS:
            if name in t.params:
                row[name] = t.params[name]
        rows.append(row)
    return rows


PLOTS: dict[str, str] = {
    "history": "Optimization history",
    "slice": "Slice",
    "importances": "Parameter importances",
    "intermediate": "Intermediate values",
    "timeline": "Timeline",
}


@dataclass
class StudyPlot:
    """One of Optuna's figures, or why it cannot be drawn yet."""

    key: str
    title: str
    figure: "go.Figure | None"
    note: str = ""


def study_figures(study: "optuna.Study", keys: Iterable[str] = PLOTS) -> list[StudyPlot]:
    """Optuna's own plotly figures for a study (optuna.visualization, not redrawn here).

    A figure that needs more trials (importances need two complete trials with
    varying parameters) comes back with ``figure=None`` and a note saying why.
    """
    import optuna.visualization as vis
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.trial import TrialState

    n_complete = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    makers = {
        "history": lambda: vis.plot_optimization_history(study),
        "slice": lambda: vis.plot_slice(study),
        # Seeded evaluator: the same study always gives the same bars.
        "importances": lambda: vis.plot_param_importances(
            study, evaluator=FanovaImportanceEvaluator(seed=0)),
        "intermediate": lambda: vis.plot_intermediate_values(study),
        "timeline": lambda: vis.plot_timeline(study),
    }
    plots = []
    for key in keys:
        title = PLOTS[key]
        if key == "importances" and n_complete < 2:
            plots.append(StudyPlot(key, title, None, "parameter importances need at least two "
                                   "complete trials"))
            continue
        if key != "timeline" and n_complete == 0 and key != "intermediate":
            plots.append(StudyPlot(key, title, None, "no complete trial yet"))
            continue
        try:
            figure = makers[key]()
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:
            plots.append(StudyPlot(key, title, None, f"cannot draw yet: {exc}"))
            continue
        figure.update_layout(title=f"{title} - {study.study_name}")
        plots.append(StudyPlot(key, title, figure))
    return plots


def write_plots(study: "optuna.Study", out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the study's figures as HTML files (plotly.js once, next to them, for offline use)."""
    from synth_core.workspace import atomic_write_bytes, safe_name

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for plot in study_figures(study):
        if plot.figure is None:
            continue
        path = out / f"{safe_name(study.study_name)}-{plot.key}.html"
        html = plot.figure.to_html(include_plotlyjs="directory", full_html=True)
        atomic_write_bytes(path, html.encode("utf-8"))
        paths.append(path)
    if paths and not (out / "plotly.min.js").is_file():
        from plotly.offline import get_plotlyjs

        atomic_write_bytes(out / "plotly.min.js", get_plotlyjs().encode("utf-8"))
    return paths


def best_train_config(study: "optuna.Study", *, train: dict[str, Any] | None = None
                      ) -> "TrainConfig":
    """The TrainConfig of the study's best trial (what a final model is trained with)."""
    try:
        best = study.best_trial
    except ValueError as exc:
        raise InputError(f"study {study.study_name!r} has no complete trial yet; run trials "
                         "first") from exc
    stored = best.user_attrs.get(CONFIG_ATTR)
    if stored:
        config = train_config_from_dict(stored)
    else:
        meta = study.user_attrs.get(STUDY_ATTR, {})
        config = train_config_from_dict({"model": meta.get("model", "vae"), **best.params})
        if "hidden" in best.params:
            n_layers = int(best.params.get("n_layers", 1))
            config = dataclasses.replace(config, hidden=(int(best.params["hidden"]),) * n_layers)
    if train:
        config = dataclasses.replace(config, **train)
    return config


def study_dataset(study: "optuna.Study") -> str:
    """The dataset reference the study was run on ('' when unknown)."""
    return str(study.user_attrs.get(STUDY_ATTR, {}).get("dataset", ""))


def study_space(study: "optuna.Study") -> SearchSpace | None:
    space = study.user_attrs.get(STUDY_ATTR, {}).get("space")
    return SearchSpace.from_dict(space) if space else None


def study_model(study: "optuna.Study") -> str:
    return str(study.user_attrs.get(STUDY_ATTR, {}).get("model", "vae"))


# --------------------------------------------------------------------------- job

def tune_job(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Background job: ``{"dataset": ref, "config": TuneConfig.to_dict()}`` -> study summary."""
    from synth_core.data.datasets import load_dataset

    workspace = ctx.workspace
    config = TuneConfig.from_dict(params.get("config", {}))
    if not config.storage:
        config = dataclasses.replace(config, storage=workspace.optuna_url)
    ref = str(params.get("dataset", ""))
    data = load_dataset(ref, workspace)
    result = run_study(data, config, workspace=workspace, callback=ctx, dataset_ref=ref)
    summary = result.summary
    best = (f"best value {summary.best_value:.5g} (trial {summary.best_number})"
            if summary.best_value is not None else "no complete trial")
    out = result.to_dict()
    out["storage"] = config.storage
    out["message"] = (f"{summary.n_complete} complete, "
                      f"{summary.n_pruned} pruned; {best}")
    return out
