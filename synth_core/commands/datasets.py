"""``datasets``: list the embedded datasets and the workspace's feature files.

Damaged workspace files (not HDF5, another layout, written by a newer version)
are listed apart with the reason and the way to remove them.
"""

from __future__ import annotations

import argparse

HELP = "list embedded and workspace datasets (and damaged dataset files)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--details", action="store_true",
                        help="open each workspace file and report rows, features and classes")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from synth_core.data.datasets import describe_dataset, list_dataset_refs, scan_datasets

    refs = list_dataset_refs(workspace)
    damaged = [d.message() for d in scan_datasets(workspace)[1]]
    listed = refs if not args.details else [describe_dataset(r, workspace).__dict__ for r in refs]
    return {"datasets": listed, "damaged": damaged}
