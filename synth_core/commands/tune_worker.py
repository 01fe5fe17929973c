"""``tune-worker``: join a study that lives in a shared database and run its trials.

On each extra machine, after the study was started once with ``tune`` (which
records its ranges and settings in the study itself)::

    python -m synth_core tune-worker --storage postgresql://user@host/db --study NAME

The worker runs trials until the study holds its target number of finished
trials, then stops. A worker that dies mid-trial stops sending heartbeats; its
trial is failed and queued again, and the next trial any worker starts picks
it up. See README "Tune workers on other machines".
"""

from __future__ import annotations

import argparse

from synth_core.commands.tune import add_trial_limits

HELP = "join a shared Optuna study (PostgreSQL, journal file) and run trials until it is done"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--storage", required=True,
                        help="the study's storage: postgresql://user@host/db (or with a "
                             "password, user:pass@host), mysql+pymysql://..., or a .journal path")
    parser.add_argument("--study", required=True, help="name of the study to join")
    parser.add_argument("--data", default=None,
                        help="dataset on this machine (default: the one the study was started "
                             "on, e.g. builtin:digits or a workspace dataset name)")
    add_trial_limits(parser, trials=None, trials_help="the study's own target")
    parser.add_argument("--heartbeat", type=int, default=None,
                        help="seconds between heartbeats of a running trial (default: the "
                             "study's, 60); a trial silent for twice this is failed and retried")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads per trial (default: cores / jobs)")
    parser.add_argument("--device", default=None, help="auto, cpu or cuda (default: the study's)")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    import dataclasses

    from synth_core.data.datasets import load_dataset
    from synth_core.errors import InputError
    from synth_core.training.tuning.space import TuneConfig
    from synth_core.training.tuning.storage import (STUDY_ATTR, load_study, open_storage,
                                                    storage_label)
    from synth_core.training.tuning.study import run_study

    storage = open_storage(args.storage)
    study = load_study(args.study, storage)
    meta = study.user_attrs.get(STUDY_ATTR) or {}
    settings = meta.get("config")
    if not isinstance(settings, dict):
        raise InputError(f"study {args.study!r} in {storage_label(args.storage)} does not record "
                         "its settings (made by another tool or an older version); join it with "
                         "`tune` and the same --model, --ranges and --trials instead")
    config = TuneConfig.from_dict({**settings, "storage": args.storage})
    changes: dict = {"n_jobs": args.jobs, "timeout": args.timeout}
    for field, value in (("n_trials", args.trials), ("heartbeat_interval", args.heartbeat),
                         ("threads", args.threads)):
        if value is not None:
            changes[field] = value
    if args.device is not None:
        changes["train"] = {**config.train, "device": args.device}
    config = dataclasses.replace(config, **changes).validate()
    ref = args.data or str(meta.get("dataset") or "")
    if not ref:
        raise InputError(f"study {args.study!r} does not say which dataset it was run on; pass "
                         "--data (a .h5 file, a workspace dataset name or builtin:NAME)")
    data = load_dataset(ref, workspace)
    result = run_study(data, config, workspace=workspace, callback=callback, dataset_ref=ref)
    return result.to_dict()
