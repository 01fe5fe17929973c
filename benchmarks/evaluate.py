"""Time the full evaluation scorecard at thesis scale and print the figures.

7077 real training rows, 1655 real test rows (UrbanSound8K has 8732 clips) and
800 synthetic rows (the thesis batch protocol: 10 classes x 80), 512 features
(VGGish, 4 frames x 128), 10 classes. The data are class-wise Gaussians with a
low-rank structure; the synthetic rows come from slightly shifted, shrunken
versions of them (the usual VAE look: a little blurred towards the mean).

    python benchmarks/evaluate.py [--synthetic-sets 1] [--no-reference]

Goal (issue #6): at most 30 s on a 2-core machine for one synthetic set, with
every default on (MLP, logistic regression and random forest; augmentation; the
per-class Gaussian baseline of issue #12; per-feature spread and shape).

``--wide``: a leukemia-shaped table instead (50 training, 22 test and 50
synthetic rows of 7,129 features, 2 classes), where anything that builds a
D x D covariance costs minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth_core.evaluation.scorecard import EvaluateConfig, scorecard  # noqa: E402
from synth_core.events import Progress  # noqa: E402
from synth_core.features import FeatureSet  # noqa: E402

N_CLASSES, N_FEATURES, RANK = 10, 512, 24


def make_data(n_train: int = 7077, n_test: int = 1655, n_synthetic: int = 800,
              n_sets: int = 1, seed: int = 0, n_features: int = N_FEATURES,
              n_classes: int = N_CLASSES
              ) -> tuple[FeatureSet, FeatureSet, dict[str, FeatureSet]]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 0.12, size=(n_classes, n_features))
    loadings = rng.normal(0.0, 0.6, size=(n_classes, RANK, n_features))  # per-class structure

    def draw(n: int, shrink: float = 1.0, shift: float = 0.0, rows_seed: int = 1) -> FeatureSet:
        r = np.random.default_rng(rows_seed)
        labels = np.sort(np.r_[np.arange(n_classes), r.integers(0, n_classes, size=n - n_classes)])
        codes = r.standard_normal((n, RANK))
        X = (centers[labels] + shift
             + shrink * np.einsum("nr,nrd->nd", codes, loadings[labels])
             + shrink * 0.5 * r.standard_normal((n, n_features)))
        attrs = ({"frames": 4, "feature_shape": [4, 128], "modality": "audio"}
                 if n_features == 512 else {})
        return FeatureSet(features=X, labels=labels,
                          class_names=[f"class_{i}" for i in range(n_classes)], attrs=attrs)

    real_train = draw(n_train, rows_seed=1)
    real_test = draw(n_test, rows_seed=2)
    synthetic = {f"vae-{i}": draw(n_synthetic, shrink=0.8, shift=0.05 * (i + 1), rows_seed=10 + i)
                 for i in range(n_sets)}
    return real_train, real_test, synthetic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic-sets", type=int, default=1)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--no-test-set", action="store_true",
                        help="leave the real test set out (70/30 split of the training rows)")
    parser.add_argument("--wide", action="store_true",
                        help="a leukemia-shaped table: 50 + 22 rows of 7,129 features, 2 classes")
    args = parser.parse_args()
    shape = (dict(n_train=50, n_test=22, n_synthetic=50, n_features=7129, n_classes=2)
             if args.wide else {})
    real_train, real_test, synthetic = make_data(n_sets=args.synthetic_sets, **shape)
    stages: list[tuple[float, str]] = []
    start = time.perf_counter()
    cpu_start = time.process_time()

    def callback(event) -> None:
        if isinstance(event, Progress):
            stages.append((time.perf_counter() - start, event.message))

    card = scorecard(real_train, synthetic, None if args.no_test_set else real_test,
                     config=EvaluateConfig(reference=not args.no_reference), callback=callback)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(f"machine: {os.cpu_count()} cores")
    print(f"data: {real_train.n_samples} real train, "
          f"{'split' if args.no_test_set else real_test.n_samples} real test, "
          f"{args.synthetic_sets} x {next(iter(synthetic.values())).n_samples} synthetic rows, "
          f"{real_train.n_features} features, {real_train.n_classes} classes")
    previous = 0.0
    for at, message in stages:
        print(f"  {at - previous:6.2f} s  {message}")
        previous = at
    for line in card.headline:
        print(f"  headline: {line}")
    for row in card.table():
        print(f"  {row['metric']:<50} " + "  ".join(f"{name}: {row[name]}" for name in card.sets))
    load = os.getloadavg()[0]
    print(f"total: {total:.1f} s wall, {cpu:.1f} s CPU (goal: at most 30 s; "
          f"load average during the run {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
