"""``import``: a feature matrix (HDF5, CSV, NPZ or an MNIST IDX folder) -> a feature file."""

from __future__ import annotations

import argparse

HELP = "import a feature matrix (HDF5, CSV, NPZ, MNIST IDX folder) into a feature file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True,
                        help="F.h5 (this layout, or one [N, D+1] matrix with the label last), "
                             "F.csv, F.npz (X, y), a folder of MNIST IDX files, or "
                             "openml:mnist_784 (needs internet once; cached)")
    parser.add_argument("--out", required=True,
                        help="NAME (saved as workspace datasets/NAME.h5) or a path ending in .h5")
    parser.add_argument("--label-column", default="auto",
                        help="CSV: the label column's name, 'last', 'none', or 'auto' (a column "
                             "called label/class/target/y/category if there is one, else the "
                             "only column of repeated text, such as iris's 'species')")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output file")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from synth_core.data.importers import import_to_file

    return import_to_file(args.input, args.out, workspace, label_column=args.label_column,
                          overwrite=args.overwrite, callback=callback)
