"""``evaluate``: the scorecard of one or more synthetic sets against real data."""

from __future__ import annotations

import argparse

HELP = ("score synthetic data against real data: train-on-synthetic/test-on-real, precision/"
        "recall/density/coverage, Frechet distance, real-vs-synthetic AUC, copy check")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real-train", required=True, metavar="REF",
                        help="real training rows: builtin:digits, a workspace dataset or a .h5")
    parser.add_argument("--synthetic", action="append", default=[], metavar="REF",
                        help="a synthetic feature file to score (repeat for several); none "
                             "scores only the real held-out reference")
    parser.add_argument("--real-test", default=None, metavar="REF",
                        help="real test rows; left out, the real rows are split by their folds "
                             "(--test-folds, default the last) or 70/30 by class")
    parser.add_argument("--out", default=None, metavar="REPORT.json",
                        help="report file (JSON; a CSV is written next to it); default "
                             "reports/evaluate-<time>.json in the workspace")
    parser.add_argument("--k", type=int, default=None,
                        help="neighbours for precision/recall/density/coverage (default 5, "
                             "fewer when a set has few rows)")
    parser.add_argument("--classifiers", default="mlp,logreg,forest",
                        help="classifiers for the utility scores, any of mlp, logreg, forest "
                             "(random forest) separated by commas (default mlp,logreg,forest)")
    parser.add_argument("--detector", default="quadratic",
                        choices=["quadratic", "logreg", "mlp", "boosting"],
                        help="real-vs-synthetic classifier (default quadratic: logistic "
                             "regression on principal components and their squares)")
    parser.add_argument("--cv-folds", type=int, default=None,
                        help="cross-validation folds of the real-vs-synthetic test (default 5, "
                             "fewer when a set has few rows)")
    parser.add_argument("--test-folds", default=None, metavar="F[,F]",
                        help="predefined folds to test on when --real-test is left out "
                             "(UrbanSound8K: e.g. 10)")
    parser.add_argument("--test-size", type=float, default=0.3,
                        help="test share of the 70/30 split when there are no folds (0.3)")
    parser.add_argument("--frame-frechet", choices=["auto", "on", "off"], default="auto",
                        help="also the Frechet distance per VGGish frame (feature_shape "
                             "[frames, 128]); auto = when the data has frames")
    parser.add_argument("--no-augmentation", action="store_true",
                        help="skip the real + synthetic vs real alone check")
    parser.add_argument("--no-reference", action="store_true",
                        help="do not score the real held-out rows as a reference")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the per-class Gaussian baseline fitted on the real training "
                             "rows (the report's first lines say whether each set beats it)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing report")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    import datetime as dt
    from pathlib import Path

    from synth_core.numbers import parse_ints
    from synth_core.evaluation.report import reports_dir, save_report
    from synth_core.evaluation.scorecard import EvaluateConfig, run_evaluation

    config = EvaluateConfig(
        k=args.k, classifiers=tuple(c.strip() for c in args.classifiers.split(",") if c.strip()),
        detector=args.detector, n_folds=args.cv_folds,
        test_size=args.test_size,
        test_folds=parse_ints(args.test_folds, name="--test-folds", example="10 or 9,10"),
        random_state=args.seed,
        frechet_frames={"auto": None, "on": True, "off": False}[args.frame_frechet],
        augmentation=not args.no_augmentation, reference=not args.no_reference,
        baseline=not args.no_baseline)
    out = (Path(args.out) if args.out else
           reports_dir(workspace) / f"evaluate-{dt.datetime.now():%Y%m%d-%H%M%S}.json")
    if out.exists() and not args.overwrite:
        from synth_core.errors import StorageError

        raise StorageError(f"--out {out} already exists; choose another name or pass "
                           "--overwrite")
    card = run_evaluation(workspace, real_train=args.real_train, synthetic=args.synthetic,
                          real_test=args.real_test, config=config, callback=callback)
    paths = save_report(card, out, overwrite=args.overwrite)
    scores = {name: {row.metric + (f"[{row.detail}]" if row.detail else ""): row.value
                     for row in card.metrics if row.set == name} for name in card.sets}
    worst = {name: {"spread": f.worst_spread, "shape": f.worst_shape}
             for name, f in card.features.items()}
    return {"report": str(paths["json"]), "csv": str(paths["csv"]), "headline": card.headline,
            "sets": card.sets,
            "real_train_rows": card.real["n_train"], "real_test_rows": card.real["n_test"],
            "notes": card.notes, "scores": scores, "worst_features": worst,
            "seconds": round(card.seconds, 2)}
