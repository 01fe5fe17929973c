"""Browser tests: a real `streamlit run app.py` on localhost driven by headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's Python
client (no browser download). Without Chromium these tests are skipped with a
reason, except when ``SYNTH_REQUIRE_BROWSER=1`` (CI), where that is a failure.
Screenshots land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from synth_core.serve import free_port
from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")



class StreamlitServer:
    """``streamlit run app.py`` on a free localhost port with its own workspace."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = workspace.parent / f"streamlit-{self.port}.log"

    def start(self, timeout: float = 60.0) -> "StreamlitServer":
        env = dict(os.environ, SYNTH_WORKSPACE=str(self.workspace), PYTHONUNBUFFERED="1")
        self._log_handle = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self._log_handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log_handle.close()


class ServedServer(StreamlitServer):
    """``python -m synth_core serve`` (nginx in front of Streamlit) on a free localhost port.

    Same interface as :class:`StreamlitServer`; ``proc`` is the ``serve`` process, whose
    children are Streamlit and nginx (they stop with it).
    """

    def __init__(self, workspace: Path, *extra: str) -> None:
        super().__init__(workspace)
        self.extra = list(extra)
        self.log = workspace.parent / f"serve-{self.port}.log"

    def start(self, timeout: float = 90.0) -> "ServedServer":
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._log_handle = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "synth_core", "--workspace", str(self.workspace), "serve",
             "--port", str(self.port), *self.extra],
            cwd=ROOT, env=env, stdout=self._log_handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited early:\n{self.log.read_text()}")
            if "open http" in self.log.read_text(errors="replace"):
                return self
            time.sleep(0.3)
        raise RuntimeError(f"serve did not start within {timeout} s:\n{self.log.read_text()}")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        missing_tool("Chromium not installed (apt-get install chromium): browser tests skipped",
                     "SYNTH_REQUIRE_BROWSER")
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[StreamlitServer]:
    workspace = tmp_path_factory.mktemp("browser") / "workspace"
    srv = StreamlitServer(workspace).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser(chromium: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def wait_for_app(page, *, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit finished running the script (no 'running' indicator)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') !== 'running'
                   && document.querySelector('[data-testid="stMainBlockContainer"] h1');
        }""", timeout=timeout_ms)


def assert_no_exception(page) -> None:
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise AssertionError("page shows an exception:\n" + errors.first.inner_text())


def wait_for_charts(page, *, timeout_ms: int = 20_000) -> None:
    """Wait until every plotly chart has drawn and every image has loaded."""
    page.wait_for_function(
        """() => {
            const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
            const drawn = charts.every(c => c.querySelector('.main-svg'));
            const images = [...document.querySelectorAll('img')].every(i => i.complete);
            const skeleton = document.querySelector('[data-testid="stSkeleton"]');
            return drawn && images && !skeleton;
        }""", timeout=timeout_ms)
    page.wait_for_timeout(300)  # let plotly finish its transition


def choose_option(page, box, option, *, tries: int = 3) -> None:
    """Open select box ``box`` (a locator) and click ``option`` (its name or a pattern).

    A rerun still drawing the page can re-render the box and close its list between the
    click and the option (seen under load): then close it, let the run finish, try again.
    """
    for attempt in range(tries):
        wait_for_app(page)
        box.scroll_into_view_if_needed()
        box.click()
        choice = page.get_by_role("option", name=option).first
        try:
            choice.wait_for(timeout=10_000)
            choice.click(timeout=10_000)
            return
        except Exception:  # noqa: BLE001 - the list closed under us: retry, then fail
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")


PLAYER_SLIDER = ".st-key-gen-player input[type=range]"  # the Generate page's path player
PLAYER_THUMB_PX = 16  # its thumb's width (pages/common/path_player.css)


def click_player_step(page, k: int) -> None:
    """Click the Generate page's path player slider at its k-th step, as a user would: a
    click on a range input's track moves the thumb there (its centre runs from half a
    thumb to the width less half a thumb)."""
    slider = page.locator(PLAYER_SLIDER)
    box, steps = slider.bounding_box(), int(slider.get_attribute("max"))
    x = box["x"] + PLAYER_THUMB_PX / 2 + (box["width"] - PLAYER_THUMB_PX) * k / steps
    page.mouse.click(x, box["y"] + box["height"] / 2)


def screenshot(page, name: str) -> Path:
    try:
        wait_for_charts(page)
    except Exception:  # noqa: BLE001 - a screenshot of a half-drawn page still helps debugging
        pass
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
