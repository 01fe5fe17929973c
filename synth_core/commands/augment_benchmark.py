"""``augment-benchmark``: the tabular VAE study's protocol, real vs synthetic training sets."""

from __future__ import annotations

import argparse
import sys

HELP = ("split 70/30 by class, train a VAE/CVAE (or fit a baseline) on the 70%%, generate a "
        "training set of the same size (or --rows-per-real times it), and compare an MLP "
        "trained on real vs on synthetic rows on the real 30%%")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="REF",
                        help="labelled real data: builtin:digits, a workspace dataset or a .h5")
    parser.add_argument("--generator", "--model", dest="model",
                        choices=["vae", "cvae", "gaussian", "copula", "smote"], default="vae",
                        help="generator trained or fitted on the 70%%: vae (interpolation "
                             "between neighbouring rows of a class), cvae (class sampling), or a baseline: gaussian "
                             "(per class), copula (Gaussian copula), smote; default vae")
    parser.add_argument("--test-size", type=float, default=0.3,
                        help="share of real rows held out for testing (default 0.3)")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=None, help="one seed (default 0)")
    seeds.add_argument("--seeds", default=None,
                       help="several seeds for mean and spread, e.g. 0,1,2 or 0-4")
    parser.add_argument("--rows-per-real", dest="rows_per_real", type=int, default=1,
                        metavar="K",
                        help="synthetic training rows per real training row, class by class "
                             "(default 1: a copy of the same size, the study's protocol; more "
                             "rows take away the classifier's own sampling noise)")
    parser.add_argument("--classifier", choices=["mlp", "logreg"], default="mlp",
                        help="classifier trained on each side (default mlp, as in the study)")
    parser.add_argument("--preset", default=None,
                        help="generator training preset: thesis-vae / thesis-cvae (the study's "
                             "networks), quick-vae / quick-cvae for a fast look; default: "
                             "the settings train derives from the data with no flags")
    parser.add_argument("--epochs", type=int, default=None, help="generator epochs")
    parser.add_argument("--latent-dim", type=int, default=None, help="generator latent size")
    parser.add_argument("--hidden", default=None,
                        help="generator hidden units, e.g. 483 or 256,128")
    parser.add_argument("--lr", type=float, default=None, help="generator learning rate")
    parser.add_argument("--batch-size", type=int, default=None, help="generator batch size")
    parser.add_argument("--patience", type=int, default=None,
                        help="generator early-stopping patience (0 = never stop early)")
    parser.add_argument("--device", default=None, help="auto, cpu or cuda")
    parser.add_argument("--out", default=None, metavar="REPORT.json",
                        help="also save the full result as JSON")
    parser.add_argument("--keep-runs", action="store_true",
                        help="keep each seed's generator under runs/ (default: temporary)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from pathlib import Path

    from synth_core.evaluation.augmentation import AugmentConfig, augment_benchmark
    from synth_core.numbers import parse_ints
    from synth_core.data.datasets import load_dataset
    from synth_core.errors import InputError, StorageError
    from synth_core.workspace import atomic_write_json

    overrides = {key: getattr(args, key) for key in
                 ("epochs", "latent_dim", "hidden", "lr", "batch_size", "patience", "device")
                 if getattr(args, key) is not None}
    if args.seeds is not None:
        seeds = parse_ints(args.seeds, name="--seeds")
        if not seeds:
            raise InputError(f"--seeds {args.seeds!r} names no seed; write e.g. 0,1,2 or 0-4")
    else:
        seeds = (args.seed if args.seed is not None else 0,)
    config = AugmentConfig(model=args.model, test_size=args.test_size, seeds=seeds,
                           classifier=args.classifier, preset=args.preset, train=overrides,
                           rows_per_real=args.rows_per_real)
    config.train_config(seeds[0])  # refuse bad training options before loading anything
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.overwrite:
        raise StorageError(f"--out {out} already exists; choose another name or pass --overwrite")
    data = load_dataset(args.data, workspace)
    result = augment_benchmark(data, config, dataset_ref=args.data,
                               runs_dir=workspace.runs_dir if args.keep_runs else None,
                               callback=callback)
    # The side-by-side table is the point of this verb: stdout, unless stdout carries JSON.
    print(result.report_text(), file=sys.stderr if args.json else sys.stdout, flush=True)
    if out is not None:
        atomic_write_json(out, result.to_dict())
    summary = result.summary()
    return {"dataset": args.data, "model": args.model, "seeds": list(seeds),
            "test_rows": result.runs[0].n_test, "synthetic_rows": result.runs[0].n_synthetic,
            "real_accuracy": summary["real_accuracy"], "synthetic_accuracy":
            summary["synthetic_accuracy"], "real_macro_f1": summary["real_macro_f1"],
            "synthetic_macro_f1": summary["synthetic_macro_f1"],
            **({"report": str(out)} if out is not None else {}),
            "seconds": round(result.seconds, 2)}
