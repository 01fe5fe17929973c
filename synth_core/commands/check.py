"""``check``: list the workspace items that cannot be read, and remove one on request.

Every reader of the workspace lists damaged items beside the good ones instead of
failing; this verb shows them all in one place (run folders, dataset files and job
records) with the reason and the way out. Nothing is removed unless
``--remove PATH`` names a damaged item.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "list damaged run folders, dataset files and job records (and remove one on request)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remove", metavar="PATH", default="",
                        help="delete this damaged run folder or dataset file (only an item the "
                             "check lists as damaged; good items are never removed here)")


def damaged_items(workspace) -> list:
    """Every damaged run folder, dataset file and job record of ``workspace``."""
    from synth_core.data.datasets import scan_datasets
    from synth_core.jobs import scan_jobs
    from synth_core.training.runs import scan_runs

    return scan_runs(workspace)[1] + scan_datasets(workspace)[1] + scan_jobs(workspace)[1]


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from synth_core.errors import InputError
    from synth_core.workspace import remove_damaged

    items = damaged_items(workspace)
    if args.remove:
        target = Path(args.remove).expanduser().absolute()
        match = next((d for d in items if Path(d.path).absolute() == target), None)
        if match is None:
            listed = ", ".join(str(d.path) for d in items) or "none"
            raise InputError(f"--remove {args.remove}: not a damaged workspace item, so nothing "
                             f"was removed; damaged items: {listed}")
        remove_damaged(match, workspace)
        return {"removed": str(match.path), "kind": match.kind,
                "damaged": [d.message() for d in items if d is not match]}
    return {"damaged": [d.message() for d in items], "n_damaged": len(items)}
