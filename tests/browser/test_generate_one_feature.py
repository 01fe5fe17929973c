"""Generate page in Chromium on one-feature data: no map (a note says why), the rest works."""

from __future__ import annotations

import re

import numpy as np
import pytest

from synth_core.workspace import get_workspace
from tests.browser.conftest import StreamlitServer, assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def one_feature_server(tmp_path_factory, chromium):
    """Its own server: a one-feature dataset and run would show on the other tests' pages."""
    from synth_core.data.datasets import save_dataset
    from synth_core.features import FeatureSet
    from synth_core.training.config import TrainConfig
    from synth_core.training.trainer import new_run_dir, train_model

    workspace = get_workspace(tmp_path_factory.mktemp("browser-onefeat") / "workspace")
    labels = np.repeat([0, 1, 2], 40)
    data = FeatureSet(features=(labels * 3.0 + np.random.default_rng(0).normal(size=120))[:, None],
                      labels=labels, class_names=["low", "mid", "high"])
    save_dataset(data, "onefeat", workspace)
    config = TrainConfig(model="vae", latent_dim=1, hidden=(16,), epochs=2, batch_size=32,
                         patience=0, seed=0, device="cpu")
    train_model(data, config, run_dir=new_run_dir(workspace, "vae"), dataset_ref="onefeat")
    server = StreamlitServer(workspace.root).start()
    yield server
    server.stop()


def test_Generate_one_feature_run_has_no_map_and_still_generates(one_feature_server, page):
    page.goto(f"{one_feature_server.url}/Generate")
    wait_for_app(page)
    assert_no_exception(page)
    page.get_by_text(re.compile(r"^No map: these rows have 1 feature")).wait_for(timeout=30_000)
    page.get_by_test_id("stSlider").get_by_text("Points on the path").wait_for(timeout=30_000)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("By class", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name=re.compile(r"^Generate \d+ samples")).click()
    page.get_by_text(re.compile(r"^240 generated samples")).wait_for(timeout=60_000)  # 3 x 80
    wait_for_app(page)
    assert_no_exception(page)
    histogram = page.locator('[data-testid="stPlotlyChart"]').last  # in place of the map
    histogram.get_by_text("Values of the generated rows").wait_for(timeout=30_000)
    histogram.scroll_into_view_if_needed()
    screenshot(page, "4_Generate_one_feature")
    page.get_by_role("button", name="Save to workspace").click()
    page.get_by_text(re.compile(r"Saved 240 samples to exports/")).wait_for(timeout=30_000)
    assert list((one_feature_server.workspace / "exports").glob("*.h5"))
