"""Wall time of a 100-trial VAE study with the thesis's Exploration ranges.

Data: a random 7077 x 512 matrix in [0, 1] (UrbanSound8K's training-clip count,
VGGish's width). Ranges: Exploration (latent 3-203, hidden 150-400, lr
1e-5-1e-2, epochs 20-100), TPE seeded, MedianPruner(n_startup_trials=5,
n_warmup_steps=5, interval_steps=3), early stopping with patience 10, as
:func:`synth_core.training.tuning.run_study` runs any study. The study lives in a
temporary SQLite file. Prints wall time, complete / pruned / failed counts,
the best value, epochs trained in all and the settings used.

The thesis ran its 100-trial studies on a GPU with 4 parallel jobs; the goal
here is 100 trials within 10 minutes on a 2-core CPU. The knobs that matter:
``--jobs`` (trials in parallel, one torch thread each by default), ``--batch-size``
(fewer optimiser steps per epoch), ``--max-rows`` (a subsample), ``--epochs``
(a smaller epoch range than the thesis's).

Run: ``python benchmarks/tune.py [--trials 100] [--jobs 2] [--batch-size 128] [--timeout S]
[--json]``. The load average is printed too: on a shared machine other
processes take the cores, and every figure scales with that.

Workers mode (issue #13): ``python benchmarks/tune.py --workers 1,2,4 [--trials 40]``
runs one study with 1, 2 and 4 worker processes (``python -m synth_core tune``
each, all started at once) on a throw-away PostgreSQL server (tests/pg_server.py)
and on a SQLite file, on tiny data (600 x 32 blobs, epochs 5-10, no pruning
during the first 5 trials), and prints trials per minute for each. SQLite is
one file with one writer at a time: several processes may wait on its lock.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth_core.events import Progress  # noqa: E402
from synth_core.features import FeatureSet  # noqa: E402
from synth_core.training.trainer import TrainConfig  # noqa: E402
from synth_core.training.tuning.space import RANGE_PRESETS, SearchSpace, TuneConfig  # noqa: E402
from synth_core.training.tuning.study import run_study  # noqa: E402

N_ROWS, N_FEATURES = 7077, 512


def workers_mode(counts: list[int], trials: int, as_json: bool) -> int:
    """Trials per minute with N worker processes, PostgreSQL vs SQLite."""
    import subprocess

    from synth_core.features import write_features
    from tests import pg_server
    from tests.conftest import make_blobs

    root = Path(__file__).resolve().parent.parent
    ranges = '{"latent_dim": [2, 8], "hidden": [16, 64], "epochs": [5, 10]}'
    results: dict = {"cpus": os.cpu_count(), "trials": trials,
                     "load_avg_1m_at_start": round(os.getloadavg()[0], 2), "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-tune-workers-") as tmp:
        data = write_features(Path(tmp) / "blobs.h5", make_blobs(n_per_class=200, n_features=32))
        server = pg_server.start()
        try:
            for storage_kind in ("postgresql", "sqlite"):
                for n in counts:
                    name = f"w{n}-{storage_kind}"
                    url = server.url if storage_kind == "postgresql" else \
                        f"sqlite:///{tmp}/{name}.db"
                    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // n))}
                    command = [sys.executable, "-m", "synth_core", "-q", "--workspace",
                               f"{tmp}/ws", "tune", "--json", "--data", str(data), "--study",
                               name, "--storage", url, "--trials", str(trials), "--ranges",
                               ranges, "--batch-size", "64", "--patience", "0"]
                    started = time.monotonic()
                    procs = [subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True)
                             for _ in range(n)]
                    outs = [p.communicate(timeout=3600) for p in procs]
                    wall = time.monotonic() - started
                    ok = [json.loads(o) for o, _ in outs if o.strip().startswith("{")]
                    errors = [e.strip().splitlines()[-1] for (o, e), p in zip(outs, procs)
                              if p.returncode != 0 and e.strip()]
                    finished = max((r["n_complete"] + r["n_pruned"] for r in ok), default=0)
                    run = {"storage": storage_kind, "workers": n, "wall_s": round(wall, 1),
                           "finished_trials": finished,
                           "trials_per_min": round(60 * finished / wall, 1),
                           "errors": errors[:2], "load_avg_1m": round(os.getloadavg()[0], 2)}
                    results["runs"].append(run)
                    if not as_json:
                        print(f"{storage_kind:10} {n} worker(s): {finished} trials in {wall:.1f} s"
                              f" = {run['trials_per_min']} trials/min; load "
                              f"{run['load_avg_1m']}" + (f"; errors: {errors[:1]}" if errors
                                                         else ""), flush=True)
        finally:
            server.remove()
    if as_json:
        print(json.dumps(results))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2, help="trials in parallel (default 2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per trial (default cores / jobs)")
    parser.add_argument("--batch-size", type=int, default=TrainConfig().batch_size,
                        help="default: the trainer's default (128)")
    parser.add_argument("--max-rows", type=int, default=None, help="subsample rows (default all)")
    parser.add_argument("--epochs", type=str, default=None,
                        help="epoch range low,high (default the Exploration preset's 20,100)")
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop starting trials after this many seconds (report what finished)")
    parser.add_argument("--quiet", action="store_true", help="no per-trial lines on stderr")
    parser.add_argument("--json", action="store_true", help="one JSON line on stdout")
    parser.add_argument("--workers", default=None,
                        help="workers mode: comma-separated worker counts, e.g. 1,2,4")
    args = parser.parse_args()
    if args.workers:
        return workers_mode([int(n) for n in args.workers.split(",")], args.trials, args.json)

    rng = np.random.default_rng(args.seed)
    data = FeatureSet(features=rng.random((N_ROWS, N_FEATURES), dtype=np.float32),
                      labels=np.full(N_ROWS, -1))
    space = RANGE_PRESETS["exploration"].space
    if args.epochs:
        low, high = (int(v) for v in args.epochs.split(","))
        space = SearchSpace.from_dict({"epochs": [low, high]}, base=space)
    started = time.monotonic()
    load_start = os.getloadavg()[0]  # other work on the machine slows every trial down

    def report(event) -> None:
        if isinstance(event, Progress) and event.stage == "study" and not args.quiet:
            print(f"[{time.monotonic() - started:7.1f} s] {event.message}", file=sys.stderr,
                  flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        config = TuneConfig(
            model="vae", study_name="benchmark", storage=f"sqlite:///{tmp}/optuna.db",
            n_trials=args.trials, n_jobs=args.jobs, threads=args.threads, space=space,
            seed=args.seed, max_rows=args.max_rows, timeout=args.timeout,
            train={"batch_size": args.batch_size, "patience": args.patience, "device": "cpu"})
        result = run_study(data, config, callback=report)
        import optuna

        study = optuna.load_study(study_name="benchmark", storage=config.storage)
        epochs = sum(len(t.intermediate_values) for t in study.trials)
    wall = time.monotonic() - started
    load_end = os.getloadavg()[0]
    s = result.summary
    figures = {
        "wall_s": round(wall, 1), "trials": s.n_trials, "complete": s.n_complete,
        "pruned": s.n_pruned, "failed": s.n_failed, "share_pruned": round(s.share_pruned, 3),
        "best_value": s.best_value, "best_params": s.best_params, "epochs_trained": epochs,
        "seconds_per_trial": round(wall / max(s.n_trials, 1), 2),
        "settings": {"rows": args.max_rows or N_ROWS, "features": N_FEATURES,
                     "ranges": space.to_dict(), "jobs": args.jobs, "threads": args.threads,
                     "batch_size": args.batch_size, "patience": args.patience,
                     "pruner": "MedianPruner(5 startup, warmup 5, interval 3)"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m_at_start": round(load_start, 2),
                    "load_avg_1m_at_end": round(load_end, 2)},
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{s.n_trials} trials in {wall:.1f} s ({wall / max(s.n_trials, 1):.2f} s/trial): "
              f"{s.n_complete} complete, {s.n_pruned} pruned ({s.share_pruned:.0%}), "
              f"{s.n_failed} failed; {epochs} epochs trained; best value {s.best_value:.6g} "
              f"{s.best_params}")
        print(f"settings: {json.dumps(figures['settings'])}; load average {load_start:.1f} at "
              f"the start, {load_end:.1f} at the end, on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
