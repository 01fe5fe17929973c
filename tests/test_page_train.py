"""AppTest of the Train page: empty workspace, bad settings, a tiny job from start to result."""

from __future__ import annotations

import pytest

from synth_core.jobs import list_jobs, wait_for_job
from synth_core.training.runs import Run
from tests.conftest import TRAIN_FORM, app_test, fill_train_form

PAGE = "pages/2_Train.py"
K = TRAIN_FORM


def _no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _fill_tiny(at, **values):
    return fill_train_form(at, **{"latent": 4, "hidden": "16", "epochs": 2, "batch": 64, **values})


def test_page_train_opens_with_intro_and_no_runs(workspace):
    at = app_test(PAGE).run()
    _no_exception(at)
    assert at.title[0].value == "Train"
    assert "latent code" in at.caption[0].value
    assert "No trained model yet" in at.info[0].value
    assert at.selectbox(key="train-model").value == "vae"
    assert at.selectbox(key="train-preset-vae").value == "defaults"  # as `train` with no flags
    # Derived from the data (64-feature digits): latent 16, batch 128; said in the caption.
    assert at.number_input(key=f"{K}-latent").value == 16
    assert at.number_input(key=f"{K}-batch").value == 128
    assert any("Derived from the data: " in c.value and "latent_dim 16 (64 features)" in c.value
               for c in at.caption)
    assert at.selectbox(key=f"{K}-decoder").value == "sigma"
    # Digits records no folds: 20 % of each class is held out, and the caption says so.
    assert any("Held out: 20% of each class (359 rows)" in c.value for c in at.caption)


def test_page_train_preset_fills_the_form(workspace):
    at = app_test(PAGE).run()
    at.selectbox(key="train-model").set_value("cvae").run()
    at.selectbox(key="train-preset-cvae").set_value("thesis-cvae").run()
    _no_exception(at)
    prefix = "train-cvae-thesis-cvae"
    assert at.number_input(key=f"{prefix}-latent").value == 8
    assert at.text_input(key=f"{prefix}-hidden").value == "490"
    assert at.number_input(key=f"{prefix}-epochs").value == 180


def test_page_train_bad_hidden_sizes_are_explained(workspace):
    at = app_test(PAGE).run()
    at = _fill_tiny(at, hidden="big")
    _no_exception(at)
    assert "hidden: layer sizes must be whole numbers" in at.error[0].value
    assert list_jobs(workspace, "train") == []


def test_page_train_runs_a_job_and_shows_the_result(workspace):
    at = app_test(PAGE, timeout=180).run()
    at = _fill_tiny(at, latent=16, batch=128)  # latent and batch as derived for digits
    _no_exception(at)
    jobs = list_jobs(workspace, "train")
    assert len(jobs) == 1 and jobs[0].params["config"]["epochs"] == 2
    config = jobs[0].params["config"]
    assert config["latent_dim"] is None and config["batch_size"] is None  # still "derived"
    assert config["hidden"] == [16] and config["decoder"] == "sigma"
    status = wait_for_job(workspace, jobs[0].id, timeout=240)
    assert status.state == "done", status.error
    at.run()
    _no_exception(at)
    run = Run.load(status.result["run_dir"])
    assert at.subheader[0].value == f"Run {run.name}"
    assert [m.label for m in at.metric][:3] == ["Epochs", "Best validation loss",
                                                 "Seconds per epoch"]
    assert at.metric[3].label == "PSNR (held-out)"  # digits are images; a fifth held out
    assert any("reconstructions" in c.value for c in at.caption)
    assert any("Latent means" in c.value for c in at.caption)
    assert any("Collapse check: " in c.value and "latent units active" in c.value
               and "as far from their nearest training row" in c.value for c in at.caption)
    assert any("Derived from the data: " in c.value and "latent_dim 16" in c.value
               for c in at.caption)
    assert "finished after 2 epochs" in at.success[0].value


def test_page_train_thesis_decoder_with_quantile_transform_is_refused(workspace):
    at = app_test(PAGE).run()
    at.selectbox(key=f"{K}-decoder").set_value("thesis")
    at.selectbox(key=f"{K}-transform").set_value("quantile")
    at = _fill_tiny(at)
    _no_exception(at)
    assert "use transform 'minmax' with the thesis decoder" in at.error[0].value
    assert list_jobs(workspace, "train") == []


def test_page_train_fcn_body_on_images_derives_its_code(workspace):
    # A hidden size of 128 typed in does not apply to the fully convolutional body.
    at = app_test(PAGE, timeout=180).run()
    at.radio(key=f"{K}-body").set_value("fcn")
    at = fill_train_form(at, latent=16, hidden="128", epochs=1, batch=128)
    _no_exception(at)
    config = list_jobs(workspace, "train")[0].params["config"]
    assert config["body"] == "fcn" and config["hidden"] is None
    status = wait_for_job(workspace, list_jobs(workspace, "train")[0].id, timeout=240)
    assert status.state == "done", status.error
    run = Run.load(status.result["run_dir"])
    # 8x8 digits: one stride-2 stage, a 4x4 grid; the VAE's code is one map of it.
    assert run.config.body == "fcn" and run.config.hidden == () and run.config.latent_dim == 16


def test_page_train_fcn_latent_off_its_grid_is_refused_before_a_job(workspace):
    """An fcn code must be a multiple of its grid (16 cells on 8x8 digits): the page says
    so when Train is pressed, as for other bad settings, instead of starting a job that can
    only fail in the background."""
    at = app_test(PAGE, timeout=180).run()
    at.radio(key=f"{K}-body").set_value("fcn")
    at = fill_train_form(at, latent=20, hidden="", epochs=1, batch=128)
    _no_exception(at)
    assert any("must be a multiple of 16; got 20; try 16 or 32" in e.value for e in at.error)
    assert list_jobs(workspace, "train") == []


@pytest.mark.parametrize("labels, counts", [([0] * 50, "50 rows x 1 feature, 1 class"),
                                            ([-1] * 50, "50 rows x 1 feature, no labels")])
def test_page_train_caption_counts_in_words(workspace, labels, counts):
    import numpy as np

    from synth_core.data.datasets import save_dataset
    from synth_core.features import FeatureSet

    data = FeatureSet(features=np.arange(50.0)[:, None], labels=np.array(labels))
    save_dataset(data, "small", workspace)
    at = app_test(PAGE)
    at.session_state["dataset_ref"] = "small"
    at.run()
    _no_exception(at)
    assert any(c.value == f"{counts}, tabular data." for c in at.caption), \
        [c.value for c in at.caption]
