"""What every autoencoder in the registry shares: config, bodies, forward pass and losses.

A model is an ``nn.Module`` built from one frozen config dataclass (nanoGPT
style): ``Model(config)``. The trainer only ever calls
``model.loss(x, y, kl_weight=...)``; generation and the run folder use
``encode`` / ``decode``. Data reaching a model is min-max scaled to [0, 1], so
every decoder ends in a sigmoid (it computes logits, which the BCE loss uses
directly for numerical stability).

Bodies: ``"mlp"`` (fully connected hidden layers) or ``"conv"`` (two 3x3
convolutions over a ``feature_shape`` such as [8, 8] before / after the fully
connected layers) for image datasets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from synth_core.errors import InputError
from synth_core.models.conv import ConvDecoderBody, ConvEncoderBody

from synth_core.models.kinds import BODY_KINDS as BODIES


@dataclass(frozen=True)
class ModelConfig:
    """Shape of an autoencoder; the kind-specific configs add their own options."""

    n_features: int
    latent_dim: int = 42
    hidden: tuple[int, ...] = (483,)
    n_classes: int = 0  # > 0 only for conditional models
    body: str = "mlp"
    feature_shape: tuple[int, ...] | None = None  # [H, W] or [C, H, W] for body="conv"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.feature_shape is not None:
            object.__setattr__(self, "feature_shape", tuple(int(s) for s in self.feature_shape))
        if self.n_features < 1:
            raise InputError(f"n_features must be at least 1; got {self.n_features}")
        if not 1 <= self.latent_dim <= self.n_features:
            raise InputError(
                f"latent_dim must be between 1 and the number of features ({self.n_features}); "
                f"got {self.latent_dim}; pick a latent size smaller than the feature count")
        if any(h < 1 for h in self.hidden):
            raise InputError(f"hidden sizes must be positive integers; got {list(self.hidden)}; "
                             "give e.g. 483 or 512,256")
        if self.body not in BODIES:
            raise InputError(f"body must be one of {', '.join(BODIES)}; got {self.body!r}")
        if self.body == "conv":
            shape = self.feature_shape
            if not shape or len(shape) not in (2, 3) or math.prod(shape) != self.n_features:
                raise InputError(
                    f"body 'conv' needs an image dataset whose feature_shape ([H, W] or "
                    f"[C, H, W]) multiplies to the feature count {self.n_features}; got "
                    f"feature_shape {list(shape) if shape else None}; use body 'mlp' for this data")


class ModelOutput(NamedTuple):
    """One forward pass; ``logvar`` is None for deterministic models. Shapes [N, ...]."""

    logits: torch.Tensor  # [N, D] decoder output before the sigmoid
    mu: torch.Tensor      # [N, latent]
    logvar: torch.Tensor | None
    z: torch.Tensor       # [N, latent] the code the decoder saw


class LossParts(NamedTuple):
    """Scalar losses averaged over the batch: total = recon + kl_weight * kl (+ penalties)."""

    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor


def _mlp(sizes: list[int], activation: type[nn.Module]) -> nn.Sequential:
    """Linear layers between consecutive ``sizes``, each followed by ``activation``."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), activation()]
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Encoder -> code -> decoder; subclasses set the class attributes below.

    ``y`` arguments are one-hot class tensors [N, K] for conditional models and
    ignored (may be None) otherwise.
    """

    kind: ClassVar[str] = "ae"
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    is_variational: ClassVar[bool] = False
    is_conditional: ClassVar[bool] = False
    activation: ClassVar[type[nn.Module]] = nn.ReLU
    reconstruction: ClassVar[str] = "mse"  # "mse" or "bce", summed over features

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        act = self.activation
        n_cond = config.n_classes if self.is_conditional else 0
        hidden = list(config.hidden)
        # Encoder: [N, D] (+ one-hot [N, K]) -> hidden layers -> code heads.
        self.encoder_body = (ConvEncoderBody(config.feature_shape, act) if config.body == "conv"
                             else nn.Identity())
        n_body = self.encoder_body.out_dim if config.body == "conv" else config.n_features
        self.encoder = _mlp([n_body + n_cond, *hidden], act)
        n_enc = hidden[-1] if hidden else n_body + n_cond
        self.mu = nn.Linear(n_enc, config.latent_dim)
        self.logvar = nn.Linear(n_enc, config.latent_dim) if self.is_variational else None
        # Decoder: code [N, latent] (+ one-hot [N, K]) -> reversed hidden layers -> [N, D] logits.
        self.decoder = _mlp([config.latent_dim + n_cond, *reversed(hidden)], act)
        n_dec = hidden[0] if hidden else config.latent_dim + n_cond
        self.output = (ConvDecoderBody(config.feature_shape, n_dec, act) if config.body == "conv"
                       else nn.Linear(n_dec, config.n_features))

    # -- pieces ---------------------------------------------------------------------------
    def _with_condition(self, h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if not self.is_conditional:
            return h
        if y is None:
            raise InputError(f"the {self.kind} model is conditional: give the class of every row")
        return torch.cat([h, y.to(h.dtype)], dim=1)  # [N, H + K]

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoder sees while training (the denoising model adds noise)."""
        return x

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """[N, D] in [0, 1] -> (mu [N, latent], logvar [N, latent] or None)."""
        h = self.encoder(self._with_condition(self.encoder_body(x), y))
        return self.mu(h), (self.logvar(h) if self.logvar is not None else None)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.output(self.decoder(self._with_condition(z, y)))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """[N, latent] -> [N, D] in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> ModelOutput:
        mu, logvar = self.encode(self.corrupt(x) if self.training else x, y)
        z = mu
        if logvar is not None and self.training:
            # Reparameterisation: z = mu + sigma * eps keeps the sample differentiable.
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return ModelOutput(self.decode_logits(z, y), mu, logvar, z)

    # -- losses ---------------------------------------------------------------------------
    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, *,
             kl_weight: float = 1.0) -> LossParts:
        """Forward pass and loss for a batch ``x`` [N, D] in [0, 1] (the clean target)."""
        out = self(x, y)
        recon = reconstruction_loss(out.logits, x, self.reconstruction)
        kl = (kl_divergence(out.mu, out.logvar) if out.logvar is not None
              else recon.new_zeros(()))
        return LossParts(recon + kl_weight * kl + self.penalty(out), recon, kl)

    def penalty(self, out: ModelOutput) -> torch.Tensor:
        """Extra regularisation added to the total (the AE's L1 on the code)."""
        return out.mu.new_zeros(())


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Summed over features, averaged over the batch."""
    if kind == "bce":
        per_row = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)
    else:
        per_row = (torch.sigmoid(logits) - target).pow(2).sum(1)
    return per_row.mean()


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the latent, averaged over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
