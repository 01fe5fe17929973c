"""Classroom mode in the browser (SYNTH_CLASSROOM=1): a student finds their things again.

The code rides in the URL (``?who=``): it survives a refresh and a page switch,
another tab opened with it sees the same things, typing another code moves the
session there, and a tab without a code gets a new one. The sidebar box itself
is tested with AppTest in tests/test_classroom_ui.py.
"""

from __future__ import annotations

import re
import time

import pytest

from synth_core.workspace import get_workspace
from tests.browser.conftest import StreamlitServer, assert_no_exception, screenshot, wait_for_app
from tests.browser.test_workflow import go_to, settle

pytestmark = pytest.mark.browser


@pytest.fixture
def classroom(tmp_path, monkeypatch, chromium):
    monkeypatch.setenv("SYNTH_CLASSROOM", "1")
    ws = get_workspace(tmp_path / "workspace")
    fox = ws.for_owner("fox-42")
    for name in ("run-a", "run-b"):  # two finished run folders (config.json marks them)
        (fox.runs_dir / name).mkdir()
        (fox.runs_dir / name / "config.json").write_text("{}")
    server = StreamlitServer(ws.root).start()
    yield server
    server.stop()


def _trained_models(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Trained models").first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _code_in_url(page) -> str:
    found = re.search(r"[?&]who=([A-Za-z0-9-]+)", page.url)
    return found.group(1) if found else ""


def _wait_for_code(page, code: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _code_in_url(page) != code and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _code_in_url(page) == code, page.url


def test_a_student_keeps_their_code_across_refresh_pages_and_tabs(classroom, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    try:
        page = context.new_page()
        page.goto(f"{classroom.url}/?who=fox-42")
        wait_for_app(page)
        assert_no_exception(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert "fox-42" in sidebar.inner_text()
        # Plain text, not a code block: a code block loads a 1.5 MB highlighter per student.
        assert sidebar.locator('[data-testid="stCode"]').count() == 0
        assert _trained_models(page) == "2"
        screenshot(page, "classroom_fox")

        page.reload()
        wait_for_app(page)
        assert _code_in_url(page) == "fox-42" and _trained_models(page) == "2"

        go_to(page, "Train")  # a page switch keeps the code in the URL and the box
        _wait_for_code(page, "fox-42")
        assert "fox-42" in page.locator('[data-testid="stSidebar"]').inner_text()

        other = context.new_page()  # another tab (or device) with the same link
        other.goto(page.url)
        wait_for_app(other)
        assert "fox-42" in other.locator('[data-testid="stSidebar"]').inner_text()
        other.close()

        box = page.get_by_label("Continue with another code", exact=True)
        box.fill("owl-7")
        box.press("Enter")
        settle(page)
        _wait_for_code(page, "owl-7")
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Home").first.click()
        page.get_by_text("One-click tour").wait_for()
        wait_for_app(page)
        assert _code_in_url(page) == "owl-7" and _trained_models(page) == "0"
        assert "owl-7" in page.locator('[data-testid="stSidebar"]').inner_text()
    finally:
        context.close()


def test_a_tab_without_a_code_gets_its_own_new_one(classroom, page):
    page.goto(classroom.url)
    wait_for_app(page)
    assert_no_exception(page)
    deadline = time.monotonic() + 30
    while not _code_in_url(page) and time.monotonic() < deadline:
        time.sleep(0.2)
    code = _code_in_url(page)
    assert code and code != "fox-42", page.url
    assert code in page.locator('[data-testid="stSidebar"]').inner_text()
    assert _trained_models(page) == "0"  # nothing of fox-42's
