"""The model kinds and body kinds by name, without importing torch.

Configs, the CLI's ``--help`` and the pages' forms need the names; only
building a model needs the classes (:mod:`synth_core.models.registry`).
"""

from __future__ import annotations

MODEL_KINDS: tuple[str, ...] = ("vae", "cvae", "ae", "dae")
BODY_KINDS: tuple[str, ...] = ("mlp", "conv")

MODEL_TITLES: dict[str, str] = {
    "vae": "VAE (MSE + KL; interpolate between samples)",
    "cvae": "Conditional VAE (BCE + KL; generate a chosen class)",
    "ae": "Autoencoder (deterministic baseline)",
    "dae": "Denoising autoencoder (noisy input, clean target)",
}
