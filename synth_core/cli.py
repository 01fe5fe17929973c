"""The command line: ``python -m synth_core VERB ...``.

Every dashboard step is also a verb. Each verb lives in
``synth_core/commands/<verb>.py`` with ``HELP``, ``add_arguments(parser)`` and
``run(args, workspace, callback) -> dict``; :data:`VERBS` maps verb names to
those modules. Command modules import heavy libraries inside ``run`` so that
``--help`` stays fast.

Output contract: progress goes to stderr; the summary goes to stdout, as one
JSON line with ``--json``. Bad input exits 2 with a one-line ``error: ...``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from typing import Any, Sequence

from synth_core import __version__
from synth_core.errors import SynthError
from synth_core.events import EpochEnd, Event, Log, Progress
from synth_core.workspace import json_safe, get_workspace

# verb -> module. Adding a verb means one entry here and one file in commands/.
VERBS: dict[str, str] = {
    "datasets": "synth_core.commands.datasets",
    "extract": "synth_core.commands.extract",
    "import": "synth_core.commands.import_",
    "train": "synth_core.commands.train",
    "tune": "synth_core.commands.tune",
    "generate": "synth_core.commands.generate",
    "tsne": "synth_core.commands.tsne",
    "evaluate": "synth_core.commands.evaluate",
    "augment-benchmark": "synth_core.commands.augment_benchmark",
    "worker": "synth_core.commands.worker",
    "jobs": "synth_core.commands.jobs",
    "tune-worker": "synth_core.commands.tune_worker",
    "check": "synth_core.commands.check",
    "serve": "synth_core.commands.serve",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m synth_core",
        description="Make synthetic data with (conditional) VAEs and check whether it is any good.")
    parser.add_argument("--version", action="version", version=f"synth_core {__version__}")
    parser.add_argument("--workspace", help="workspace folder (default: $SYNTH_WORKSPACE or ./workspace)")
    parser.add_argument("--json", action="store_true", help="print a one-line JSON summary on stdout")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb, module_name in VERBS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        verb_parser = sub.add_parser(verb, help=module.HELP, description=module.HELP)
        # Global flags are accepted after the verb too: `... train --json`.
        verb_parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                                 help="print a one-line JSON summary on stdout")
        verb_parser.add_argument("--workspace", default=argparse.SUPPRESS,
                                 help="workspace folder")
        verb_parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                                 help="no progress on stderr")
        module.add_arguments(verb_parser)
        verb_parser.set_defaults(_module=module)
    return parser


def _print_event(event: Event) -> None:
    if isinstance(event, Progress):
        text = f"[{event.fraction:6.1%}] {event.message}"
    elif isinstance(event, EpochEnd):
        text = (f"epoch {event.epoch}/{event.n_epochs}  train {event.train_loss:.5g}  "
                f"val {event.val_loss:.5g}  ({event.seconds:.2f} s)")
    elif isinstance(event, Log):
        text = f"{event.level}: {event.message}"
    else:  # pragma: no cover - every Event type is handled above
        text = str(event)
    print(text, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    callback = None if args.quiet else _print_event
    try:
        workspace = get_workspace(args.workspace)
        summary: dict[str, Any] = args._module.run(args, workspace, callback) or {}
    except SynthError as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        if args.json:
            print(json.dumps({"ok": False, "error": message}))
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if isinstance(summary, int):  # the worker verb returns an exit code
        return summary
    summary = {"ok": True, **json_safe(summary)}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for key, value in summary.items():
            if key != "ok":
                print(f"{key}: {value if not isinstance(value, (dict, list)) else json.dumps(value)}")
    return 0
