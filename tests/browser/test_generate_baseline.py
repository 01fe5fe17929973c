"""Generate page in Chromium: a baseline fitted with no trained model, saved for Evaluate."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app, wait_for_charts

pytestmark = pytest.mark.browser


def test_Generate_baseline_says_which_rows_it_left_out_and_saves(server, page):
    """The Gaussian baseline on the embedded digits: drawn and mapped, fitted on the rows
    Train learns from with the rest named as left out for Evaluate, and saved to exports."""
    page.goto(f"{server.url}/Generate")
    wait_for_app(page)
    page.locator('[data-testid="stRadio"]').filter(has_text="Trained model") \
        .get_by_text("Baseline", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Generate baseline rows").click()
    page.get_by_text(re.compile(r"rows from the Gaussian per class baseline")).wait_for(
        timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    fitted = page.get_by_text(re.compile(r"^Fitted on [\d,]+ of the 1,797 real rows")).inner_text()
    kept, left = (int(v.replace(",", "")) for v in re.findall(r"([\d,]+)(?= of the| left out)",
                                                               fitted))
    assert kept + left == 1797 and 300 < left < 420, fitted  # 20 % of each class
    wait_for_charts(page)
    screenshot(page, "4_Generate_baseline")
    page.get_by_role("button", name="Save to workspace").click()
    page.get_by_text(re.compile(r"Saved 800 rows to exports/")).wait_for(timeout=30_000)
    assert_no_exception(page)
    assert list((server.workspace / "exports").glob("baseline-gaussian-*.h5"))
