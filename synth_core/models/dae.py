"""A denoising autoencoder: Gaussian noise on the input, the clean row as target.

While training, the encoder sees ``x + noise_std * N(0, 1)`` and the loss
compares the reconstruction with the clean ``x`` (MSE summed over features).
Evaluation and encoding use the clean input.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from synth_core.errors import InputError
from synth_core.models.ae import AE, AEConfig


@dataclass(frozen=True)
class DAEConfig(AEConfig):
    noise_std: float = 0.1  # sigma of the input noise, in the units the model sees after the
    # run's transform: about one standard deviation per unit for quantile/standard, the
    # [0, 1] range for minmax (benchmarks/images.py's DAE rows use minmax)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.noise_std >= 0:
            raise InputError(f"noise_std must be zero or positive; got {self.noise_std}; "
                             "try 0.1")


class DAE(AE):
    kind = "dae"
    config_class = DAEConfig
    activation = nn.ReLU

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.config.noise_std * torch.randn_like(x)
