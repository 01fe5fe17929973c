"""The training config, its presets and the run folder's file names (no torch here).

:class:`TrainConfig` is the currency between the page, the CLI and Optuna: a
frozen dataclass checked on construction and stored as a run's config.json.
Keeping it apart from the trainer lets ``--help``, forms and studies build and
check configs without importing torch.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from synth_core.errors import InputError
from synth_core.models.kinds import BODY_KINDS, MODEL_KINDS

WEIGHTS_FILE = "model.pt"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.json"
SCALER_FILE = "scaler.json"
METRICS_FILE = "metrics.json"
SPLIT_FILE = "split.json"
RUN_FORMAT = 1
_DEVICE_NAME = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _check_int(name: str, value: Any, minimum: int, fix: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be a whole number >= {minimum}; got {value!r}; {fix}")


def parse_hidden(value: Any) -> tuple[int, ...]:
    """Hidden layer sizes from 483, "483", "512,256", [512, 256] -> (512, 256)."""
    if isinstance(value, str):
        parts = [p for p in value.replace(" ", "").split(",") if p]
    elif isinstance(value, (int, np.integer)):
        parts = [value]
    else:
        parts = list(value)
    try:
        sizes = tuple(int(p) for p in parts)
        if any(float(p) != int(p) for p in parts):
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(f"hidden: layer sizes must be whole numbers separated by commas; got "
                         f"{value!r}; write e.g. 483 or 512,256") from None
    if not sizes or any(s < 1 for s in sizes):
        raise InputError(f"hidden: give at least one layer size, each at least 1; got {value!r}; "
                         "write e.g. 483 or 512,256")
    return sizes


def check_device_name(name: str) -> str:
    """The device name lower-cased, or an error naming the choices ("cuda:1" is fine)."""
    text = str(name).strip().lower()
    if not _DEVICE_NAME.match(text):
        raise InputError(f"device: unknown device {name!r}; use auto, cpu or cuda")
    return text


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (stored in the run's config.json)."""

    model: str = "vae"
    latent_dim: int = 42
    hidden: tuple[int, ...] = (483,)
    lr: float = 2.78e-4
    epochs: int = 176
    # 128: measured by benchmarks/train.py as >10x a thesis-style epoch at batch 12 on 2 CPU
    # cores (64 gave ~7x). Small datasets get a smaller default from fit_batch_size().
    batch_size: int = 128
    patience: int = 10             # epochs without a better validation loss; 0 = never stop early
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"           # "auto" -> cuda when available
    beta: float = 1.0              # KL weight
    kl_warmup_epochs: int = 0      # KL weight grows linearly from beta/n to beta over n epochs
    noise_std: float = 0.1         # dae only
    l1: float = 0.0                # ae only: L1 penalty on the code
    body: str = "mlp"              # "conv" for image datasets (feature_shape attr)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", parse_hidden(self.hidden))
        if self.model not in MODEL_KINDS:
            raise InputError(f"model: unknown model {self.model!r}; choose one of "
                             f"{', '.join(MODEL_KINDS)}")
        _check_int("latent_dim", self.latent_dim, 1, "try 42 (thesis VAE) or 8 (thesis CVAE)")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"lr (learning rate) must be a positive number; got {self.lr!r}; "
                             "try 2.78e-4 (thesis VAE) or 1e-3")
        _check_int("epochs", self.epochs, 1, "try 176 (thesis) or 30 for a quick look")
        _check_int("batch_size", self.batch_size, 1, "try 64")
        _check_int("patience", self.patience, 0, "use 10, or 0 to never stop early")
        _check_int("seed", self.seed, 0, "use any whole number >= 0")
        _check_int("kl_warmup_epochs", self.kl_warmup_epochs, 0, "use 0 for no warm-up")
        if not 0 <= self.val_fraction < 1:
            raise InputError(f"val_fraction must be at least 0 and below 1; got "
                             f"{self.val_fraction}; try 0.1 (10% of the rows for validation)")
        for name in ("beta", "noise_std", "l1"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be zero or a positive number; got {value!r}")
        if self.body not in BODY_KINDS:
            raise InputError(f"body must be one of {', '.join(BODY_KINDS)}; got {self.body!r}; "
                             "'conv' only fits image datasets")
        check_device_name(self.device)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "hidden": list(self.hidden)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build from JSON-ish values (lists, strings); unknown keys are refused by name."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise InputError(f"training config: unknown option(s) {', '.join(unknown)}; "
                             f"known options are {', '.join(sorted(names))}")
        return cls(**values)

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, TrainConfig] = {
    # The thesis's tuned VAE and CVAE for 512-d VGGish embeddings (batch size: the project
    # default, see benchmarks/train.py; the thesis used 12).
    "thesis-vae": TrainConfig(model="vae", latent_dim=42, hidden=(483,), lr=2.78e-4, epochs=176),
    "thesis-cvae": TrainConfig(model="cvae", latent_dim=8, hidden=(490,), lr=6.79e-4, epochs=180),
    # Small and fast: a first look at any dataset in seconds.
    "quick-vae": TrainConfig(model="vae", latent_dim=8, hidden=(128,), lr=1e-3, epochs=30,
                             batch_size=32),
    "quick-cvae": TrainConfig(model="cvae", latent_dim=8, hidden=(128,), lr=1e-3, epochs=30,
                              batch_size=32),
}

PRESET_DESCRIPTIONS: dict[str, str] = {
    "thesis-vae": "Thesis VAE for VGGish embeddings: latent 42, hidden 483, lr 2.78e-4, "
                  "176 epochs.",
    "thesis-cvae": "Thesis conditional VAE: latent 8, hidden 490, lr 6.79e-4, 180 epochs.",
    "quick-vae": "Small VAE (latent 8, hidden 128, lr 1e-3, 30 epochs, batch 32): seconds on "
                 "small data.",
    "quick-cvae": "Small conditional VAE (latent 8, hidden 128, lr 1e-3, 30 epochs, batch 32).",
}


def kl_weight(config: TrainConfig, epoch: int) -> float:
    """beta, ramped linearly over the first ``kl_warmup_epochs`` epochs (epoch is 1-based)."""
    if config.kl_warmup_epochs <= 0:
        return config.beta
    return config.beta * min(1.0, epoch / config.kl_warmup_epochs)


def fit_batch_size(n_train: int, batch_size: int) -> int:
    """``batch_size``, or the largest power of two that fits ``n_train`` training rows.

    For defaults only (the page's form, a study without a batch size of its own):
    an explicit batch size larger than the data is refused by the trainer instead.
    """
    if batch_size <= n_train:
        return int(batch_size)
    return int(2 ** int(np.floor(np.log2(max(n_train, 1)))))


