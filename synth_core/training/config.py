"""The training config, its presets and the run folder's file names (no torch here).

:class:`TrainConfig` is the currency between the page, the CLI and Optuna: a
frozen dataclass checked on construction and stored as a run's config.json.
Keeping it apart from the trainer lets ``--help``, forms and studies build and
check configs without importing torch.

Options that depend on the data's shape (``latent_dim``, ``hidden``,
``batch_size``, ``val_fraction``) and ``test_folds`` may be None, meaning
"derive from the data": :func:`synth_core.training.defaults.plan_training`
fills them in (the trainer calls it), and the run folder stores the filled-in
config together with the list of derived values, so every run repeats exactly.
Explicit values are kept as given. The defaults are the best settings measured
by ``benchmarks/train.py --quality`` (calibrated "sigma" decoder on
quantile-normalised features, training rows at plotting positions); the thesis
settings are the ``thesis-vae`` and ``thesis-cvae`` presets.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from synth_core.data.scaling import TRANSFORM_KINDS
from synth_core.errors import InputError
from synth_core.numbers import parse_ints
from synth_core.models.kinds import BODY_KINDS, DECODER_KINDS, MODEL_KINDS

WEIGHTS_FILE = "model.pt"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.json"
SCALER_FILE = "scaler.json"
METRICS_FILE = "metrics.json"
SPLIT_FILE = "split.json"
RUN_FORMAT = 1
# Options that None means "derive from the data" (defaults.plan_training fills them in).
AUTO_FIELDS: tuple[str, ...] = ("latent_dim", "hidden", "batch_size", "val_fraction",
                                "test_folds", "test_fraction")
_DEVICE_NAME = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _check_int(name: str, value: Any, minimum: int, fix: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be a whole number >= {minimum}; got {value!r}; {fix}")


def parse_hidden(value: Any, *, allow_empty: bool = False) -> tuple[int, ...]:
    """Hidden layer sizes from 483, "483", "512,256", [512, 256] -> (512, 256); "" -> () only
    with ``allow_empty`` (the "fcn" body)."""
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
    if (not sizes and not allow_empty) or any(s < 1 for s in sizes):
        raise InputError(f"hidden: give at least one layer size, each at least 1; got {value!r}; "
                         "write e.g. 483 or 512,256")
    return sizes


def parse_folds(value: Any) -> tuple[int, ...]:
    """Fold numbers from 10, "9,10", "1-3", [9, 10] -> sorted (9, 10); "" or [] -> () (none)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = [int(value)]
    folds = parse_ints(value, name="test_folds", example="10, 9,10 or 8-10")
    return tuple(sorted(set(folds or ())))


def check_device_name(name: str) -> str:
    """The device name lower-cased, or an error naming the choices ("cuda:1" is fine)."""
    text = str(name).strip().lower()
    if not _DEVICE_NAME.match(text):
        raise InputError(f"device: unknown device {name!r}; use auto, cpu or cuda")
    return text


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (stored in the run's config.json).

    None means "derived from the data" (see the module docstring).
    """

    model: str = "vae"
    latent_dim: int | None = None  # derived: n_features // 4, clipped to [2, 16]
    hidden: tuple[int, ...] | None = None  # derived: one layer, 256..512 by feature count
    lr: float = 1e-3
    epochs: int = 300
    batch_size: int | None = None  # derived: a power of two, <= 128 and <= training rows / 4
    patience: int = 20             # epochs without a better validation loss; 0 = never stop early
    val_fraction: float | None = None  # derived: 0.1, or 0 (monitor training rows) on tiny data
    seed: int = 0
    device: str = "auto"           # "auto" -> cuda when available
    beta: float = 1.0              # KL weight
    kl_warmup_epochs: int = 0      # KL weight grows linearly from beta/n to beta over n epochs
    noise_std: float = 0.1         # dae only
    l1: float = 0.0                # ae only: L1 penalty on the code
    body: str = "mlp"              # "conv" for image datasets (feature_shape attr)
    # decoder and transform: the best of the settings compared by `benchmarks/train.py
    # --quality` (CVAE, 70/30, busy machine). Thesis preset -> sigma/quantile, mean of 3 seeds:
    # detection AUC (0.5 = indistinguishable) breast cancer 0.999 -> 0.61, wine 0.986 -> 0.855
    # (0.60 sampling the decoder); random-forest TSTR/TRTR 0.98 -> 0.97, 0.96 -> 0.95 (0.96
    # sampled); active latent units 0 -> 7 and 0 -> 3. Digits (1 seed): TSTR/TRTR 0.88 -> 0.93.
    # Standardisation was worse (AUC 0.71 and 0.95; digits TSTR/TRTR 0.73).
    # "sigma-per-feature-closed" (one closed-form sigma per feature) was measured against it
    # (docs/quality.md, quality.py --set decoder=...): even on wine and breast cancer, far worse on
    # digits (TSTR/TRTR 0.97 -> 0.24) and demo sounds; the shared sigma stays the default.
    decoder: str = "sigma"         # "thesis", "sigma", "sigma-per-feature[-closed]" (base.py)
    # "quantile-hazen" rather than "quantile" (docs/quality.md, quality.py --set transform=...): the
    # training extremes at norm.ppf(0.5 / n), not +-5.2; detection AUC nearer 0.5 and the
    # nearest-real ratio nearer 1 on all four tables (digits 1.00 -> 0.81), TSTR within noise.
    transform: str = "quantile-hazen"  # "minmax", "standard", "quantile" or "quantile-hazen"
    test_folds: tuple[int, ...] | None = None  # rows left out; None: the dataset's attrs
    # Share of each class held out as never-seen test rows when no test folds are in force, so
    # that Evaluate has honest real rows to test on. None: derived (0.2, or 0 on tiny data).
    test_fraction: float | None = None

    def __post_init__(self) -> None:
        if self.hidden is not None:
            # Only the fully convolutional body has no hidden layers.
            object.__setattr__(self, "hidden", parse_hidden(self.hidden,
                                                            allow_empty=self.body == "fcn"))
        if self.test_folds is not None:
            object.__setattr__(self, "test_folds", parse_folds(self.test_folds))
        if self.model not in MODEL_KINDS:
            raise InputError(f"model: unknown model {self.model!r}; choose one of "
                             f"{', '.join(MODEL_KINDS)}")
        if self.latent_dim is not None:
            _check_int("latent_dim", self.latent_dim, 1, "try 8, or leave it out to derive it "
                       "from the data")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"lr (learning rate) must be a positive number; got {self.lr!r}; "
                             "try 1e-3 (or 2.78e-4, the thesis VAE)")
        _check_int("epochs", self.epochs, 1, "try 300 (early stopping ends sooner) or 30 for "
                   "a quick look")
        if self.batch_size is not None:
            _check_int("batch_size", self.batch_size, 1, "try 64, or leave it out to fit the data")
        _check_int("patience", self.patience, 0, "use 20, or 0 to never stop early")
        _check_int("seed", self.seed, 0, "use any whole number >= 0")
        _check_int("kl_warmup_epochs", self.kl_warmup_epochs, 0, "use 0 for no warm-up")
        if self.val_fraction is not None and not (
                isinstance(self.val_fraction, (int, float)) and 0 <= self.val_fraction < 1):
            raise InputError(f"val_fraction must be at least 0 and below 1; got "
                             f"{self.val_fraction}; try 0.1 (10% of the rows for validation)")
        if self.test_fraction is not None and not (
                isinstance(self.test_fraction, (int, float)) and 0 <= self.test_fraction < 1):
            raise InputError(f"test_fraction must be at least 0 and below 1; got "
                             f"{self.test_fraction!r}; try 0.2, or 0 to train on every row")
        for name in ("beta", "noise_std", "l1"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be zero or a positive number; got {value!r}")
        if self.body not in BODY_KINDS:
            raise InputError(f"body must be one of {', '.join(BODY_KINDS)}; got {self.body!r}; "
                             "'conv' only fits image datasets")
        if self.decoder not in DECODER_KINDS:
            raise InputError(f"decoder: unknown decoder {self.decoder!r}; choose one of "
                             f"{', '.join(DECODER_KINDS)}")
        if self.transform not in TRANSFORM_KINDS:
            raise InputError(f"transform: unknown feature transform {self.transform!r}; choose "
                             f"one of {', '.join(TRANSFORM_KINDS)}")
        if self.decoder == "thesis" and self.transform != "minmax":
            raise InputError(
                f"decoder 'thesis' ends in a sigmoid (and the CVAE's cross-entropy needs targets "
                f"in [0, 1]), so it needs features min-max scaled to [0, 1]; got transform "
                f"{self.transform!r}; use transform 'minmax' with the thesis decoder, or decoder "
                f"'sigma' with transform {self.transform!r}")
        check_device_name(self.device)

    @property
    def derived_fields(self) -> tuple[str, ...]:
        """The options left to be derived from the data (None here)."""
        return tuple(name for name in AUTO_FIELDS if getattr(self, name) is None)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self),
                "hidden": list(self.hidden) if self.hidden is not None else None,
                "test_folds": list(self.test_folds) if self.test_folds is not None else None}

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


_THESIS = dict(decoder="thesis", transform="minmax", patience=10, val_fraction=0.1)
PRESETS: dict[str, TrainConfig] = {
    # The thesis's tuned VAE and CVAE for 512-d VGGish embeddings, with its losses and min-max
    # scaling. Batch size: derived (128 on data of 512+ training rows, as the project always
    # used, see benchmarks/train.py; smaller on small data; the thesis used 12), and recorded.
    "thesis-vae": TrainConfig(model="vae", latent_dim=42, hidden=(483,), lr=2.78e-4, epochs=176,
                              **_THESIS),
    "thesis-cvae": TrainConfig(model="cvae", latent_dim=8, hidden=(490,), lr=6.79e-4, epochs=180,
                               **_THESIS),
    # Small and fast: a first look at any dataset in seconds (shape-dependent values derived).
    "quick-vae": TrainConfig(model="vae", hidden=(128,), lr=1e-3, epochs=30),
    "quick-cvae": TrainConfig(model="cvae", hidden=(128,), lr=1e-3, epochs=30),
    # Log-mel spectrograms ([64, 101] per 1 s clip) through the strided conv body: ~100 clips
    # (builtin:demo-spectrograms, a spoken-digit folder) train in a few minutes on 2 CPU cores.
    # transform "standard": the quantile transform maps each of the 6464 columns through its
    # own table (~10 s to encode or decode one row, benchmarks/audio.py); z-scores take ~1 ms.
    "spectrogram-vae": TrainConfig(model="vae", body="conv", latent_dim=16, hidden=(128,),
                                   lr=1e-3, epochs=40, batch_size=16, kl_warmup_epochs=10,
                                   transform="standard"),
    "spectrogram-cvae": TrainConfig(model="cvae", body="conv", latent_dim=16, hidden=(128,),
                                    lr=1e-3, epochs=40, batch_size=16, kl_warmup_epochs=10,
                                    transform="standard"),
}

PRESET_DESCRIPTIONS: dict[str, str] = {
    "thesis-vae": "Thesis VAE for VGGish embeddings: MSE + KL on min-max scaled features, "
                  "latent 42, hidden 483, lr 2.78e-4, 176 epochs (batch fitted to the data).",
    "thesis-cvae": "Thesis conditional VAE: BCE + KL on min-max scaled features, latent 8, "
                   "hidden 490, lr 6.79e-4, 180 epochs (batch fitted to the data).",
    "quick-vae": "Small VAE (hidden 128, lr 1e-3, 30 epochs, calibrated decoder; latent and "
                 "batch fitted to the data): seconds on small data.",
    "quick-cvae": "Small conditional VAE (hidden 128, lr 1e-3, 30 epochs, calibrated decoder).",
    "spectrogram-vae": "Conv VAE for log-mel spectrograms you can hear (latent 16, hidden 128, "
                       "lr 1e-3, 40 epochs, batch 16, KL warm-up 10): minutes on ~100 clips.",
    "spectrogram-cvae": "Conv conditional VAE for spectrograms: the same, one class at a time "
                        "(the audio tour trains this on builtin:demo-spectrograms).",
}


def kl_weight(config: TrainConfig, epoch: int) -> float:
    """beta, ramped linearly over the first ``kl_warmup_epochs`` epochs (epoch is 1-based)."""
    if config.kl_warmup_epochs <= 0:
        return config.beta
    return config.beta * min(1.0, epoch / config.kl_warmup_epochs)
