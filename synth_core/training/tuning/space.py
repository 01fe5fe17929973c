"""Search space and study config: what a study searches and how it runs.

:class:`SearchSpace` holds the ranges searched (latent size, hidden units,
learning rate on a log scale, epochs; optionally batch size, KL weight and
layer count); :data:`RANGE_PRESETS` are the thesis's Exploration and
Exploitation ranges for the VAE and the CVAE; :class:`TuneConfig` is
everything one study run needs (a frozen config, like ``TrainConfig``): forms,
CLI flags and job params all produce one. Torch- and Optuna-free.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synth_core.errors import InputError

if TYPE_CHECKING:
    import optuna

    from synth_core.training.config import TrainConfig

MODELS = ("vae", "cvae")


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
                    else max(len(base.hidden or ()), 1))  # None: derived, one layer
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


def fit_latent_range(latent: tuple[int, int], n_features: int) -> tuple[int, int]:
    """``latent`` with its upper bound cut to the data's feature count (a code is no wider
    than the data); unchanged when it fits."""
    low, high = latent
    return latent if high <= n_features else (min(low, n_features), n_features)


def presets_for(model: str) -> list[str]:
    """Names of the range presets that apply to ``model``."""
    return [name for name, preset in RANGE_PRESETS.items() if model in preset.models]


def read_ranges(text_or_dict: str | dict | None) -> dict:
    """The ranges a user gave, as a mapping: a JSON string, a path to a JSON file, or a
    dict (empty for none). Names and values are checked by :func:`parse_ranges`."""
    if text_or_dict is None or (isinstance(text_or_dict, str) and not text_or_dict.strip()):
        return {}
    if not isinstance(text_or_dict, str):
        return text_or_dict
    import json

    text = text_or_dict.strip()
    if not text.startswith("{") and Path(text).expanduser().is_file():
        text = Path(text).expanduser().read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"ranges: not valid JSON ({exc.msg} at character {exc.pos}): "
                         f"{text_or_dict[:80]!r}; write e.g. "
                         "'{\"latent_dim\": [3, 203], \"lr\": [1e-5, 1e-2]}'") from exc


def parse_ranges(text_or_dict: str | dict | None, *, preset: str | None = None) -> SearchSpace:
    """A search space from a preset name and/or ranges JSON (a string, a dict or a file path).

    Ranges given explicitly override the preset's; with neither, Exploration.
    """
    if preset is not None and preset not in RANGE_PRESETS:
        raise InputError(f"preset {preset!r} is unknown; choose one of {', '.join(RANGE_PRESETS)}")
    base = RANGE_PRESETS[preset or "exploration"].space
    ranges = read_ranges(text_or_dict)
    return SearchSpace.from_dict(ranges, base=base) if ranges else base


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
    heartbeat_interval: int = 60    # database storages: seconds between a running trial's
                                    # heartbeats; a trial silent for twice this is failed+retried
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
        _positive_int("heartbeat interval", self.heartbeat_interval, "e.g. --heartbeat 60")
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
