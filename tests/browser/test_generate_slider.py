"""Generate page in Chromium: moving the t slider decodes a new point and moves the map marker."""

from __future__ import annotations

import pytest

from synth_core.workspace import get_workspace
from tests.browser.conftest import StreamlitServer, assert_no_exception, screenshot, wait_for_app
from tests.test_generation import train_tiny_run

pytestmark = pytest.mark.browser

_MARKER_JS = """() => {
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        // _fullData: plotly.js has decoded the typed arrays there (data holds base64).
        for (const trace of (plot._fullData || [])) {
            if (trace.name === 'decoded point' && trace.x && trace.x[0] !== undefined) {
                return [Number(trace.x[0]), Number(trace.y[0])];
            }
        }
    }
    return null;
}"""


# Where each plotly chart draws its plot area on the page: [left, top, width, height] in px
# and the axis ranges; the marker chart must coincide with the map chart it lies on.
_PLOT_AREAS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => {
    const box = plot.getBoundingClientRect(), layout = plot._fullLayout;
    if (!layout || !layout.xaxis) return null;
    return {names: (plot._fullData || []).map(t => t.name),
            area: [box.left + layout.xaxis._offset, box.top + layout.yaxis._offset,
                   layout.xaxis._length, layout.yaxis._length],
            x: layout.xaxis.range, y: layout.yaxis.range};
}).filter(p => p)"""


@pytest.fixture(scope="module")
def generate_server(tmp_path_factory, chromium):
    """A server on a workspace holding one tiny VAE trained on a digits subsample."""
    workspace = get_workspace(tmp_path_factory.mktemp("browser-generate") / "workspace")
    # A tiny spectrogram VAE first (the digits run stays the newest, the page's default).
    from tests.test_app import _spectrogram_run

    _spectrogram_run(workspace, model="vae")
    # A few seconds; a small KL weight keeps the decoded digits recognisable in the screenshot.
    train_tiny_run(workspace, epochs=40, hidden=(64,), beta=0.05)
    server = StreamlitServer(workspace.root).start()
    yield server
    server.stop()


@pytest.fixture
def tall_page(browser):
    """A tall window: Streamlit scrolls inside its own container, so this shows the whole page."""
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    yield context.new_page()
    context.close()


def test_Generate_slider_moves_decoded_image_and_map_marker(generate_server, tall_page):
    page = tall_page
    page.goto(f"{generate_server.url}/Generate")
    wait_for_app(page)
    assert_no_exception(page)
    image = page.locator('[data-testid="stImage"] img').first
    image.wait_for(timeout=60_000)
    page.wait_for_function(_MARKER_JS, timeout=60_000)
    src_before = image.get_attribute("src")
    marker_before = page.evaluate(_MARKER_JS)
    assert "decoded at t = 0.50" in page.locator('[data-testid="stImage"]').first.inner_text()

    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stImage"]')]
                 .some(el => el.innerText.includes('decoded at t = 0.70'))""", timeout=30_000)
    wait_for_app(page)
    page.wait_for_function(
        "(before) => { const m = (" + _MARKER_JS + ")(); "
        "return m && (m[0] !== before[0] || m[1] !== before[1]); }",
        arg=marker_before, timeout=30_000)
    assert_no_exception(page)
    assert image.get_attribute("src") != src_before
    assert page.evaluate(_MARKER_JS) != marker_before
    # The marker is its own small chart laid exactly over the map (same plot area and
    # axes), so the map's 300 points are not sent again on each move.
    plots = page.evaluate(_PLOT_AREAS_JS)
    marker = next(p for p in plots if p["names"] == ["decoded point"])
    base = next(p for p in plots if "path (t = 0 to 1)" in p["names"])
    assert marker["area"] == pytest.approx(base["area"], abs=1.0)
    assert marker["x"] == pytest.approx(base["x"]) and marker["y"] == pytest.approx(base["y"])
    screenshot(page, "4_Generate_slider")


def test_Generate_plays_the_decoded_spectrogram(generate_server, tall_page):
    import re

    page = tall_page
    page.goto(f"{generate_server.url}/Generate")
    wait_for_app(page)
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=re.compile("tones")).click()
    wait_for_app(page)
    audio = page.locator("audio").first
    try:
        audio.wait_for(state="attached", timeout=150_000)  # first inversion imports librosa
    finally:
        screenshot(page, "4_Generate_audio")
    assert_no_exception(page)
    src = audio.get_attribute("src")
    assert src and "/media/" in src and src.endswith(".wav"), src
    # Every decoded point of the strip has a player too (slider point + 12 path points).
    page.wait_for_function("() => document.querySelectorAll('audio').length >= 13",
                           timeout=60_000)
