"""Study records for the page and the CLI, and narrowing the ranges between studies.

Compute-then-draw, Optuna style: :func:`study_summary` and :func:`trial_rows`
are small records a page or the CLI shows; :func:`narrow_ranges` is the
exploration -> exploitation step that proposes the next study's ranges from the
best trials; :func:`best_train_config` is what the final model is trained with.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from synth_core.errors import InputError
from synth_core.training.tuning.space import (PARAMS, SearchSpace, _fmt, fit_latent_range,
                                              train_config_from_dict)
from synth_core.training.tuning.storage import CONFIG_ATTR, STUDY_ATTR, WORKER_ATTR

if TYPE_CHECKING:
    import optuna

    from synth_core.training.config import TrainConfig


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
                  widen: float = 0.5, margin: float = 0.25, direction: str = "minimize",
                  n_features: int | None = None) -> RangeProposal:
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
    rate > 0...), nor the data's width: with ``n_features`` the latent size stays
    at most the feature count (``fit_latent_range``), as ``check_data`` requires.
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
        capped = name == "latent_dim" and n_features is not None and new[1] > n_features
        if capped:
            new = fit_latent_range(new, n_features)
        if reasons:
            action = "widened"
            if new == (low, high):
                reasons.append("(already at the smallest allowed value)")
        elif new == (low, high):
            action, reasons = "kept", ["best values spread over the whole range"]
        else:
            action = "tightened"
            reasons.append("tightened around the best values")
        if capped:
            action = "capped" if action == "widened" else action
            reasons.append(f"capped at the data's {n_features} features (a code is no wider "
                           "than the rows)")
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
        row["worker"] = worker_label(t)
        for name in PARAMS:
            if name in t.params:
                row[name] = t.params[name]
        rows.append(row)
    return rows


def worker_label(trial: "optuna.trial.FrozenTrial") -> str:
    """``host:pid`` of the process that ran the trial ('' for trials from elsewhere)."""
    worker = trial.user_attrs.get(WORKER_ATTR) or {}
    return f"{worker.get('host', '?')}:{worker.get('pid', '?')}" if worker else ""


def worker_rows(study: "optuna.Study") -> list[dict[str, Any]]:
    """One row per worker process that ran trials: its counts, best value, last trial.

    A study shared by several machines shows here who did what; a worker whose
    trial was failed by the heartbeat (it died) shows that trial as failed, and
    the retried copy under the worker that ran it again.
    """
    from optuna.trial import TrialState

    rows: dict[str, dict[str, Any]] = {}
    for t in study.get_trials(deepcopy=False):
        label = worker_label(t)
        if not label:
            continue
        row = rows.setdefault(label, {"worker": label, "trials": 0, "complete": 0, "pruned": 0,
                                      "failed": 0, "running": 0, "best value": None,
                                      "last trial": None})
        row["trials"] += 1
        key = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned",
               TrialState.FAIL: "failed", TrialState.RUNNING: "running"}.get(t.state)
        if key:
            row[key] += 1
        if t.state == TrialState.COMPLETE and t.value is not None and (
                row["best value"] is None or t.value < row["best value"]):
            row["best value"] = float(t.value)
        row["last trial"] = t.number
    return sorted(rows.values(), key=lambda r: r["last trial"], reverse=True)


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
