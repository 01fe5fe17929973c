"""AppTest of the Explore page: inline PCA map, t-SNE as a job, bad input, latent tab."""

from __future__ import annotations

import json

from synth_core.data.datasets import save_dataset
from synth_core.features import write_features
from synth_core.jobs import list_jobs, wait_for_job
from tests.conftest import app_test, make_blobs

PAGE = "pages/5_Explore.py"


def _setup(workspace, *, generated_width: int = 16):
    real = make_blobs(n_per_class=20, n_features=16, n_classes=3)
    save_dataset(real, "blobs", workspace)
    gen = make_blobs(n_per_class=4, n_features=generated_width, n_classes=3, seed=2)
    gen.attrs["mode"] = "interpolate"
    return str(write_features(workspace.exports_dir / "gen.h5", gen))


def _open(workspace, synthetic: str | None, method: str):
    at = app_test(PAGE).run()
    assert not at.exception
    at.selectbox(key="explore_dataset").set_value("blobs")
    if synthetic:
        at.multiselect(key="explore_synthetic").set_value([synthetic])
    at.radio(key="explore_method").set_value(method)
    return at.run()


def _charts(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def test_explore_pca_map_inline_with_stars(workspace):
    synthetic = _setup(workspace)
    at = _open(workspace, synthetic, "pca")
    assert not at.exception and not at.error
    charts = _charts(at)
    assert charts, "the PCA map should be drawn inline"
    symbols = {t["marker"]["symbol"] for t in charts[0]["data"]}
    assert symbols == {"circle", "star"}
    assert [b.label for b in at.get("download_button")][:2] == ["Download HTML", "Download PNG"]
    assert any("closest to real" in t.value for t in at.text)


def test_explore_tsne_runs_as_job_and_is_found_again(workspace):
    synthetic = _setup(workspace)
    at = _open(workspace, synthetic, "tsne")
    assert not _charts(at)
    at.button(key="data-start").click().run()
    jobs = list_jobs(workspace, "map")
    assert len(jobs) == 1 and jobs[0].params["method"] == "tsne"
    assert wait_for_job(workspace, jobs[0].id, timeout=120).is_done
    at = _open(workspace, synthetic, "tsne")  # a fresh session: the map comes from the workspace
    assert not at.exception
    assert _charts(at) and len(list_jobs(workspace, "map")) == 1


def test_explore_width_mismatch_is_explained(workspace):
    synthetic = _setup(workspace, generated_width=8)
    at = _open(workspace, synthetic, "pca")
    assert not at.exception
    assert any("8 features" in e.value and "16" in e.value for e in at.error)
    assert not _charts(at)


def test_explore_latent_tab_says_how_to_train(workspace):
    _setup(workspace)
    at = app_test(PAGE).run()
    assert not at.exception
    assert any("Train" in i.value for i in at.info)


def test_explore_latent_tab_maps_a_trained_run(workspace):
    from synth_core.data.datasets import load_dataset
    from synth_core.training.config import TrainConfig
    from synth_core.training.trainer import new_run_dir, train_model

    synthetic = _setup(workspace)
    config = TrainConfig(model="vae", latent_dim=2, hidden=(8,), epochs=2, batch_size=16,
                         device="cpu")
    train_model(load_dataset("blobs", workspace), config, run_dir=new_run_dir(workspace, "vae"),
                dataset_ref="blobs")
    at = _open(workspace, synthetic, "pca")
    at.radio(key="explore_latent_method").set_value("pca")
    at = at.run()
    assert not at.exception and not at.error
    charts = _charts(at)
    assert len(charts) == 2  # the data map and the latent map
    assert "latent space" in charts[1]["layout"]["title"]["text"]


def test_explore_tsne_places_inline_once_real_map_is_cached(workspace):
    from synth_core.generation import map_jobs

    synthetic = _setup(workspace)
    params = {"dataset": "blobs", "synthetic": [], "method": "tsne"}
    assert not map_jobs.is_quick(params, workspace)
    map_jobs.compute_map(params, workspace)  # fits and caches the real map (no generated rows)
    assert map_jobs.is_quick({**params, "synthetic": [synthetic]}, workspace)
    at = _open(workspace, synthetic, "tsne")
    assert not at.exception and _charts(at)
    assert not list_jobs(workspace, "map")  # placed inline, no job needed
