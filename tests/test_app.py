"""AppTest of the home page."""

from __future__ import annotations

from tests.conftest import app_test, make_blobs
from synth_core.data.datasets import BUILTINS, save_dataset


def test_home_shows_workspace_summary(workspace):
    save_dataset(make_blobs(), "blobs", workspace)
    at = app_test("app.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Datasets"] == str(len(BUILTINS) + 1)  # the embedded ones + one saved
    assert metrics["Trained models"] == "0"


def test_home_tour_runs_and_shows_path(workspace):
    from synth_core.jobs import list_jobs, wait_for_job

    at = app_test("app.py").run()
    at.button(key="tour-start").click().run()
    assert not at.exception
    jobs = list_jobs(workspace, "tour")
    assert len(jobs) == 1
    status = wait_for_job(workspace, jobs[0].id, timeout=300)
    assert status.state == "done", status.error
    at = app_test("app.py").run()  # a fresh session finds the finished tour in the workspace
    assert not at.exception
    assert any("3 to an 8" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) >= 1


def _spectrogram_run(workspace, model: str = "vae"):
    """A tiny conv run on two classes of tone spectrograms saved as dataset 'tones'."""
    from synth_core.training.config import TrainConfig
    from synth_core.training.trainer import new_run_dir, train_model
    from tests.test_inversion import tiny_spectrograms

    data = tiny_spectrograms()
    save_dataset(data, "tones", workspace)
    config = TrainConfig(model=model, body="conv", latent_dim=2, hidden=(8,), epochs=1,
                         batch_size=8, device="cpu", transform="standard")
    return train_model(data, config, run_dir=new_run_dir(workspace, model),
                       dataset_ref="tones").run_dir


def test_generate_page_plays_the_slider_point_and_the_path(workspace):
    _spectrogram_run(workspace)
    at = app_test("pages/4_Generate.py").run()
    assert not at.exception, [e.value for e in at.exception]
    audio = at.get("audio")
    # The "Listen at t" point (sound needs the server), then the path strip's 12 points.
    assert len(audio) == 1 + 12
    assert at.get("image")[0].captions == ["decoded at t = 0.50"]
    at.slider(key="gen-t").set_value(0.8).run()
    assert not at.exception
    assert at.get("image")[0].captions == ["decoded at t = 0.80"]
    assert len(at.get("audio")) == 13
