"""``train``: fit a VAE, CVAE, AE or DAE on a feature file and save the run folder.

Flags start from ``--preset`` (or the TrainConfig defaults) and override it
one by one; options left unset that depend on the data (latent size, hidden
size, batch size, validation share, test folds) are derived from it and listed
under ``"derived"`` in the summary. Every epoch is printed to stderr;
``--json`` prints the summary (run_dir, epochs_run, best_val_loss, derived,
collapse warnings...) as one line.
"""

from __future__ import annotations

import argparse

HELP = "train a VAE / CVAE / AE / DAE on a dataset and save the run folder"

# flag dest -> TrainConfig field; None defaults mean "keep the preset's value".
_FIELDS = {"model": "model", "latent_dim": "latent_dim", "hidden": "hidden", "lr": "lr",
           "epochs": "epochs", "batch_size": "batch_size", "patience": "patience",
           "val_fraction": "val_fraction", "seed": "seed", "device": "device", "beta": "beta",
           "kl_warmup": "kl_warmup_epochs", "noise_std": "noise_std", "l1": "l1",
           "body": "body", "decoder": "decoder", "transform": "transform",
           "test_folds": "test_folds", "test_fraction": "test_fraction"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from synth_core.data.scaling import TRANSFORM_KINDS
    from synth_core.models.kinds import BODY_KINDS, DECODER_KINDS, MODEL_KINDS
    from synth_core.training.config import PRESETS, TrainConfig

    d = TrainConfig()
    parser.add_argument("--data", required=True,
                        help="feature file (.h5), workspace dataset name or builtin:digits")
    parser.add_argument("--model", choices=sorted(MODEL_KINDS), default=None,
                        help=f"model kind (default {d.model}, or the preset's)")
    parser.add_argument("--out", default=None,
                        help="run folder to create (default: a new runs/<model>-<time> in the "
                             "workspace); must not exist or be empty")
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None,
                        help="start from a named configuration (thesis-vae, thesis-cvae...); "
                             "other flags override it")
    parser.add_argument("--latent-dim", type=int, default=None,
                        help="size of the latent code (default: derived, a quarter of the "
                             "feature count between 2 and 16)")
    parser.add_argument("--hidden", default=None,
                        help="hidden layer sizes: 483 or 512,256 (default: derived, one layer of "
                             "64-512 units by feature count)")
    parser.add_argument("--lr", type=float, default=None,
                        help=f"Adam learning rate (default {d.lr:g})")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"maximum number of epochs (default {d.epochs})")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="rows per optimisation step (default: derived, a power of two up "
                             "to 128 that fits the training rows; thesis 12)")
    parser.add_argument("--patience", type=int, default=None,
                        help="stop after this many epochs without a better validation loss; "
                             f"0 = never (default {d.patience})")
    parser.add_argument("--val-fraction", type=float, default=None,
                        help="share of rows held out for validation (default: derived, 0.1, "
                             "or 0 on tiny data)")
    parser.add_argument("--seed", type=int, default=None,
                        help=f"random seed; the same seed repeats a CPU run exactly (default {d.seed})")
    parser.add_argument("--device", default=None,
                        help="auto (GPU when there is one), cpu or cuda (default auto)")
    parser.add_argument("--beta", type=float, default=None,
                        help=f"weight of the KL term (default {d.beta:g})")
    parser.add_argument("--kl-warmup", type=int, default=None,
                        help="epochs over which the KL weight grows linearly to beta (default 0)")
    parser.add_argument("--noise-std", type=float, default=None,
                        help=f"dae: std of the Gaussian input noise, in the transformed units "
                             "(about a standard deviation of each feature for quantile or "
                             "standard, the [0, 1] range for minmax; default "
                             f"{d.noise_std:g})")
    parser.add_argument("--l1", type=float, default=None,
                        help="ae: weight of the L1 penalty on the code (default 0)")
    parser.add_argument("--body", choices=list(BODY_KINDS), default=None,
                        help="mlp, or for image datasets with a feature_shape: conv (strided "
                             "convolutions, then dense layers) or fcn (fully convolutional, the "
                             "code is the coarse grid: sharpest reconstructions) (default mlp)")
    parser.add_argument("--decoder", choices=list(DECODER_KINDS), default=None,
                        help=f"output distribution (default {d.decoder}): sigma = Gaussian with a "
                             "calibrated shared variance (no KL weight to tune), "
                             "sigma-per-feature = one learned variance per feature, "
                             "sigma-per-feature-closed = one per feature in closed form, thesis = "
                             "the thesis losses (needs --transform minmax)")
    parser.add_argument("--transform", choices=list(TRANSFORM_KINDS), default=None,
                        help=f"feature transform fitted on the training rows (default "
                             f"{d.transform}): minmax to [0, 1] (thesis), standard, or quantile "
                             "to normal for skewed columns (quantile-hazen: training rows at "
                             "plotting positions, finite tails; quantile: scikit-learn's, "
                             "extremes at +-5.2)")
    parser.add_argument("--test-folds", default=None, metavar="FOLDS",
                        help="folds to leave out of training and validation, e.g. 10 or 9,10; "
                             "'none' trains on every fold (default: the dataset's own test "
                             "folds, if it records any)")
    parser.add_argument("--test-fraction", type=float, default=None, metavar="SHARE",
                        help="without test folds: share of each class never seen in training, "
                             "kept for Evaluate (default 0.2, 0 on tiny data); 0 trains on "
                             "every row")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for PyTorch (default: PyTorch's choice). On a machine "
                             "busy with other work, 1 is much faster for small batches")


def config_from_args(args: argparse.Namespace):
    """The TrainConfig the flags describe: preset (or defaults), then each given flag."""
    from synth_core.training.config import PRESETS, TrainConfig

    base = PRESETS[args.preset] if args.preset else TrainConfig()
    changes = {field: getattr(args, dest) for dest, field in _FIELDS.items()
               if getattr(args, dest, None) is not None}
    if str(changes.get("test_folds", "")).strip().lower() == "none":
        changes["test_folds"] = ()
    return base.replace(**changes)


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from pathlib import Path

    from synth_core.data.datasets import load_dataset
    from synth_core.training.trainer import new_run_dir, train_model

    config = config_from_args(args)
    if args.threads is not None:
        import torch

        from synth_core.errors import InputError

        if args.threads < 1:
            raise InputError(f"--threads must be at least 1; got {args.threads}")
        torch.set_num_threads(args.threads)
    data = load_dataset(args.data, workspace)
    run_dir = Path(args.out) if args.out else new_run_dir(workspace, config.model)
    result = train_model(data, config, run_dir=run_dir, callback=callback,
                         dataset_ref=str(args.data))
    return {**result.summary(), "model": config.model, "decoder": config.decoder,
            "transform": config.transform,
            **{key: result.metrics[key] for key in ("psnr_db", "psnr_held_out_db")
               if key in result.metrics}}
