"""Every page of the dashboard opens in headless Chromium without an exception."""

from __future__ import annotations

import re
from pathlib import Path

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
    screenshot(page, "00_home")


@pytest.mark.parametrize("stem", PAGES)
def test_page_renders(server, page, stem):
    page.goto(f"{server.url}/{_url_path(stem)}")
    wait_for_app(page)
    assert_no_exception(page)
    screenshot(page, stem)
