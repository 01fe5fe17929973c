"""``datasets``: list the embedded datasets and the workspace's feature files."""

from __future__ import annotations

import argparse

HELP = "list embedded and workspace datasets"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--details", action="store_true",
                        help="open each workspace file and report rows, features and classes")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from synth_core.data.datasets import describe_dataset, list_dataset_refs

    refs = list_dataset_refs(workspace)
    if not args.details:
        return {"datasets": refs}
    return {"datasets": [describe_dataset(ref, workspace).__dict__ for ref in refs]}
