"""``generate``: new samples from a trained run (interpolation, by class, or from the prior)."""

from __future__ import annotations

import argparse

HELP = ("generate samples from a trained run: VAE interpolation, CVAE by class, or the prior; "
        "or from a baseline (--baseline gaussian|copula|smote --data F.h5 --per-class N)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", default=None,
                        help="run folder (a path, or a name under runs/); not needed with "
                        "--baseline")
    parser.add_argument("--baseline", choices=["gaussian", "copula", "smote"], default=None,
                        help="instead of a run: fit a baseline generator on --data (per-class "
                             "Gaussian, Gaussian copula or SMOTE) and draw --per-class N rows")
    parser.add_argument("--test-folds", dest="test_folds", default=None, metavar="F[,F]",
                        help="with --baseline: leave the rows of these folds out of the fit "
                             "(default: the dataset's recorded test folds, if any)")
    parser.add_argument("--test-fraction", dest="test_fraction", type=float, default=None,
                        metavar="F",
                        help="with --baseline and no test folds: leave this share of each "
                             "class out of the fit (default: the rows train holds out, 20%% "
                             "of each class or none on tiny data, so evaluate tests on rows "
                             "neither saw; 0 fits on every row)")
    parser.add_argument("--out", required=True,
                        help="output file: .h5 (with provenance), .csv or .npz; a plain name "
                             "(no suffix) is saved as the workspace's exports/NAME.h5, where "
                             "the dashboard's pages and evaluate --synthetic NAME find it")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--interpolate", action="store_true",
                      help="latent interpolation: the batch protocol (--pairs, --steps), or one "
                           "pair with --from I --to J [--t 0.5]")
    mode.add_argument("--per-class", type=int, metavar="N",
                      help="N samples of every class (or of --classes): a CVAE decodes with "
                           "the class; other models draw each class's codes from --prior-kind "
                           "mixture")
    mode.add_argument("--balance", type=int, metavar="N",
                      help="N samples in total, the classes (all, or --classes) in the real "
                           "training rows' proportions")
    mode.add_argument("--prior", type=int, metavar="N", help="N samples from the prior")
    parser.add_argument("--pairs", type=int, default=8, help="random pairs per class (default 8)")
    parser.add_argument("--steps", type=int, default=12,
                        help="points from z1 to z2 per pair, the two ends dropped (default 12 "
                             "-> 10 new samples per pair)")
    parser.add_argument("--from", dest="from_index", type=int, metavar="I",
                        help="first end point: a data row number")
    parser.add_argument("--to", dest="to_index", type=int, metavar="J",
                        help="second end point: a data row number")
    parser.add_argument("--t", type=str, default=None,
                        help="position(s) on the path in [0, 1], e.g. 0.5 or 0.25,0.5,0.75 "
                             "(default: --steps values from 0 to 1)")
    parser.add_argument("--cross", type=str, default=None, metavar="A,B",
                        help="pairs from class A to class B instead of within each class")
    parser.add_argument("--classes", type=str, default=None,
                        help="comma-separated classes (indices or names) to generate")
    parser.add_argument("--path", choices=["linear", "spherical"], default="linear",
                        help="interpolation path in latent space (default linear)")
    parser.add_argument("--codes", choices=["mean", "sample"], default="mean",
                        help="encode end points as posterior means (default) or sampled codes")
    parser.add_argument("--prior-kind", dest="prior_kind", default="auto",
                        choices=["auto", "normal", "mixture", "posterior", "fitted",
                                 "standard"],
                        help="where sampled codes come from: N(0, I) (normal; 'standard' is "
                             "the old name), a Gaussian mixture fitted on the training codes, "
                             "per class (mixture), the encoder's posterior of a random training "
                             "row of the class (posterior: rows around real rows), "
                             "N(mu, sigma^2) of the codes (fitted); auto "
                             "(default) = for a CVAE by class the posterior when every class "
                             "has 50+ training rows, else the mixture; the mixture for VAEs "
                             "(normal when the training data is gone); fitted for autoencoders")
    parser.add_argument("--output", choices=["auto", "mean", "sample"], default="auto",
                        help="rows are the decoded means or draws from the decoder's "
                             "distribution around them (sample); auto (default) draws "
                             "when the run can, except for one pair's path (--from/--to) and "
                             "the batch protocol of a run with the thesis decoder, which are "
                             "means; recorded in the file")
    parser.add_argument("--data", default=None,
                        help="feature file or dataset to pick samples from (default: the data "
                             "the run was trained on)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--audio", default=None, metavar="DIR",
                        help="spectrogram datasets: also write one WAV per row into DIR, named "
                             "<row>_<class>.wav, at the dataset's sample rate")


def _split(text: str | None, flag: str) -> list[str] | None:
    if text is None:
        return None
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        from synth_core.errors import InputError

        raise InputError(f"{flag} {text!r} is empty; give comma-separated values")
    return items


def _audio_settings(args: argparse.Namespace, source):
    """``--audio DIR``: the spectrogram settings of the run or data, checked before any work."""
    if not args.audio:
        return None
    from synth_core.generation.audio import check_audio_dir, settings_for

    settings = settings_for(source)
    check_audio_dir(args.audio, overwrite=args.overwrite)
    return settings


def _write_audio(args: argparse.Namespace, generated, settings) -> dict:
    if settings is None:
        return {}
    from synth_core.generation.audio import write_wavs

    paths = write_wavs(generated, args.audio, settings=settings, random_state=args.seed,
                       overwrite=args.overwrite)
    return {"audio": str(paths[0].parent) if paths else str(args.audio), "n_wavs": len(paths),
            "sample_rate": settings.sample_rate}


def _run_baseline(args: argparse.Namespace, workspace, callback) -> dict:
    """``--baseline KIND --data F.h5 --per-class N``: a baseline generator, no run needed."""
    from synth_core.data.datasets import load_dataset
    from synth_core.errors import InputError
    from synth_core.events import Log, emit
    from synth_core.generation.baselines import (baseline_feature_set, class_counts,
                                                 fit_rows, fittable_counts)
    from synth_core.generation.export import export_generated

    if args.run is not None:
        raise InputError(f"--baseline {args.baseline} fits on --data, not on a run; drop "
                         f"--run {args.run}")
    if not args.data:
        raise InputError(f"--baseline {args.baseline} needs the real rows to fit on; give "
                         "--data F.h5 (or a dataset name such as builtin:digits)")
    if args.per_class is None:
        raise InputError(f"--baseline {args.baseline} draws rows by class; use --per-class N "
                         "(--interpolate and --prior need a trained run)")
    out = _out_path(args.out, workspace, overwrite=args.overwrite)
    data = load_dataset(args.data, workspace)
    folds = None
    if args.test_folds is not None:
        try:
            folds = [int(f) for f in _split(args.test_folds, "--test-folds")]
        except ValueError as exc:
            raise InputError(f"--test-folds {args.test_folds!r}: give fold numbers, e.g. 10 "
                             "or 9,10") from exc
    audio = _audio_settings(args, data)
    train = fit_rows(data, folds, args.test_fraction)
    counts = class_counts(data, train, args.per_class, _split(args.classes, "--classes"))
    warnings = []
    if args.classes is None:  # every class by default: one too small does not stop the rest
        counts, warning = fittable_counts(data, train, counts, args.baseline)
        if warning:
            warnings.append(warning)
            emit(callback, Log(warning, level="warning"))
    generated = baseline_feature_set(data, args.baseline, counts, train_rows=train,
                                     random_state=args.seed)
    path = export_generated(generated, out, overwrite=args.overwrite)
    return {**_write_audio(args, generated, audio), "warnings": warnings, "out": str(path),
            "n_samples": generated.n_samples, "mode": generated.attrs["mode"],
            "baseline": args.baseline, "seed": args.seed,
            "n_train_rows": int(generated.attrs["n_train_rows"]),
            "n_held_out_rows": int(data.n_samples - train.size),
            "held_out_folds": generated.attrs["held_out_folds"],
            "classes": sorted({int(c) for c in generated.labels if c >= 0})}


def _out_path(text: str, workspace, *, overwrite: bool):
    """--out as a path; a plain name (no folder, no suffix) -> the workspace's exports/NAME.h5.
    An existing file is refused without --overwrite, before any work."""
    from pathlib import Path

    from synth_core.errors import StorageError
    from synth_core.workspace import safe_name

    out = Path(text).expanduser()
    if out.suffix == "" and out.name == text.strip() and text.strip():
        out = workspace.ensure().exports_dir / f"{safe_name(text.strip())}.h5"
    if out.exists() and not overwrite:
        raise StorageError(f"--out {out} already exists; choose another name or pass --overwrite")
    return out


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from synth_core.data.datasets import load_dataset
    from synth_core.errors import InputError, StorageError
    from synth_core.events import Log, emit
    from synth_core.generation.codes import resolve_class
    from synth_core.generation.export import export_generated
    from synth_core.generation.generator import (LARGE_REQUEST, GenerateConfig, generate,
                                                 path_spread_warning, run_data_or_none)
    from synth_core.training.runs import Run

    if args.baseline:
        return _run_baseline(args, workspace, callback)
    if args.run is None:
        raise InputError("generate needs --run RUN_DIR (a trained run), or --baseline "
                         "gaussian|copula|smote with --data F.h5")
    if args.test_folds is not None or args.test_fraction is not None:
        flag = "--test-folds" if args.test_folds is not None else "--test-fraction"
        raise InputError(f"{flag} applies to --baseline; a run's held-out rows are set "
                         "when it is trained (train --test-folds / --test-fraction)")
    out = _out_path(args.out, workspace, overwrite=args.overwrite)
    run_dir = workspace.run_path(args.run)
    if not run_dir.is_dir():
        raise StorageError(f"--run {args.run}: no such run folder; give its path or its name "
                           f"under {workspace.runs_dir}, or train one with "
                           "`python -m synth_core train`")
    run_ = Run.load(run_dir, device="cpu")
    audio = _audio_settings(args, run_)  # refused (with the reason) before any work
    t = None
    if args.t is not None:
        try:
            t = tuple(float(v) for v in _split(args.t, "--t"))
        except ValueError as exc:
            raise InputError(f"--t {args.t!r} is not a number or list of numbers; give e.g. "
                             "0.5 or 0.25,0.5,0.75") from exc
    if args.interpolate:
        pair = args.from_index is not None or args.to_index is not None
        mode = "pair" if pair else "protocol"
        if not pair and t is not None:
            raise InputError("--t picks points between one pair; give --from I --to J too")
    else:
        mode = "class" if args.per_class is not None or args.balance is not None else "prior"
    if args.balance is not None and args.balance < 1:
        raise InputError(f"--balance {args.balance}: give the total number of samples to share "
                         "out over the classes, e.g. --balance 800")
    cross = _split(args.cross, "--cross")
    if cross is not None and len(cross) != 2:
        raise InputError(f"--cross {args.cross!r} needs exactly two classes, e.g. --cross 3,8")
    config_classes = _split(args.classes, "--classes")
    cfg_kwargs = dict(mode=mode, pairs=args.pairs, steps=args.steps,
                      from_index=args.from_index, to_index=args.to_index, t=t or (),
                      per_class=args.per_class or 0, n_prior=args.prior or 0,
                      prior=args.prior_kind, path=args.path, codes=args.codes, seed=args.seed,
                      output=args.output, balance=args.balance or 0)
    probe = GenerateConfig(**cfg_kwargs)
    data = (load_dataset(args.data, workspace) if args.data
            else run_data_or_none(run_, workspace, probe, callback))
    if cross is not None:
        cfg_kwargs["cross"] = tuple(resolve_class(run_, c, data=data, name="--cross class")
                                    for c in cross)
    if config_classes is not None:
        cfg_kwargs["classes"] = tuple(resolve_class(run_, c, data=data, name="--classes class")
                                      for c in config_classes)
    config = GenerateConfig(**cfg_kwargs)
    n_classes = len(run_.class_names or (data.class_names if data is not None else []))
    requested = config.n_requested(n_classes)
    if requested > LARGE_REQUEST:
        emit(callback, Log(f"{requested} samples requested; this may take a while on a slow "
                           "machine", level="warning"))
    warnings: list[str] = []

    def collect(event) -> None:  # the warnings generation logs go into the summary too
        if isinstance(event, Log) and event.level == "warning":
            warnings.append(event.message)
        emit(callback, event)

    generated = generate(run_, data, config, callback=collect)
    warning = path_spread_warning(generated, data)
    if warning:
        collect(Log(warning, level="warning"))
    path = export_generated(generated, out, overwrite=args.overwrite)
    return {**_write_audio(args, generated, audio), "warnings": warnings,
            "out": str(path), "n_samples": generated.n_samples, "mode": generated.attrs["mode"],
            "run": str(run_.run_dir), "seed": args.seed, "output": generated.attrs["output"],
            "prior": generated.attrs.get("prior"),
            "held_out_folds": generated.attrs["held_out_folds"],
            "classes": sorted({int(c) for c in generated.labels if c >= 0})}
