"""``tune``: an Optuna study (TPE sampler, MedianPruner) over the VAE/CVAE hyperparameters.

Running the same command again resumes the study; the same command on several
machines against one PostgreSQL/MySQL URL (or several processes against one
``.journal`` file) shares the trials between them, and ``tune-worker`` joins a
study by its name alone (the study records its ranges and settings).
"""

from __future__ import annotations

import argparse

HELP = "search hyperparameters with Optuna (TPE + median pruning); resumable, shareable"


def add_trial_limits(parser: argparse.ArgumentParser, *, trials: int | None,
                     trials_help: str) -> None:
    """--trials, --jobs and --timeout, shared by ``tune`` and ``tune-worker``."""
    parser.add_argument("--trials", type=int, default=trials,
                        help=f"finished trials the study should hold (default {trials_help})")
    parser.add_argument("--jobs", type=int, default=1,
                        help="trials run in parallel in this process (default 1)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop starting new trials after this many seconds")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True,
                        help="feature file (.h5), workspace dataset name or builtin:NAME")
    parser.add_argument("--model", choices=["vae", "cvae"], default="vae",
                        help="model to tune (default vae)")
    parser.add_argument("--study", required=True,
                        help="study name; an existing study of that name is resumed")
    parser.add_argument("--storage", default="",
                        help="where studies live: sqlite:///path.db, postgresql://..., "
                             "mysql+pymysql://..., or a path ending .journal/.log (a journal "
                             "file that several worker processes can share); default: the "
                             "workspace's optuna.db")
    add_trial_limits(parser, trials=100, trials_help="100; trials already in the study count, "
                                                     "so re-running resumes")
    parser.add_argument("--preset", default=None,
                        help="thesis ranges: exploration, vae-exploitation-1, vae-exploitation-2, "
                             "cvae-exploitation-1, cvae-exploitation-2 (default exploration)")
    parser.add_argument("--ranges", default=None,
                        help="JSON (or a .json file) of [low, high] ranges overriding the "
                             "preset's, e.g. '{\"latent_dim\": [3, 203], \"lr\": [1e-5, 1e-2], "
                             "\"batch_size\": [32, 256]}'; optional keys: batch_size, beta, "
                             "n_layers")
    parser.add_argument("--epochs", type=int, default=None, metavar="N",
                        help="train every trial for at most N epochs, the same as --ranges "
                             "'{\"epochs\": [N, N]}' (default: the preset's epochs range, "
                             "searched)")
    parser.add_argument("--plots", default=None, metavar="DIR",
                        help="write Optuna's plots (history, slice, importances, intermediate "
                             "values, timeline) as HTML files into DIR")
    parser.add_argument("--seed", type=int, default=0, help="sampler and training seed (default 0)")
    parser.add_argument("--warmup", type=int, default=5,
                        help="MedianPruner n_warmup_steps: epochs before pruning (default 5)")
    parser.add_argument("--interval", type=int, default=3,
                        help="MedianPruner interval_steps: check every N epochs (default 3)")
    parser.add_argument("--startup-trials", type=int, default=5,
                        help="MedianPruner n_startup_trials: trials before pruning (default 5)")
    parser.add_argument("--max-rows", type=int, default=None,
                        help="tune on a random subsample of this many rows (faster; default all)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads per trial (default: cores / jobs)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="batch size when it is not searched (trainer default 64)")
    parser.add_argument("--patience", type=int, default=None,
                        help="early-stopping patience in epochs (trainer default 10; 0 = off)")
    parser.add_argument("--val-fraction", type=float, default=None,
                        help="share of rows for validation (trainer default 0.1)")
    parser.add_argument("--device", default=None, help="auto, cpu or cuda (default auto)")
    parser.add_argument("--heartbeat", type=int, default=60,
                        help="database storages: seconds between heartbeats of a running trial "
                             "(default 60); a trial silent for twice this (its worker died) is "
                             "failed and retried by the next trial any worker starts")


def config_from_args(args: argparse.Namespace) -> "object":
    """The TuneConfig the flags describe (no study is touched)."""
    import dataclasses

    from synth_core.errors import InputError
    from synth_core.training.tuning.space import TuneConfig, parse_ranges, read_ranges

    train = {key: value for key, value in (("batch_size", args.batch_size),
                                           ("patience", args.patience),
                                           ("val_fraction", args.val_fraction),
                                           ("device", args.device),
                                           ("seed", args.seed)) if value is not None}
    ranges = read_ranges(args.ranges)  # a JSON string or a file, read once
    space = parse_ranges(ranges, preset=args.preset)
    if args.epochs is not None:
        if args.epochs < 1:
            raise InputError(f"--epochs {args.epochs}: give a whole number of at least 1")
        if isinstance(ranges, dict) and "epochs" in ranges:
            raise InputError(f"--epochs {args.epochs} and an epochs range in --ranges both set "
                             "the epochs; give one of them")
        space = dataclasses.replace(space, epochs=(args.epochs, args.epochs))
    return TuneConfig(
        model=args.model, study_name=args.study, storage=args.storage, n_trials=args.trials,
        n_jobs=args.jobs, timeout=args.timeout, space=space, seed=args.seed,
        n_startup_trials=args.startup_trials, n_warmup_steps=args.warmup,
        interval_steps=args.interval, max_rows=args.max_rows, threads=args.threads,
        heartbeat_interval=args.heartbeat, train=train).validate()


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from synth_core.data.datasets import load_dataset
    from synth_core.training.tuning.study import run_study

    config = config_from_args(args)
    data = load_dataset(args.data, workspace)
    result = run_study(data, config, workspace=workspace, callback=callback,
                       dataset_ref=args.data, plots_dir=args.plots)
    return result.to_dict()
