"""Running a study: the objective, :func:`run_study`, and the background-job entry point.

:class:`Objective` is a callable class holding the data (loaded once) that
trains with the project's trainer, reports the validation loss every epoch and
raises ``optuna.TrialPruned`` when the pruner says so. :func:`run_study`
creates or resumes a named study (TPE seeded, MedianPruner) and runs trials
until the study holds ``n_trials`` finished ones. :func:`tune_job` is
``jobs.JOB_KINDS["tune"]``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.events import Callback, EpochEnd, Log, Progress, emit
from synth_core.features import FeatureSet
from synth_core.training.tuning.records import StudySummary, _best_value, study_summary
from synth_core.training.tuning.plots import write_plots
from synth_core.training.tuning.space import SearchSpace, TuneConfig
from synth_core.training.tuning.storage import (CONFIG_ATTR, WORKER_ATTR, _quiet_optuna,
                                                create_or_load_study, open_storage,
                                                recover_crashed_trials, resolve_storage_url,
                                                storage_label)
from synth_core.workspace import Workspace

if TYPE_CHECKING:
    import optuna

    from synth_core.training.config import TrainConfig

logger = logging.getLogger(__name__)


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
    from synth_core.training.defaults import split_indices

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


def fit_to_data(data: FeatureSet, config: TuneConfig, *, callback: Callback | None = None,
                name: str = "dataset") -> TuneConfig:
    """``config`` as a study on ``data`` runs it (batch size, validation share and a preset's
    latent range fitted to the data), after the data checks; an InputError says what does
    not fit. The Tune page calls it before starting a job, ``run_study`` when it starts."""
    config.validate()
    config = _fit_default_batch(data, config, callback)
    config = _fit_preset_latent_range(data, config, callback)
    check_data(data, config, name=name)
    return config


def _fit_default_batch(data: FeatureSet, config: TuneConfig,
                       callback: Callback | None) -> TuneConfig:
    """A study that sets no batch size or validation share of its own gets the ones derived
    from the data (:func:`synth_core.training.defaults.study_defaults`); an explicit batch
    size that does not fit is refused by check_data."""
    from synth_core.training.defaults import study_defaults

    filled = study_defaults(data, config.base_train_config(),
                            batch_searched=config.space.batch_size is not None,
                            max_rows=config.max_rows)
    if not filled:
        return config
    emit(callback, Log("derived from the data: " + ", ".join(f"{k} {v}" for k, v in
                                                            filled.items())))
    return dataclasses.replace(config, train={**config.train, **filled})


def _fit_preset_latent_range(data: FeatureSet, config: TuneConfig,
                             callback: Callback | None) -> TuneConfig:
    """A preset's latent range (the thesis's 3-203, made for 512 VGGish features) cut to the
    data's feature count: with no ranges given, tuning refused every table of fewer than 203
    features. A latent range the user typed is left to :func:`check_data`, which refuses it
    with the bound to use."""
    from synth_core.training.tuning.space import RANGE_PRESETS, fit_latent_range

    low, high = config.space.latent_dim
    fitted = fit_latent_range((low, high), data.n_features)
    if fitted == (low, high) or not any(p.space.latent_dim == (low, high)
                                        for p in RANGE_PRESETS.values()):
        return config
    emit(callback, Log(f"latent size range {low}-{high} of the preset is cut to "
                       f"{fitted[0]}-{fitted[1]}: the data has {data.n_features} features"))
    return dataclasses.replace(config, space=dataclasses.replace(config.space, latent_dim=fitted))


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

    config = fit_to_data(data, config, callback=callback, name=dataset_ref or "dataset")
    base = config.base_train_config()
    url = resolve_storage_url(config.storage, workspace)
    storage = open_storage(url, heartbeat_interval=config.heartbeat_interval)
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
        try:
            with _torch_threads(config.n_jobs, config.threads), _quiet_optuna():
                study.optimize(objective, n_trials=remaining, timeout=config.timeout,
                               n_jobs=config.n_jobs, callbacks=callbacks, catch=())
        except Exception as exc:
            lost = _database_error(exc)
            if lost is None:
                raise
            # The database went away mid-study (restarted, network cut): what finished is
            # stored; the trial in flight is failed and retried when a worker resumes.
            reason = " ".join(str(lost).split())[:200]
            raise StorageError(
                f"storage {storage_label(url)}: lost the database during the study "
                f"({type(lost).__name__}: {reason}); finished trials are kept: run the same "
                "command again once the database is back to resume") from exc
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


def _database_error(exc: BaseException | None) -> BaseException | None:
    """The database driver's error behind ``exc``, if any (Optuna may wrap or mask it:
    a failed commit while finishing a trial surfaces as an UnboundLocalError in Optuna 5)."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__module__.startswith(("sqlalchemy", "psycopg")):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


class _torch_threads:
    """Split this process's threads between ``n_jobs`` trial threads (torch's pool is global).

    Small MLPs gain little from several threads, and on a busy machine an
    oversubscribed pool is many times slower (measured: 7.7 s vs 0.8 s per epoch
    on a loaded 2-core box), so the default is torch's current thread count
    (cores, or what the job queue gave this worker) / n_jobs, at least 1.
    """

    def __init__(self, n_jobs: int, threads: int | None) -> None:
        self.n_jobs, self.threads = n_jobs, threads

    def __enter__(self) -> None:
        import torch

        self.before = torch.get_num_threads()
        torch.set_num_threads(self.threads or max(1, self.before // self.n_jobs))

    def __exit__(self, *exc: Any) -> None:
        import torch

        torch.set_num_threads(self.before)


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
