"""``worker JOB_ID``: run one background job (started by the dashboard, not by hand).

:func:`synth_core.jobs.submit_job` starts it as ``python -m
synth_core.commands.worker`` rather than through the full CLI, so that a
worker neither builds every verb's parser nor depends on them: it starts
faster, and a problem in one verb's flags cannot stop every job.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

HELP = ("run one background job from the workspace's jobs/ folder once the queue lets it "
        "(used by the dashboard)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--owner", default="",
                        help="classroom code: the job lives in users/CODE/jobs/ of the workspace")
    parser.add_argument("job_id", help="folder name under jobs/")


def run(args: argparse.Namespace, workspace, callback) -> int:
    from synth_core.jobs import run_worker

    if args.owner:
        workspace = workspace.for_owner(args.owner)
    return run_worker(workspace, args.job_id)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m synth_core.commands.worker --workspace DIR [--owner CODE] JOB_ID``."""
    from synth_core.errors import SynthError
    from synth_core.workspace import get_workspace

    parser = argparse.ArgumentParser(prog="python -m synth_core.commands.worker",
                                     description=HELP)
    parser.add_argument("--workspace", default=None, help="the server's workspace folder")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args, get_workspace(args.workspace), None)
    except SynthError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
