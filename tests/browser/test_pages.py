"""Every page of the dashboard opens in headless Chromium without an exception."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ROOT, assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser

PAGES = sorted(p.stem for p in (ROOT / "pages").glob("[0-9]*_*.py"))


def _url_path(stem: str) -> str:
    """Streamlit's URL for pages/N_Name.py is /Name."""
    return re.sub(r"^\d+_", "", stem)


def test_home_page_renders(server, page):
    page.goto(server.url)
    wait_for_app(page)
    assert_no_exception(page)
    assert "Synthetic data with VAEs" in page.locator("h1").first.inner_text()
    # st.navigation: the home page is titled Home (not "app") and the sections are shown.
    sidebar = page.locator('[data-testid="stSidebarNav"]').inner_text()
    for label in ("Start", "Home", "Data", "Model", "Train", "Tune", "Results", "Generate",
                  "Explore", "Evaluate"):
        assert label in sidebar
    assert "app" not in sidebar.split()
    screenshot(page, "00_home")


@pytest.mark.parametrize("stem", PAGES)
def test_page_renders(server, page, stem):
    page.goto(f"{server.url}/{_url_path(stem)}")
    wait_for_app(page)
    assert_no_exception(page)
    # The old URL still opens that page (not the default one), and the tab carries its title.
    title = _url_path(stem)
    assert title in page.locator("h1").first.inner_text()
    assert title in page.title()
    screenshot(page, stem)
