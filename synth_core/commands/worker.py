"""``worker JOB_ID``: run one background job (started by the dashboard, not by hand)."""

from __future__ import annotations

import argparse

HELP = "run one background job from the workspace's jobs/ folder (used by the dashboard)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job_id", help="folder name under jobs/")


def run(args: argparse.Namespace, workspace, callback) -> int:
    from synth_core.jobs import run_worker

    return run_worker(workspace, args.job_id)
