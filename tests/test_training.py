"""The trainer: learning, early stopping, seeds, events, divergence, refusals, run folders."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest
import torch

import synth_core.training.trainer as training
from synth_core.errors import InputError, StorageError
from synth_core.events import EpochEnd, Log
from synth_core.features import FeatureSet
from synth_core.models import MODELS, VAE
from synth_core.training.runs import Run
from synth_core.training.config import PRESETS, TrainConfig, kl_weight, parse_hidden
from synth_core.training.defaults import split_indices
from synth_core.training.trainer import new_run_dir, train_job, train_model
from tests.conftest import make_blobs

# The thesis decoders on min-max data, everything explicit: these tests check the loop itself.
TINY = dict(latent_dim=2, hidden=(16,), lr=1e-2, epochs=5, batch_size=16, device="cpu",
            val_fraction=0.1, patience=10, decoder="thesis", transform="minmax")


def _config(**changes) -> TrainConfig:
    return TrainConfig(**{**TINY, **changes})


def test_train_model_overfits_a_tiny_dataset():
    tiny = make_blobs(n_per_class=4)
    result = train_model(tiny, _config(model="ae", latent_dim=4, hidden=(64,), epochs=150,
                                       batch_size=4, patience=0, val_fraction=0.0))
    first, last = result.history[0]["train_recon"], result.history[-1]["train_recon"]
    assert last < 0.05 * first
    assert result.metrics["val_mse"] < 0.005
    assert result.epochs_run == 150 and not result.stopped_early


def test_train_model_history_and_summary(blobs):
    result = train_model(blobs, _config(model="vae"))
    assert result.run_dir is None and result.epochs_run == 5
    keys = {"epoch", "train_loss", "train_recon", "train_kl", "val_loss", "val_recon", "val_kl",
            "seconds", "kl_weight"}
    assert all(keys <= set(h) for h in result.history)
    assert result.best_val_loss == min(h["val_loss"] for h in result.history)
    assert result.history[result.best_epoch - 1]["val_loss"] == result.best_val_loss
    assert result.seconds_per_epoch > 0
    # 20% of each class is held out as never-seen test rows by default (90 rows, 3 classes).
    assert result.metrics["n_train"] + result.metrics["n_val"] == blobs.n_samples - 18


def test_train_model_early_stopping_keeps_best_weights(blobs, monkeypatch):
    losses = iter([3.0, 1.0, 2.0, 2.0, 2.0] + [2.0] * 20)

    def fake_evaluate(model, X, Y, *, kl_weight):
        return torch.tensor([next(losses), 0.0, 0.0])

    monkeypatch.setattr(training, "evaluate", fake_evaluate)
    seen = {}
    real_copy = training._state_copy

    def spy_copy(model):
        seen["best"] = real_copy(model)
        return seen["best"]

    monkeypatch.setattr(training, "_state_copy", spy_copy)
    result = train_model(blobs, _config(model="ae", epochs=20, patience=3))
    assert result.stopped_early and result.epochs_run == 5
    assert result.best_epoch == 2 and result.best_val_loss == 1.0
    for name, value in result.model.state_dict().items():
        if name not in ("log_sigma", "output_calibrated", "class_log_sigma"):  # calibrate()
            assert torch.equal(value, seen["best"][name])


def test_train_model_seed_repeats_exactly(blobs):
    first = train_model(blobs, _config(model="vae", seed=3))
    second = train_model(blobs, _config(model="vae", seed=3))
    other = train_model(blobs, _config(model="vae", seed=4))
    assert [h["train_loss"] for h in first.history] == [h["train_loss"] for h in second.history]
    for (name, a), b in zip(first.model.state_dict().items(), second.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert [h["train_loss"] for h in first.history] != [h["train_loss"] for h in other.history]


def test_train_model_leaves_global_rng_alone(blobs):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_model(blobs, _config(epochs=1))
    assert torch.equal(torch.rand(3), expected)


def test_train_model_emits_epoch_events(blobs):
    events = []
    result = train_model(blobs, _config(model="cvae"), callback=events.append)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2, 3, 4, 5]
    assert all(e.n_epochs == 5 and np.isfinite(e.val_kl) and e.seconds > 0 for e in epochs)
    assert epochs[-1].train_loss == result.history[-1]["train_loss"]


def test_train_model_callback_exception_propagates(blobs, workspace):
    class Stop(Exception):
        pass

    def callback(event):
        if isinstance(event, EpochEnd) and event.epoch == 2:
            raise Stop

    run_dir = workspace.runs_dir / "stopped"
    with pytest.raises(Stop):
        train_model(blobs, _config(), run_dir=run_dir, callback=callback)
    assert not run_dir.exists() and workspace.list_runs() == []


class _NaNAfter(VAE):
    """A VAE whose training loss turns NaN from the 3rd epoch on (6 batches an epoch)."""

    calls = 0

    def loss(self, x, y=None, *, kl_weight=1.0):
        parts = super().loss(x, y, kl_weight=kl_weight)
        if self.training:
            type(self).calls += 1
            if type(self).calls > 12:
                return type(parts)(*(p * float("nan") for p in parts))
        return parts


def test_train_model_divergence_stops_and_keeps_good_weights(blobs, workspace, monkeypatch):
    monkeypatch.setitem(MODELS, "vae", _NaNAfter)
    _NaNAfter.calls = 0
    events = []
    result = train_model(blobs, _config(epochs=10, batch_size=16, val_fraction=0.0),
                         run_dir=workspace.runs_dir / "nan", callback=events.append)
    assert result.diverged and result.epochs_run == 2
    assert any(isinstance(e, Log) and "diverged in epoch 3" in e.message for e in events)
    assert all(torch.isfinite(v).all() for v in result.model.state_dict().values())
    run = Run.load(result.run_dir)
    assert run.metrics["diverged"] is True
    assert np.isfinite(run.reconstruct(blobs.features)).all()


class _JumpIn3rd(VAE):
    """A VAE whose training loss is 1e12 times larger in the 3rd epoch only (6 batches an
    epoch): finite, so not diverged, and back to normal afterwards."""

    calls = 0

    def loss(self, x, y=None, *, kl_weight=1.0):
        parts = super().loss(x, y, kl_weight=kl_weight)
        if self.training:
            type(self).calls += 1
            if 12 < type(self).calls <= 18:
                return type(parts)(*(p * 1e12 for p in parts))
        return parts


def test_train_model_a_loss_jump_is_named_in_the_warnings(blobs, workspace, monkeypatch):
    monkeypatch.setitem(MODELS, "vae", _JumpIn3rd)
    _JumpIn3rd.calls = 0
    events = []
    result = train_model(blobs, _config(epochs=5, batch_size=16, val_fraction=0.0, lr=1e-3),
                         run_dir=workspace.runs_dir / "jump", callback=events.append)
    assert not result.diverged and result.epochs_run == 5
    assert result.metrics["unstable"]["epoch"] == 3
    warning = result.summary()["warnings"][0]
    assert warning.startswith("training was unstable: the training loss jumped from ")
    assert "in epoch 3" in warning and "--lr 0.00033" in warning
    assert any(isinstance(e, Log) and e.message == warning for e in events)
    assert Run.load(result.run_dir).metrics["unstable"]["epoch"] == 3
    from pages.common.train_ui import collapse_notes  # the Train page shows it first

    assert collapse_notes(Run.load(result.run_dir).metrics)[1][0] == warning


def test_encoder_log_variance_has_a_soft_ceiling():
    """A logvar head driven far up (wide rows, large Adam steps) stays below LOGVAR_MAX,
    with a gradient; ordinary values pass unchanged."""
    from synth_core.models import build_model, model_config
    from synth_core.models.base import LOGVAR_MAX

    model = build_model("vae", model_config("vae", n_features=4, latent_dim=2, hidden=(8,)))
    x = torch.zeros(3, 4)
    with torch.no_grad():
        model.logvar.bias.fill_(500.0)
        assert (model.encode(x)[1] <= LOGVAR_MAX).all()  # the KL stays finite: e^10, not e^500
        model.logvar.bias.fill_(20.0)
    _, logvar = model.encode(x)
    assert (logvar < LOGVAR_MAX).all() and (logvar > LOGVAR_MAX - 1e-3).all()
    logvar.sum().backward()
    assert model.logvar.bias.grad.abs().min() > 0  # softplus, not a hard clamp
    with torch.no_grad():
        model.logvar.bias.fill_(0.0)
        model.logvar.weight.zero_()
        assert model.encode(x)[1].abs().max() < 1e-4


def test_train_model_divergence_in_first_epoch_is_an_error(blobs):
    with pytest.raises(InputError, match="diverged.*lower the learning rate"):
        train_model(blobs, _config(model="vae", lr=1e30, epochs=3))


@pytest.mark.parametrize("changes, match", [
    (dict(latent_dim=0), "latent_dim must be a whole number >= 1; got 0"),
    (dict(lr=0.0), "lr .learning rate. must be a positive number; got 0.0"),
    (dict(lr=-1e-3), "lr .learning rate. must be a positive number"),
    (dict(epochs=0), "epochs must be"),
    (dict(val_fraction=1.0), "val_fraction"),
    (dict(hidden="a,b"), "hidden: layer sizes must be whole numbers"),
    (dict(model="gan"), "unknown model 'gan'"),
    (dict(device="tpu"), "device"),
])
def test_train_config_refuses_bad_values(changes, match):
    with pytest.raises(InputError, match=match):
        _config(**changes)


def test_train_config_dict_round_trip_and_unknown_key():
    config = _config(hidden="32, 16", beta=0.5)
    assert config.hidden == (32, 16)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(InputError, match="unknown option.*learning_rate"):
        TrainConfig.from_dict({"learning_rate": 1e-3})
    assert parse_hidden(483) == (483,) and parse_hidden([512, 256]) == (512, 256)


def test_presets_match_the_thesis():
    vae, cvae = PRESETS["thesis-vae"], PRESETS["thesis-cvae"]
    assert (vae.model, vae.latent_dim, vae.hidden, vae.lr, vae.epochs) == \
        ("vae", 42, (483,), 2.78e-4, 176)
    assert (cvae.model, cvae.latent_dim, cvae.hidden, cvae.lr, cvae.epochs) == \
        ("cvae", 8, (490,), 6.79e-4, 180)


def test_train_model_refuses_latent_above_feature_count(blobs):
    with pytest.raises(InputError, match="latent_dim: 17 is above the number of features .16."):
        train_model(blobs, _config(latent_dim=17))
    # A preset's latent size (thesis-vae: 42) is no choice the user made: name the override.
    from synth_core.training.config import PRESETS

    with pytest.raises(InputError, match="thesis-vae sets its own, which --latent-dim overrides"):
        train_model(blobs, PRESETS["thesis-vae"].replace(epochs=1, device="cpu"))


def test_train_model_refuses_fewer_rows_than_a_batch(blobs):
    with pytest.raises(InputError, match="fewer than one batch of 500; use a batch size of at most"):
        train_model(blobs, _config(batch_size=500))


def test_train_model_refuses_nan(blobs):
    blobs.features[4, 2] = np.nan
    with pytest.raises(InputError, match="NaN or infinite.*rows 4"):
        train_model(blobs, _config())


def test_train_model_cvae_refuses_one_class_and_unlabeled():
    one = make_blobs(n_classes=1)
    with pytest.raises(InputError, match="at least two classes, found 1"):
        train_model(one, _config(model="cvae"))
    unlabeled = make_blobs()
    unlabeled.labels[:5] = -1
    with pytest.raises(InputError, match=r"\d of \d+ rows are unlabeled"):
        train_model(unlabeled, _config(model="cvae"))
    # Counted in the whole dataset, not in the rows left after the held-out test share.
    with pytest.raises(InputError, match=f"5 of {unlabeled.n_samples} rows are unlabeled"):
        train_model(unlabeled, _config(model="cvae", test_fraction=0.2))


def test_split_indices_is_stratified_and_complete():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    train, val = split_indices(labels, 0.1, seed=0)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(100))
    assert np.bincount(labels[val]).tolist() == [5, 3, 2]


def test_kl_weight_warms_up_linearly():
    config = _config(beta=2.0, kl_warmup_epochs=4)
    assert [kl_weight(config, e) for e in (1, 2, 4, 9)] == [0.5, 1.0, 2.0, 2.0]
    assert kl_weight(_config(beta=0.5), 1) == 0.5


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_train_model_save_load_round_trip(blobs, workspace, kind):
    run_dir = workspace.runs_dir / f"{kind}-run"
    result = train_model(blobs, _config(model=kind, epochs=3), run_dir=run_dir,
                         dataset_ref="blobs")
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "model.pt", "history.json", "scaler.json", "metrics.json"} <= names
    assert workspace.list_runs() == [run_dir]
    run = Run.load(run_dir)
    assert run.config.model == kind
    labels = blobs.labels if run.is_conditional else None
    again = Run.load(run_dir)
    rec = run.reconstruct(blobs.features, labels)
    assert rec.shape == blobs.features.shape
    np.testing.assert_array_equal(rec, again.reconstruct(blobs.features, labels))
    # Same numbers as the in-memory model that training returned.
    model = result.model.eval()
    scaled = torch.as_tensor(np.clip(result.scaler.transform(blobs.features), 0, 1))
    y = training.one_hot(blobs.labels, blobs.n_classes, torch.device("cpu")) if labels is not None \
        else None
    with torch.no_grad():
        expected = result.scaler.inverse_transform(model.decode(model.encode(scaled, y)[0], y).numpy())
    np.testing.assert_allclose(rec, expected, rtol=0, atol=1e-6)
    assert run.dataset_ref == "blobs" and run.history == json.loads(
        (run_dir / "history.json").read_text())


def test_train_model_scaler_fitted_on_training_rows_only(blobs, workspace):
    result = train_model(blobs, _config(), run_dir=workspace.runs_dir / "s")
    split = Run.load(result.run_dir).split()
    train_rows = blobs.features[split["train_index"]]
    np.testing.assert_allclose(result.scaler.data_min_, train_rows.min(axis=0))
    np.testing.assert_allclose(result.scaler.data_max_, train_rows.max(axis=0))


def test_run_load_refuses_wrong_feature_size_and_kind(blobs, workspace):
    vae_dir = workspace.runs_dir / "vae"
    cvae_dir = workspace.runs_dir / "cvae"
    train_model(blobs, _config(model="vae", epochs=1), run_dir=vae_dir)
    train_model(blobs, _config(model="cvae", epochs=1), run_dir=cvae_dir)
    with pytest.raises(InputError, match="trained on 16 features, but this data has 64"):
        Run.load(vae_dir, expect_features=64)
    with pytest.raises(InputError, match="holds a vae model, not a cvae"):
        Run.load(vae_dir, expect_model="cvae")
    run = Run.load(vae_dir)
    with pytest.raises(InputError, match="trained on 16 features"):
        run.encode(np.zeros((2, 64), dtype=np.float32))
    # A checkpoint of another kind under this config is refused, not half-loaded.
    (vae_dir / "model.pt").write_bytes((cvae_dir / "model.pt").read_bytes())
    with pytest.raises(StorageError, match="do not fit the vae model"):
        Run.load(vae_dir)


def test_train_model_disk_full_leaves_no_run(blobs, workspace, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    run_dir = workspace.runs_dir / "full"
    with pytest.raises(StorageError, match="No space left on device; nothing was saved"):
        train_model(blobs, _config(epochs=1), run_dir=run_dir)
    assert not run_dir.exists()
    assert list(workspace.runs_dir.iterdir()) == []


def test_train_model_refuses_existing_run_dir(blobs, workspace):
    run_dir = workspace.runs_dir / "taken"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    with pytest.raises(StorageError, match="already exists and is not empty"):
        train_model(blobs, _config(epochs=1), run_dir=run_dir)
    assert (run_dir / "notes.txt").read_text() == "mine"


def test_train_model_conv_body_reports_psnr_on_images():
    rng = np.random.default_rng(0)
    images = FeatureSet(features=rng.random((40, 16)), labels=np.arange(40) % 2,
                        attrs={"modality": "image", "feature_shape": [4, 4]})
    result = train_model(images, _config(model="vae", body="conv", epochs=2))
    assert result.metrics["psnr_db"] > 0
    # The default holds out a fifth of the rows for testing: PSNR on those too.
    assert result.metrics["n_held_out"] == 8 and result.metrics["psnr_held_out_db"] > 0
    assert "psnr_db" not in train_model(make_blobs(), _config(epochs=1)).metrics


def test_train_model_reports_psnr_on_the_held_out_test_rows():
    """Images with a test fold (MNIST's t10k): PSNR on those rows too, which the model
    never saw; a CVAE reconstructs them with their own classes."""
    rng = np.random.default_rng(0)
    images = FeatureSet(features=rng.random((60, 16)), labels=np.arange(60) % 2,
                        folds=(np.arange(60) >= 45).astype(np.int64),
                        attrs={"modality": "image", "feature_shape": [4, 4], "test_folds": [1]})
    for model in ("vae", "cvae"):
        result = train_model(images, _config(model=model, epochs=2))
        assert result.metrics["n_held_out"] == 15
        assert 0 < result.metrics["psnr_held_out_db"] < 60
        # Uniform noise pixels: the held-out rows are no easier than the validation rows.
        assert abs(result.metrics["psnr_held_out_db"] - result.metrics["psnr_db"]) < 3


def test_new_run_dir_is_fresh(workspace):
    first = new_run_dir(workspace, "vae")
    first.mkdir()
    second = new_run_dir(workspace, "vae")
    assert first.name.startswith("vae-") and second != first and not second.exists()


def test_train_job_trains_a_dataset_reference(blobs, workspace):
    from synth_core.data.datasets import save_dataset

    save_dataset(blobs, "blobs", workspace)
    events = []

    class Ctx:
        def __init__(self):
            self.workspace = workspace

        def __call__(self, event):
            events.append(event)

    result = train_job({"dataset": "blobs", "config": {**TINY, "hidden": [16]}}, Ctx())
    assert result["epochs_run"] == 5 and "best validation loss" in result["message"]
    run = Run.load(result["run_dir"])
    assert run.dataset_ref == "blobs"
    assert sum(isinstance(e, EpochEnd) for e in events) == 5


def test_derived_defaults_fit_the_data():
    from synth_core.training.defaults import (derive_batch_size, derive_hidden,
                                              derive_latent_dim, derive_val_fraction)

    assert [derive_batch_size(n) for n in (10_000, 512, 108, 45, 9, 3, 1)] == \
        [128, 128, 16, 8, 2, 1, 1]
    assert [derive_latent_dim(d) for d in (512, 64, 37, 13, 3, 2, 1)] == [16, 16, 9, 3, 2, 2, 1]
    assert all(2 <= derive_latent_dim(d) <= max(d // 2, 2) for d in range(2, 600))
    assert [derive_hidden(d) for d in (2, 37, 100, 300, 512, 7129)] == \
        [(256,), (256,), (256,), (512,), (512,), (512,)]
    assert derive_val_fraction(1000, 100) == 0.1
    assert derive_val_fraction(30, 10) == 0.0 and derive_val_fraction(900, 3) == 0.0


def test_plan_training_derives_whole_maps_for_the_fcn_body(blobs):
    from synth_core.features import FeatureSet
    from synth_core.training.defaults import plan_training

    rng = np.random.default_rng(0)
    images = FeatureSet(features=rng.random((60, 784), dtype=np.float32),
                        labels=np.repeat(np.arange(3), 20), class_names=["a", "b", "c"],
                        attrs={"modality": "image", "feature_shape": [28, 28]})
    ae = plan_training(images, TrainConfig(model="ae", body="fcn"))
    assert ae.config.latent_dim == 784 and ae.config.hidden == ()  # 16 maps of the 7x7 grid
    assert ae.derived["hidden"] == [] and "fcn" in ae.notes["hidden"]
    vae = plan_training(images, TrainConfig(model="vae", body="fcn"))
    assert vae.config.latent_dim == 196  # a quarter: 4 maps
    # Planned again, the filled-in config derives nothing (hidden () stays allowed).
    assert plan_training(images, vae.config).derived == {}
    with pytest.raises(InputError, match="body 'fcn' needs an image dataset"):
        plan_training(blobs, TrainConfig(body="fcn"))
    with pytest.raises(InputError, match="give at least one layer size"):
        TrainConfig(body="mlp", hidden="")


def test_plan_training_keeps_explicit_values_and_reports_derived_ones(blobs):
    from synth_core.training.defaults import plan_training

    plan = plan_training(blobs, TrainConfig(model="vae", latent_dim=3))
    assert plan.config.latent_dim == 3 and "latent_dim" not in plan.derived
    # 72 rows to learn from: 10% would be 7 validation rows, too few to stop on.
    assert plan.derived == {"test_folds": [], "test_fraction": 0.2, "val_fraction": 0.0,
                            "batch_size": 16, "hidden": [256]}
    assert all(getattr(plan.config, f) is not None for f in plan.config.__dataclass_fields__
               if f != "test_folds") and plan.config.test_folds == ()
    assert "batch_size 16 (72 training rows)" in plan.caption()
    # No test folds: 20% of each class is never seen, so Evaluate has honest test rows.
    assert plan.held_out_index.size == 18
    assert np.bincount(blobs.labels[plan.held_out_index]).tolist() == [6, 6, 6]
    assert sorted([*plan.seen_index.tolist(), *plan.held_out_index.tolist()]) == \
        list(range(blobs.n_samples))
    # The test rows do not move with the training seed; 0 trains on every row.
    np.testing.assert_array_equal(
        plan_training(blobs, TrainConfig(model="vae", seed=7)).held_out_index, plan.held_out_index)
    assert plan_training(blobs, TrainConfig(test_fraction=0.0)).held_out_index.size == 0
    # The filled-in config is explicit: planning it again derives nothing and splits the same.
    again = plan_training(blobs, plan.config)
    assert again.derived == {} and np.array_equal(again.train_index, plan.train_index)


def test_plan_training_holds_out_the_datasets_test_folds(blobs):
    from synth_core.training.defaults import plan_training

    blobs.folds = np.arange(blobs.n_samples) % 3
    blobs.attrs["test_folds"] = [2]
    plan = plan_training(blobs, TrainConfig())
    assert plan.test_folds == (2,) and plan.derived["test_folds"] == [2]
    np.testing.assert_array_equal(plan.held_out_index, np.flatnonzero(blobs.folds == 2))
    assert not np.isin(plan.seen_index, plan.held_out_index).any()
    assert plan.config.test_fraction == 0.0  # the folds are the test rows
    with pytest.raises(InputError, match="either test folds or a test fraction"):
        plan_training(blobs, TrainConfig(test_fraction=0.2))
    assert plan_training(blobs, TrainConfig(test_folds=(), test_fraction=0.0)
                         ).held_out_index.size == 0
    with pytest.raises(InputError, match="hold every row"):
        plan_training(blobs, TrainConfig(test_folds=(0, 1, 2)))
    blobs.folds = None
    with pytest.raises(InputError, match="records no folds"):
        plan_training(blobs, TrainConfig(test_folds=(1,)))


@pytest.mark.parametrize("decoder, transform", [("sigma", "quantile"), ("sigma", "standard"),
                                                ("sigma-per-feature", "minmax")])
def test_train_model_calibrated_decoders_save_sigma_and_transform(blobs, workspace, decoder,
                                                                 transform):
    run_dir = workspace.runs_dir / f"{decoder}-{transform}"
    result = train_model(blobs, _config(model="cvae", decoder=decoder, transform=transform),
                         run_dir=run_dir)
    run = Run.load(run_dir)
    assert run.scaler.kind == transform and run.config.decoder == decoder
    assert run.model.can_sample_output
    torch.testing.assert_close(run.model.log_sigma, result.model.log_sigma.cpu())
    if decoder == "sigma":  # trained with one shared sigma, samples with one per feature
        assert len(set(run.model.log_sigma.tolist())) == blobs.n_features
    rec = run.reconstruct(blobs.features, blobs.labels)
    assert rec.shape == blobs.features.shape and np.isfinite(rec).all()


def test_train_model_reports_collapse(blobs):
    result = train_model(blobs, _config(model="vae", epochs=2))
    collapse = result.metrics["collapse"]
    assert len(collapse["kl_per_unit"]) == 2 and 0 <= collapse["active_units"] <= 2
    assert collapse["spread_ratio"] > 0 and collapse["spread_ratio_sampled"] > 0
    assert collapse["spread_ratio_generated"] > 0 and collapse["copy_ratio"] > 0
    assert result.summary()["active_units"] == collapse["active_units"]


def test_made_copy_check_known_answers():
    from synth_core.training.trainer import made_copy_check

    def ratio(train, made):
        return made_copy_check(train, made).distance_ratio

    rng = np.random.default_rng(0)
    train = rng.standard_normal((200, 6))
    assert ratio(train, train + 1e-3 * rng.standard_normal(train.shape)) < 0.01
    fresh = ratio(train, rng.standard_normal((200, 6)))  # same distribution, new rows
    assert 0.8 < fresh < 1.6
    assert ratio(train, train[:50] + 0.5 * (train[50:100] - train[:50])) < 1.0
    assert made_copy_check(np.ones((5, 3)), train[:4, :3]) is None  # one distinct row


def test_training_judges_copies_against_training_rows_that_repeat():
    """A table whose rows repeat (a zoo's animals, a survey's answers): half the training rows
    sit at distance 0 from another. The check's scale is the distance to the nearest
    *different* row, so the ratio stays finite (it read ~1e12 dividing by a zero median), and
    rows that repeat training rows as often as the training rows do are not near-copies,
    while rows that are all exact copies still are."""
    from synth_core.evaluation.metrics import near_copies
    from synth_core.training.trainer import made_copy_check

    rng = np.random.default_rng(1)
    distinct = rng.integers(0, 4, (120, 5)).astype(float) + rng.normal(0, 0.3, (120, 5))
    train = np.concatenate([distinct, distinct[:60]])          # 120 of 180 rows repeat
    like_data = np.concatenate([distinct[60:120] + rng.normal(0, 0.3, (60, 5)),
                                distinct[:60]])                # as often repeated as real
    check = made_copy_check(train, like_data)
    assert check.real_self_ratio == 0 and check.real_repeats > 0.6  # most rows repeat
    assert check.distance_ratio < 10 and not near_copies(check)
    copies = made_copy_check(train, train[rng.integers(0, 180, 100)] + 1e-7)
    assert copies.distance_ratio < 1e-3 and copies.fraction_flagged == 1.0
    assert near_copies(copies)


def test_training_says_when_the_rows_it_would_make_copy_its_few_training_rows():
    """Six rows a class and no validation rows to stop it: a VAE learns its 24 rows, and
    interpolation between neighbouring codes lands on them (real recordings: fsdd-mini's 7
    rows a class read 0.40x). The check says so with what to change."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (4, 30))
    data = FeatureSet(features=np.concatenate([c + rng.normal(0, 1, (8, 30)) for c in centres]),
                      labels=np.repeat(np.arange(4), 8), class_names=list("abcd"),
                      attrs={"modality": "tabular"})
    result = train_model(data, TrainConfig.from_dict({"model": "vae", "seed": 0,
                                                      "device": "cpu"}))
    collapse = result.metrics["collapse"]
    assert collapse["copy_ratio"] < 0.7
    warning = [w for w in result.warnings if "near-copies of training rows" in w]
    assert len(warning) == 1 and "fewer epochs (--epochs)" in warning[0]
    assert "rows interpolated between neighbouring training codes" in warning[0]


def test_collapse_report_warns_when_the_code_is_unused(blobs):
    """A VAE whose encoder outputs the prior for every row: KL 0 and identical rows."""
    from synth_core.data.scaling import make_transform
    from synth_core.models import build_model, model_config
    from synth_core.training.trainer import collapse_report

    model = build_model("vae", model_config("vae", n_features=16, latent_dim=2, hidden=(8,)))
    with torch.no_grad():
        for layer in (model.mu, model.logvar):
            layer.weight.zero_()
            layer.bias.zero_()
        model.decoder[0].weight.zero_()  # the decoder ignores z: one prototype row
    scaler = make_transform("minmax").fit(blobs.features)
    x = torch.as_tensor(scaler.transform(blobs.features))
    report = collapse_report(model, x, None, blobs.labels, scaler)
    assert report["active_units"] == 0 and report["kl_per_unit"] == [0.0, 0.0]
    assert report["spread_ratio"] <= 1e-4  # rounded to 4 places; float noise may round up
    assert any("KL per latent unit ~0" in w and "--decoder sigma" in w
               for w in report["warnings"])
    assert any("collapses towards prototypes" in w for w in report["warnings"])


def test_collapse_report_judges_the_rows_generate_makes(blobs):
    """Means that spread little are no collapse when the decoder's draws (Generate's default
    output) spread like the real rows; the KL warning still speaks for an unused code."""
    from synth_core.data.scaling import make_transform
    from synth_core.models import build_model, model_config
    from synth_core.training.trainer import collapse_report

    torch.manual_seed(0)  # the prototype row comes from the initial weights
    model = build_model("vae", model_config("vae", n_features=16, latent_dim=2, hidden=(8,),
                                            decoder="sigma-per-feature-closed"))
    with torch.no_grad():
        model.decoder[0].weight.zero_()  # decoded means: one prototype row
    scaler = make_transform("standard").fit(blobs.features)
    x = torch.as_tensor(scaler.transform(blobs.features))
    model.calibrate(x)  # per-feature sigma = the prototype's residual spread
    report = collapse_report(model, x, None, blobs.labels, scaler,
                             generator=torch.Generator().manual_seed(0))
    assert report["spread_ratio"] <= 1e-4 and report["spread_ratio_sampled"] > 0.5
    assert not any("collapses towards prototypes" in w for w in report["warnings"])


def _report_of_an_unused_code(features, labels):
    """The collapse report of a VAE whose code is unused (the encoder outputs the prior) and
    whose decoder draws are its mean plus the training rows' per-feature residual spread."""
    from synth_core.data.scaling import make_transform
    from synth_core.models import build_model, model_config
    from synth_core.training.trainer import collapse_report

    torch.manual_seed(0)
    n_features = features.shape[1]
    model = build_model("vae", model_config("vae", n_features=n_features,
                                            latent_dim=min(2, n_features), hidden=(8,),
                                            decoder="sigma-per-feature-closed"))
    with torch.no_grad():
        for layer in (model.mu, model.logvar):
            layer.weight.zero_()
            layer.bias.zero_()
        model.decoder[0].weight.zero_()
    scaler = make_transform("standard").fit(features)
    x = torch.as_tensor(scaler.transform(features))
    model.calibrate(x)
    return collapse_report(model, x, None, labels, scaler,
                           generator=torch.Generator().manual_seed(0))


def test_collapse_report_unused_code_with_draws_that_spread_like_the_data(blobs):
    """KL 0 but the decoder's draws spread like the real rows (unrelated columns, where a
    mean plus independent noise is the right model): the warning says that, not "generated
    rows all look alike", and still names the fixes for correlated features."""
    report = _report_of_an_unused_code(blobs.features, blobs.labels)
    assert report["active_units"] == 0 and 0.5 < report["spread_ratio_generated"] < 2.0
    unused = [w for w in report["warnings"] if "KL per latent unit ~0" in w]
    assert len(unused) == 1 and "independent noise per feature" in unused[0]
    assert "all look alike" not in unused[0] and "--beta 0.5" in unused[0]


def test_collapse_report_says_nothing_of_an_unused_code_on_one_feature(blobs):
    """One column: a mean (per class) plus noise is all there is to learn, so an unused code
    whose draws spread like the data is no warning (tune printed one per trial)."""
    report = _report_of_an_unused_code(blobs.features[:, :1], blobs.labels)
    assert report["active_units"] == 0 and 0.5 < report["spread_ratio_generated"] < 2.0
    # This model's rows are one mean plus noise for every class: that they lose the classes
    # is said (a separate check), but nothing of a collapse.
    assert [w for w in report["warnings"] if "keep their class" not in w] == []


def test_collapse_report_warns_when_generated_rows_are_mostly_noise(blobs):
    """A decoder whose draws carry 3x the real rows' spread in every feature: the check
    names the excess and the fixes, and says nothing of a collapse."""
    from synth_core.data.scaling import make_transform
    from synth_core.models import build_model, model_config
    from synth_core.training.trainer import HIGH_SPREAD_RATIO, collapse_report

    model = build_model("vae", model_config("vae", n_features=16, latent_dim=2, hidden=(8,),
                                            decoder="sigma"))
    scaler = make_transform("standard").fit(blobs.features)
    x = torch.as_tensor(scaler.transform(blobs.features))
    model.calibrate(x)
    with torch.no_grad():
        model.log_sigma.fill_(float(np.log(3.0)))  # standardised rows: 3x each feature's std
    report = collapse_report(model, x, None, blobs.labels, scaler,
                             generator=torch.Generator().manual_seed(0))
    assert report["spread_ratio_generated"] > HIGH_SPREAD_RATIO
    assert any("noisier than the data" in w and "--output mean" in w
               for w in report["warnings"])
    assert not any("collapses towards prototypes" in w for w in report["warnings"])


@pytest.mark.parametrize("kind", ["vae", "cvae"])
def test_collapse_report_judges_generates_codes_not_the_normal_prior(blobs, kind):
    """Codes from N(0, I) decode to varied rows, but every training row has the same code:
    Generate (interpolation between training codes for a VAE, each class's mixture of them
    for a CVAE) makes one prototype per class, and the check says so."""
    from synth_core.data.scaling import make_transform
    from synth_core.models import build_model, model_config
    from synth_core.training.trainer import collapse_report

    n_classes = blobs.n_classes
    model = build_model(kind, model_config(kind, n_features=16, latent_dim=2, hidden=(8,),
                                           n_classes=n_classes if kind == "cvae" else 0))
    with torch.no_grad():
        model.mu.weight.zero_()  # every row's code is the bias: one point
    scaler = make_transform("standard").fit(blobs.features)
    x = torch.as_tensor(scaler.transform(blobs.features))
    y = (torch.nn.functional.one_hot(torch.as_tensor(blobs.labels), n_classes).to(x.dtype)
         if kind == "cvae" else None)
    report = collapse_report(model, x, y, blobs.labels, scaler,
                             generator=torch.Generator().manual_seed(0))
    assert report["spread_ratio"] > 0.01                  # N(0, I) codes: rows differ
    assert report["spread_ratio_generated"] < 0.01         # Generate's codes: one row a class
    assert any("as Generate makes them" in w and "collapses towards prototypes" in w
               for w in report["warnings"])


def test_default_batch_size_too_big_for_tiny_data_is_refused_with_fix(blobs):
    """An explicit batch larger than the data is an error that says what to use instead."""
    config = _config(batch_size=4096)
    with pytest.raises(InputError, match="batch"):
        train_model(blobs, config)


def test_derive_test_fraction_holds_out_rows_unless_data_is_tiny():
    from synth_core.training.defaults import derive_test_fraction

    assert derive_test_fraction(36, 12) == 0.2      # the demo zip: 12 clips a class
    assert derive_test_fraction(9, 3) == 0.0        # 3 rows a class: nothing to spare
    assert derive_test_fraction(200, 4) == 0.0      # a class too small to split
    assert derive_test_fraction(200, 4, 0) == 0.0   # ... and no class can spare rows
    assert derive_test_fraction(303, 3, 1) == 0.2   # the classes that can spare rows do


def test_plan_training_holds_out_test_rows_of_the_classes_that_can_spare_them():
    """150 + 150 + 3 rows: the two large classes give 20 % each to the test rows, the
    3-row class trains on all of its rows, and the plan says so (it used to hold out
    nothing, leaving Evaluate no unseen row to test on)."""
    from synth_core.training.defaults import plan_training

    labels = np.repeat([0, 1, 2], [150, 150, 3])
    data = FeatureSet(features=np.random.default_rng(0).standard_normal((303, 6)),
                      labels=labels, class_names=["a", "b", "rare"])
    plan = plan_training(data, TrainConfig(model="cvae"))
    held = labels[plan.held_out_index]
    assert np.bincount(held, minlength=3).tolist() == [30, 30, 0]
    assert set(np.flatnonzero(labels == 2)) <= set(plan.seen_index.tolist())
    assert plan.config.test_fraction == 0.2
    assert "class(es) [2] have under 5 rows and train on all of them" in \
        plan.notes["test_fraction"]
    explicit = plan_training(data, TrainConfig(model="cvae", test_fraction=0.2))
    assert np.bincount(labels[explicit.held_out_index], minlength=3)[2] == 1  # as asked


def test_collapse_check_draws_a_cvaes_codes_as_generate_does():
    """Generate's "auto" codes for a CVAE: the posterior of training rows when every class has
    POSTERIOR_MIN_CLASS_ROWS of them (known answer: the class's code mean, and its variance
    plus the encoder's), else each class's code mixture."""
    from synth_core.generation.sampling import POSTERIOR_MIN_CLASS_ROWS
    from synth_core.training.trainer import _generation_codes

    rng = np.random.default_rng(0)
    n = POSTERIOR_MIN_CLASS_ROWS
    codes = np.r_[rng.normal(-3.0, 1.0, (n, 2)), rng.normal(3.0, 1.0, (n, 2))]
    std = np.full_like(codes, 0.5)
    labels = np.repeat([0, 1], n)
    groups = [np.flatnonzero(labels == c) for c in (0, 1)]
    drawn = _generation_codes(codes, labels, groups, True, 8000, std)
    for members, z in zip(groups, drawn):
        assert z.shape == (4000, 2)
        np.testing.assert_allclose(z.mean(0), codes[members].mean(0), atol=0.1)
        np.testing.assert_allclose(z.var(0), codes[members].var(0) + 0.25, rtol=0.1)
    few = [members[:-1] for members in groups]  # one row short in each class: the mixture
    mixed = _generation_codes(codes, labels, few, True, 8000, std)
    assert [z.shape for z in mixed] == [(4000, 2), (4000, 2)]
    for members, z in zip(few, mixed):  # the mixture of the codes: no encoder spread added
        np.testing.assert_allclose(z.var(0), codes[members].var(0), rtol=0.15)


def test_collapse_check_draws_a_vaes_codes_between_neighbouring_rows_of_a_class():
    """A VAE's check codes lie as Generate's rows do: between a training code of a class
    and one of its nearest of the class, so never in the gap between a class's two modes."""
    from synth_core.training.trainer import _generation_codes

    rng = np.random.default_rng(0)
    codes = np.r_[rng.normal(-5.0, 0.3, (40, 2)), rng.normal(5.0, 0.3, (40, 2)),
                  rng.normal(0.0, 0.3, (20, 2)) + [0, 20]]
    labels = np.repeat([0, 0, 1], [40, 40, 20])
    (drawn,), (drawn_classes,) = _generation_codes(codes, labels, [np.arange(100)], False,
                                                   3000)
    assert 2500 <= len(drawn) <= 3500
    # Each code comes with the class it was drawn for (its output spread is that class's).
    np.testing.assert_array_equal(drawn_classes, np.where(drawn[:, 1] < 10, 0, 1))
    class0 = drawn[drawn[:, 1] < 10]
    assert abs(len(class0) / len(drawn) - 0.8) < 0.05        # classes in their proportions
    assert (np.abs(class0[:, 0]) > 3.0).all()                 # nothing in the gap at x = 0


def test_collapse_warning_names_where_a_cvaes_codes_come_from():
    """The warning says what Generate does: a CVAE with 50+ training rows a class draws
    from the posterior of its rows, one with fewer from each class's code mixture."""
    from synth_core.data.scaling import make_transform
    from synth_core.models import build_model, model_config
    from synth_core.training.trainer import collapse_report

    for per_class, source in ((60, "the posterior of random training rows of each class"),
                              (20, "each class's mixture of training codes")):
        data = make_blobs(n_per_class=per_class)
        model = build_model("cvae", model_config("cvae", n_features=16, n_classes=3,
                                                 latent_dim=2, hidden=(8,)))
        with torch.no_grad():
            for layer in (model.mu, model.logvar):
                layer.weight.zero_()
                layer.bias.zero_()
            model.decoder[0].weight.zero_()  # the decoder ignores z and class: one row
        scaler = make_transform("minmax").fit(data.features)
        x = torch.as_tensor(scaler.transform(data.features))
        y = torch.nn.functional.one_hot(torch.as_tensor(data.labels), 3).float()
        report = collapse_report(model, x, y, data.labels, scaler)
        warning = next(w for w in report["warnings"] if "collapses towards prototypes" in w)
        assert f"codes from {source}" in warning


def test_train_caption_gives_the_training_rows_own_copy_figures_where_they_repeat():
    from pages.common.train_ui import collapse_notes

    collapse = {"active_units": 2, "latent_dim": 2, "copy_ratio": 0.0, "copy_fraction": 0.83,
                "copy_real_repeats": 0.65, "copy_ratio_real": 0.0, "copy_fraction_real": 0.71}
    caption, _ = collapse_notes({"collapse": collapse})
    assert ("65% of the training rows repeat another, so training rows themselves read 0.00x "
            "with 71% at copy distance, against 83% of the made rows") in caption
    del collapse["copy_real_repeats"]
    assert "repeat another" not in collapse_notes({"collapse": collapse})[0]


def test_watched_loss_uses_the_epochs_sigma_not_the_last_batchs():
    """One feature, 49 rows, batches of 8: the last batch is one row. A closed-form decoder
    sets sigma from each training batch; evaluated with the last batch's sigma, the loss
    early stopping watched jumped between epochs (chickwts: 1.4 to 34) and it kept epoch 2.
    With the epoch's sigma it moves as the model does; the log names the training loss it
    watches when there are no validation rows."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(6), 9)[:49]
    data = FeatureSet(features=(200 + 40 * labels + rng.normal(0, 50, 49))[:, None],
                      labels=labels, class_names=[f"feed{i}" for i in range(6)],
                      attrs={"modality": "tabular"})
    events = []
    result = train_model(data, TrainConfig.from_dict(
        {"model": "vae", "seed": 0, "device": "cpu", "epochs": 40, "patience": 0,
         "val_fraction": 0.0, "batch_size": 8}), callback=events.append)
    watched = [e.val_loss for e in events if isinstance(e, EpochEnd)]
    assert result.epochs_run == len(watched) == 40
    steps = np.abs(np.diff(watched))
    assert steps.max() < 0.5, watched
    stopped = train_model(data, TrainConfig.from_dict(
        {"model": "vae", "seed": 0, "device": "cpu", "epochs": 300, "patience": 3,
         "val_fraction": 0.0, "batch_size": 8}), callback=events.append)
    assert stopped.stopped_early
    assert any(isinstance(e, Log) and "no better training loss for 3 epochs" in e.message
               for e in events)


def test_class_agreement_known_answers():
    from synth_core.training.trainer import class_agreement

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    train = np.eye(3)[labels] * 4 + rng.normal(0, 0.5, (120, 3))
    made_labels = np.repeat(np.arange(3), 30)
    made = np.eye(3)[made_labels] * 4 + rng.normal(0, 0.5, (90, 3))
    kept, real = class_agreement(train, labels, made, made_labels)
    assert kept > 0.95 and real > 0.95
    lost, _ = class_agreement(train, labels, made, np.roll(made_labels, 30))  # wrong classes
    assert lost < 0.05
    assert class_agreement(train, np.zeros(120, dtype=int), made, made_labels) is None
    assert class_agreement(train, np.full(120, -1), made, made_labels) is None  # unlabelled
    tiny = np.repeat(np.arange(3), 4)  # 4 rows a class: too few to cross-validate on
    assert class_agreement(train[:12], tiny, made, made_labels) is None
    # Rows wider than a fold is long (84 clips of 512 numbers: folds of 56 rows).
    wide = np.repeat(np.eye(3), 28, axis=0) @ rng.normal(0, 1, (3, 512)) \
        + rng.normal(0, 0.5, (84, 512))
    wide_labels = np.repeat(np.arange(3), 28)
    kept, real = class_agreement(wide, wide_labels, wide[::2], wide_labels[::2])
    assert kept > 0.95 and real > 0.95


def test_training_warns_when_its_rows_lose_their_class(monkeypatch, blobs):
    """crabs' VAE: its rows got their own class from a classifier of the training rows for 60 %
    against 80 % of the training rows, and trained an MLP to 0.56 where real rows gave 0.96.
    The check says so with the CVAE as the fix; a run whose rows keep it is not warned."""
    monkeypatch.setattr(training, "class_agreement", lambda *a, **k: (0.6, 0.8))
    result = train_model(blobs, _config(model="vae", epochs=2))
    warning = [w for w in result.warnings if "keep their class less often" in w]
    assert len(warning) == 1 and "gives 60% of them" in warning[0]
    assert "try the CVAE (--model cvae)" in warning[0]
    assert result.summary()["class_agreement"] == 0.6
    monkeypatch.setattr(training, "class_agreement", lambda *a, **k: (0.7, 0.8))
    assert not [w for w in train_model(blobs, _config(model="vae", epochs=2)).warnings
                if "keep their class" in w]
