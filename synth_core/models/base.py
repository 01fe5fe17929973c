"""What every autoencoder in the registry shares: config, bodies, forward pass and losses.

A model is an ``nn.Module`` built from one frozen config dataclass (nanoGPT
style): ``Model(config)``. The trainer only ever calls
``model.loss(x, y, kl_weight=...)`` and, once trained, ``model.calibrate(x, y)``;
generation and the run folder use ``encode`` / ``decode`` / ``sample_output``.

Decoders (``ModelConfig.decoder``):

* ``"thesis"`` -- the thesis's losses on data min-max scaled to [0, 1]: the
  output ends in a sigmoid (the raw output is a logit, which the BCE loss uses
  directly for numerical stability); VAE, AE and DAE use the squared error
  summed over features, the CVAE binary cross-entropy.
* ``"sigma"`` -- a Gaussian decoder N(mean, sigma^2 I) with a linear output
  (any transform of the data) and one shared sigma set in closed form from
  the batch error, sigma^2 = mean squared error (Rybkin, Daniilidis and
  Levine, "Simple and Effective VAE Training with Calibrated Decoders",
  2021). The loss per row is the Gaussian negative log-likelihood
  D*log(sigma) + ||x - mean||^2 / (2 sigma^2) + D/2*log(2 pi), plus the KL
  term, so the balance between the two no longer needs a tuned KL weight.
  log(sigma) is floored at :data:`LOG_SIGMA_MIN` (the closed-form value is
  exact above it; a learned one is soft-clipped so its gradient never stops).
* ``"sigma-per-feature"`` -- the same with one learned log(sigma) per feature.
* ``"sigma-per-feature-closed"`` -- one sigma per feature, each in closed form
  from the batch error of its own feature, sigma_d^2 = mean over rows of
  (x_d - mean_d)^2 (floored likewise). Not the default: features the decoder
  reconstructs almost exactly (blank image borders) get a sigma at the floor and
  their errors then outweigh every other feature's (docs/quality.md: TSTR/TRTR on digits
  0.97 with the shared sigma, 0.24 with this).

Every decoder can also *sample* (``sample_output``): the decoded mean plus
Gaussian noise with the ``log_sigma`` buffer [D] saved in the state_dict. At the
end of training (:meth:`Autoencoder.calibrate`) it is set to the per-feature
residual std of the training reconstructions, the closed-form sigma of each
feature given the trained decoder, for every decoder but "sigma-per-feature"
(which keeps its learned values); "thesis" samples are clipped to the sigmoid's
[0, 1]. So "sigma" trains with one shared sigma, which keeps training balanced
(a per-feature sigma in the loss lets near-constant features dominate, above),
and samples with one per feature, so a feature the decoder reconstructs closely
is not blurred by the error of the others: on the fold stand-in of
``benchmarks/quality.py --folds`` detection AUC 0.85 -> 0.80 (CVAE) and
0.85 -> 0.78 (VAE) at the same TSTR (docs/quality.md).

An unconditional model (VAE, AE, DAE) trained on labelled rows also keeps each
class's residual std per feature (``class_log_sigma`` [K, D]), and draws a row of
a known class with its class's sigma: its decoder is not told the class, so one
spread for all rows blurs a tight class with the error of a loose one (a CVAE's
decoder is given the class and keeps one spread). docs/quality.md: on the fold stand-ins of
``benchmarks/quality.py`` the default VAE's detection AUC 0.81 -> 0.79 (37
features) and 0.74 -> 0.70 (log-mel), precision up, TSTR the same within the seeds.

Bodies: ``"mlp"`` (fully connected hidden layers), ``"conv"`` (strided
convolutions down to a coarse grid before the fully connected layers and
transposed convolutions back up after them, :mod:`synth_core.models.conv`) for
rows with a ``feature_shape`` such as [28, 28] images or [64, 101] spectrograms,
or ``"fcn"`` (fully convolutional: the code is maps of that coarse grid, set by
1x1 convolutions, with no dense layer and no hidden sizes; the study's CNN-3L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from synth_core.errors import InputError
from synth_core.models.conv import (ConvDecoderBody, ConvEncoderBody, SpatialDecoderBody,
                                    SpatialHead)
from synth_core.models.geometry import check_image_shape, grid_cells

from synth_core.models.kinds import BODY_KINDS as BODIES
from synth_core.models.kinds import DECODER_KINDS as DECODERS

# Decoders whose sigma each training batch sets in closed form (not learned, not the thesis's).
CLOSED_FORM_DECODERS = ("sigma", "sigma-per-feature-closed")
# calibrate(): a class's own output spread counts n_c / (n_c + this) against all rows'.
CLASS_SPREAD_PRIOR_ROWS = 10
# Soft ceiling on the encoder's log-variance (a posterior variance of e^10 ~ 22,000 against
# the prior's 1 is never useful): on wide rows (a 36-clip spectrogram set of 12,864 numbers
# a row) Adam's first steps moved a hidden unit by ~10 per step, logvar reached ~60 and the
# KL term 1e27, where training stayed stuck. Softplus keeps the gradient; below ~5 the value
# is unchanged to 1e-2 (at 0 it moves by 5e-5).
LOGVAR_MAX = 10.0
LOG_SIGMA_MIN = -6.0  # floor on log(sigma) (sigma ~ 0.0025 in model units), as in sigma-VAE
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class ModelConfig:
    """Shape of an autoencoder; the kind-specific configs add their own options."""

    n_features: int
    latent_dim: int = 42
    hidden: tuple[int, ...] = (483,)
    n_classes: int = 0  # > 0 only for conditional models
    body: str = "mlp"
    feature_shape: tuple[int, ...] | None = None  # [H, W] or [C, H, W] for "conv" / "fcn"
    decoder: str = "thesis"  # "thesis", "sigma", "sigma-per-feature(-closed)" (module docstring)

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
        if self.decoder not in DECODERS:
            raise InputError(f"decoder must be one of {', '.join(DECODERS)}; got "
                             f"{self.decoder!r}")
        if self.body in ("conv", "fcn"):
            check_image_shape(self.body, self.feature_shape, self.n_features)
        if self.body == "fcn":
            cells = grid_cells(self.feature_shape)
            if self.hidden:
                raise InputError(
                    f"body 'fcn' has no hidden layers (the code is the convolutions' grid); got "
                    f"hidden {list(self.hidden)}; leave hidden out, or use body 'conv'")
            if self.latent_dim % cells:
                low = max(cells, self.latent_dim // cells * cells)
                raise InputError(
                    f"body 'fcn': the code is maps of the {cells}-cell coarse grid, so latent_dim "
                    f"must be a multiple of {cells}; got {self.latent_dim}; try {low}"
                    + (f" or {low + cells}" if low + cells <= self.n_features else ""))


class ModelOutput(NamedTuple):
    """One forward pass; ``logvar`` is None for deterministic models. Shapes [N, ...]."""

    logits: torch.Tensor  # [N, D] raw decoder output: logits ("thesis") or the Gaussian mean
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
        conv = config.body in ("conv", "fcn")
        # Encoder: [N, D] (+ one-hot [N, K]) -> hidden layers -> code heads.
        self.encoder_body = (ConvEncoderBody(config.feature_shape, act) if conv
                             else nn.Identity())
        n_body = self.encoder_body.out_dim if conv else config.n_features
        self.encoder = _mlp([n_body + n_cond, *hidden], act)
        n_enc = hidden[-1] if hidden else n_body + n_cond
        # Decoder: code [N, latent] (+ one-hot [N, K]) -> reversed hidden layers -> [N, D] logits.
        self.decoder = _mlp([config.latent_dim + n_cond, *reversed(hidden)], act)
        n_dec = hidden[0] if hidden else config.latent_dim + n_cond
        if config.body == "fcn":  # the code is a grid of maps: 1x1 convolutions, no dense layer
            code_maps = config.latent_dim // grid_cells(config.feature_shape)
            self.mu = SpatialHead(config.feature_shape, n_cond, code_maps)
            self.logvar = (SpatialHead(config.feature_shape, n_cond, code_maps)
                           if self.is_variational else None)
            self.output = SpatialDecoderBody(config.feature_shape, code_maps, n_cond, act)
        else:
            self.mu = nn.Linear(n_enc, config.latent_dim)
            self.logvar = nn.Linear(n_enc, config.latent_dim) if self.is_variational else None
            self.output = (ConvDecoderBody(config.feature_shape, n_dec, act) if conv
                           else nn.Linear(n_dec, config.n_features))
        # log(sigma) per feature [D] of the output distribution: learned for
        # "sigma-per-feature", otherwise a buffer set by training / calibrate().
        if config.decoder == "sigma-per-feature":
            self.log_sigma = nn.Parameter(torch.zeros(config.n_features))
        else:
            self.register_buffer("log_sigma", torch.zeros(config.n_features))
        # True once calibrate() has measured the output's spread: sample_output() needs it.
        self.register_buffer("output_calibrated", torch.tensor(False))
        # log(sigma) per class and feature [K, D] of an unconditional model, set by
        # calibrate() when given the training rows' classes; [0, D] until then (module
        # docstring). Its K comes from the data, so loading resizes it (_load_from_state_dict).
        self.register_buffer("class_log_sigma", torch.zeros(0, config.n_features))

    @property
    def decoder_kind(self) -> str:
        return self.config.decoder

    @property
    def bounded_output(self) -> bool:
        """Whether decoded values live in [0, 1] (the thesis decoders' sigmoid)."""
        return self.config.decoder == "thesis"

    @property
    def can_sample_output(self) -> bool:
        """Whether :meth:`sample_output` can draw (the output spread has been calibrated)."""
        return bool(self.output_calibrated)

    @property
    def has_class_spread(self) -> bool:
        """Whether :meth:`sample_output` can draw with each class's own output spread."""
        return self.class_log_sigma.shape[0] > 0

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # class_log_sigma's first size is the number of classes calibrate() saw.
        saved = state_dict.get(prefix + "class_log_sigma")
        if isinstance(saved, torch.Tensor) and saved.dim() == 2 \
                and saved.shape[1] == self.config.n_features:
            self.class_log_sigma = torch.zeros_like(saved, device=self.class_log_sigma.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def output_log_sigma(self) -> torch.Tensor:
        """log(sigma) [D] of the decoder distribution, floored at LOG_SIGMA_MIN."""
        if self.config.decoder == "sigma-per-feature":
            return _soft_floor(self.log_sigma)
        return self.log_sigma

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
        if self.logvar is None:
            return self.mu(h), None
        return self.mu(h), LOGVAR_MAX - F.softplus(LOGVAR_MAX - self.logvar(h))

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.output(self.decoder(self._with_condition(z, y)))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """[N, latent] -> [N, D] decoded mean: in [0, 1] for "thesis", unbounded otherwise."""
        raw = self.decode_logits(z, y)
        return torch.sigmoid(raw) if self.bounded_output else raw

    def sample_output(self, mean: torch.Tensor, *, generator: torch.Generator | None = None,
                      classes: torch.Tensor | None = None) -> torch.Tensor:
        """Draw rows from the decoder distribution around a decoded ``mean`` [N, D].

        ``mean + sigma * eps`` with eps ~ N(0, I) and the stored per-feature sigma
        (see the module docstring); thesis decoders clip to their [0, 1] range.
        ``classes`` [N] (class numbers, -1 for none) draws each row with its class's
        sigma where :attr:`has_class_spread`. ``generator`` (on the mean's device) makes
        the draw repeatable.
        """
        if not self.can_sample_output:
            raise InputError(
                f"this {self.kind} model's output spread was never measured (a run saved before "
                "calibrated decoders, or an untrained model), so it can only give the decoded "
                "mean; train the model again to sample from its decoder")
        sigma = self.output_log_sigma().detach().exp().to(mean.dtype)          # [D]
        if classes is not None and self.has_class_spread:
            classes = torch.as_tensor(classes, device=mean.device).long().reshape(-1)
            known = (classes >= 0) & (classes < self.class_log_sigma.shape[0])   # [N]
            rows = torch.where(known, classes, torch.zeros_like(classes))
            by_class = self.class_log_sigma.exp().to(mean.dtype)[rows]             # [N, D]
            sigma = torch.where(known[:, None], by_class, sigma.expand_as(mean))
        noise = torch.randn(mean.shape, generator=generator, device=mean.device,
                            dtype=mean.dtype)                                    # [N, D]
        drawn = mean + sigma * noise
        return drawn.clamp(0.0, 1.0) if self.bounded_output else drawn

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
        """Forward pass and loss for a batch ``x`` [N, D] (the clean target).

        "thesis" decoders need ``x`` in [0, 1]. With the closed-form decoders ("sigma",
        "sigma-per-feature-closed") a training batch sets sigma (and stores it in
        ``log_sigma``); evaluation uses the stored value.
        """
        out = self(x, y)
        if self.config.decoder == "thesis":
            recon = reconstruction_loss(out.logits, x, self.reconstruction)
        else:
            if self.config.decoder in CLOSED_FORM_DECODERS and self.training:
                per_feature = self.config.decoder == "sigma-per-feature-closed"
                with torch.no_grad():  # copy_, not fill_(float): no device sync per batch
                    self.log_sigma.copy_(closed_form_log_sigma(
                        out.logits, x, per_feature=per_feature).expand_as(self.log_sigma))
            recon = gaussian_nll(out.logits, x, self.output_log_sigma())
        kl = (kl_divergence(out.mu, out.logvar) if out.logvar is not None
              else recon.new_zeros(()))
        return LossParts(recon + kl_weight * kl + self.penalty(out), recon, kl)

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor, y: torch.Tensor | None = None, *,
                  generator: torch.Generator | None = None, chunk: int = 8192,
                  classes: torch.Tensor | None = None) -> torch.Tensor:
        """Measure the output spread on training rows ``x`` [N, D]; returns log_sigma [D].

        Reconstructions use a code drawn from q(z|x) (the mean for deterministic
        models), as in training. Every decoder but "sigma-per-feature" (which keeps its
        learned values) stores the per-feature residual std, sigma_d^2 = mean over rows
        of (x_d - mean_d)^2: the closed-form maximum-likelihood sigma of each feature
        given the trained decoder. "sigma" trains with one shared value but samples with
        these (module docstring). Marks the model able to :meth:`sample_output`.

        ``classes`` [N] (class numbers, -1 for unlabelled rows) also stores each class's
        own residual std per feature, for an unconditional model (module docstring),
        shrunk towards the value of all rows for a class of few rows: weight
        n_c / (n_c + :data:`CLASS_SPREAD_PRIOR_ROWS`) on the class's own mean square.
        """
        was_training = self.training
        self.eval()
        squared = torch.zeros(self.config.n_features, device=x.device)           # [D]
        by_class = None
        if classes is not None and not self.is_conditional \
                and self.config.decoder != "sigma-per-feature":
            classes = torch.as_tensor(classes, device=x.device).long().reshape(-1)
            n_classes = int(classes.max().item()) + 1 if classes.numel() else 0
            if n_classes > 0:
                by_class = torch.zeros(n_classes, self.config.n_features, device=x.device)
        for start in range(0, x.shape[0], chunk):
            xb = x[start:start + chunk]
            yb = y[start:start + chunk] if y is not None else None
            mu, logvar = self.encode(xb, yb)
            z = mu
            if logvar is not None:
                noise = torch.randn(mu.shape, generator=generator, device=mu.device,
                                    dtype=mu.dtype)
                z = mu + torch.exp(0.5 * logvar) * noise
            row_sq = (self.decode(z, yb) - xb).pow(2)                            # [n, D]
            squared += row_sq.sum(0)
            if by_class is not None:
                cb = classes[start:start + chunk]
                keep = cb >= 0
                by_class.index_add_(0, cb[keep], row_sq[keep])
        mean_sq = squared / max(x.shape[0], 1)                                   # [D]
        if self.config.decoder != "sigma-per-feature":
            self.log_sigma.copy_(_log_sigma_of(mean_sq))
            if by_class is not None:
                counts = torch.bincount(classes[classes >= 0], minlength=by_class.shape[0])
                n_c = counts.to(mean_sq.dtype)[:, None]                            # [K, 1]
                own = by_class / n_c.clamp_min(1.0)
                weight = n_c / (n_c + CLASS_SPREAD_PRIOR_ROWS)
                self.class_log_sigma = _log_sigma_of(weight * own + (1 - weight) * mean_sq)
        self.output_calibrated.fill_(True)
        self.train(was_training)
        return self.output_log_sigma().detach().clone()

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


def _log_sigma_of(mean_sq: torch.Tensor) -> torch.Tensor:
    """0.5 * log(mean square), floored at LOG_SIGMA_MIN."""
    return (0.5 * mean_sq.clamp_min(1e-30).log()).clamp_min(LOG_SIGMA_MIN)


def _soft_floor(log_sigma: torch.Tensor) -> torch.Tensor:
    """LOG_SIGMA_MIN + softplus(log_sigma - LOG_SIGMA_MIN): sigma-VAE's smooth floor."""
    return LOG_SIGMA_MIN + F.softplus(log_sigma - LOG_SIGMA_MIN)


def closed_form_log_sigma(mean: torch.Tensor, target: torch.Tensor, *,
                          per_feature: bool = False) -> torch.Tensor:
    """The log(sigma) that maximises the Gaussian likelihood: 0.5*log(MSE), floored at
    LOG_SIGMA_MIN.

    Shared: sigma^2 = mean over rows and features of (target - mean)^2 (a scalar);
    ``per_feature``: sigma_d^2 = mean over rows of (target_d - mean_d)^2 ([D]). No gradient.
    """
    squared = (target - mean).detach().pow(2)                                   # [N, D]
    return _log_sigma_of(squared.mean(0) if per_feature else squared.mean())


def gaussian_nll(mean: torch.Tensor, target: torch.Tensor, log_sigma: torch.Tensor
                 ) -> torch.Tensor:
    """-log N(target; mean, sigma^2) summed over features, averaged over rows (nats).

    ``log_sigma`` is a scalar or [D]; per row: sum_d log sigma_d +
    (x_d - mean_d)^2 / (2 sigma_d^2) + 0.5 log(2 pi).
    """
    log_sigma = log_sigma.expand(mean.shape[1])                                # [D]
    per_value = (log_sigma + 0.5 * (target - mean).pow(2) * torch.exp(-2 * log_sigma)
                 + _HALF_LOG_2PI)                                               # [N, D]
    return per_value.sum(1).mean()


def kl_per_unit(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z_j|x) || N(0, 1)) per latent unit j, averaged over rows: [latent] nats."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).mean(0)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the latent, averaged over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
