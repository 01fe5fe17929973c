"""AppTest of the home page."""

from __future__ import annotations

from tests.conftest import app_test, make_blobs
from synth_core.datasets import save_dataset


def test_home_shows_workspace_summary(workspace):
    save_dataset(make_blobs(), "blobs", workspace)
    at = app_test("app.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Datasets"] == "3"  # two embedded + one saved
    assert metrics["Trained models"] == "0"
