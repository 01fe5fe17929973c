"""The conditional VAE of the thesis: BCE reconstruction + KL, one-hot classes.

The one-hot class [N, K] is concatenated to the encoder input and to the
latent code before decoding, so a chosen class can be generated. LeakyReLU
activations; with the "thesis" decoder the loss is binary cross-entropy summed
over features (the data are min-max scaled to [0, 1]) plus the KL divergence;
the "sigma" decoders use a calibrated Gaussian likelihood instead (see
:mod:`synth_core.models.base`). Thesis shape: 512 -> 490 -> 8.
A dataset with fewer than two classes or unlabeled rows is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from synth_core.errors import InputError
from synth_core.models.base import Autoencoder, ModelConfig


@dataclass(frozen=True)
class CVAEConfig(ModelConfig):
    """Shape of a CVAE; ``n_classes`` (K, at least 2) sizes the one-hot condition."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_classes < 2:
            raise InputError(
                f"the conditional VAE (cvae) needs a labelled dataset with at least two classes; "
                f"this one has {self.n_classes}; label the data or train a vae instead")


class CVAE(Autoencoder):
    kind = "cvae"
    config_class = CVAEConfig
    is_variational = True
    is_conditional = True
    activation = nn.LeakyReLU
    reconstruction = "bce"
