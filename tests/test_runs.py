"""Saved runs: loading, encode/decode on raw-scale data, and the run list."""

from __future__ import annotations

import numpy as np
import pytest

from synth_core.errors import InputError, StorageError
from synth_core.training.runs import Run, run_summaries
from synth_core.training.config import TrainConfig
from synth_core.training.trainer import train_model

TINY = dict(latent_dim=2, hidden=(16,), lr=1e-2, epochs=2, batch_size=16, device="cpu")


@pytest.fixture
def vae_run(blobs, workspace) -> Run:
    train_model(blobs, TrainConfig(model="vae", **TINY), run_dir=workspace.runs_dir / "vae-a",
                dataset_ref="blobs")
    return Run.load(workspace.runs_dir / "vae-a")


def test_run_load_describes_itself(vae_run, blobs):
    assert vae_run.is_variational and not vae_run.is_conditional
    assert vae_run.n_features == 16 and vae_run.latent_dim == 2
    assert vae_run.class_names == blobs.class_names and vae_run.dataset_ref == "blobs"
    assert len(vae_run.history) == 2 and vae_run.metrics["epochs_run"] == 2
    assert not vae_run.model.training


def test_run_encode_decode_raw_scale(vae_run, blobs):
    mu, logvar = vae_run.encode(blobs.features)
    assert mu.shape == logvar.shape == (blobs.n_samples, 2) and mu.dtype == np.float32
    out = vae_run.decode(np.zeros((3, 2)))
    assert out.shape == (3, 16)
    # Decoded rows come back in the data's original range (sigmoid output, inverse scaling).
    assert (out >= blobs.features.min(0) - 1e-5).all() and (out <= blobs.features.max(0) + 1e-5).all()
    np.testing.assert_array_equal(vae_run.reconstruct(blobs.features[:5]),
                                  vae_run.decode(mu[:5]))


def test_run_decode_refuses_wrong_latent_width(vae_run):
    with pytest.raises(InputError, match="2-d latent space"):
        vae_run.decode(np.zeros((3, 5)))


def test_run_cvae_needs_labels_and_broadcasts_one(blobs, workspace):
    train_model(blobs, TrainConfig(model="cvae", **TINY), run_dir=workspace.runs_dir / "c")
    run = Run.load(workspace.runs_dir / "c")
    assert run.is_conditional and run.n_classes == 3
    with pytest.raises(InputError, match="conditional VAE: give a class"):
        run.encode(blobs.features)
    with pytest.raises(InputError, match="classes 0..2"):
        run.decode(np.zeros((2, 2)), labels=[0, 7])
    one = run.decode(np.zeros((4, 2)), labels=1)
    np.testing.assert_array_equal(one, run.decode(np.zeros((4, 2)), labels=[1, 1, 1, 1]))


def test_run_deterministic_models_have_no_variance(blobs, workspace):
    train_model(blobs, TrainConfig(model="ae", **TINY), run_dir=workspace.runs_dir / "ae")
    run = Run.load(workspace.runs_dir / "ae")
    mu, logvar = run.encode(blobs.features[:4])
    assert not run.is_variational and np.isneginf(logvar).all()
    np.testing.assert_array_equal(mu + np.exp(0.5 * logvar) * 3.0, mu)


def test_run_load_refuses_non_runs(workspace):
    with pytest.raises(StorageError, match="not a saved training run"):
        Run.load(workspace.runs_dir / "nothing")


def test_run_load_refuses_missing_weights(vae_run):
    (vae_run.run_dir / "model.pt").unlink()
    with pytest.raises(StorageError, match="weights file model.pt is missing"):
        Run.load(vae_run.run_dir)


def test_run_check_data_refuses_other_width(vae_run):
    from tests.conftest import make_blobs

    with pytest.raises(InputError, match="trained on 16 features"):
        vae_run.check_data(make_blobs(n_features=8))


def test_run_summaries_list_finished_runs(vae_run, blobs, workspace):
    train_model(blobs, TrainConfig(model="ae", **TINY), run_dir=workspace.runs_dir / "ae-b",
                dataset_ref="other")
    (workspace.runs_dir / ".half.partial").mkdir()  # an interrupted save: not listed
    rows = run_summaries(workspace)
    assert {r.name for r in rows} == {"vae-a", "ae-b"}
    assert [r.name for r in run_summaries(workspace, model="vae")] == ["vae-a"]
    assert [r.name for r in run_summaries(workspace, dataset_ref="other")] == ["ae-b"]
    row = run_summaries(workspace, model="vae")[0].as_row()
    assert row["latent"] == 2 and row["epochs"] == 2 and row["best val loss"] > 0
    assert (row["decoder"], row["transform"]) == ("sigma", "quantile-hazen")
    assert 0 <= row["active units"] <= 2


def test_reconstruction_examples_cover_classes(vae_run, blobs, workspace):
    from synth_core.training.runs import reconstruction_examples

    # Blobs are too few rows for a derived validation share: examples come from training rows.
    assert not vae_run.split()["val_index"]
    rec = reconstruction_examples(vae_run, blobs, n_samples=6)
    assert rec.original.shape == rec.reconstructed.shape == (6, 16)
    assert sorted(set(rec.labels.tolist())) == [0, 1, 2]
    assert set(rec.index.tolist()) <= set(vae_run.split()["train_index"])
    assert rec.mse > 0
    # With validation rows, the examples are rows the model never trained on.
    train_model(blobs, TrainConfig(model="vae", val_fraction=0.3, **TINY),
                run_dir=workspace.runs_dir / "vae-val", dataset_ref="blobs")
    run = Run.load(workspace.runs_dir / "vae-val")
    rec = reconstruction_examples(run, blobs, n_samples=6)
    assert sorted(set(rec.labels.tolist())) == [0, 1, 2]
    assert set(rec.index.tolist()) <= set(run.split()["val_index"])


def test_latent_points_use_pca_above_two_dims(blobs, workspace):
    from synth_core.training.runs import latent_points

    train_model(blobs, TrainConfig(model="vae", **{**TINY, "latent_dim": 4}),
                run_dir=workspace.runs_dir / "v4")
    run = Run.load(workspace.runs_dir / "v4")
    points = latent_points(run, blobs)
    assert points.method == "pca" and points.xy.shape == (len(run.split()["train_index"]), 2)
    assert len(points.explained) == 2 and points.labels.shape[0] == points.xy.shape[0]


def test_latent_points_two_dims_kept(vae_run, blobs):
    from synth_core.training.runs import latent_points

    points = latent_points(vae_run, blobs, rows="all")
    assert points.method == "latent" and points.xy.shape == (blobs.n_samples, 2)
    np.testing.assert_allclose(points.xy, vae_run.encode(blobs.features)[0], rtol=1e-6)


def test_run_decode_samples_with_the_saved_sigma(vae_run):
    import torch

    assert vae_run.can_sample_output
    Z = np.zeros((500, 2), dtype=np.float32)
    mean = vae_run.decode(Z)
    drawn = vae_run.decode(Z, sample=True, generator=torch.Generator().manual_seed(0))
    again = vae_run.decode(Z, sample=True, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(drawn, again)
    assert drawn.std(0).mean() > 0 and mean.std(0).max() < 1e-5
    reloaded = Run.load(vae_run.run_dir)
    np.testing.assert_array_equal(reloaded.model.log_sigma.numpy(), vae_run.model.log_sigma.numpy())


def test_run_saved_before_calibrated_decoders_loads_but_cannot_sample(vae_run):
    import torch

    weights = vae_run.run_dir / "model.pt"
    state = torch.load(weights, weights_only=True)
    del state["log_sigma"], state["output_calibrated"]
    torch.save(state, weights)
    old = Run.load(vae_run.run_dir)
    assert not old.can_sample_output
    np.testing.assert_allclose(old.decode(np.zeros((2, 2))), vae_run.decode(np.zeros((2, 2))))
    with pytest.raises(InputError, match="train the model again"):
        old.decode(np.zeros((2, 2)), sample=True)


def test_run_saved_before_transforms_and_derived_defaults_loads_as_thesis(blobs, workspace):
    import json

    run_dir = workspace.runs_dir / "thesis"
    train_model(blobs, TrainConfig(model="vae", decoder="thesis", transform="minmax", **TINY),
                run_dir=run_dir)
    new = Run.load(run_dir)
    meta = json.loads((run_dir / "config.json").read_text())
    for key in ("decoder", "transform", "test_folds"):  # what older versions did not write
        meta["train_config"].pop(key)
    meta["model_config"].pop("decoder")
    meta.pop("test_folds")
    (run_dir / "config.json").write_text(json.dumps(meta))
    scaler = json.loads((run_dir / "scaler.json").read_text())
    scaler.pop("kind")
    (run_dir / "scaler.json").write_text(json.dumps(scaler))
    old = Run.load(run_dir)
    assert (old.config.decoder, old.config.transform, old.test_folds) == ("thesis", "minmax", ())
    assert old.scaler.kind == "minmax" and old.model.bounded_output
    np.testing.assert_allclose(old.reconstruct(blobs.features[:3]),
                               new.reconstruct(blobs.features[:3]), rtol=1e-6)
