"""The model registry: shapes, losses and refusals of every autoencoder."""

from __future__ import annotations

import numpy as np
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


# ---------------------------------------------------------------- calibrated decoders
def test_closed_form_log_sigma_is_half_log_mse():
    from synth_core.models import closed_form_log_sigma

    target = torch.zeros(50, D)
    mean = torch.full((50, D), 0.3)  # error 0.3 everywhere: sigma^2 = 0.09, sigma = 0.3
    assert float(closed_form_log_sigma(mean, target)) == pytest.approx(np.log(0.3), abs=1e-4)
    # Below the floor the value stays just above LOG_SIGMA_MIN .
    from synth_core.models import LOG_SIGMA_MIN

    assert float(closed_form_log_sigma(target, target)) == LOG_SIGMA_MIN


def test_closed_form_sigma_minimises_the_gaussian_nll():
    from synth_core.models import closed_form_log_sigma, gaussian_nll

    g = torch.Generator().manual_seed(0)
    target, mean = torch.randn(200, D, generator=g), torch.randn(200, D, generator=g)
    best = closed_form_log_sigma(mean, target)
    nll = float(gaussian_nll(mean, target, best))
    for shift in (-0.2, -0.05, 0.05, 0.2):
        assert float(gaussian_nll(mean, target, best + shift)) > nll
    # Known answer: at sigma^2 = MSE the NLL per row is D/2 * (log(2 pi MSE) + 1).
    mse = float((target - mean).pow(2).mean())
    assert nll == pytest.approx(D / 2 * (np.log(2 * np.pi * mse) + 1), rel=1e-5)


def test_closed_form_log_sigma_per_feature_known_answer():
    from synth_core.models import LOG_SIGMA_MIN, closed_form_log_sigma, gaussian_nll

    # Feature d errs by +-a_d on alternate rows: sigma_d^2 = a_d^2 exactly; the last feature is
    # reconstructed perfectly and sits at the floor.
    a = torch.linspace(0.1, 2.0, D - 1)
    sign = torch.tensor([1.0, -1.0]).repeat(20)[:, None]                         # [40, 1]
    target = torch.randn(40, D, generator=torch.Generator().manual_seed(0))
    mean = target.clone()
    mean[:, :-1] += sign * a
    log_sigma = closed_form_log_sigma(mean, target, per_feature=True)
    assert log_sigma.shape == (D,)
    torch.testing.assert_close(log_sigma[:-1], a.log(), atol=1e-5, rtol=1e-5)
    assert float(log_sigma[-1]) == LOG_SIGMA_MIN
    # It maximises the likelihood feature by feature (the last one is pinned by the floor).
    nll = float(gaussian_nll(mean[:, :-1], target[:, :-1], log_sigma[:-1]))
    for d in (0, 7, D - 2):
        for shift in (-0.1, 0.1):
            moved = log_sigma[:-1].clone()
            moved[d] += shift
            assert float(gaussian_nll(mean[:, :-1], target[:, :-1], moved)) > nll
    # The shared value is the one sigma of all errors together.
    shared = closed_form_log_sigma(mean, target)
    assert float(shared) == pytest.approx(0.5 * float(((mean - target) ** 2).mean().log()),
                                          abs=1e-5)


def test_sigma_per_feature_closed_decoder_sets_each_sigma_from_the_training_batch():
    from synth_core.models import closed_form_log_sigma

    model = _model("ae", decoder="sigma-per-feature-closed")  # deterministic code: exact check
    x, _ = _batch()
    model.train()
    parts = model.loss(x)
    with torch.no_grad():
        expected = closed_form_log_sigma(model.decode_logits(model.encode(x)[0]), x,
                                         per_feature=True)
    torch.testing.assert_close(model.log_sigma, expected)
    assert len(set(model.log_sigma.tolist())) > 1  # one value per feature, not shared
    # At sigma_d^2 = MSE_d the Gaussian NLL per row is sum_d 0.5 * (log(2 pi MSE_d) + 1).
    assert float(parts.recon) == pytest.approx(
        float((expected + 0.5 * np.log(2 * np.pi) + 0.5).sum()), rel=1e-5)
    parts.total.backward()
    assert model.log_sigma.grad is None  # a buffer, not learned
    stored = model.log_sigma.clone()
    model.eval()
    with torch.no_grad():
        model.loss(x * 0)  # evaluation uses the stored values
    assert torch.equal(model.log_sigma, stored)


def test_sigma_decoder_sets_sigma_from_the_training_batch():
    model = _model("vae", decoder="sigma")
    x, _ = _batch()
    model.train()
    parts = model.loss(x)
    out_sigma = model.log_sigma.clone()
    assert torch.all(out_sigma == out_sigma[0]) and float(out_sigma[0]) != 0.0
    parts.total.backward()
    assert model.log_sigma.grad is None  # a buffer, not learned
    model.eval()
    with torch.no_grad():
        model.loss(x * 0)  # evaluation uses the stored value, it does not reset it
    assert torch.equal(model.log_sigma, out_sigma)


def test_sigma_per_feature_decoder_learns_log_sigma():
    model = _model("vae", decoder="sigma-per-feature")
    x, _ = _batch()
    model.loss(x).total.backward()
    assert isinstance(model.log_sigma, torch.nn.Parameter) and model.log_sigma.grad is not None
    assert "log_sigma" in model.state_dict()


@pytest.mark.parametrize("decoder", ["thesis", "sigma", "sigma-per-feature-closed"])
def test_calibrate_measures_the_residual_spread(decoder):
    model = _model("ae", decoder=decoder)
    x, _ = _batch()
    assert not model.can_sample_output
    with pytest.raises(InputError, match="train the model again"):
        model.sample_output(torch.zeros(2, D))
    log_sigma = model.calibrate(x)
    with torch.no_grad():
        residual = model.decode(model.encode(x)[0]) - x          # deterministic code: mean
    # Per-feature residual std, also for "sigma", which trains with one shared value.
    expected = 0.5 * residual.pow(2).mean(0).log()
    torch.testing.assert_close(log_sigma, expected, atol=1e-4, rtol=1e-4)
    assert len(set(log_sigma.tolist())) == D
    assert model.can_sample_output and bool(model.state_dict()["output_calibrated"])


def test_sample_output_draws_around_the_mean_with_the_stored_sigma():
    model = _model("vae", decoder="sigma")
    model.log_sigma.fill_(np.log(0.5))
    model.output_calibrated.fill_(True)
    mean = torch.full((4000, D), 3.0)
    g = torch.Generator().manual_seed(1)
    drawn = model.sample_output(mean, generator=g)
    assert abs(float(drawn.mean()) - 3.0) < 0.02
    assert float(drawn.std()) == pytest.approx(0.5, rel=0.02)
    again = model.sample_output(mean, generator=torch.Generator().manual_seed(1))
    assert torch.equal(drawn, again)
    thesis = _model("cvae")
    thesis.output_calibrated.fill_(True)
    thesis.log_sigma.fill_(0.0)  # sigma 1: clipped to the sigmoid's range
    y = torch.nn.functional.one_hot(torch.zeros(10, dtype=torch.long), K).float()
    sample = thesis.sample_output(thesis.decode(torch.zeros(10, LATENT), y))
    assert sample.min() >= 0 and sample.max() <= 1


def _zero_output(model):
    """Make the decoder output 0 for every code, so each row's residual is the row itself."""
    with torch.no_grad():
        model.output.weight.zero_()
        model.output.bias.zero_()
    return model


def test_calibrate_keeps_each_classs_spread_for_an_unconditional_model():
    """Known answer: with a decoder that outputs 0, a class's mean square residual is its
    rows' mean square; a class of n rows keeps n / (n + 10) of its own and the rest of all
    rows' (class 2: 2 rows). Unlabelled rows (-1) count for the shared value only."""
    from synth_core.models.base import CLASS_SPREAD_PRIOR_ROWS

    model = _zero_output(_model("vae", decoder="sigma"))
    rng = np.random.default_rng(0)
    scale = np.r_[np.full(90, 0.1), np.full(90, 2.0), np.full(2, 1.0), np.full(8, 5.0)]
    classes = np.r_[np.zeros(90), np.ones(90), np.full(2, 2), np.full(8, -1)].astype(np.int64)
    x = torch.as_tensor(scale[:, None] * rng.choice([-1.0, 1.0], (len(scale), D)),
                        dtype=torch.float32)
    shared = model.calibrate(x, classes=torch.as_tensor(classes))
    all_sq = float((scale ** 2).mean())
    torch.testing.assert_close(shared, torch.full((D,), 0.5 * np.log(all_sq)), rtol=1e-4,
                               atol=1e-4)
    assert model.has_class_spread and tuple(model.class_log_sigma.shape) == (3, D)
    for c, (n, own) in enumerate([(90, 0.01), (90, 4.0), (2, 1.0)]):
        w = n / (n + CLASS_SPREAD_PRIOR_ROWS)
        expected = 0.5 * np.log(w * own + (1 - w) * all_sq)
        np.testing.assert_allclose(model.class_log_sigma[c].numpy(), expected, rtol=1e-4)
    # Each row drawn with its class's sigma; -1 (and a class it never saw) with the shared one.
    mean = torch.zeros(3 * 3000, D)
    drawn = model.sample_output(mean, generator=torch.Generator().manual_seed(0),
                                classes=torch.as_tensor(np.repeat([0, -1, 7], 3000)))
    stds = [float(part.std()) for part in drawn.split(3000)]
    expected_std = [float(model.class_log_sigma[0, 0].exp()), np.sqrt(all_sq), np.sqrt(all_sq)]
    np.testing.assert_allclose(stds, expected_std, rtol=0.03)
    plain = model.sample_output(mean[:3000], generator=torch.Generator().manual_seed(0))
    assert float(plain.std()) == pytest.approx(np.sqrt(all_sq), rel=0.03)


def test_calibrate_keeps_one_spread_for_a_cvae_and_a_learned_sigma():
    """A CVAE's decoder is given the class; "sigma-per-feature" keeps what it learned."""
    x, y = _batch()
    classes = torch.arange(N) % K
    for model, y_in in ((_model("cvae", decoder="sigma"), y),
                        (_model("vae", decoder="sigma-per-feature"), None)):
        model.calibrate(x, y_in, classes=classes)
        assert not model.has_class_spread and model.class_log_sigma.shape[0] == 0


def test_class_spread_round_trips_through_the_state_dict():
    """The [K, D] buffer's K comes from the data: a new model takes it from a saved state,
    and a state saved without it (older runs) loads with none."""
    model = _zero_output(_model("vae", decoder="sigma"))
    x, _ = _batch()
    model.calibrate(x, classes=torch.arange(N) % 2)
    fresh = _model("vae", decoder="sigma")
    assert fresh.load_state_dict(model.state_dict()) is not None
    torch.testing.assert_close(fresh.class_log_sigma, model.class_log_sigma)
    old_state = {k: v for k, v in model.state_dict().items() if k != "class_log_sigma"}
    older = _model("vae", decoder="sigma")
    missing, _ = older.load_state_dict(old_state, strict=False)
    assert missing == ["class_log_sigma"] and not older.has_class_spread


def test_sigma_decoder_output_is_unbounded_and_refuses_unknown_decoders():
    model = _model("vae", decoder="sigma")
    assert not model.bounded_output and _model("vae").bounded_output
    with pytest.raises(InputError, match="decoder"):
        model_config("vae", n_features=D, latent_dim=2, decoder="laplace")


def test_kl_per_unit_sums_to_the_kl():
    from synth_core.models import kl_per_unit

    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(30, LATENT, generator=g), torch.randn(30, LATENT, generator=g)
    per_unit = kl_per_unit(mu, logvar)
    assert per_unit.shape == (LATENT,)
    assert float(per_unit.sum()) == pytest.approx(float(kl_divergence(mu, logvar)), rel=1e-5)


@pytest.mark.parametrize("shape", [(3, 3), (8, 8), (28, 28), (13, 21), (2, 9, 7)])
def test_models_conv_body_fits_any_image_shape_and_round_trips(shape, tmp_path):
    import math

    n = math.prod(shape)
    config = model_config("vae", n_features=n, latent_dim=2, hidden=(8,), body="conv",
                          feature_shape=shape)
    model = build_model("vae", config).eval()
    x = torch.rand(3, n)
    assert model(x).logits.shape == (3, n)
    torch.save(model.state_dict(), tmp_path / "model.pt")
    again = build_model("vae", config).eval()
    again.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    with torch.no_grad():
        assert torch.equal(again(x).logits, model(x).logits)


def test_models_conv_body_downsamples_before_the_dense_layer():
    model = _model("ae", body="conv", feature_shape=(4, 4))
    big = build_model("ae", model_config("ae", n_features=784, latent_dim=8, hidden=(64,),
                                         body="conv", feature_shape=(28, 28)))
    strided = [m for m in big.encoder_body.net if isinstance(m, torch.nn.Conv2d)]
    assert [m.stride for m in strided] == [(2, 2), (2, 2)]
    assert big.encoder_body.out_dim == 64 * 7 * 7  # 28 -> 14 -> 7, not the full 28x28
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in big.output.net)
    assert model.encoder_body.out_dim < 16 * 16


# ----------------------------------------------------------------------------- fcn body
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_models_fcn_body_code_is_the_coarse_grid(kind):
    # 8x8 rows: one stride-2 stage -> a 4x4 grid, so the code is whole maps of 16 cells.
    config = model_config(kind, n_features=64, n_classes=K, latent_dim=32, hidden=(),
                          body="fcn", feature_shape=(8, 8))
    model = build_model(kind, config)
    x = torch.rand(N, 64)
    y = torch.nn.functional.one_hot(torch.arange(N) % K, K).float()
    out = model(x, y)
    assert out.logits.shape == (N, 64) and out.mu.shape == (N, 32)
    assert (out.logvar is not None) == model.is_variational
    assert not any(isinstance(m, torch.nn.Linear) for m in model.modules())  # no dense layer
    head = model.mu.conv
    assert head.kernel_size == (1, 1) and head.out_channels == 2  # 2 maps x 16 cells
    assert head.in_channels == 32 + (K if model.is_conditional else 0)
    parts = model.loss(x, y)
    parts.total.backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("shape", [(8, 8), (28, 28), (13, 21), (64, 101), (2, 9, 7)])
def test_models_fcn_body_fits_odd_shapes_and_round_trips(shape, tmp_path):
    import math

    from synth_core.models.geometry import grid_cells

    n, cells = math.prod(shape), grid_cells(shape)
    config = model_config("cvae", n_features=n, n_classes=2, latent_dim=cells, hidden=(),
                          body="fcn", feature_shape=shape)
    model = build_model("cvae", config).eval()
    x, y = torch.rand(3, n), torch.eye(2)[[0, 1, 0]]
    assert model(x, y).logits.shape == (3, n)
    torch.save(model.state_dict(), tmp_path / "model.pt")
    again = build_model("cvae", config).eval()
    again.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    with torch.no_grad():
        assert torch.equal(again(x, y).logits, model(x, y).logits)


def test_models_fcn_body_refuses_partial_maps_and_hidden_layers():
    with pytest.raises(InputError, match="multiple of 49; got 100; try 98 or 147"):
        model_config("ae", n_features=784, latent_dim=100, hidden=(), body="fcn",
                     feature_shape=(28, 28))
    with pytest.raises(InputError, match="no hidden layers.*leave hidden out"):
        model_config("ae", n_features=784, latent_dim=98, hidden=(64,), body="fcn",
                     feature_shape=(28, 28))
    with pytest.raises(InputError, match="body 'fcn' needs an image dataset"):
        model_config("ae", n_features=30, latent_dim=4, hidden=(), body="fcn")


def test_models_fcn_autoencoder_learns_what_the_dense_bottleneck_cannot():
    # Random 8x8 blobs: the fully convolutional AE (code = 4 maps of 4x4) reconstructs them
    # far better in the same steps than a dense code of 8 behind the same convolutions.
    torch.manual_seed(0)
    base = torch.rand(256, 1, 4, 4)
    x = torch.nn.functional.interpolate(base, size=(8, 8), mode="bilinear").flatten(1)

    def fit(config):
        model = build_model("ae", config)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(150):
            opt.zero_grad()
            model.loss(x).total.backward()
            opt.step()
        with torch.no_grad():
            return float((model.eval().decode(model.encode(x)[0]) - x).pow(2).mean())

    torch.manual_seed(1)
    spatial = fit(model_config("ae", n_features=64, latent_dim=64, hidden=(), body="fcn",
                               feature_shape=(8, 8)))
    torch.manual_seed(1)
    dense = fit(model_config("ae", n_features=64, latent_dim=8, hidden=(64,), body="conv",
                             feature_shape=(8, 8)))
    assert spatial < 0.5 * dense
