"""A damaged run folder next to a good one, in Chromium: Generate and Explore still work.

The workspace holds one good tiny VAE and a copy whose ``config.json`` was cut in
half (a crash mid-write) plus one whose ``model.pt`` is not a checkpoint. Both
pages must render the good run and show each damaged folder as a warning with
its reason and a Remove button; nothing is deleted by looking.
"""

from __future__ import annotations

import shutil

import pytest

from synth_core.workspace import get_workspace
from tests.browser.conftest import StreamlitServer, assert_no_exception, screenshot, wait_for_app
from tests.test_generation import train_tiny_run

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def damaged_server(tmp_path_factory, chromium):
    """Its own server (not the session's shared ``server``): the damaged folders would show
    up on the other browser tests' pages."""
    workspace = get_workspace(tmp_path_factory.mktemp("browser-damaged") / "workspace")
    good = train_tiny_run(workspace, epochs=2)
    cut = workspace.runs_dir / "vae-cut-config"
    shutil.copytree(good, cut)
    text = (cut / "config.json").read_bytes()
    (cut / "config.json").write_bytes(text[: len(text) // 2])
    not_pt = workspace.runs_dir / "vae-not-a-checkpoint"
    shutil.copytree(good, not_pt)
    (not_pt / "model.pt").write_bytes(b"this is not a checkpoint")
    server = StreamlitServer(workspace.root).start()
    server.good = good
    server.damaged = {"vae-cut-config": "not valid JSON",
                      "vae-not-a-checkpoint": "not a PyTorch checkpoint"}
    yield server
    server.stop()


def _selectbox_text(page) -> str:
    """What the select boxes show: their text and the values of their inputs."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="stSelectbox"]')]
        .map(b => b.innerText + ' ' + [...b.querySelectorAll('input')].map(i => i.value)
        .join(' ')).join('\\n')""")


def _alerts(page) -> str:
    return "\n".join(page.locator('[data-testid="stAlert"]').all_inner_texts())


@pytest.mark.parametrize("path", ["Generate", "Explore"])
def test_damaged_run_is_a_warning_and_the_good_run_renders(damaged_server, page, path):
    page.goto(f"{damaged_server.url}/{path}")
    wait_for_app(page)
    assert_no_exception(page)
    if path == "Explore":  # the runs are listed on the latent-space tab
        page.get_by_role("tab", name="Latent space").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stAlert\"]').length >= 2",
        timeout=60_000)
    alerts = _alerts(page)
    for name, reason in damaged_server.damaged.items():
        assert "damaged run" in alerts and name in alerts and reason in alerts, alerts
        # The button may still be drawing when the alert text is there (a busy machine).
        remove = page.get_by_role("button", name=f"Remove {name}")
        remove.first.wait_for(timeout=60_000)
        assert remove.count() == 1
    if path == "Generate":
        # The good run is the one picked, and its decoded sample and map are drawn.
        assert damaged_server.good.name in _selectbox_text(page)
        page.locator('[data-testid="stImage"] img').first.wait_for(timeout=60_000)
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
    else:
        page.wait_for_function("() => document.body.innerText.includes('Trained model')",
                               timeout=60_000)
        assert damaged_server.good.name in _selectbox_text(page)
    assert_no_exception(page)
    screenshot(page, f"damaged-run-{path.lower()}")
    for name in damaged_server.damaged:  # looking removes nothing
        assert (damaged_server.workspace / "runs" / name).is_dir()
