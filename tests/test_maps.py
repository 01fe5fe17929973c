"""Maps: caching and placement, joint t-SNE, the figure's data, export, latent maps, the job."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synth_core.generation import figures, map_jobs, maps, neighbors
from synth_core.data.datasets import save_dataset
from synth_core.errors import InputError, JobCancelled, StorageError
from synth_core.events import Progress
from synth_core.features import FeatureSet, write_features
from tests.conftest import make_blobs

TINY = {"n_iter": 60, "early_exaggeration_iter": 30, "place_iter": 60, "n_jobs": 1}
CONFIG = maps.MapConfig(**TINY)


def _generated_from(real: FeatureSet, n_per_class: int = 4, seed: int = 1) -> FeatureSet:
    """Rows near real rows of the same class (a stand-in for a VAE's output)."""
    rng = np.random.default_rng(seed)
    index = np.concatenate([rng.choice(np.flatnonzero(real.labels == c), n_per_class)
                            for c in range(real.n_classes)])
    features = real.features[index] + 0.01 * rng.standard_normal((len(index), real.n_features))
    return FeatureSet(features=features, labels=real.labels[index], class_names=real.class_names,
                      ids=[f"gen-{i}" for i in range(len(index))],
                      attrs={"mode": "interpolate", "seed": 1})


@pytest.fixture(scope="module")
def real() -> FeatureSet:
    return make_blobs(n_per_class=25, n_features=64, n_classes=3)


@pytest.fixture(scope="module")
def tsne_map(real, tmp_path_factory) -> maps.RealMap:
    return maps.fit_map(real, method="tsne", cache_dir=tmp_path_factory.mktemp("cache"),
                        config=CONFIG)


def test_fit_map_cached_by_content_hash(real, tmp_path):
    first = maps.fit_map(real, method="tsne", cache_dir=tmp_path, config=CONFIG)
    again = maps.fit_map(real, method="tsne", cache_dir=tmp_path, config=CONFIG)
    assert not first.from_cache and again.from_cache
    np.testing.assert_array_equal(first.xy, again.xy)
    files = list((tmp_path / "maps").glob("*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as npz:  # a cache file never needs pickle
        assert npz["xy"].shape == (real.n_samples, 2)
    changed = FeatureSet(features=real.features + 0.001, labels=real.labels,
                         class_names=real.class_names)
    assert maps.map_cache_key(changed, CONFIG) != first.key
    assert maps.map_cache_key(real, maps.MapConfig(**{**TINY, "perplexity": 10})) != first.key
    assert maps.map_cache_key(real, maps.MapConfig(**{**TINY, "n_jobs": 2})) == first.key


def test_place_keeps_real_map_fixed_and_lands_near_class(real, tsne_map, tmp_path):
    before = tsne_map.xy.copy()
    generated = _generated_from(real)
    placed = tsne_map.place(generated.features)
    assert placed.shape == (generated.n_samples, 2)
    tsne_map.place(generated.features[:2] + 0.05)  # a second generation
    np.testing.assert_array_equal(tsne_map.xy, before)
    # Placement from the cached map (state rebuilt from arrays) gives the same positions.
    reloaded = maps.fit_map(real, method="tsne", cache_dir=tmp_path, config=CONFIG)
    reloaded = maps.fit_map(real, method="tsne", cache_dir=tmp_path, config=CONFIG)
    assert reloaded.from_cache
    np.testing.assert_allclose(reloaded.place(generated.features), placed, atol=1e-6)
    # Each generated row lands nearest the centroid of its own class.
    centres = np.stack([before[real.labels == c].mean(axis=0) for c in range(real.n_classes)])
    nearest = np.argmin(((placed[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    assert (nearest == generated.labels).mean() >= 0.9


def test_place_rejects_other_width(tsne_map):
    with pytest.raises(InputError, match="16 features but the map was fitted on 64"):
        tsne_map.place(np.zeros((3, 16)))
    with pytest.raises(InputError, match="NaN"):
        tsne_map.place(np.full((1, 64), np.nan))


def test_pca_map_places_by_projection(real):
    pca = maps.fit_map(real, method="pca", cache_dir=None)
    np.testing.assert_allclose(pca.place(real.features[:5]), pca.xy[:5], atol=1e-5)
    data = pca.map_data(_generated_from(real))
    assert data.method == "pca" and data.n_real == real.n_samples and data.n_generated == 12


def test_fit_map_reports_progress_and_lets_cancel_propagate(real):
    events = []
    maps.fit_map(real, method="tsne", cache_dir=None, config=CONFIG, callback=events.append)
    fractions = [e.fraction for e in events if isinstance(e, Progress)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 3

    def cancel(event):
        if isinstance(event, Progress) and event.stage == "tsne" and event.fraction > 0.1:
            raise JobCancelled("stop")

    with pytest.raises(JobCancelled):
        maps.fit_map(real, method="tsne", cache_dir=None, config=CONFIG, callback=cancel)


def test_joint_tsne_maps_both_together(real):
    generated = _generated_from(real)
    data = maps.joint_tsne(real, generated, random_state=0, max_iter=250, n_jobs=1)
    assert data.xy.shape == (real.n_samples + generated.n_samples, 2)
    assert data.n_real == real.n_samples and data.n_generated == generated.n_samples
    assert list(data.source[:real.n_samples]) == ["real"] * real.n_samples
    assert data.ids[-1] == "gen-11" and data.method == "joint-tsne"
    with pytest.raises(InputError, match="features"):
        maps.joint_tsne(real, make_blobs(n_features=8), random_state=0)


def _map_data() -> maps.MapData:
    xy = np.array([[0, 0], [2, 0], [10, 10], [12, 10], [1, 1], [11, 11]], dtype=float)
    return maps.MapData(xy=xy, labels=[0, 0, 1, 1, 0, 1],
                        source=["real"] * 4 + ["generated"] * 2,
                        ids=[f"id{i}" for i in range(6)], class_names=["dog", "siren"])


def test_centroids_number_real_then_generated():
    cents = {(c.source, c.label): c for c in maps.centroids(_map_data())}
    assert cents[("real", 0)].number == 0 and cents[("real", 1)].number == 1
    assert cents[("generated", 0)].number == 2 and cents[("generated", 1)].number == 3
    assert (cents[("real", 0)].x, cents[("real", 0)].y) == (1.0, 0.0)


def test_map_figure_stars_faded_real_shared_colours_and_labels():
    fig = figures.map_figure(_map_data())
    traces = {(t.meta["source"], t.meta["label"]): t for t in fig.data}
    assert set(traces) == {("real", 0), ("real", 1), ("generated", 0), ("generated", 1)}
    for label in (0, 1):
        real_trace, gen_trace = traces[("real", label)], traces[("generated", label)]
        assert real_trace.marker.symbol == "circle" and real_trace.marker.opacity == 0.5
        assert gen_trace.marker.symbol == "star" and gen_trace.marker.opacity == 1.0
        assert real_trace.marker.color == gen_trace.marker.color
        assert real_trace.legendgroup == "real" and gen_trace.legendgroup == "generated"
    assert traces[("real", 0)].marker.color != traces[("real", 1)].marker.color
    assert list(traces[("generated", 1)].customdata[0]) == ["id5", "siren", "generated", 5]
    assert "%{customdata[0]}" in traces[("real", 0)].hovertemplate
    texts = sorted(a.text for a in fig.layout.annotations)
    assert texts == ["<b>0</b>", "<b>1</b>", "<b>2</b>", "<b>3</b>"]
    assert all(a.borderwidth and a.bordercolor for a in fig.layout.annotations)
    assert fig.layout.legend.groupclick == "toggleitem"


def test_map_figure_handles_unlabeled_rows():
    data = maps.MapData(xy=np.zeros((3, 2)), labels=[-1, -1, -1], source=["real"] * 3,
                        ids=["a", "b", "c"], class_names=[])
    fig = figures.map_figure(data)
    assert len(fig.data) == 1 and fig.data[0].marker.color == figures.UNLABELED_COLOR


def test_class_colors_distinct_hex():
    colors = figures.class_colors(10)
    assert len(set(colors)) == 10 and all(c.startswith("#") and len(c) == 7 for c in colors)


def test_add_marker_updates_in_place():
    fig = figures.map_figure(_map_data())
    n = len(fig.data)
    figures.add_marker(fig, np.array([[1.0, 2.0]]))
    figures.add_marker(fig, np.array([[3.0, 4.0]]))
    assert len(fig.data) == n + 1 and tuple(fig.data[-1].x) == (3.0,)


def test_map_data_save_load_round_trip(tmp_path):
    data = _map_data()
    data.meta["dataset"] = "builtin:digits"
    loaded = maps.MapData.load(data.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.xy, data.xy)
    assert loaded.ids == data.ids and loaded.class_names == data.class_names
    assert list(loaded.source) == list(data.source) and loaded.meta["dataset"] == "builtin:digits"
    (tmp_path / "bad.npz").write_bytes(b"not a map")
    with pytest.raises(InputError, match="compute the map again"):
        maps.MapData.load(tmp_path / "bad.npz")


def test_export_figure_html_json_and_refusals(tmp_path, monkeypatch):
    fig = figures.map_figure(_map_data())
    html = figures.export_figure(fig, tmp_path / "map.html")
    assert "plotly" in html.read_text()[:5000].lower()
    data = json.loads(figures.export_figure(fig, tmp_path / "map.json").read_text())
    assert data["data"][0]["marker"]["symbol"] == "circle"
    with pytest.raises(StorageError, match="already exists"):
        figures.export_figure(fig, tmp_path / "map.html")
    with pytest.raises(InputError, match="unknown map format"):
        figures.export_figure(fig, tmp_path / "map.svg")
    monkeypatch.setattr(figures, "chrome_path", lambda: None)
    with pytest.raises(StorageError, match="Chrome or Chromium"):
        figures.export_figure(fig, tmp_path / "map.png")
    assert not (tmp_path / "map.png").exists()


class _FakeRun:
    """Encodes by taking the first 3 features (the interface of synth_core.training.runs.Run)."""

    is_conditional = False

    def encode(self, X, labels=None):
        X = np.asarray(X, dtype=np.float32)
        return X[:, :3], np.zeros((len(X), 3), dtype=np.float32)


def test_latent_map_encodes_real_and_generated(real):
    generated = _generated_from(real)
    data = maps.latent_map(_FakeRun(), real, generated, method="pca")
    assert data.n_real == real.n_samples and data.n_generated == generated.n_samples
    assert data.meta["space"] == "latent" and data.meta["latent_dim"] == 3
    with pytest.raises(InputError, match="features"):
        maps.latent_map(_FakeRun(), real, make_blobs(n_features=8))


def test_nearest_rows_finds_the_copy(real):
    index, distance = neighbors.nearest_rows(real.features, real.features[[7, 40]] + 1e-4, k=2)
    assert index.shape == distance.shape == (2, 2)
    assert list(index[:, 0]) == [7, 40] and (distance[:, 0] < 1e-2).all()
    assert (distance[:, 1] >= distance[:, 0]).all()
    with pytest.raises(InputError, match="features"):
        neighbors.nearest_rows(real.features, real.features[:2, :3])


class _Ctx:
    def __init__(self, workspace):
        self.workspace = workspace
        self.events = []

    def __call__(self, event):
        self.events.append(event)


def test_map_job_stores_result_found_again(workspace, real):
    save_dataset(real, "blobs", workspace)
    synthetic = write_features(workspace.exports_dir / "gen.h5", _generated_from(real))
    write_features(workspace.exports_dir / "other.h5", make_blobs(n_features=8))
    assert map_jobs.generated_files(workspace) == [synthetic]  # "other" has no mode attr
    params = {"dataset": "blobs", "synthetic": [str(synthetic)], "method": "tsne",
              "config": TINY}
    ctx = _Ctx(workspace)
    result = map_jobs.map_job(params, ctx)
    assert result["n_generated"] == 12 and Path(result["map"]).is_file()
    assert Path(result["map"]) == map_jobs.map_result_path(workspace, map_jobs.normalize_params(params))
    assert any(isinstance(e, Progress) for e in ctx.events)
    again, path = map_jobs.compute_map(params, workspace)
    assert str(path) == result["map"] and again.n_generated == 12
    assert map_jobs.check_map_inputs(params, workspace) == (real.n_samples, 12)


def test_check_map_inputs_names_width_mismatch(workspace, real):
    save_dataset(real, "blobs", workspace)
    narrow = make_blobs(n_features=8)
    narrow.attrs["mode"] = "prior"
    path = write_features(workspace.exports_dir / "narrow.h5", narrow)
    with pytest.raises(InputError, match="narrow.h5 has 8 features .* has 64"):
        map_jobs.check_map_inputs({"dataset": "blobs", "synthetic": [str(path)]}, workspace)
    with pytest.raises(InputError, match="joint-tsne|not known"):
        map_jobs.normalize_params({"dataset": "blobs", "method": "umap"})


def test_freeze_frame_fixes_ranges_and_margins():
    base = figures.map_figure(_map_data(), height=500)
    xy = np.array([[-3.0, 1.0], [5.0, 9.0]])
    figures.freeze_frame(base, xy, legend_px=150)
    assert base.layout.margin.autoexpand is False and base.layout.margin.r == 150
    assert base.layout.xaxis.range == (-3.4, 5.4) and base.layout.xaxis.fixedrange
    assert base.layout.yaxis.range == (0.6, 9.4) and base.layout.yaxis.fixedrange
    assert base.layout.yaxis.scaleanchor == "x"


def test_map_figure_gl_draws_the_same_points_with_webgl():
    svg, gl = figures.map_figure(_map_data()), figures.map_figure(_map_data(), gl=True)
    assert {t.type for t in svg.data} == {"scatter"} and {t.type for t in gl.data} == {"scattergl"}
    for a, b in zip(svg.data, gl.data):
        assert a.name == b.name and list(a.x) == list(b.x) and a.marker.symbol == b.marker.symbol
        assert [list(c) for c in a.customdata] == [list(c) for c in b.customdata]


def test_a_one_feature_table_is_refused_with_where_to_compare_it():
    one = FeatureSet(features=np.linspace(0, 1, 20)[:, None], labels=np.zeros(20, dtype=int))
    with pytest.raises(InputError, match=r"1 feature per row; a 2-d map needs at least 2 "
                                         r"features; .*per-feature spread.*Evaluate"):
        maps.fit_map(one, method="pca")
