"""``python -m synth_core serve --classroom`` in the browser: the dashboard through nginx.

nginx serves the frontend's files (gzipped, from the workspace's cache) and passes
the page, the websocket and uploads to Streamlit. A student's page draws, keeps
their code across a page switch and a refresh, and a zip uploaded through nginx
reaches the Data page. The configuration and the servers' start and stop are
tested without a browser in tests/test_serve.py.
"""

from __future__ import annotations

import pytest

from synth_core.workspace import get_workspace
from tests.browser.conftest import ServedServer, assert_no_exception, screenshot, wait_for_app
from tests.browser.test_classroom import _trained_models, _wait_for_code
from tests.browser.test_workflow import go_to, upload_clips_zip, write_clips_zip
from tests.test_serve import _nginx

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path, chromium):
    _nginx()
    ws = get_workspace(tmp_path / "workspace")
    fox = ws.for_owner("fox-42")
    (fox.runs_dir / "run-a").mkdir()
    (fox.runs_dir / "run-a" / "config.json").write_text("{}")
    server = ServedServer(ws.root, "--classroom").start()
    yield server
    server.stop()


def test_a_student_works_through_nginx(served, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    static: list[tuple[str, str, str]] = []
    failed: list[str] = []

    def seen(response) -> None:
        if "/static/" in response.url:
            static.append((response.url, response.headers.get("server", ""),
                           response.headers.get("content-encoding", "")))
        if response.status >= 400 and response.url.startswith(served.url):
            failed.append(f"{response.status} {response.url}")

    try:
        page = context.new_page()
        page.on("response", seen)
        page.goto(f"{served.url}/?who=fox-42")
        wait_for_app(page)
        assert_no_exception(page)
        assert "fox-42" in page.locator('[data-testid="stSidebar"]').inner_text()
        assert _trained_models(page) == "1"
        # The frontend came from nginx, gzipped; nothing the page asked for failed.
        assert len(static) > 20
        assert all(server.startswith("nginx") for _, server, _ in static)
        assert any(enc == "gzip" for url, _, enc in static if url.endswith(".js"))
        assert not failed, failed
        screenshot(page, "serve_classroom")

        go_to(page, "Data")  # the websocket carries the page switch
        _wait_for_code(page, "fox-42")
        upload_clips_zip(page, write_clips_zip(tmp_path))  # the upload goes through nginx
        assert_no_exception(page)
        assert not failed, failed

        page.reload()
        wait_for_app(page)
        _wait_for_code(page, "fox-42")
        assert "fox-42" in page.locator('[data-testid="stSidebar"]').inner_text()
    finally:
        context.close()
