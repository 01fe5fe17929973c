"""A deterministic autoencoder: MSE reconstruction, optional L1 penalty on the code.

The baseline the VAE is compared with: no sampling and no KL term (the KL
column of its history is 0). ``l1`` > 0 adds ``l1 * mean_rows(sum |code|)``
to the loss, a sparse code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from synth_core.errors import InputError
from synth_core.models.base import Autoencoder, ModelConfig, ModelOutput


@dataclass(frozen=True)
class AEConfig(ModelConfig):
    l1: float = 0.0  # weight of the L1 penalty on the code

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.l1 >= 0:
            raise InputError(f"l1 must be zero or positive; got {self.l1}; use 0 to switch it off")


class AE(Autoencoder):
    kind = "ae"
    config_class = AEConfig
    activation = nn.ReLU
    reconstruction = "mse"

    def penalty(self, out: ModelOutput) -> torch.Tensor:
        if not self.config.l1:
            return out.mu.new_zeros(())
        return self.config.l1 * out.mu.abs().sum(1).mean()
