"""Bytes the server sends to the browser per move of the Generate page's t slider.

Trains a small VAE on all 1,797 embedded digits (so the map has 1,797 real
points), starts ``streamlit run app.py`` on a temporary workspace, opens the
Generate page in headless Chromium (Debian's ``chromium``, driven by
Playwright) and moves the path player's slider ``--moves`` times (a click on
its rail), waiting each time for the marker to stand at the new point. Websocket frames the
browser receives between two moves are counted (their payload bytes, before
any compression on the wire), as are the frames it sends. Prints one line per
move and a summary; the goal (issue #13) is at most 30 kB received per move.

    python benchmarks/slider_bytes.py [--moves 8] [--method pca|tsne]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synth_core.workspace import get_workspace  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS, StreamlitServer, chromium_path  # noqa: E402
from tests.test_generation import train_tiny_run  # noqa: E402

from benchmarks.app import move, wait_for_player  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=8)
    parser.add_argument("--method", choices=("pca", "tsne"), default="pca")
    args = parser.parse_args()
    browser_path = chromium_path()
    if browser_path is None:
        sys.exit("needs Chromium (apt-get install chromium, or set CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        workspace = get_workspace(Path(tmp) / "workspace")
        start = time.perf_counter()
        train_tiny_run(workspace, n_rows=1797, epochs=5, name="digits")
        print(f"trained a VAE on 1797 digits in {time.perf_counter() - start:.1f} s")
        server = StreamlitServer(workspace.root).start()
        received: list[int] = [0]
        sent: list[int] = [0]

        def on_ws(ws) -> None:
            ws.on("framereceived", lambda payload: received.__setitem__(0, received[0]
                                                                          + len(payload)))
            ws.on("framesent", lambda payload: sent.__setitem__(0, sent[0] + len(payload)))

        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 2000})
                page.on("websocket", on_ws)
                start = time.perf_counter()
                page.goto(f"{server.url}/Generate")
                wait_for_player(page, timeout_ms=180_000)
                if args.method == "tsne":
                    page.get_by_text("t-SNE (computed once, then cached)").click()
                    page.wait_for_timeout(2000)
                    # the t-SNE fit runs in this rerun
                    wait_for_player(page, timeout_ms=900_000)
                page.wait_for_timeout(3000)  # let the first full render settle
                print(f"first page: {received[0] / 1000:.1f} kB received in "
                      f"{time.perf_counter() - start:.1f} s")
                per_move, per_move_sent, seconds = [], [], []
                for step in range(args.moves):
                    before, before_sent = received[0], sent[0]
                    ms = move([page], step)[0]
                    page.wait_for_timeout(1500)  # anything the server would send arrives
                    seconds.append(ms / 1000)
                    per_move.append(received[0] - before)
                    per_move_sent.append(sent[0] - before_sent)
                    print(f"move {step + 1}: {per_move[-1] / 1000:.1f} kB received, "
                          f"{per_move_sent[-1] / 1000:.2f} kB sent, marker moved after "
                          f"{seconds[-1] * 1000:.0f} ms")
                browser.close()
        finally:
            server.stop()
    print(f"bytes received per slider move ({args.method} map, 1797 real points): median "
          f"{statistics.median(per_move) / 1000:.1f} kB, max {max(per_move) / 1000:.1f} kB "
          f"(goal <= 30 kB); sent median {statistics.median(per_move_sent) / 1000:.2f} kB")


if __name__ == "__main__":
    main()
