"""Generation: interpolation, the batch protocol, class and prior sampling, export.

Most tests use :class:`LinearRun`, a stand-in with a linear encoder/decoder and
the same interface as ``synth_core.training.runs.Run`` (so they check generation's own
logic in milliseconds); ``test_generation_with_trained_run`` uses a real run.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from synth_core.errors import InputError, StorageError
from synth_core.features import FeatureSet, read_features
from synth_core.generation.codes import load_run_data
from synth_core.generation.export import export_bytes, export_generated, save_generated
from synth_core.generation.generator import GenerateConfig, generate
from synth_core.generation.interpolation import (batch_protocol, check_t, decode_path, encode_pair,
                                                 interpolate, interpolate_codes, random_pair)
from synth_core.generation.neighbors import nearest_rows
from synth_core.generation.sampling import sample_class, sample_prior, synthesize
from tests.conftest import make_blobs


@dataclass(frozen=True)
class _Config:
    model: str
    latent_dim: int
    decoder: str = "sigma"


class LinearRun:
    """A run whose encoder is X @ W and decoder Z @ W.T (+ a per-class offset for 'cvae')."""

    def __init__(self, n_features=16, latent_dim=4, model="vae", class_names=("a", "b", "c"),
                 run_dir="runs/vae-test", dataset_ref=""):
        rng = np.random.default_rng(1)
        self.W = rng.standard_normal((n_features, latent_dim))
        self.offsets = rng.standard_normal((len(class_names), n_features))
        self.config = _Config(model, latent_dim)
        self.n_features = n_features
        self.class_names = list(class_names)
        self.run_dir = Path(run_dir)
        self.dataset_ref = dataset_ref
        self.is_conditional = model == "cvae"
        self.is_variational = model in ("vae", "cvae")
        self.decode_calls = 0
        self.device = "cpu"
        self.can_sample_output = True
        self.output_sigma = 0.5  # the spread sample_output draws with
        self.split_json: dict = {}

    def encode(self, X, labels=None):
        if self.is_conditional and labels is None:
            raise AssertionError("cvae encode without labels")
        mu = np.asarray(X, dtype=np.float64) @ self.W
        return mu, np.full_like(mu, -2.0)

    def decode(self, Z, labels=None, *, sample=False, generator=None, classes=None):
        import torch

        self.decode_calls += 1
        self.decoded_classes = classes  # each row's class for its output spread (Run.decode)
        out = np.asarray(Z, dtype=np.float64) @ self.W.T
        if self.is_conditional:
            if labels is None:
                raise AssertionError("cvae decode without labels")
            out = out + self.offsets[np.asarray(labels)]
        if sample:  # as Run.decode(sample=True): mean + sigma * eps, eps from the torch generator
            out = out + self.output_sigma * torch.randn(out.shape, generator=generator,
                                                        dtype=torch.float64).numpy()
        return out.astype(np.float32)

    def split(self):
        return self.split_json


@pytest.fixture
def run():
    return LinearRun()


def test_interpolate_end_points_equal_decoded_end_codes(run, blobs):
    x_a, x_b = blobs.features[0], blobs.features[40]
    out = interpolate(run, x_a, x_b, t=[0.0, 0.5, 1.0])
    mu, _ = run.encode(np.vstack([x_a, x_b]))
    ends = run.decode(mu)
    np.testing.assert_allclose(out[0], ends[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[-1], ends[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[1], run.decode(mu.mean(axis=0, keepdims=True))[0], atol=1e-5)
    spherical = interpolate(run, x_a, x_b, t=[0.0, 1.0], path="spherical")
    np.testing.assert_allclose(spherical, ends, rtol=1e-5, atol=1e-5)


def test_interpolate_codes_spherical_keeps_norm_between_equal_norm_codes():
    z_a, z_b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    mid = interpolate_codes(z_a, z_b, [0.5], path="spherical")[0]
    assert np.linalg.norm(mid) == pytest.approx(1.0, abs=1e-6)
    assert np.linalg.norm(interpolate_codes(z_a, z_b, [0.5])[0]) == pytest.approx(np.sqrt(0.5))


def test_interpolate_sampled_codes_are_seeded(run, blobs):
    x_a, x_b = blobs.features[0], blobs.features[1]
    one = interpolate(run, x_a, x_b, t=[0.3], codes="sample", random_state=3)
    two = interpolate(run, x_a, x_b, t=[0.3], codes="sample", random_state=3)
    mean = interpolate(run, x_a, x_b, t=[0.3])
    np.testing.assert_array_equal(one, two)
    assert not np.allclose(one, mean)


@pytest.mark.parametrize("t", [[-0.1], [1.5], [float("nan")], []])
def test_interpolate_rejects_t_outside_unit_interval(run, blobs, t):
    with pytest.raises(InputError, match=r"t"):
        interpolate(run, blobs.features[0], blobs.features[1], t=t)


def test_interpolate_rejects_identical_samples(run, blobs):
    with pytest.raises(InputError, match="identical"):
        interpolate(run, blobs.features[3], blobs.features[3].copy(), t=[0.5])
    with pytest.raises(InputError, match="rows 3 and 3"):
        encode_pair(run, blobs, 3, 3)


def test_encode_pair_rejects_rows_out_of_range_and_bad_path(run, blobs):
    with pytest.raises(InputError, match="not a row"):
        encode_pair(run, blobs, 0, blobs.n_samples)
    with pytest.raises(InputError, match="spherical"):
        encode_pair(run, blobs, 0, 1, path="curvy")


def test_decode_path_one_point_decodes_once(run, blobs):
    ends = encode_pair(run, blobs, 0, 50)
    before = run.decode_calls
    point = decode_path(run, ends, 0.25)
    assert point.shape == (1, blobs.n_features)
    assert run.decode_calls == before + 1


def test_batch_protocol_counts_parents_and_attrs(run):
    data = make_blobs(n_per_class=12, n_classes=3)
    data.attrs.update({"feature_shape": [4, 4], "modality": "image"})
    out = batch_protocol(run, data, pairs_per_class=8, steps=12, random_state=0)
    assert out.n_samples == 3 * 8 * 10
    assert out.parents.shape == (240, 2)
    np.testing.assert_array_equal(np.bincount(out.labels), [80, 80, 80])
    # Both parents of every point come from the point's own class, and differ.
    assert (data.labels[out.parents[:, 0]] == out.labels).all()
    assert (data.labels[out.parents[:, 1]] == out.labels).all()
    assert (out.parents[:, 0] != out.parents[:, 1]).all()
    assert len({tuple(p) for p in out.parents}) == 24  # 8 pairs per class, 10 points each
    assert out.attrs["mode"] == "interpolate" and out.attrs["seed"] == 0
    assert out.attrs["model_run"] == str(run.run_dir)
    assert out.attrs["feature_shape"] == [4, 4] and out.attrs["modality"] == "image"
    assert out.class_names == ["a", "b", "c"]
    again = batch_protocol(run, data, pairs_per_class=8, steps=12, random_state=0)
    np.testing.assert_array_equal(out.features, again.features)


def test_batch_protocol_drops_end_points(run, blobs):
    out = batch_protocol(run, blobs, pairs_per_class=1, steps=4, classes=[0])
    i, j = out.parents[0]
    ends = encode_pair(run, blobs, int(i), int(j))
    np.testing.assert_allclose(out.features, decode_path(run, ends, [1 / 3, 2 / 3]), atol=1e-5)


def test_batch_protocol_cross_pairs_label_the_nearer_end(run, blobs):
    out = batch_protocol(run, blobs, pairs_per_class=3, steps=12, cross=(0, 2))
    assert out.n_samples == 30
    assert (blobs.labels[out.parents[:, 0]] == 0).all()
    assert (blobs.labels[out.parents[:, 1]] == 2).all()
    np.testing.assert_array_equal(np.bincount(out.labels, minlength=3), [15, 0, 15])
    assert out.attrs["cross"] == [0, 2]


def test_batch_protocol_leaves_out_single_row_classes_with_a_warning(run):
    """Many sparse classes (diabetes-style): the default batch protocol refused the whole
    run for one class of a single row; it leaves such classes out and says so. Classes the
    user names are still refused, and so is data where no class has a pair."""
    from synth_core.events import Log

    data = make_blobs(n_per_class=6, n_classes=3)
    keep = np.r_[np.flatnonzero(data.labels != 2), np.flatnonzero(data.labels == 2)[:1]]
    data = data.subset(keep)
    logged = []
    out = batch_protocol(run, data, pairs_per_class=2, steps=4, callback=logged.append)
    assert sorted(set(out.labels.tolist())) == [0, 1]
    warnings = [e.message for e in logged if isinstance(e, Log) and e.level == "warning"]
    assert len(warnings) == 1 and "1 of 3 classes have a single row" in warnings[0]
    assert "2 (c)" in warnings[0]
    with pytest.raises(InputError, match="a pair needs 2"):
        batch_protocol(run, data, classes=[2])
    lonely = make_blobs(n_per_class=6, n_classes=3).subset(np.array([0, 6, 12]))
    with pytest.raises(InputError, match="no class has 2 rows.*--from I --to J"):
        batch_protocol(run, lonely)


def test_batch_protocol_on_unlabelled_data_pairs_any_two_rows(run):
    """An unlabelled table (a VAE on scikit-learn's diabetes) was refused by the default
    generation; its pairs come from all rows and the points are unlabelled."""
    data = make_blobs(n_per_class=6, n_classes=3)
    data = FeatureSet(features=data.features, labels=np.full(data.n_samples, -1))
    out = batch_protocol(run, data, pairs_per_class=5, steps=6, random_state=0)
    assert out.n_samples == 5 * 4 and (out.labels == -1).all()
    assert (out.parents[:, 0] != out.parents[:, 1]).all()
    with pytest.raises(InputError, match="a pair needs 2"):
        batch_protocol(run, data.subset(np.array([0])))


def test_batch_protocol_rejects_unknown_class(run, blobs):
    with pytest.raises(InputError, match="class 7 is not a class this model knows"):
        batch_protocol(run, blobs, classes=[7])
    with pytest.raises(InputError, match="'zebra'"):
        batch_protocol(run, blobs, cross=("a", "zebra"))


def test_sample_class_labels_and_counts():
    run = LinearRun(model="cvae")
    out = sample_class(run, [0, "c"], 5, random_state=1)
    np.testing.assert_array_equal(out.labels, [0] * 5 + [2] * 5)
    assert out.features.shape == (10, 16)
    assert (out.parents == -1).all()
    assert out.attrs["mode"] == "class"
    again = sample_class(run, [0, 2], 5, random_state=1)
    np.testing.assert_array_equal(out.features, again.features)


def test_sample_class_refuses_vae_and_unknown_class(run):
    with pytest.raises(InputError, match="not a conditional model.*mixture prior"):
        sample_class(run, [0], 3, prior="normal")
    with pytest.raises(InputError, match="mixture prior comes from the codes"):
        sample_class(run, [0], 3)  # auto: the mixture, which needs the training rows
    with pytest.raises(InputError, match="class 3 is not a class this model knows"):
        sample_class(LinearRun(model="cvae"), [3], 3)


def test_sample_prior_shapes_standard_and_fitted(run, blobs):
    out = sample_prior(run, 7, random_state=0)
    assert out.features.shape == (7, 16) and (out.labels == -1).all()
    # auto without the training rows: N(0, I) codes, and draws from a decoder that can draw.
    assert out.attrs["prior"] == "normal" and out.attrs["output"] == "sample"
    assert sample_prior(run, 7, random_state=0, output="mean").attrs["output"] == "mean"
    assert sample_prior(run, 7, data=blobs, random_state=0).attrs["prior"] == "mixture"
    ae = LinearRun(model="ae")
    with pytest.raises(InputError, match="fitted prior comes from the codes"):
        sample_prior(ae, 5)
    fitted = sample_prior(ae, 500, data=blobs, random_state=0)
    assert fitted.attrs["prior"] == "fitted"
    # Codes drawn around the data's codes: their decoded mean is that of the mean code
    # (the stand-in decoder is linear), unlike N(0, I) codes.
    mu, _ = ae.encode(blobs.features)
    center = ae.decode(mu.mean(axis=0, keepdims=True))[0]
    spread = np.abs(center).max()
    np.testing.assert_allclose(fitted.features.mean(axis=0), center, atol=0.1 * spread)
    standard = sample_prior(ae, 500, prior="standard", random_state=0)
    assert np.abs(standard.features.mean(axis=0) - center).max() > 0.3 * spread
    cvae = sample_prior(LinearRun(model="cvae"), 20, random_state=0)
    assert set(cvae.labels) <= {0, 1, 2}


def test_synthesize_counts_per_mode(run, blobs):
    out = synthesize(run, blobs, {0: 4, 2: 6}, random_state=0)
    np.testing.assert_array_equal(np.bincount(out.labels, minlength=3), [4, 0, 6])
    assert (blobs.labels[out.parents[:, 0]] == out.labels).all()
    cvae = synthesize(LinearRun(model="cvae"), blobs, {1: 3}, random_state=0)
    assert cvae.attrs["mode"] == "class" and (cvae.labels == 1).all()
    with pytest.raises(InputError, match="0 samples"):
        synthesize(run, blobs, {0: 0})


def test_synthesize_pairs_neighbours_not_the_two_modes_of_a_class(run):
    """A class of two far-apart clusters: a VAE's near pairs (the default) stay inside one
    cluster, each second row among the first's 5 nearest codes of the class; random pairs
    cross between the clusters about half the time, so their rows fill the empty middle."""
    rng = np.random.default_rng(0)
    centre = np.zeros(16)
    centre[0] = 10.0
    X = np.vstack([centre + rng.normal(0, 0.3, (20, 16)), -centre + rng.normal(0, 0.3, (20, 16)),
                   rng.normal(0, 0.3, (10, 16))]).astype(np.float32)
    data = FeatureSet(features=X, labels=np.repeat([0, 0, 1], [20, 20, 10]),
                      class_names=["a", "b", "c"])
    near = synthesize(run, data, {0: 300}, random_state=0)
    assert near.attrs["pairs"] == "near" and near.attrs["pair_neighbours"] == 5
    first, second = near.parents[:, 0], near.parents[:, 1]
    assert (first != second).all() and (data.labels[near.parents] == 0).all()
    assert ((first < 20) == (second < 20)).all()  # never across the two clusters
    codes, _ = run.encode(X[:40])
    for a, b in near.parents[:50]:
        distances = np.linalg.norm(codes - codes[a], axis=1)
        distances[a] = np.inf
        assert distances[b] <= np.sort(distances)[4] + 1e-9
    rand = synthesize(run, data, {0: 300}, random_state=0, pairs="random")
    assert rand.attrs["pairs"] == "random" and "pair_neighbours" not in rand.attrs
    crossing = np.mean((rand.parents[:, 0] < 20) != (rand.parents[:, 1] < 20))
    assert 0.35 < crossing < 0.65
    # The decoded means, along the line between the clusters' decoded centres: random pairs
    # put many rows in the middle, where the data has none; near pairs none.
    axis = run.decode(run.encode(centre[None])[0])[0].astype(np.float64)
    def middle(rows) -> float:
        return float(np.mean(np.abs(rows.features @ axis / (axis @ axis)) < 0.5))
    kept = dict(random_state=0, output="mean")
    assert middle(synthesize(run, data, {0: 300}, pairs="random", **kept)) > 0.2
    assert middle(synthesize(run, data, {0: 300}, **kept)) < 0.02
    small = synthesize(run, data, {1: 20}, random_state=0)  # a class of 10: 5 neighbours each
    assert (data.labels[small.parents] == 1).all()
    with pytest.raises(InputError, match="pairs = 'far'; choose one of near, random"):
        synthesize(run, data, {0: 3}, pairs="far")


def test_synthesize_near_pairs_on_tiny_and_duplicate_classes(run):
    """Two rows pair with each other; identical rows (equal codes) never pair with themselves."""
    X = np.vstack([np.ones((3, 16)), np.zeros((2, 16)) + np.arange(16) * 0.1]).astype(np.float32)
    data = FeatureSet(features=X, labels=np.array([0, 0, 0, 1, 1]), class_names=["a", "b"])
    out = synthesize(run, data, {0: 40, 1: 40}, random_state=0)
    assert (out.parents[:, 0] != out.parents[:, 1]).all()
    assert (data.labels[out.parents[:, 0]] == data.labels[out.parents[:, 1]]).all()
    np.testing.assert_array_equal(np.sort(np.unique(out.parents[out.labels == 1])), [3, 4])


def test_generate_config_dispatch_and_counts(run, blobs):
    config = GenerateConfig(mode="protocol", pairs=2, steps=5)
    assert config.n_requested(3) == 18
    assert generate(run, blobs, config).n_samples == 18
    pair = GenerateConfig(mode="pair", from_index=0, to_index=5, t=(0.5,))
    assert generate(run, blobs, pair).parents.tolist() == [[0, 5]]
    assert GenerateConfig.from_dict(json.loads(json.dumps(pair.to_dict()))) == pair
    with pytest.raises(InputError, match="--from I and --to J"):
        GenerateConfig(mode="pair", from_index=0)
    with pytest.raises(InputError, match="mode"):
        GenerateConfig(mode="magic")


def test_generate_on_an_unlabelled_run_names_the_prior_not_a_class_choice(blobs):
    # A VAE trained on an unlabelled CSV: --per-class said "no classes chosen", though the
    # user chose none because the run has none; every class mode now names --prior N.
    run = LinearRun(class_names=())
    data = FeatureSet(features=blobs.features, labels=np.full(blobs.n_samples, -1))
    for config in (GenerateConfig(mode="class", per_class=3),
                   GenerateConfig(mode="class", balance=9)):
        with pytest.raises(InputError, match=r"run vae-test: .*(no|without) (class )?lab"
                                             r".*sample the prior instead \(--prior N\)"):
            generate(run, data, config)
    assert generate(run, data, GenerateConfig(mode="prior", n_prior=4)).n_samples == 4
    # The batch protocol needs no classes: its pairs come from all rows (unlabelled points).
    out = generate(run, data, GenerateConfig(mode="protocol", pairs=1, steps=3))
    assert out.n_samples == 1 and set(out.labels) == {-1}  # steps count both ends


def test_save_generated_never_overwrites(run, blobs, workspace):
    out = batch_protocol(run, blobs, pairs_per_class=1, steps=3)
    first = save_generated(out, workspace, "mine")
    second = save_generated(out, workspace, "mine")
    assert first.name == "mine.h5" and second.name == "mine-2.h5"
    back = read_features(first)
    np.testing.assert_array_equal(back.parents, out.parents)
    assert back.attrs["mode"] == "interpolate" and back.attrs["model_run"] == str(run.run_dir)


def test_export_bytes_csv_and_npz_round_trip(run, blobs, tmp_path):
    from synth_core.data.importers import import_features

    out = batch_protocol(run, blobs, pairs_per_class=1, steps=3)
    # The label column holds class names, and import reads the file back as the same rows.
    (tmp_path / "g.csv").write_bytes(export_bytes(out, "csv"))
    lines = (tmp_path / "g.csv").read_text().splitlines()
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == \
        [out.class_names[c] for c in out.labels]
    back = import_features(tmp_path / "g.csv", label_column="last")
    np.testing.assert_allclose(back.features, out.features, rtol=1e-5)
    assert [back.class_names[c] for c in back.labels] == [out.class_names[c] for c in out.labels]
    npz = np.load(io.BytesIO(export_bytes(out, "npz")))
    np.testing.assert_array_equal(npz["parents"], out.parents)
    assert json.loads(str(npz["attrs"]))["mode"] == "interpolate"
    path = export_generated(out, tmp_path / "g.npz")
    with pytest.raises(StorageError, match="already exists"):
        export_generated(out, path)
    with pytest.raises(InputError, match="unknown export format"):
        export_generated(out, tmp_path / "g.xlsx")


def test_load_run_data_names_run_and_missing_dataset(workspace):
    run = LinearRun(dataset_ref=str(workspace.root / "gone.h5"))
    with pytest.raises(StorageError, match="vae-test was trained on dataset .*gone.h5"):
        load_run_data(run, workspace)


def test_nearest_rows_and_random_pair(blobs):
    rows, dist = (a[0] for a in nearest_rows(blobs.features, blobs.features[5], k=3))
    assert rows[0] == 5 and dist[0] < 1e-6 and len(rows) == 3
    i, j = random_pair(blobs, label=1, random_state=0)
    assert i != j and blobs.labels[i] == blobs.labels[j] == 1
    with pytest.raises(InputError, match="pair needs 2"):
        random_pair(blobs, label=9)


def test_check_t_accepts_scalar():
    np.testing.assert_array_equal(check_t(0.5), [0.5])


# --------------------------------------------------------------------------- with a real run


def train_tiny_run(workspace, *, model: str = "vae", n_rows: int = 300, epochs: int = 3,
                   name: str = "digits-small", **overrides) -> Path:
    """Train a tiny run on a subsample of builtin:digits saved as workspace dataset ``name``.

    ``overrides`` are TrainConfig fields (e.g. ``beta=0.05, hidden=(64,)`` for a run whose
    decoded digits are recognisable, for screenshots).
    """
    from synth_core.data.datasets import load_dataset, save_dataset
    from synth_core.training.config import TrainConfig
    from synth_core.training.trainer import new_run_dir, train_model

    digits = load_dataset("builtin:digits", workspace)
    rows = np.random.default_rng(0).choice(digits.n_samples, size=n_rows, replace=False)
    small = digits.subset(np.sort(rows))
    if not workspace.dataset_path(name).exists():
        save_dataset(small, name, workspace)
    config = TrainConfig(**{"model": model, "latent_dim": 4, "hidden": (32,), "lr": 3e-3,
                            "epochs": epochs, "batch_size": 32, "patience": 0, "seed": 0,
                            "device": "cpu", **overrides})
    result = train_model(small, config, run_dir=new_run_dir(workspace, model), dataset_ref=name)
    return Path(result.run_dir)


@pytest.fixture
def vae_run_dir(workspace) -> Path:
    return train_tiny_run(workspace)


def test_generation_with_trained_run(workspace, vae_run_dir):
    from synth_core.training.runs import Run

    run = Run.load(vae_run_dir)
    data = load_run_data(run, workspace)
    ends = encode_pair(run, data, 0, 1)
    path = decode_path(run, ends, [0.0, 1.0])
    np.testing.assert_allclose(path, run.decode(np.vstack([ends.z_a, ends.z_b])), atol=1e-6)
    out = batch_protocol(run, data, pairs_per_class=2, steps=4, random_state=0)
    assert out.n_samples == 10 * 2 * 2
    assert out.attrs["feature_shape"] == [8, 8] and out.attrs["modality"] == "image"
    # Back in the original scale: pixels in [0, 1] like the real data, not scaled codes.
    assert out.features.min() >= -0.05 and out.features.max() <= 1.05
    prior = sample_prior(run, 5, data=data)
    assert prior.features.shape == (5, 64)
    with pytest.raises(InputError, match="not a conditional model"):
        sample_class(run, [0], 2, prior="normal")
    saved = save_generated(out, workspace, "protocol")
    assert read_features(saved).attrs["model_run"] == str(vae_run_dir)


def test_generation_cvae_by_class(workspace):
    from synth_core.training.runs import Run

    run = Run.load(train_tiny_run(workspace, model="cvae", epochs=2))
    out = sample_class(run, [3, 8], 4, random_state=0)
    np.testing.assert_array_equal(out.labels, [3] * 4 + [8] * 4)
    with pytest.raises(InputError, match="class 12 is not a class this model knows"):
        sample_class(run, [12], 4)
    data = load_run_data(run, workspace)
    assert synthesize(run, data, {1: 3}).n_samples == 3


def test_load_run_data_when_dataset_file_is_gone(workspace, vae_run_dir):
    from synth_core.training.runs import Run

    workspace.dataset_path("digits-small").unlink()
    with pytest.raises(StorageError, match="digits-small"):
        load_run_data(Run.load(vae_run_dir), workspace)


def test_generate_job_saves_to_exports(workspace, vae_run_dir):
    from synth_core.jobs import submit_job, wait_for_job

    config = GenerateConfig(mode="protocol", pairs=1, steps=3, seed=2)
    job = submit_job(workspace, "generate", {"run": str(vae_run_dir), "config": config.to_dict(),
                                             "name": "from-job"})
    status = wait_for_job(workspace, job.id, timeout=120)
    assert status.state == "done", status.error
    assert status.result["n_samples"] == 10
    saved = read_features(workspace.exports_dir / "from-job.h5")
    assert saved.attrs["seed"] == 2 and saved.parents.shape == (10, 2)


def test_training_rows_follow_the_saved_split(workspace, vae_run_dir):
    """The fitted prior uses the rows the run trained on (split.json's train_index)."""
    from synth_core.generation.codes import _training_rows
    from synth_core.training.runs import Run

    run = Run.load(vae_run_dir)
    data = load_run_data(run, workspace)
    rows = _training_rows(run, data)
    assert rows.tolist() == run.split()["train_index"]
    assert 0 < len(rows) < data.n_samples


# --------------------------------------------------------------------------- priors, output, balance


def test_code_mixture_samples_near_both_of_two_separated_blobs():
    from synth_core.generation.priors import CodeMixture

    rng = np.random.default_rng(0)
    centres = np.array([[-6.0, 0.0, 0.0], [6.0, 2.0, -1.0]])
    Z = np.concatenate([c + 0.3 * rng.standard_normal((150, 3)) for c in centres])
    drawn, labels = CodeMixture(random_state=0).fit(Z).sample(400, random_state=1)
    assert drawn.shape == (400, 3) and (labels == -1).all()
    nearest = np.linalg.norm(drawn[:, None, :] - centres[None], axis=2)      # [400, 2]
    assert (nearest.min(axis=1) < 1.5).all()          # every code lands on a blob...
    share = np.bincount(nearest.argmin(axis=1), minlength=2) / 400
    assert (share > 0.35).all()                        # ...and both blobs get codes
    # Per class: each class's codes come from its own blob; counts are honoured.
    y = np.repeat([0, 1], 150)
    by_class, y_new = CodeMixture(random_state=0).fit(Z, y).sample({0: 5, 1: 7}, random_state=2)
    assert np.bincount(y_new).tolist() == [5, 7]
    assert (np.linalg.norm(by_class - centres[y_new], axis=1) < 1.5).all()
    again, _ = CodeMixture(random_state=0).fit(Z, y).sample({0: 5, 1: 7}, random_state=2)
    np.testing.assert_array_equal(by_class, again)
    with pytest.raises(InputError, match="class 4 had no training codes"):
        CodeMixture().fit(Z, y).sample({4: 1})


def test_code_mixture_gives_a_single_row_class_the_pooled_within_class_spread():
    """A class of one training row (diabetes-style labels) crashed GaussianMixture; it gets a
    Gaussian at its code with the within-class covariance the other classes share."""
    from synth_core.generation.priors import CodeMixture

    rng = np.random.default_rng(0)
    spread = np.array([2.0, 0.5])
    Z = np.concatenate([rng.standard_normal((200, 2)) * spread,
                        rng.standard_normal((200, 2)) * spread + 10.0, [[-20.0, 5.0]]])
    y = np.r_[np.zeros(200, int), np.ones(200, int), [2]]
    drawn, labels = CodeMixture(random_state=0).fit(Z, y).sample({2: 4000}, random_state=1)
    assert (labels == 2).all()
    np.testing.assert_allclose(drawn.mean(axis=0), [-20.0, 5.0], atol=0.15)
    np.testing.assert_allclose(drawn.std(axis=0), spread, rtol=0.1)
    # Every class a single row: the codes' own spread.
    alone = CodeMixture().fit(Z[[0, 200]], [0, 1]).sample({0: 3}, random_state=0)[0]
    assert alone.shape == (3, 2) and np.isfinite(alone).all()


def test_share_out_keeps_the_total_and_the_proportions():
    from synth_core.generation.priors import share_out

    assert share_out(10, {0: 1, 1: 1, 2: 2}) == {0: 2, 1: 3, 2: 5} or \
        share_out(10, {0: 1, 1: 1, 2: 2}) == {0: 3, 1: 2, 2: 5}
    counts = share_out(1000, {0: 0.1, 1: 0.6, 2: 0.3})
    assert counts == {0: 100, 1: 600, 2: 300}
    assert sum(share_out(7, {0: 1, 1: 1, 2: 1}).values()) == 7


def test_sample_class_mixture_prior_gives_an_unconditional_vae_classes(run, blobs):
    out = sample_class(run, [0, 2], 20, data=blobs, prior="mixture", random_state=0,
                       output="mean")
    assert out.attrs["prior"] == "mixture" and np.bincount(out.labels).tolist() == [20, 0, 20]
    # The stand-in decoder is linear, so a class's rows sit around its decoded mean code.
    mu, _ = run.encode(blobs.features)
    means = run.decode(np.stack([mu[blobs.labels == c].mean(axis=0) for c in range(3)]))
    nearest = np.linalg.norm(out.features[:, None, :] - means[None], axis=2).argmin(axis=1)
    assert (nearest == out.labels).mean() > 0.95
    normal = sample_prior(run, 5, data=blobs, prior="standard", random_state=0)
    assert normal.attrs["prior"] == "normal"   # the old name still works


def test_posterior_prior_draws_from_each_training_row_posterior(run, blobs):
    """Known answer: codes from the aggregate posterior of a class, (1/N) sum_i q(z|x_i), have
    the mean of the class's code means and their variance plus the encoder's (here
    exp(-2) per unit); by class they carry the class, an AE has no posterior to draw."""
    out = sample_class(run, [0, 2], 4000, data=blobs, prior="posterior", random_state=0,
                       output="mean")
    assert out.attrs["prior"] == "posterior"
    assert np.bincount(out.labels).tolist() == [4000, 0, 4000]
    codes = out.features.astype(np.float64) @ np.linalg.pinv(run.W.T)  # the decoder is linear
    mu, logvar = run.encode(blobs.features)
    for c in (0, 2):
        own = mu[blobs.labels == c]
        drawn = codes[out.labels == c]
        np.testing.assert_allclose(drawn.mean(0), own.mean(0), atol=0.1)
        np.testing.assert_allclose(drawn.var(0), own.var(0) + np.exp(logvar[0]), rtol=0.1)
    some = sample_prior(run, 300, data=blobs, prior="posterior", random_state=0)
    assert some.attrs["prior"] == "posterior" and set(some.labels.tolist()) <= {0, 1, 2}
    with pytest.raises(InputError, match="deterministic autoencoder.*fitted or mixture"):
        sample_prior(LinearRun(model="ae"), 5, data=blobs, prior="posterior")
    unlabelled = blobs.subset(np.arange(blobs.n_samples))
    unlabelled.labels[:] = -1
    with pytest.raises(InputError, match="unlabelled, so the posterior prior has no classes"):
        sample_class(run, [0], 3, data=unlabelled, prior="posterior")


def test_auto_prior_of_a_cvae_is_the_posterior_only_when_every_class_has_rows_enough():
    from synth_core.generation.sampling import (POSTERIOR_MIN_CLASS_ROWS, resolve_prior,
                                                smallest_class_rows)

    cvae = LinearRun(model="cvae")
    big = make_blobs(n_per_class=POSTERIOR_MIN_CLASS_ROWS)
    small = big.subset(np.r_[0:2 * POSTERIOR_MIN_CLASS_ROWS,
                             2 * POSTERIOR_MIN_CLASS_ROWS:3 * POSTERIOR_MIN_CLASS_ROWS - 1])
    assert smallest_class_rows(cvae, big) == POSTERIOR_MIN_CLASS_ROWS
    assert smallest_class_rows(cvae, small) == POSTERIOR_MIN_CLASS_ROWS - 1
    assert resolve_prior(cvae, "auto", by_class=True, data=big) == "posterior"
    assert resolve_prior(cvae, "auto", by_class=True, data=small) == "mixture"
    assert resolve_prior(cvae, "auto", by_class=True, data=None) == "normal"
    assert resolve_prior(cvae, "auto", by_class=False, data=big) == "mixture"  # a number
    assert resolve_prior(LinearRun(), "auto", by_class=True, data=big) == "mixture"  # a VAE
    assert resolve_prior(cvae, "mixture", by_class=True, data=big) == "mixture"  # as asked
    # The run's recorded training rows count, not the whole file: with 40 of each class
    # held out for validation and test, the big table has too few left.
    cvae.split_json = {"train_index": np.r_[0:10, 50:60, 100:110].tolist()}
    assert smallest_class_rows(cvae, big) == 10
    assert resolve_prior(cvae, "auto", by_class=True, data=big) == "mixture"
    cvae.split_json = {}
    rows = synthesize(cvae, big, {0: 30, 2: 30}, random_state=0)
    assert rows.attrs["prior"] == "posterior" and rows.n_samples == 60
    assert synthesize(cvae, small, {0: 30}, random_state=0).attrs["prior"] == "mixture"


def test_output_sample_draws_around_the_decoded_mean_seeded(run, blobs):
    mean = sample_prior(run, 400, random_state=3, output="mean")
    drawn = sample_prior(run, 400, random_state=3, output="sample")
    assert drawn.attrs["output"] == "sample" and mean.attrs["output"] == "mean"
    noise = drawn.features - mean.features          # same codes, noise added after decoding
    assert abs(noise.std() - run.output_sigma) < 0.05 and abs(noise.mean()) < 0.05
    np.testing.assert_array_equal(drawn.features,
                                  sample_prior(run, 400, random_state=3, output="sample").features)
    protocol = batch_protocol(run, blobs, pairs_per_class=1, steps=3, output="sample")
    assert protocol.attrs["output"] == "sample"
    with pytest.raises(InputError, match="output = 'noisy'"):
        GenerateConfig(mode="prior", output="noisy")
    run.can_sample_output = False
    with pytest.raises(InputError, match="cannot sample from its decoder.*--output mean"):
        sample_prior(run, 3, output="sample")


def test_balance_follows_the_real_class_proportions(run):
    from synth_core.generation.sampling import class_balance

    data = make_blobs(n_per_class=40)
    data = data.subset(np.r_[0:40, 40:50, 80:110])     # classes 40 : 10 : 30
    assert class_balance(run, data, 160) == {0: 80, 1: 20, 2: 60}
    config = GenerateConfig(mode="class", balance=160, prior="mixture", seed=1)
    assert config.n_requested(3) == 160
    out = generate(run, data, config)
    assert np.bincount(out.labels).tolist() == [80, 20, 60]
    assert out.attrs["balance"] == "real class proportions"
    run.split_json = {"train_index": list(range(0, 40)) + list(range(40, 50)),
                      "val_index": [50, 51]}             # fitted on classes 0, 1 and 2 rows
    assert class_balance(run, data, 52) == {0: 40, 1: 10, 2: 2}
    with pytest.raises(InputError, match="balance shares a total out"):
        GenerateConfig(mode="prior", balance=10)


def test_generated_sets_record_seen_ids_and_held_out_folds(run, blobs, tmp_path):
    data = FeatureSet(features=blobs.features, labels=blobs.labels,
                      class_names=blobs.class_names, ids=blobs.ids,
                      folds=np.repeat([1, 2, 3], 30))
    run.split_json = {"train_index": list(range(0, 30)), "val_index": list(range(30, 60))}
    out = batch_protocol(run, data.subset(np.arange(60)), pairs_per_class=1, steps=3)
    assert out.seen_ids == [f"row-{i}" for i in range(60)]
    assert out.attrs["held_out_folds"] == []           # every fold of that data was fitted on
    out = sample_prior(run, 4, data=data)
    assert out.attrs["held_out_folds"] == [3] and len(out.seen_ids) == 60
    back = read_features(export_generated(out, tmp_path / "g.h5"))
    assert back.seen_ids == out.seen_ids and back.attrs["held_out_folds"] == [3]
    run.split_json = {}                                   # no split: nothing invented
    out = sample_prior(run, 4, data=data)
    assert out.seen_ids is None and out.attrs["held_out_folds"] == []


def test_csv_export_keeps_imported_column_names(run, blobs, tmp_path):
    from synth_core.data.importers import import_features

    names = [f"mfcc_{i}" for i in range(16)]
    table = np.column_stack([blobs.features, blobs.labels])
    path = tmp_path / "real.csv"
    np.savetxt(path, table, delimiter=",", header=",".join(names + ["class"]), comments="")
    real = import_features(path, label_column="class")
    assert real.attrs["feature_names"] == names
    out = sample_prior(run, 3, data=real)
    header = export_bytes(out, "csv").decode().splitlines()[0]
    assert header == ",".join(names + ["label"])
    assert export_bytes(sample_prior(run, 3), "csv").decode().startswith("f0,f1,")


def test_csv_export_names_each_rows_class_quoted_and_numbers_the_unnamed(tmp_path):
    """Class names with a comma, a quote or unicode survive a CSV export and import; a
    class without a name keeps its number, and an unlabelled row -1."""
    from synth_core.data.importers import import_features

    names = ["größe, klein", 'say "hi"', ""]
    data = FeatureSet(features=np.arange(8.0).reshape(4, 2), labels=np.array([0, 1, 2, 0]),
                      class_names=names)
    text = export_bytes(data, "csv").decode()
    assert text.splitlines()[1:] == ['0,1,"größe, klein"', '2,3,"say ""hi"""', "4,5,2",
                                     '6,7,"größe, klein"']
    (tmp_path / "g.csv").write_text(text, encoding="utf-8")
    back = import_features(tmp_path / "g.csv", label_column="last")
    assert [back.class_names[c] for c in back.labels] == ["größe, klein", 'say "hi"', "2",
                                                          "größe, klein"]
    unlabelled = FeatureSet(features=np.zeros((2, 2)), labels=np.array([-1, -1]))
    assert export_bytes(unlabelled, "csv").decode().splitlines()[1:] == ["0,0,-1", "0,0,-1"]


def test_output_sample_matches_the_real_spread_of_a_gaussian_mixture(workspace):
    """A calibrated VAE trained on a two-component Gaussian mixture: rows drawn from the
    decoder (output=sample, codes from the mixture prior) spread like the real rows per
    feature; decoded means alone are narrower."""
    from synth_core.data.datasets import save_dataset
    from synth_core.training.config import TrainConfig
    from synth_core.training.runs import Run
    from synth_core.training.trainer import new_run_dir, train_model

    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0, 0, 0, 0, 0], [4, 4, -2, 1, 3, -3]])
    scales = np.array([[1.0, 0.5, 2, 1, 0.3, 1], [0.5, 1, 1, 2, 1, 0.4]])
    X = np.concatenate([c + s * rng.standard_normal((200, 6)) for c, s in zip(centres, scales)])
    data = FeatureSet(features=X, labels=np.repeat([0, 1], 200), class_names=["a", "b"])
    save_dataset(data, "gmm", workspace)
    config = TrainConfig(model="vae", latent_dim=4, hidden=(32,), lr=5e-3, epochs=10,
                         batch_size=64, patience=0, seed=0, device="cpu",
                         decoder="sigma-per-feature")
    run = Run.load(train_model(data, config, run_dir=new_run_dir(workspace, "vae"),
                               dataset_ref="gmm").run_dir)
    ratios = {}
    for output in ("mean", "sample"):
        out = generate(run, data, GenerateConfig(mode="class", per_class=300, prior="mixture",
                                                 output=output, seed=0))
        assert out.attrs["output"] == output and out.attrs["prior"] == "mixture"
        ratios[output] = out.features.std(axis=0) / X.std(axis=0)          # [6]
    assert ((ratios["sample"] > 0.8) & (ratios["sample"] < 1.25)).all(), ratios["sample"]
    assert ratios["mean"].mean() < ratios["sample"].mean()


def test_vae_draws_give_each_class_its_own_spread(workspace):
    """A default VAE on two classes whose rows spread 10x apart (8 features of noise, more
    than its 2-d code explains). With one output spread for all rows the tight class's
    draws spread ~6x its real rows; with each class's own spread ~2.5x (what is left: the
    residuals are measured at codes drawn from the posterior, as training sees them), and
    the loose class's like its real rows."""
    from synth_core.generation.sampling import synthesize
    from synth_core.training.config import TrainConfig
    from synth_core.training.runs import Run
    from synth_core.training.trainer import new_run_dir, train_model

    rng = np.random.default_rng(0)
    X = np.concatenate([0.2 * rng.standard_normal((300, 8)),
                        3.0 + 2.0 * rng.standard_normal((300, 8))])
    data = FeatureSet(features=X, labels=np.repeat([0, 1], 300), class_names=["tight", "loose"])
    config = TrainConfig(model="vae", epochs=30, patience=0, seed=0, device="cpu",
                         transform="standard", test_fraction=0.0)
    run = Run.load(train_model(data, config, run_dir=new_run_dir(workspace, "vae")).run_dir)
    assert run.has_class_spread
    out = synthesize(run, data, {0: 300, 1: 300}, random_state=0)
    assert out.attrs["output"] == "sample" and out.attrs["output_spread"] == "per class"
    ratio = {c: float(np.median(out.features[out.labels == c].std(0) / X[data.labels == c].std(0)))
             for c in (0, 1)}
    assert 0.7 < ratio[1] < 1.4 and ratio[0] < 3.5, ratio
    run.model.class_log_sigma = run.model.class_log_sigma[:0]  # one spread for all rows
    shared = synthesize(run, data, {0: 300}, random_state=0)
    assert shared.attrs["output_spread"] == "per feature"
    shared_ratio = float(np.median(shared.features.std(0) / X[data.labels == 0].std(0)))
    assert shared_ratio > 2 * ratio[0]


def test_path_output_draws_for_the_protocol_but_not_one_pair_or_the_thesis(blobs):
    """output "auto" on interpolated rows: the batch protocol draws where the run can (as
    the Generate page preselects), one pair's path and a thesis-decoder run decode means."""
    from dataclasses import replace

    from synth_core.generation.generator import path_output

    run = LinearRun()
    assert path_output(run, "protocol") == "sample" and path_output(run, "pair") == "mean"
    out = generate(run, blobs, GenerateConfig(mode="protocol", pairs=1, steps=3))
    assert out.attrs["output"] == "sample"
    pair = generate(run, blobs, GenerateConfig(mode="pair", from_index=0, to_index=1, steps=3))
    assert pair.attrs["output"] == "mean"
    run.config = replace(run.config, decoder="thesis")
    assert path_output(run, "protocol") == "mean"
    old = LinearRun()
    old.can_sample_output = False  # saved before decoders measured their spread
    assert path_output(old, "protocol") == "mean"


def _path_rows(real: FeatureSet, shrink: float, **attrs) -> FeatureSet:
    """Rows at each real row's class mean plus ``shrink`` x its offset: a set whose
    within-class spread is ``shrink`` times the real one, labelled as ``generate`` labels
    the batch protocol's rows."""
    means = np.stack([real.features[real.labels == c].mean(0) for c in range(real.n_classes)])
    centre = means[real.labels]
    features = (centre + shrink * (real.features - centre)).astype(np.float32)
    base = {"mode": "interpolate", "output": "mean", "pairs_per_class": 8,
            "model_run": "/ws/runs/vae-1"}
    return FeatureSet(features=features, labels=real.labels, class_names=real.class_names,
                      attrs={**base, **attrs})


def test_path_spread_warning_names_paths_that_barely_move():
    """Decoded means that spread 0.05x the class (a code that explains nothing) are named,
    with the fix; draws, paths across two classes and a healthy 0.8x spread are not."""
    from synth_core.generation.generator import PATH_SPREAD_FLOOR, path_spread_warning

    real = make_blobs(n_per_class=40, n_features=6, n_classes=3, seed=0)
    warning = path_spread_warning(_path_rows(real, 0.05), real)
    assert warning is not None
    assert "run vae-1" in warning and "0.05x" in warning and "within each class" in warning
    assert "--output sample" in warning
    assert path_spread_warning(_path_rows(real, 0.05, output="sample"), real) is None
    assert path_spread_warning(_path_rows(real, 0.05, cross=[0, 1]), real) is None
    assert path_spread_warning(_path_rows(real, 0.05, mode="class"), real) is None
    assert path_spread_warning(_path_rows(real, 0.05), None) is None
    assert path_spread_warning(_path_rows(real, 0.8), real) is None
    assert path_spread_warning(_path_rows(real, PATH_SPREAD_FLOOR * 0.9), real) is not None
