"""The model registry: shapes, losses and refusals of every autoencoder."""

from __future__ import annotations

import pytest
import torch

from synth_core.errors import InputError
from synth_core.models import (MODELS, build_model, kl_divergence, model_config,
                               reconstruction_loss)

N, D, K, LATENT = 6, 16, 3, 4


def _model(kind: str, **options):
    config = model_config(kind, n_features=D, n_classes=K, latent_dim=LATENT, hidden=(12,),
                          **options)
    return build_model(kind, config)


def _batch():
    torch.manual_seed(0)
    x = torch.rand(N, D)
    y = torch.nn.functional.one_hot(torch.arange(N) % K, K).float()
    return x, y


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("body, shape", [("mlp", None), ("conv", (4, 4))])
def test_models_shapes_and_losses(kind, body, shape):
    model = _model(kind, body=body, feature_shape=shape)
    x, y = _batch()
    out = model(x, y)
    assert out.logits.shape == (N, D)
    assert out.mu.shape == out.z.shape == (N, LATENT)
    assert (out.logvar is not None) == model.is_variational
    decoded = model.decode(torch.zeros(2, LATENT), y[:2])
    assert decoded.shape == (2, D) and decoded.min() >= 0 and decoded.max() <= 1
    parts = model.loss(x, y)
    assert all(p.ndim == 0 and torch.isfinite(p) for p in parts)
    if not model.is_variational:
        assert float(parts.kl) == 0.0
    parts.total.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_models_list_of_hidden_sizes_builds_mirrored_layers():
    model = build_model("vae", model_config("vae", n_features=D, latent_dim=LATENT,
                                            hidden=(12, 8)))
    linear = [m for m in model.encoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(D, 12), (12, 8)]
    linear = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(LATENT, 8), (8, 12)]


def test_models_cvae_conditions_encoder_and_decoder():
    model = _model("cvae")
    assert model.encoder[0].in_features == D + K
    assert model.decoder[0].in_features == LATENT + K
    assert isinstance(model.encoder[1], torch.nn.LeakyReLU)
    x, y = _batch()
    with pytest.raises(InputError, match="conditional"):
        model(x, None)


def test_models_kl_of_standard_normal_is_zero():
    mu, logvar = torch.zeros(5, LATENT), torch.zeros(5, LATENT)
    assert float(kl_divergence(mu, logvar)) == 0.0
    assert float(kl_divergence(torch.ones(5, LATENT), logvar)) == pytest.approx(0.5 * LATENT)


def test_models_reconstruction_losses_sum_over_features_mean_over_rows():
    target = torch.full((4, D), 0.5)
    logits = torch.zeros(4, D)  # sigmoid -> 0.5: perfect
    assert float(reconstruction_loss(logits, target, "mse")) == 0.0
    bce = float(reconstruction_loss(logits, target, "bce"))
    assert bce == pytest.approx(D * torch.log(torch.tensor(2.0)).item(), rel=1e-5)


def test_models_vae_loss_is_mse_plus_weighted_kl():
    model = _model("vae").eval()  # eval: z = mu, so the loss is deterministic
    x, _ = _batch()
    with torch.no_grad():
        parts = model.loss(x, kl_weight=0.5)
    assert float(parts.total) == pytest.approx(float(parts.recon + 0.5 * parts.kl), rel=1e-6)
    assert _model("cvae").reconstruction == "bce"


def test_models_dae_corrupts_only_while_training():
    model = _model("dae", noise_std=0.5)
    x, _ = _batch()
    assert not torch.equal(model.corrupt(x), x)
    model.eval()
    assert torch.equal(model(x).mu, model.encode(x)[0])


def test_models_ae_l1_penalty_adds_to_total():
    x, _ = _batch()
    torch.manual_seed(0)
    plain = _model("ae").eval()
    torch.manual_seed(0)
    sparse = _model("ae", l1=1.0).eval()
    with torch.no_grad():
        assert float(sparse.loss(x).total) > float(plain.loss(x).total)
        assert float(sparse.loss(x).recon) == pytest.approx(float(plain.loss(x).recon))


def test_models_cvae_refuses_one_class():
    with pytest.raises(InputError, match="at least two classes"):
        model_config("cvae", n_features=D, n_classes=1, latent_dim=LATENT)


def test_models_refuse_bad_shapes():
    with pytest.raises(InputError, match="latent_dim"):
        model_config("vae", n_features=D, latent_dim=D + 1)
    with pytest.raises(InputError, match="latent_dim"):
        model_config("vae", n_features=D, latent_dim=0)
    with pytest.raises(InputError, match="feature_shape"):
        model_config("vae", n_features=D, latent_dim=2, body="conv", feature_shape=(3, 3))
    with pytest.raises(InputError, match="unknown model"):
        model_config("gan", n_features=D)
