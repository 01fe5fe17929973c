"""AppTest of the Generate page: empty workspace, the slider, class generation, the protocol."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from synth_core.features import read_features
from tests.conftest import app_test
from tests.test_generation import train_tiny_run

PAGE = "pages/4_Generate.py"


def _no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _decoded_image(at):
    """The decoded point's image (the first st.image of the page)."""
    return at.get("image")[0]


def test_page_generate_empty_workspace_points_to_train(workspace):
    at = app_test(PAGE).run()
    _no_exception(at)
    assert at.title[0].value == "Generate"
    assert "Train page" in at.info[0].value


@pytest.fixture
def vae_workspace(workspace):
    train_tiny_run(workspace, epochs=2)
    return workspace


def _player(at) -> tuple[dict, dict]:
    """The path player as sent to the browser: the map's plotly figure (key gen-map) and the
    player component's data (st.components.v2, key gen-player)."""
    import json

    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if c.proto.id.endswith("-gen-map"))
    components = [e.proto for e in at.get("bidi_component")]
    assert [c.component_name for c in components] == ["synth_core.path_player"]
    return spec, json.loads(components[0].json)


def _values(array):
    """A plotly array as sent: a list, or a base64 typed array ({"dtype", "bdata"})."""
    import base64

    import numpy as np

    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=np.float64)


def test_page_generate_player_holds_every_step_of_the_path(vae_workspace):
    """The map is drawn once and the decoded sample moves in the browser: the player
    component carries every slider step (map position + decoded sample), so no step needs
    the server, and the map figure carries the path but no frames."""
    import numpy as np

    at = app_test(PAGE).run()
    _no_exception(at)
    assert "gen-t" not in [s.key for s in at.slider]  # only sound needs a server-side slider
    spec, player = _player(at)
    assert not spec.get("frames") and not spec["layout"].get("sliders")
    names = [trace.get("name") for trace in spec["data"]]
    assert {"path (t = 0 to 1)", "decoded end points", "decoded point"} <= set(names)
    assert player["t"] == [f"{t:.2f}" for t in np.linspace(0, 1, 21)]
    assert player["start"] == 10 and player["prefix"] == "decoded at t = "
    assert player["target"] == "gen-map" and player["shape"] == [8, 8] and player["image"]
    samples = np.asarray(player["samples"])
    assert samples.shape == (21, 64)  # an 8 x 8 digit at each step
    assert not np.allclose(samples[0], samples[20])
    # The marker walks the path drawn on the map.
    path = next(t for t in spec["data"] if t.get("name") == "path (t = 0 to 1)")
    np.testing.assert_allclose(np.asarray(player["xy"])[:, 0], _values(path["x"]), rtol=1e-4)
    # The strip shows the whole path: 12 decoded samples from t=0 to t=1.
    assert at.get("image")[0].captions == ["first", "second"]
    strip = at.get("image")[1]
    assert len(strip.value) == 12 and strip.captions[0] == "t=0.00"


def test_page_generate_pair_by_class_and_index(vae_workspace):
    at = app_test(PAGE).run()
    at.selectbox(key="gen-a-class").set_value(3)
    at.selectbox(key="gen-b-class").set_value(8).run()
    _no_exception(at)
    assert any("class 3" in c.value and "class 8" in c.value for c in at.caption)
    # The same row twice is refused with a message, nothing crashes.
    at.selectbox(key="gen-b-class").set_value(3)
    at.number_input(key="gen-b-index").set_value(at.number_input(key="gen-a-index").value).run()
    _no_exception(at)
    assert any("pick two different samples" in e.value for e in at.error)


def test_page_generate_batch_protocol_saves_to_exports(vae_workspace):
    at = app_test(PAGE).run()
    at.button_group(key="gen-mode").set_value("Batch protocol").run()
    _no_exception(at)
    inputs = {n.label: n for n in at.number_input}
    inputs["Pairs per class"].set_value(2)
    inputs["Points per pair"].set_value(4).run()
    assert at.radio(key="gen-protocol-output").value == "sample"  # as the CLI's default
    at.radio(key="gen-protocol-output").set_value("mean").run()
    generate = next(b for b in at.button if b.label.startswith("Generate"))
    assert generate.label == "Generate 40 samples"
    generate.click().run()
    _no_exception(at)
    assert at.subheader[0].value == "40 generated samples"
    # Two epochs leave the code unused: every path decodes to one row, and the page says so.
    assert any("decoded means" in w.value and "Drawn from the decoder" in w.value
               for w in at.warning)
    next(b for b in at.button if b.label == "Save to workspace").click().run()
    _no_exception(at)
    files = list(vae_workspace.exports_dir.glob("*.h5"))
    assert len(files) == 1
    saved = read_features(files[0])
    assert saved.n_samples == 40 and saved.parents.shape == (40, 2)
    assert saved.attrs["mode"] == "interpolate" and "-protocol-" in files[0].name
    # Another mode's rows get their own name (the box kept the first name once).
    at.button_group(key="gen-mode").set_value("Prior").run()
    next(b for b in at.button if b.label.startswith("Generate")).click().run()
    _no_exception(at)
    names = [t.value for t in at.text_input if t.label == "File name"]
    assert len(names) == 1 and "-prior-" in names[0], names


def test_page_generate_batch_protocol_of_a_thesis_decoder_run_decodes_means(workspace):
    """A run with the thesis's decoder: the protocol preselects decoded means, as the thesis
    made them and as the CLI's --interpolate does for it."""
    train_tiny_run(workspace, epochs=1, decoder="thesis", transform="minmax")
    at = app_test(PAGE).run()
    at.button_group(key="gen-mode").set_value("Batch protocol").run()
    _no_exception(at)
    assert at.radio(key="gen-protocol-output").value == "mean"


def test_page_generate_cvae_by_class(workspace):
    train_tiny_run(workspace, model="cvae", epochs=2)
    at = app_test(PAGE).run()
    _no_exception(at)
    # Every class to begin with, as generate --per-class does (it started with class 0 alone).
    assert at.multiselect[0].value == list(range(10))
    assert next(b for b in at.button if b.label.startswith("Generate")).label == \
        "Generate 800 samples"
    at.multiselect[0].set_value([2, 5])
    {n.label: n for n in at.number_input}["Samples per class"].set_value(6).run()
    next(b for b in at.button if b.label.startswith("Generate")).click().run()
    _no_exception(at)
    assert at.subheader[0].value == "12 generated samples"


def test_page_generate_vae_by_class_mixture_balance_and_drawn_rows(vae_workspace):
    at = app_test(PAGE).run()
    at.button_group(key="gen-mode").set_value("By class").run()
    _no_exception(at)
    assert at.selectbox(key="gen-class-prior").options == ["Mixture of the training codes",
                                                           "Posterior of a training row"]
    at.multiselect[0].set_value([1, 7])
    at.toggle(key="gen-balance").set_value(True).run()
    {n.label: n for n in at.number_input}["Samples in total"].set_value(30)
    at.radio(key="gen-class-output").set_value("sample").run()
    generate = next(b for b in at.button if b.label.startswith("Generate"))
    assert generate.label == "Generate 30 samples"
    generate.click().run()
    _no_exception(at)
    assert at.subheader[0].value == "30 generated samples"
    next(b for b in at.button if b.label == "Save to workspace").click().run()
    saved = read_features(next(vae_workspace.exports_dir.glob("*.h5")))
    assert saved.attrs["prior"] == "mixture" and saved.attrs["output"] == "sample"
    assert saved.attrs["balance"] == "real class proportions"
    assert set(saved.labels.tolist()) <= {1, 7} and saved.n_samples == 30


def test_page_generate_vae_by_class_from_the_posterior_of_training_rows(vae_workspace):
    at = app_test(PAGE).run()
    at.button_group(key="gen-mode").set_value("By class").run()
    at.selectbox(key="gen-class-prior").set_value("posterior")
    at.multiselect[0].set_value([3])
    {n.label: n for n in at.number_input}["Samples per class"].set_value(9).run()
    next(b for b in at.button if b.label.startswith("Generate")).click().run()
    _no_exception(at)
    assert at.subheader[0].value == "9 generated samples"
    next(b for b in at.button if b.label == "Save to workspace").click().run()
    saved = read_features(next(vae_workspace.exports_dir.glob("*.h5")))
    assert saved.attrs["prior"] == "posterior" and saved.labels.tolist() == [3] * 9


def test_page_generate_map_click_on_a_real_point_picks_that_row(vae_workspace):
    """The map's click callback: a real point's customdata (its map row) becomes the end."""
    def script():
        import streamlit as st

        from pages.common import generate_ui as gen
        from pages.common import state
        from synth_core.training.runs import scan_runs

        run_dir = str(scan_runs(state.workspace())[0][0])
        data = gen.real_map(run_dir, "pca").map_data(None)
        custom = list(gen.map_figure(data).data[1].customdata[2])  # a real point, 2nd class
        state.put(state.GEN_PAIR, (0, 1))
        st.session_state["gen-map"] = {"selection": {"points": [
            {"customdata": custom}, {"customdata": ["marker"]}]}}  # the marker is no data row
        gen._on_map_click(run_dir, "pca")
        st.write(f"{state.get(state.GEN_PAIR)} {int(custom[3])}")

    at = AppTest.from_function(script, default_timeout=120).run()
    _no_exception(at)
    pair, row = at.markdown[0].value.rsplit(" ", 1)
    assert pair == f"({row}, 1)" and int(row) > 0


@pytest.mark.parametrize("model", ["vae", "cvae"])
def test_page_generate_one_feature_data_generates_and_saves_without_a_map(workspace, model):
    """One feature per row cannot be mapped in 2-D: the page says so and still generates,
    shows and saves the rows (the map used to raise and take the page below it down)."""
    import numpy as np

    from synth_core.data.datasets import save_dataset
    from synth_core.features import FeatureSet
    from synth_core.training.config import TrainConfig
    from synth_core.training.trainer import new_run_dir, train_model

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 40)
    data = FeatureSet(features=(labels * 3.0 + rng.normal(size=120))[:, None], labels=labels,
                      class_names=["low", "mid", "high"])
    save_dataset(data, "onefeat", workspace)
    config = TrainConfig(model=model, latent_dim=1, hidden=(16,), epochs=2, batch_size=32,
                         patience=0, seed=0, device="cpu")
    train_model(data, config, run_dir=new_run_dir(workspace, model), dataset_ref="onefeat")

    at = app_test(PAGE).run()
    _no_exception(at)
    assert any(i.value.startswith("No map: these rows have 1 feature") for i in at.info)
    assert not at.error and "Map" not in [r.label for r in at.radio]
    if model == "vae":  # opens on Interpolate: the strip of the path is drawn without the map
        assert "Points on the path" in [s.label for s in at.slider]
    at.button_group(key="gen-mode").set_value("By class").run()
    at.multiselect[0].set_value([0, 2])
    {n.label: n for n in at.number_input}["Samples per class"].set_value(5).run()
    next(b for b in at.button if b.label.startswith("Generate")).click().run()
    _no_exception(at)
    assert not at.error
    assert at.subheader[0].value == "10 generated samples"
    # The histogram stands in for the map: real and generated values of classes 0 and 2.
    import json

    hist = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert [t["name"] for t in hist["data"]] == ["low, real", "low, generated", "high, real",
                                                 "high, generated"]
    next(b for b in at.button if b.label == "Save to workspace").click().run()
    saved = read_features(next(workspace.exports_dir.glob("*.h5")))
    assert saved.n_features == 1 and sorted(set(saved.labels.tolist())) == [0, 2]


def test_page_generate_baseline_on_one_feature_data_has_no_map_but_saves(workspace):
    import numpy as np

    from synth_core.data.datasets import save_dataset
    from synth_core.features import FeatureSet

    labels = np.repeat([0, 1], 30)
    save_dataset(FeatureSet(features=(labels + np.random.default_rng(1).normal(size=60))[:, None],
                            labels=labels), "onefeat", workspace)
    at = app_test(PAGE).run()
    at.radio(key="gen-source").set_value("Baseline").run()
    at.selectbox(key="gen-baseline-dataset").set_value("onefeat").run()
    _no_exception(at)
    at.button(key="gen-baseline-go").click().run()
    _no_exception(at)
    assert not at.error
    assert any(i.value.startswith("No map: these rows have 1 feature") for i in at.info)
    at.button(key="gen-baseline-save").click().run()
    assert next(workspace.exports_dir.glob("*.h5")).is_file()


def test_page_generate_baseline_leaves_out_a_class_too_small_to_fit(workspace):
    import numpy as np

    from synth_core.data.datasets import save_dataset
    from synth_core.features import FeatureSet

    labels = np.r_[np.zeros(30, int), np.ones(30, int), [2]]
    features = np.random.default_rng(2).normal(size=(61, 3)) + labels[:, None]
    save_dataset(FeatureSet(features=features, labels=labels, class_names=["a", "b", "rare"]),
                 "imbalanced", workspace)
    at = app_test(PAGE).run()
    at.radio(key="gen-source").set_value("Baseline").run()
    at.selectbox(key="gen-baseline-dataset").set_value("imbalanced").run()
    at.button(key="gen-baseline-go").click().run()
    _no_exception(at)
    assert not at.error
    assert any(w.value.startswith("class(es) rare (1 row(s)) left out") for w in at.warning)
    at.button(key="gen-baseline-save").click().run()
    saved = read_features(next(workspace.exports_dir.glob("*.h5")))
    assert sorted(set(saved.labels.tolist())) == [0, 1]


def test_page_generate_prior_names_a_class_the_draw_gave_no_rows(workspace):
    """The warnings generation logs reach the page (they went only to the CLI): 20 prior
    draws of a CVAE whose third class has 2 of 82 training rows give it none."""
    import numpy as np

    from synth_core.data.datasets import save_dataset
    from synth_core.features import FeatureSet
    from synth_core.training.config import TrainConfig
    from synth_core.training.trainer import new_run_dir, train_model

    labels = np.r_[np.zeros(40, int), np.ones(40, int), [2, 2]]
    data = FeatureSet(features=np.random.default_rng(3).normal(size=(82, 4)) + labels[:, None],
                      labels=labels, class_names=["a", "b", "rare"])
    save_dataset(data, "imbalanced", workspace)
    config = TrainConfig(model="cvae", latent_dim=2, hidden=(16,), epochs=2, batch_size=16,
                         patience=0, seed=0, device="cpu")
    train_model(data, config, run_dir=new_run_dir(workspace, "cvae"), dataset_ref="imbalanced")
    at = app_test(PAGE).run()
    at.button_group(key="gen-mode").set_value("Prior").run()
    {n.label: n for n in at.number_input}["Samples"].set_value(20).run()
    next(b for b in at.button if b.label.startswith("Generate")).click().run()
    _no_exception(at)
    assert at.subheader[0].value == "20 generated samples"
    assert any(w.value.startswith("20 rows drawn from the prior have none of 1 class(es): "
                                  "'rare'") for w in at.warning), [w.value for w in at.warning]
