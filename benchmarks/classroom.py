"""A classroom on one server: N browser sessions, N queued jobs, and `train` beside busy work.

Three parts (issue #13), each printed with the machine's load average, since
on a shared machine every figure scales with what else runs:

* **sessions** (``--sessions 10,20``): one ``SYNTH_CLASSROOM=1`` server, N
  headless-Chromium sessions, each with its own classroom code (``?who=``) and
  its own copy of a small VAE run (the teacher's digits subsample is shared).
  *First page*: seconds from opening the home page in all N sessions at once
  to each one's page being drawn (p50/p95). *Slider*: milliseconds from the
  mousedown of a click on the Generate page's path player slider (stamped in the
  page, as ``benchmarks/app.py`` does) to its marker (and decoded
  sample) standing at the new point, all N sessions moving at the same moment
  (p50/p95), the bytes the server sent per move (websocket frames, per
  session) and the server's CPU per move. The player moves in the browser
  (a star over the map and the decoded sample, pages/common/path_player.js), so the
  last two should be 0. The N browsers run on the same
  cores as the server here (1-2.5 s of CPU each to parse Streamlit's frontend),
  so with 20 of them the first page mostly measures the browsers.
* **sessions with ``--clients protocol``**: the server's side of a first page,
  no browsers. One headless Chromium opens the home page once (on its own
  server, ``?who=rec-first-page``) and ``benchmarks/st_session.py`` keeps what
  it asked of the server: the same-origin HTTP GETs (index.html, the ~93
  static files, ``/_stcore/health``, ``/_stcore/host-config``, the favicon)
  with Chromium's headers, and the BackMsg it sent on ``/_stcore/stream`` (one
  ``rerun_script`` with the query string and the browser's context). Then, on
  a fresh server, N Python clients (one asyncio loop, all started at the same
  moment, one classroom code each) replay it: GET ``/?who=<code>``, then at
  once the static files (six keep-alive connections each, Chromium's limit per
  host) and the ``/_stcore/`` GETs followed by the websocket (subprotocols
  ``streamlit`` + the ``_streamlit_xsrf`` cookie's value, same ``Origin``,
  permessage-deflate offered, as the frontend opens it), sending the recorded
  BackMsg with the client's code and reading ForwardMsgs up to the run's
  ``script_finished``. *First page*: seconds from that common start to both
  halves done (p50/p95/max), the server's CPU per first page, the bytes (HTTP
  bodies as sent + ForwardMsgs) and this process's own CPU per client; then,
  on the now warm server, the same N with only the static files or only the
  websocket, to show which half costs the server what. A client fails (and
  its count gives no figure) on a non-200 answer, an answer unlike
  Chromium's (Streamlit answers an unknown file name with index.html), a
  refused websocket, an exception or ``page_not_found`` on the page, a run
  that ends otherwise than successfully, or fewer elements and blocks than
  Chromium got. Left out: the browsers' own CPU (parsing, layout, drawing:
  on the students' machines in a classroom), requests to other origins
  (Google's icon font), the time between the frontend's script arriving and
  its websocket opening, and the slider (it moves in the browser: nothing is
  asked of the server, so there are no slider figures in this mode).
* **tours** (``--tours N``): N tour jobs (the home page's "Take the tour",
  here with a PCA map to keep it short) submitted at once by N classroom
  owners through the job queue, time until the last one finished, against
  the same N run one after another.
* **threads**: ``python -m synth_core train`` on 2,985 x 512 random rows
  (thesis sizes: hidden 483, latent 42, batch 128) next to another CPU-heavy
  process (NumPy matrix products on every core), with torch's default
  threads and with one thread: seconds per epoch.

Goals on a 2-core machine: with 20 sessions slider p95 <= 300 ms, first page
p95 <= 3 s, <= 30 kB per move; queued tours <= 1.2 x sequential; `train`
with default threads beside busy work within 1.5 x the one-thread run.

Run: ``nice -n 10 python benchmarks/classroom.py [--parts sessions,tours,threads]
[--sessions 10,20] [--clients chromium|protocol] [--moves 6] [--tours 4] [--json]``;
the server's side of the classroom's first page alone:
``nice -n 10 python benchmarks/classroom.py --parts sessions --clients protocol``.
Both modes need Chromium (``apt-get install chromium``; protocol mode records with it once).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = {"slider_p95_ms": 300.0, "first_page_p95_s": 3.0, "bytes_per_move": 30_000,
         "tours_ratio": 1.2, "threads_ratio": 1.5}



def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and every process below it (``serve``: Streamlit and nginx)."""
    from synth_core.serve import child_pids

    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += cpu_seconds(current)
        except OSError:
            continue
        todo += child_pids(current)
    return total


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(q * (len(values) - 1)))))]


def spread(values: list[float], digits: int = 1) -> dict[str, float]:
    return {"p50": round(statistics.median(values), digits), "p95": round(pct(values, 0.95), digits),
            "max": round(max(values), digits), "n": len(values)}


# ----------------------------------------------------------------------------- sessions

def classroom_workspace(root: Path, codes: list[str]) -> Path:
    """The teacher's digits subsample and a small VAE, copied into each owner's runs/."""
    from benchmarks.app import make_workspace
    from synth_core.workspace import get_workspace

    ws = get_workspace(make_workspace(root))
    run = ws.list_runs()[0]
    for code in codes:
        owner = ws.for_owner(code)
        shutil.copytree(run, owner.runs_dir / run.name)
    shutil.rmtree(run)  # the teacher keeps the data; the runs are the students'
    return ws.root


def open_sessions(browser, url: str, codes: list[str], path: str = "") -> tuple[list, list[float]]:
    """Open ``url/path?who=code`` in one new context per code, all at once; seconds to drawn."""
    from tests.browser.conftest import wait_for_app

    pages, started = [], []
    for code in codes:
        context = browser.new_context(viewport={"width": 1400, "height": 1800})
        page = context.new_page()
        frames: list[int] = [0]

        def on_ws(ws, frames=frames) -> None:
            ws.on("framereceived", lambda payload, frames=frames: frames.__setitem__(
                0, frames[0] + len(payload)))
        page.on("websocket", on_ws)
        page.__dict__["_bench_bytes"] = frames
        started.append(time.perf_counter())
        page.goto(f"{url}/{path}?who={code}", wait_until="commit", timeout=300_000)
        pages.append(page)
    seconds = []
    for page, t0 in zip(pages, started):
        wait_for_app(page, timeout_ms=300_000)
        seconds.append(time.perf_counter() - t0)
    return pages, seconds


def slider_part(browser, url: str, codes: list[str], moves: int, server_pid: int) -> dict:
    from benchmarks.app import move, wait_for_player

    pages, _ = open_sessions(browser, url, codes, "Generate")
    for k, page in enumerate(pages):
        try:
            wait_for_player(page, timeout_ms=300_000)
        except Exception as exc:  # noqa: BLE001 - name the stage and the session
            raise RuntimeError(f"session {k} ({codes[k]}): no path player on the Generate page "
                               f"within 300 s: {str(exc)[:200]}") from exc
    latencies: list[float] = []
    sent: list[float] = []
    cpu_before = tree_cpu_seconds(server_pid)
    for step in range(moves):
        before = [p.__dict__["_bench_bytes"][0] for p in pages]
        latencies += move(pages, step, timeout_s=120)
        time.sleep(0.5)  # trailing frames of this rerun
        sent += [p.__dict__["_bench_bytes"][0] - b for p, b in zip(pages, before)]
    # The server's own CPU per move: the browsers share these 2 cores in this benchmark,
    # in a classroom they run on the students' machines.
    server_ms = 1000 * (tree_cpu_seconds(server_pid) - cpu_before) / max(len(latencies), 1)
    for page in pages:
        page.context.close()
    return {"slider_ms": spread(latencies), "bytes_per_move": spread(sent, 0),
            "server_cpu_ms_per_move": round(server_ms, 1)}


def sessions_part(counts: list[int], moves: int, server_kind: str = "streamlit") -> dict:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS, chromium_path

    chromium = chromium_path()
    if chromium is None:
        return {"error": "chromium not found: apt-get install chromium"}
    out: dict = {"server": server_kind}
    codes_all = [f"stu-{k:02d}" for k in range(max(counts))]
    os.environ["SYNTH_CLASSROOM"] = "1"
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        workspace = classroom_workspace(Path(tmp), codes_all)

        def measure(server, codes: list[str]) -> dict:
            cpu_before = tree_cpu_seconds(server.proc.pid)
            try:
                pages, seconds = open_sessions(browser, server.url, codes)
            except Exception as exc:  # noqa: BLE001 - name the stage
                raise RuntimeError(f"first page: {str(exc)[:300]}") from exc
            first_cpu = (tree_cpu_seconds(server.proc.pid) - cpu_before) / len(codes)
            for page in pages:
                page.context.close()
            return {"first_page_s": spread(seconds, 2),
                    "server_cpu_s_per_first_page": round(first_cpu, 3),
                    **slider_part(browser, server.url, codes, moves, server.proc.pid),
                    "load_avg": round(os.getloadavg()[0], 1)}

        out.update(each_count(counts, codes_all, workspace, server_kind, measure))
        browser.close()
    return out


def each_count(counts: list[int], codes_all: list[str], workspace: Path, server_kind: str,
               measure) -> dict:
    """``measure(server, codes)`` for each session count on a fresh server, as
    ``"<N>_sessions"``; a count that fails keeps its error and the others their figures."""
    out: dict = {}
    for n in counts:
        server = new_server(workspace, server_kind).start()
        try:
            out[f"{n}_sessions"] = measure(server, codes_all[:n])
        except Exception as exc:  # noqa: BLE001 - keep the other counts' figures
            out[f"{n}_sessions"] = f"failed: {type(exc).__name__}: {str(exc)[:400]}"
        finally:
            server.stop()
        print(json.dumps({f"{n}_sessions": out[f"{n}_sessions"]}), file=sys.stderr, flush=True)
    return out


RECORD_CODE = "rec-first-page"   # the classroom code Chromium records the first page with
NO_SLIDER = ("no slider figures: the Generate page's player moves in the browser (its "
             "own component, 0 bytes to the server), so there is nothing for a protocol client to "
             "ask; --clients chromium measures it")


def _protocol_round(server, recipe, codes: list[str], **parts) -> tuple[list, float, float]:
    """All ``codes`` at once through ``first_pages``; (pages, server CPU s, own CPU s)."""
    from benchmarks.st_session import FirstPageError, first_pages

    pid = server.proc.pid
    cpu_before, own_before = tree_cpu_seconds(pid), time.process_time()
    pages, (cpu_after, own_after) = first_pages(
        server.url, recipe, codes, **parts,
        when_done=lambda: (tree_cpu_seconds(pid), time.process_time()))
    failed = [p for p in pages if p.error]
    if failed:
        raise FirstPageError(f"{len(failed)} of {len(pages)} clients got no page; "
                             f"{failed[0].code}: {failed[0].error}")
    return pages, cpu_after - cpu_before, own_after - own_before


def protocol_count(server, recipe, codes: list[str]) -> dict:
    """N protocol clients' first pages on a fresh server, then the cost split (warm)."""
    n = len(codes)
    pages, server_cpu, own_cpu = _protocol_round(server, recipe, codes)
    out = {"first_page_s": spread([p.seconds for p in pages], 2),
           "page_and_static_files_s": spread([p.http_seconds for p in pages], 2),
           "script_finished_s": spread([p.ws_seconds for p in pages], 2),
           "server_cpu_s_per_first_page": round(server_cpu / n, 3),
           "client_cpu_s_per_first_page": round(own_cpu / n, 3),
           "http_requests_per_first_page": round(statistics.mean(p.requests for p in pages), 1),
           "http_bytes_per_first_page": round(statistics.mean(p.http_bytes for p in pages)),
           "ws_bytes_per_first_page": round(statistics.mean(p.ws_bytes for p in pages)),
           "deltas_per_first_page": spread([p.deltas for p in pages], 0),
           "forward_msgs": pages[0].messages,
           "load_avg": round(os.getloadavg()[0], 1)}
    out["bytes_per_first_page"] = out["http_bytes_per_first_page"] + out["ws_bytes_per_first_page"]
    # Which half costs the server what: the same N again, each with one half (the page's
    # index.html in both), on the now warm server.
    split = {}
    for label, parts in (("page_and_static_files_only", {"websocket": False}),
                         ("page_and_websocket_only", {"assets": False})):
        pages, server_cpu, _ = _protocol_round(server, recipe, codes, **parts)
        split[label] = {"server_cpu_s_per_client": round(server_cpu / n, 3),
                        "p95_s": round(pct([p.seconds for p in pages], 0.95), 2)}
    out["warm_split"] = split
    return out


def new_server(workspace: Path, kind: str):
    """``streamlit``: ``streamlit run app.py`` as ``make run`` starts it; ``serve``:
    ``python -m synth_core serve`` (nginx serves the frontend's files, Streamlit the rest)."""
    from tests.browser.conftest import ServedServer, StreamlitServer

    return ServedServer(workspace) if kind == "serve" else StreamlitServer(workspace)


def protocol_sessions_part(counts: list[int], server_kind: str = "streamlit") -> dict:
    """``sessions`` with protocol clients: one Chromium records a first page, then N
    Python clients replay it at once against a fresh server (see ``benchmarks/st_session.py``)."""
    from benchmarks.st_session import record_first_page

    out: dict = {"clients": "protocol", "server": server_kind}
    codes_all = [f"stu-{k:02d}" for k in range(max(counts))]
    os.environ["SYNTH_CLASSROOM"] = "1"
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        workspace = classroom_workspace(Path(tmp), codes_all + [RECORD_CODE])
        # Its own server: the measured ones start cold.
        server = new_server(workspace, server_kind).start()
        try:
            recipe = record_first_page(server.url, RECORD_CODE)
        except Exception as exc:  # noqa: BLE001 - no recipe, no figures
            out["error"] = f"recording failed: {type(exc).__name__}: {str(exc)[:300]}"
            return out
        finally:
            server.stop()
        kinds = [k.kind for k in recipe.gets]
        out["recorded"] = {"http_gets": 1 + len(recipe.gets),
                           "static_files": len(recipe.assets),
                           "stcore_gets": [g.path for g in recipe.stcore],
                           "by_kind": {k: kinds.count(k) for k in sorted(set(kinds))},
                           "back_msgs": len(recipe.back_msgs),
                           "chromium_deltas": recipe.deltas,
                           "chromium_ws_bytes": recipe.ws_bytes,
                           "chromium_first_page_s": round(recipe.seconds, 2),
                           "left_out": recipe.left_out}
        print(json.dumps({"recorded": out["recorded"]}), file=sys.stderr, flush=True)
        out.update(each_count(counts, codes_all, workspace, server_kind,
                              lambda server, codes: protocol_count(server, recipe, codes)))
    return out


def print_protocol_sessions(sessions: dict) -> None:
    print("sessions, protocol clients (no browsers): the server's side of a first page, "
          f"served by {sessions.get('server', 'streamlit')}")
    if "error" in sessions:
        print(f"    {sessions['error']}")
        return
    rec = sessions["recorded"]
    print(f"    replaying what one headless Chromium asked for: {rec['http_gets']} same-origin "
          f"GETs ({rec['static_files']} static files, {', '.join(rec['stcore_gets'])}), "
          f"{rec['back_msgs']} BackMsg(s) on /_stcore/stream; Chromium drew it in "
          f"{rec['chromium_first_page_s']} s alone ({rec['chromium_deltas']} deltas); left out: "
          f"{len(rec['left_out'])} request(s) to other origins")
    for key, value in sessions.items():
        if not key.endswith("_sessions"):
            continue
        if not isinstance(value, dict):
            print(f"{key.replace('_', ' ')}: {value}")
            continue
        first, split = value["first_page_s"], value["warm_split"]
        print(f"{key.replace('_', ' ')} (protocol): first page p50 {first['p50']} s, p95 "
              f"{first['p95']} s, max {first['max']} s (goal p95 <= {GOALS['first_page_p95_s']}"
              f" s); page + static files p95 {value['page_and_static_files_s']['p95']} s, "
              f"script_finished p95 {value['script_finished_s']['p95']} s; load "
              f"{value['load_avg']}")
        print(f"    the server's CPU: {value['server_cpu_s_per_first_page']} s per first page "
              f"(these clients: {value['client_cpu_s_per_first_page']} s each); "
              f"{value['bytes_per_first_page']:,} bytes per first page ("
              f"{value['http_bytes_per_first_page']:,} HTTP in "
              f"{value['http_requests_per_first_page']:.0f} GETs, "
              f"{value['ws_bytes_per_first_page']:,} websocket), "
              f"{value['deltas_per_first_page']['p50']:.0f} deltas")
        print(f"    warm server, same {key.split('_')[0]} again with one half each: page + "
              f"static files {split['page_and_static_files_only']['server_cpu_s_per_client']} "
              f"s CPU per client, page + websocket "
              f"{split['page_and_websocket_only']['server_cpu_s_per_client']} s")
        print(f"    {NO_SLIDER}")


# ----------------------------------------------------------------------------- tours

def tours_part(n: int) -> dict:
    from synth_core.jobs import submit_job, wait_for_job
    from synth_core.workspace import get_workspace

    params = {"map_method": "pca"}
    with tempfile.TemporaryDirectory(prefix="bench-tours-") as tmp:
        ws = get_workspace(Path(tmp) / "workspace")
        # Warm the shared cache (the embedded digits file) so both runs start equal.
        wait_for_job(ws, submit_job(ws, "tour", params).id, timeout=1800)
        os.environ["SYNTH_MAX_QUEUED"] = str(max(n, 5))
        t0 = time.perf_counter()
        jobs = [(ws.for_owner(f"q-{k:02d}"), None) for k in range(n)]
        jobs = [(owner, submit_job(owner, "tour", params)) for owner, _ in jobs]
        states = [wait_for_job(owner, job.id, timeout=3600).state for owner, job in jobs]
        queued_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for k in range(n):
            owner = ws.for_owner(f"s-{k:02d}")
            states.append(wait_for_job(owner, submit_job(owner, "tour", params).id,
                                       timeout=1800).state)
        sequential_s = time.perf_counter() - t0
    from synth_core.job_queue import max_workers, worker_threads

    return {"tours": n, "workers": max_workers(), "threads_per_worker": worker_threads(),
            "queued_all_at_once_s": round(queued_s, 1), "sequential_s": round(sequential_s, 1),
            "ratio": round(queued_s / sequential_s, 3),
            "all_done": all(s == "done" for s in states),
            "load_avg": round(os.getloadavg()[0], 1)}


# ----------------------------------------------------------------------------- threads

_BUSY = ("import numpy as np, time\n"
         "a = np.random.rand(700, 700)\n"
         "end = time.time() + 900\n"
         "while time.time() < end:\n"
         "    a = np.tanh(a @ a)\n")


def _train_seconds_per_epoch(data: Path, out: Path, threads_env: dict, epochs: int) -> float:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    env.update(threads_env)
    done = subprocess.run(
        [sys.executable, "-m", "synth_core", "-q", "train", "--json", "--data", str(data),
         "--model", "vae", "--hidden", "483", "--latent-dim", "42", "--batch-size", "128",
         "--epochs", str(epochs), "--patience", "0", "--device", "cpu", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    summary = json.loads(done.stdout)
    return float(summary["seconds_per_epoch"])


def threads_part(epochs: int) -> dict:
    import numpy as np

    from synth_core.features import FeatureSet, write_features

    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        data = Path(tmp) / "random.h5"
        rng = np.random.default_rng(0)
        write_features(data, FeatureSet(features=rng.random((2985, 512), dtype=np.float32),
                                        labels=np.full(2985, -1)))
        busy_env = {**os.environ, "OMP_NUM_THREADS": str(os.cpu_count()),
                    "OPENBLAS_NUM_THREADS": str(os.cpu_count()),
                    "MKL_NUM_THREADS": str(os.cpu_count())}
        busy = subprocess.Popen([sys.executable, "-c", _BUSY], env=busy_env)
        try:
            time.sleep(2)
            default = _train_seconds_per_epoch(data, Path(tmp) / "a", {}, epochs)
            one = _train_seconds_per_epoch(data, Path(tmp) / "b", {"OMP_NUM_THREADS": "1",
                                                                   "MKL_NUM_THREADS": "1"}, epochs)
        finally:
            busy.kill()
            busy.wait()
    return {"epochs": epochs, "default_threads_s_per_epoch": round(default, 3),
            "one_thread_s_per_epoch": round(one, 3), "ratio": round(default / one, 2),
            "load_avg": round(os.getloadavg()[0], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="sessions,tours,threads")
    parser.add_argument("--sessions", default="10,20", help="session counts (default 10,20)")
    parser.add_argument("--moves", type=int, default=6, help="slider moves per count (6)")
    parser.add_argument("--clients", choices=("chromium", "protocol"), default="chromium",
                        help="sessions part: headless Chromium (default) or browser-free "
                             "protocol clients (the server's side of a first page)")
    parser.add_argument("--server", choices=("streamlit", "serve"), default="streamlit",
                        help="sessions part: `streamlit run app.py` (default, as `make run`) or "
                             "`python -m synth_core serve` (nginx serves the frontend's files)")
    parser.add_argument("--tours", type=int, default=4, help="tour jobs (default 4)")
    parser.add_argument("--epochs", type=int, default=5, help="train epochs (threads part)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    results: dict = {"cpu_count": os.cpu_count(), "load_avg_start": os.getloadavg()}
    if "threads" in parts:
        results["threads"] = threads_part(args.epochs)
    if "tours" in parts:
        results["tours"] = tours_part(args.tours)
        print(json.dumps({"tours": results["tours"]}), file=sys.stderr, flush=True)
    if "sessions" in parts:
        counts = [int(s) for s in args.sessions.split(",")]
        results["sessions"] = (protocol_sessions_part(counts, args.server)
                               if args.clients == "protocol"
                               else sessions_part(counts, args.moves, args.server))
    results["load_avg_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"machine: {results['cpu_count']} cores, load average {results['load_avg_start'][0]:.1f}"
          f" at the start, {results['load_avg_end'][0]:.1f} at the end")
    if "threads" in results:
        t = results["threads"]
        print(f"train beside busy work: default threads {t['default_threads_s_per_epoch']} s/epoch"
              f", one thread {t['one_thread_s_per_epoch']} s/epoch, ratio {t['ratio']} (goal <= "
              f"{GOALS['threads_ratio']})")
    if "tours" in results:
        t = results["tours"]
        print(f"{t['tours']} tours at once through the queue ({t['workers']} worker(s) x "
              f"{t['threads_per_worker']} thread(s)): {t['queued_all_at_once_s']} s; one after "
              f"another: {t['sequential_s']} s; ratio {t['ratio']} (goal <= {GOALS['tours_ratio']})")
    if results.get("sessions", {}).get("clients") == "protocol":
        print_protocol_sessions(results["sessions"])
        return 0
    for key, value in results.get("sessions", {}).items():
        if key == "server":
            print(f"sessions against: {value}")
            continue
        if not isinstance(value, dict):
            print(f"sessions: {value}")
            continue
        print(f"{key.replace('_', ' ')}: first page p50 {value['first_page_s']['p50']} s, p95 "
              f"{value['first_page_s']['p95']} s; slider p50 {value['slider_ms']['p50']} ms, p95 "
              f"{value['slider_ms']['p95']} ms; {value['bytes_per_move']['p50']:.0f} bytes per "
              f"move (p50); load {value['load_avg']}")
        print(f"    the server's own CPU: {value['server_cpu_s_per_first_page']} s per first page, "
              f"{value['server_cpu_ms_per_move']} ms per slider move (the rest of the wait is "
              "the browsers, which share these cores here)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
