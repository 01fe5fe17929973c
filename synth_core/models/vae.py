"""The variational autoencoder of the thesis: reconstruction + KL.

Encoder: hidden layer(s) with ReLU -> mean and log-variance of the code;
reparameterisation; decoder: hidden layer(s) with ReLU -> the output. With the
"thesis" decoder the output is a sigmoid in [0, 1] and the loss per batch is
the squared error summed over features and averaged over rows, plus ``beta`` x
the KL divergence to N(0, I) (the trainer applies beta and its warm-up); the
"sigma" decoders replace the squared error by a calibrated Gaussian likelihood
(see :mod:`synth_core.models.base`). Thesis shape for VGGish embeddings:
512 -> 483 -> 42.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from synth_core.models.base import Autoencoder, ModelConfig


@dataclass(frozen=True)
class VAEConfig(ModelConfig):
    """Shape of a VAE (see ModelConfig); nothing extra."""


class VAE(Autoencoder):
    kind = "vae"
    config_class = VAEConfig
    is_variational = True
    activation = nn.ReLU
    reconstruction = "mse"
