"""The model registry: kind name -> autoencoder class (one file per model).

Adding a model means one new file with a config dataclass and an
``Autoencoder`` subclass, and one entry in :data:`MODELS`.
:func:`build_model` turns a training config plus the data's shape into a model.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from synth_core.errors import InputError
from synth_core.models.ae import AE, AEConfig
from synth_core.models.base import (BODIES, Autoencoder, LossParts, ModelConfig, ModelOutput,
                                    kl_divergence, reconstruction_loss)
from synth_core.models.cvae import CVAE, CVAEConfig
from synth_core.models.dae import DAE, DAEConfig
from synth_core.models.vae import VAE, VAEConfig

MODELS: dict[str, type[Autoencoder]] = {
    "vae": VAE,
    "cvae": CVAE,
    "ae": AE,
    "dae": DAE,
}



def model_class(kind: str) -> type[Autoencoder]:
    try:
        return MODELS[kind]
    except KeyError:
        raise InputError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}") from None


def model_config(kind: str, *, n_features: int, n_classes: int = 0,
                 feature_shape: Sequence[int] | None = None, **options: Any) -> ModelConfig:
    """The model's config from the data's shape and any options it knows (others ignored)."""
    cls = model_class(kind).config_class
    values = {"n_features": n_features, "n_classes": n_classes,
              "feature_shape": tuple(feature_shape) if feature_shape else None, **options}
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


def build_model(kind: str, config: ModelConfig) -> Autoencoder:
    return model_class(kind)(config)


__all__ = ["MODELS", "BODIES", "Autoencoder", "ModelConfig", "ModelOutput",
           "LossParts", "VAE", "VAEConfig", "CVAE", "CVAEConfig", "AE", "AEConfig", "DAE",
           "DAEConfig", "model_class", "model_config", "build_model", "kl_divergence",
           "reconstruction_loss"]
