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


def _open(workspace, synthetic: str | None, method: str, dataset: str = "blobs"):
    at = app_test(PAGE).run()
    assert not at.exception
    at.selectbox(key="explore_dataset").set_value(dataset)
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


def test_explore_one_feature_data_is_refused_before_a_tsne_job_is_offered(workspace):
    """t-SNE offered "Compute map" on 1-feature rows, and the job then failed; PCA said why
    at once. Both say it at once now, and no job is started."""
    real = make_blobs(n_per_class=20, n_features=1, n_classes=3)
    save_dataset(real, "one-feature", workspace)
    for method in ("tsne", "pca"):
        at = _open(workspace, None, method, dataset="one-feature")
        assert not at.exception
        assert any("1 feature per row; a 2-d map needs at least 2" in e.value for e in at.error)
        assert "data-start" not in [b.key for b in at.button]
    assert not list_jobs(workspace, "map")


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


# --------------------------------------------------------------------------- the picked point

def _pick(workspace, params: dict, source: str, index: int) -> list:
    """The customdata of a point of the page's map, as the map's click callback stores it."""
    from synth_core.generation import figures, map_jobs

    data, _ = map_jobs.compute_map(params, workspace)  # the page finds this map in the cache
    fig = figures.map_figure(data)
    for trace in fig.data:
        for custom in trace.customdata:
            if figures.source_row(data, int(custom[3])) == (source, index):
                return [str(custom[0]), str(custom[1]), str(custom[2]), int(custom[3])]
    raise AssertionError(f"no {source} row {index} on the map")


def _spectrogram_setup(workspace) -> str:
    from tests.test_inversion import tiny_spectrograms

    save_dataset(tiny_spectrograms(n_per_class=6), "tones", workspace)
    gen = tiny_spectrograms(n_per_class=2)
    gen.features = gen.features + 0.1  # not copies of the real rows
    gen.attrs = {"mode": "interpolate"}
    return str(write_features(workspace.exports_dir / "tones-gen.h5", gen))


def test_explore_click_plays_real_and_generated_spectrogram_rows(workspace):
    synthetic = _spectrogram_setup(workspace)
    at = _open(workspace, synthetic, "pca", dataset="tones")
    assert not at.exception and not at.error
    assert any("Click a point to hear it" in c.value for c in at.caption)
    # Nothing clicked: the typed generated row 0 is heard beside its nearest real row.
    assert any(t.value.startswith("Generated row 0 ") for t in at.text)
    assert len(at.get("audio")) == 2

    params = {"dataset": "tones", "synthetic": [synthetic], "method": "pca"}
    at.session_state["data-point"] = _pick(workspace, params, "real", 7)
    at = at.run()
    assert not at.exception
    assert any(t.value.startswith("Real row 7: row 7, class high") for t in at.text)
    assert not any(t.value.startswith("Generated row") for t in at.text)
    audio = at.get("audio")
    assert len(audio) == 1  # the real row's spectrogram turned into sound (no clip file)

    at.session_state["data-point"] = _pick(workspace, params, "generated", 3)
    at = at.run()
    assert not at.exception
    assert any(t.value.startswith("Generated row 3 ") and "class high" in t.value
               for t in at.text)
    assert len(at.get("audio")) == 2
    # Typing a row replaces the clicked point.
    at.number_input(key="data-row").set_value(1).run()
    assert any(t.value.startswith("Generated row 1 ") for t in at.text)
    assert "data-point" not in at.session_state


def _embedding_setup(workspace, clip_dir) -> str:
    """Embedding rows of an audio dataset: row 0's clip is on disk, the others are elsewhere."""
    import numpy as np
    import soundfile as sf

    real = make_blobs(n_per_class=6, n_features=16, n_classes=2)
    clip = clip_dir / "dog *bark* <i>0.wav"  # user text: must come back verbatim, not as HTML
    sf.write(clip, np.zeros(800, dtype=np.float32), 8000)
    real.ids = [str(clip)] + [f"/elsewhere/clip-{i}.wav" for i in range(1, real.n_samples)]
    real.attrs = {"modality": "audio", "extractor": "logmel", "feature_shape": [4, 4]}
    save_dataset(real, "barks", workspace)
    gen = make_blobs(n_per_class=2, n_features=16, n_classes=2, seed=3)
    gen.attrs = {"mode": "prior"}
    return str(write_features(workspace.exports_dir / "barks-gen.h5", gen))


def test_explore_click_on_embeddings_says_why_nothing_plays(workspace, tmp_path):
    synthetic = _embedding_setup(workspace, tmp_path)
    at = _open(workspace, synthetic, "pca", dataset="barks")
    params = {"dataset": "barks", "synthetic": [synthetic], "method": "pca"}
    at.session_state["data-point"] = _pick(workspace, params, "real", 4)
    at = at.run()
    assert not at.exception and not at.error
    assert any("Click a real point to hear its clip" in c.value for c in at.caption)
    assert any(t.value == "The clip /elsewhere/clip-4.wav is not on this machine, so it cannot "
                          "be played." for t in at.text)
    assert any("cannot be turned back into sound" in c.value for c in at.caption)
    assert not at.get("audio")

    at.session_state["data-point"] = _pick(workspace, params, "real", 0)
    at = at.run()
    assert not at.exception
    assert any(t.value.startswith(f"Real row 0: {tmp_path}/dog *bark* <i>0.wav")
               for t in at.text)
    assert len(at.get("audio")) == 1  # the clip from disk

    at.session_state["data-point"] = _pick(workspace, params, "generated", 1)
    at = at.run()
    assert not at.exception
    assert any("The generated row cannot be heard" in c.value for c in at.caption)
    assert any(t.value.startswith("Generated row 1 ") for t in at.text)
