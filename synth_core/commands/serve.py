"""``serve``: the dashboard for a room, Streamlit behind nginx (see :mod:`synth_core.serve`).

``python -m synth_core serve --classroom --address 0.0.0.0`` is the teacher's one
command: every student's browser gets Streamlit's frontend files from nginx
(gzipped once, no Python work per request) and talks to Streamlit through it.
Runs until Ctrl+C (or SIGTERM), then stops both servers.
"""

from __future__ import annotations

import argparse

HELP = ("serve the dashboard for a room: Streamlit behind nginx, which serves the frontend's "
        "files (--classroom: one folder per student)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; "
                             "0.0.0.0 for the room)")
    parser.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    parser.add_argument("--classroom", action="store_true",
                        help="one folder per browser session, code kept in the URL "
                             "(same as SYNTH_CLASSROOM=1)")
    parser.add_argument("--no-proxy", action="store_true",
                        help="no nginx: Streamlit serves its own files (as `make run` does)")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    import signal
    import sys

    from synth_core.events import Log, emit
    from synth_core.serve import Served

    served = Served(workspace.base.resolve(), address=args.address, port=args.port,
                    classroom=args.classroom, proxy=not args.no_proxy)

    def _stop(signum, frame):  # SIGTERM ends the wait like Ctrl+C, so both servers stop
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    workspace.ensure()
    served.start()
    how = ("nginx serves the frontend's files, Streamlit the rest on 127.0.0.1:"
           f"{served.upstream_port}" if served.proxy else "Streamlit alone")
    emit(callback, Log(f"serving {served.url} ({how}; workspace {workspace.base}"
                       f"{'; classroom mode' if args.classroom else ''}); Ctrl+C stops"))
    if args.address in ("0.0.0.0", "::"):
        import socket

        emit(callback, Log(f"students open http://{socket.gethostname()}:{args.port} (or this "
                           "machine's address on the room's network)"))
    print(f"open {served.url}", file=sys.stderr, flush=True)
    stopped_by = "interrupt"
    try:
        stopped_by = served.wait()
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl+C or SIGTERM while stopping must not leave a server behind.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        served.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    if stopped_by != "interrupt":
        from synth_core.errors import StorageError

        raise StorageError(f"{stopped_by} stopped unexpectedly: {served.log_tail(stopped_by)}; "
                           "the other server was stopped too; start again")
    return {"url": served.url, "proxy": served.proxy, "classroom": args.classroom,
            "stopped": True}
