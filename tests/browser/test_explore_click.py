"""Explore page in Chromium: clicking a generated star on the map plays that generated row."""

from __future__ import annotations

import re

import numpy as np
import pytest

from synth_core.data.datasets import save_dataset
from synth_core.features import FeatureSet, write_features
from synth_core.workspace import get_workspace
from tests.browser.conftest import StreamlitServer, assert_no_exception, screenshot, wait_for_app
from tests.test_inversion import tiny_spectrograms

pytestmark = pytest.mark.browser

# Every star of the map: where it is drawn (page pixels), its customdata (id, class, source,
# map row), and whether a click there reaches it: not under a centroid box (those catch the
# mouse for their hover text) and no other point within 12 px. _fullData: plotly.js has
# decoded the typed arrays there.
_STARS_JS = """() => {
    const plot = document.querySelector('.js-plotly-plot');
    if (!plot || !plot._fullLayout || !plot._fullLayout.xaxis) return null;
    const layout = plot._fullLayout, box = plot.getBoundingClientRect();
    const px = (t, i) => [box.left + layout._size.l + layout.xaxis.l2p(Number(t.x[i])),
                          box.top + layout._size.t + layout.yaxis.l2p(Number(t.y[i]))];
    const all = [], stars = [];
    for (const t of plot._fullData || []) {
        if (!t.meta) continue;
        for (let i = 0; i < t.x.length; i++) {
            all.push(px(t, i));
            if (t.meta.source !== 'generated') continue;
            stars.push({at: px(t, i), custom: Array.from(t.customdata[i])});
        }
    }
    if (!stars.length) return null;
    return stars.map(s => {
        const hit = document.elementFromPoint(s.at[0], s.at[1]);
        const near = all.filter(p => Math.hypot(p[0] - s.at[0], p[1] - s.at[1]) < 12).length;
        return {x: s.at[0], y: s.at[1], custom: s.custom,
                free: !!hit && !hit.closest('.annotation') && near === 1};
    });
}"""

_SECTION_JS = """() => [...document.querySelectorAll('[data-testid="stText"]')]
    .map(e => e.innerText).filter(t => /^(Generated|Real) row/.test(t))"""

_AUDIO_JS = "() => [...document.querySelectorAll('audio')].map(a => a.getAttribute('src') || '')"


@pytest.fixture(scope="module")
def explore_server(tmp_path_factory, chromium):
    """A workspace with a small spectrogram dataset (12 rows) and a generated file (6 rows)."""
    workspace = get_workspace(tmp_path_factory.mktemp("browser-explore") / "workspace")
    real = tiny_spectrograms(n_per_class=6)
    save_dataset(real, "tones", workspace)
    # Midpoints of real pairs of a class: generated-like rows that land among the real ones.
    pairs = [(0, 5), (1, 3), (2, 4), (6, 11), (7, 9), (8, 10)]
    gen = FeatureSet(features=np.stack([(real.features[a] + real.features[b]) / 2
                                        for a, b in pairs]),
                     labels=real.labels[[a for a, _ in pairs]], class_names=real.class_names,
                     attrs={"mode": "interpolate"})
    write_features(workspace.exports_dir / "tones-gen.h5", gen)
    server = StreamlitServer(workspace.root).start()
    yield server
    server.stop()


def test_Explore_click_on_a_star_plays_that_generated_row(explore_server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 2400})  # whole map in view
    page = context.new_page()
    try:
        page.goto(f"{explore_server.url}/Explore")
        wait_for_app(page)
        # The server's first request is a page URL: it is still shown through app.py's
        # navigation (sections, no raw "app"/"home" files), on the page asked for.
        sidebar = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Results" in sidebar and "app" not in sidebar.split(), sidebar
        assert page.locator("h1").first.inner_text() == "Explore"
        page.locator('[data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name=re.compile("tones")).click()
        wait_for_app(page)
        page.locator('[data-testid="stMultiSelect"]').first.click()
        page.get_by_role("option", name=re.compile("tones-gen")).click()
        page.keyboard.press("Escape")
        wait_for_app(page)
        page.get_by_text("PCA (fast, linear)").click()
        wait_for_app(page)
        page.wait_for_function(_STARS_JS, timeout=60_000)
        assert_no_exception(page)
        # Before a click the typed row 0 is shown (and heard, beside its nearest real row).
        page.wait_for_function("() => (" + _SECTION_JS + ")().some(t => "
                               "t.startsWith('Generated row 0 '))", timeout=60_000)
        page.wait_for_function("() => document.querySelectorAll('audio').length >= 2",
                               timeout=60_000)
        before = page.evaluate(_AUDIO_JS)

        stars = page.evaluate(_STARS_JS)
        assert len(stars) == 6 and {s["custom"][2] for s in stars} == {"generated"}
        # map rows: 12 real, then the generated ones; any clickable star but row 0
        free = [s for s in stars if s["free"] and s["custom"][3] > 12]
        assert free, f"every star is hidden by a centroid box or another point: {stars}"
        star = free[0]
        row = star["custom"][3] - 12
        page.mouse.click(star["x"], star["y"])
        page.wait_for_function(
            "(row) => (" + _SECTION_JS + ")().some(t => t.startsWith(`Generated row ${row} `))",
            arg=row, timeout=30_000)
        wait_for_app(page)
        page.wait_for_function(
            "(before) => { const now = (" + _AUDIO_JS + ")(); "
            "return now.length >= 2 && now.every(s => s) && now[0] !== before[0]; }",
            arg=before, timeout=30_000)
        assert_no_exception(page)
        srcs = page.evaluate(_AUDIO_JS)
        assert srcs and all(srcs) and srcs[0] != before[0], (before, srcs)
        # The click also set the typed row, so the number input agrees with the section.
        assert page.locator(".st-key-data-row input").input_value() == str(row)
    finally:
        screenshot(page, "5_Explore_click")
        context.close()
