"""The model kinds, body kinds and decoder kinds by name, without importing torch.

Configs, the CLI's ``--help`` and the pages' forms need the names; only
building a model needs the classes (:mod:`synth_core.models.registry`).
"""

from __future__ import annotations

MODEL_KINDS: tuple[str, ...] = ("vae", "cvae", "ae", "dae")
# "conv": strided convolutions, then dense layers to the code; "fcn": the code is the
# convolutions' coarse grid itself (no dense layer). Both need image-like rows.
BODY_KINDS: tuple[str, ...] = ("mlp", "conv", "fcn")
# "thesis": the thesis's losses (VAE/AE/DAE: sigmoid output + squared error; CVAE: BCE), data in
# [0, 1]. "sigma": a Gaussian decoder with one shared variance set in closed form from the batch
# error (sigma-VAE); "sigma-per-feature": one learned variance per feature;
# "sigma-per-feature-closed": one variance per feature, each in closed form from its own batch
# error. See models/base.py.
DECODER_KINDS: tuple[str, ...] = ("thesis", "sigma", "sigma-per-feature",
                                  "sigma-per-feature-closed")

MODEL_TITLES: dict[str, str] = {
    "vae": "VAE (MSE + KL; interpolate between samples)",
    "cvae": "Conditional VAE (BCE + KL; generate a chosen class)",
    "ae": "Autoencoder (deterministic baseline)",
    "dae": "Denoising autoencoder (noisy input, clean target)",
}

DECODER_TITLES: dict[str, str] = {
    "thesis": "thesis loss (sigmoid output; VAE squared error, CVAE cross-entropy)",
    "sigma": "calibrated Gaussian, one shared sigma in closed form (sigma-VAE)",
    "sigma-per-feature": "calibrated Gaussian, one learned sigma per feature",
    "sigma-per-feature-closed": "calibrated Gaussian, one sigma per feature in closed form",
}
