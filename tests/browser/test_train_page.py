"""The Train page in Chromium with a finished run: curves, reconstructions, latent map."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_train_page_shows_a_finished_run(server, page):
    from synth_core.data.datasets import load_dataset
    from synth_core.training.config import TrainConfig
    from synth_core.training.trainer import new_run_dir, train_model
    from synth_core.workspace import get_workspace

    ws = get_workspace(server.workspace)
    data = load_dataset("builtin:digits", ws)
    config = TrainConfig(model="vae", latent_dim=8, hidden=(64,), lr=1e-3, epochs=3, device="cpu")
    train_model(data, config, run_dir=new_run_dir(ws, "vae"), dataset_ref="builtin:digits")
    page.goto(f"{server.url}/Train")
    wait_for_app(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=60_000)
    # The form's charts can be drawn before the run's section: wait for the run's metrics.
    page.get_by_text("Seconds per epoch").first.wait_for(timeout=60_000)
    assert_no_exception(page)
    assert page.get_by_text("Seconds per epoch").count() == 1
    page.get_by_text("Reconstructions", exact=True).first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, "2_Train_result")
    page.get_by_role("tab", name="Latent space").click()
    page.wait_for_timeout(500)
    screenshot(page, "2_Train_latent")
