"""Models: the VAE, conditional VAE, autoencoder and denoising autoencoder.

One file per model (a config dataclass beside an ``Autoencoder`` subclass),
the shared MLP/conv bodies and losses in :mod:`.base`, the registry
(kind name -> class, :func:`build_model`) in :mod:`.registry`, and the kind
names without torch in :mod:`.kinds`. Names are imported on first use, so
reading the kinds does not load torch.
"""

from synth_core._lazy import lazy_exports

_EXPORTS = {
    "MODEL_KINDS": "kinds", "MODEL_TITLES": "kinds", "BODY_KINDS": "kinds",
    "DECODER_KINDS": "kinds", "DECODER_TITLES": "kinds",
    "MODELS": "registry", "model_class": "registry", "model_config": "registry",
    "build_model": "registry",
    "BODIES": "base", "Autoencoder": "base", "ModelConfig": "base", "ModelOutput": "base",
    "LossParts": "base", "kl_divergence": "base", "reconstruction_loss": "base",
    "DECODERS": "base", "LOG_SIGMA_MIN": "base", "gaussian_nll": "base",
    "closed_form_log_sigma": "base", "kl_per_unit": "base",
    "VAE": "vae", "VAEConfig": "vae", "CVAE": "cvae", "CVAEConfig": "cvae",
    "AE": "ae", "AEConfig": "ae", "DAE": "dae", "DAEConfig": "dae",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
