"""Explore benchmark: fixed real t-SNE map + placement vs the thesis's joint t-SNE.

Measured in one run on the same data (default: a synthetic stand-in for
UrbanSound8K VGGish features, 7077 rows x 512 features, 10 classes; or
``--data REF`` for a real feature file):

1. fit of the real map (openTSNE, PCA to 50 dimensions first, no cache);
2. placing 800 generated rows (the thesis batch size) on it;
3. one slider step: place one row + update the figure's marker (the decode is
   a trivial stand-in: linear interpolation between two rows);
4. scikit-learn's joint t-SNE of real + generated rows (7877), for comparison.

Goals on a 2-core machine: (1)+(2) at least 2x faster than (4); (2) <= 2 s;
(3) <= 150 ms. Prints one line per figure and a JSON summary with ``--json``.

    python benchmarks/explore.py [--rows 7077] [--features 512] [--classes 10] [--generated 800]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synth_core.features import FeatureSet  # noqa: E402
from synth_core.generation.figures import add_marker, map_figure  # noqa: E402
from synth_core.generation.maps import MapConfig, fit_map, joint_tsne  # noqa: E402


def stand_in_features(n_rows: int, n_features: int, n_classes: int, seed: int = 0) -> FeatureSet:
    """Clustered, non-negative rows with low-rank structure, like VGGish embeddings."""
    rng = np.random.default_rng(seed)
    latent_dim = 24
    centres = 2.0 * rng.standard_normal((n_classes, latent_dim))
    mixing = rng.standard_normal((latent_dim, n_features)) / 5          # [24, D]
    labels = rng.integers(0, n_classes, n_rows)
    codes = centres[labels] + rng.standard_normal((n_rows, latent_dim))  # [N, 24]
    features = np.maximum(codes @ mixing + 0.3 * rng.standard_normal((n_rows, n_features)), 0)
    return FeatureSet(features=features, labels=labels,
                      class_names=[f"class_{i}" for i in range(n_classes)],
                      ids=[f"clip-{i}.wav" for i in range(n_rows)])


def generated_like(real: FeatureSet, n_rows: int, seed: int = 1) -> FeatureSet:
    """Within-class interpolations between random real pairs (what a VAE batch looks like)."""
    rng = np.random.default_rng(seed)
    k = real.n_classes
    labels = np.repeat(np.arange(k), int(np.ceil(n_rows / k)))[:n_rows]
    rows = []
    for label in labels:
        members = np.flatnonzero(real.labels == label)
        a, b = real.features[rng.choice(members, 2)]
        t = rng.uniform(0.1, 0.9)
        rows.append((1 - t) * a + t * b + 0.05 * rng.standard_normal(a.shape))
    return FeatureSet(features=np.array(rows), labels=labels, class_names=real.class_names,
                      ids=[f"generated-{i}" for i in range(n_rows)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a real feature file or dataset reference instead of the "
                                       "stand-in")
    parser.add_argument("--rows", type=int, default=7077)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--generated", type=int, default=800)
    parser.add_argument("--steps", type=int, default=20, help="slider steps to time")
    parser.add_argument("--jobs", type=int, default=None,
                        help="threads for both t-SNEs (default: the cores, at most 8)")
    parser.add_argument("--skip-joint", action="store_true", help="skip scikit-learn's joint t-SNE")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    if args.data:
        from synth_core.data.datasets import load_dataset
        from synth_core.workspace import get_workspace

        real = load_dataset(args.data, get_workspace())
    else:
        real = stand_in_features(args.rows, args.features, args.classes)
    synthetic = generated_like(real, args.generated)
    config = MapConfig(n_jobs=args.jobs) if args.jobs else MapConfig()
    figures: dict[str, float | int | str] = {
        "rows": real.n_samples, "features": real.n_features, "classes": real.n_classes,
        "generated": synthetic.n_samples, "cores": os.cpu_count() or 1, "n_jobs": config.n_jobs,
        "load_before": round(os.getloadavg()[0], 2)}

    start = time.perf_counter()
    real_map = fit_map(real, method="tsne", cache_dir=None, config=config)  # no cache: a real fit
    figures["fit_s"] = time.perf_counter() - start
    print(f"fit of the real map ({real.n_samples} x {real.n_features}): "
          f"{figures['fit_s']:.2f} s", flush=True)

    real_map.place(synthetic.features[:1])  # builds the placement index and FFT grid once
    start = time.perf_counter()
    real_map.place(synthetic.features)
    figures["place_s"] = time.perf_counter() - start
    print(f"placing {synthetic.n_samples} generated rows: {figures['place_s']:.3f} s", flush=True)

    fig = map_figure(real_map.map_data(synthetic))
    a, b = real.features[0].astype(np.float64), real.features[1].astype(np.float64)
    steps = []
    for t in np.linspace(0, 1, args.steps):
        start = time.perf_counter()
        x = (1 - t) * a + t * b  # stand-in for decode(interpolated latent)
        add_marker(fig, real_map.place(x[None, :]))
        steps.append(time.perf_counter() - start)
    figures["slider_step_ms"] = 1000 * statistics.median(steps)
    figures["slider_step_max_ms"] = 1000 * max(steps)
    print(f"one slider step (place 1 row + update the figure): median "
          f"{figures['slider_step_ms']:.1f} ms, max {figures['slider_step_max_ms']:.1f} ms",
          flush=True)

    fixed = figures["fit_s"] + figures["place_s"]
    figures["fixed_map_total_s"] = fixed
    if not args.skip_joint:
        start = time.perf_counter()
        joint_tsne(real, synthetic, random_state=0, n_jobs=config.n_jobs)
        figures["joint_tsne_s"] = time.perf_counter() - start
        figures["speedup"] = figures["joint_tsne_s"] / fixed
        print(f"scikit-learn joint t-SNE of {real.n_samples + synthetic.n_samples} rows: "
              f"{figures['joint_tsne_s']:.2f} s  (fixed map + placement is "
              f"{figures['speedup']:.2f}x faster; goal >= 2x)", flush=True)
    figures["load_after"] = round(os.getloadavg()[0], 2)
    goals = {"place_800_le_2s": figures["place_s"] <= 2.0,
             "slider_step_le_150ms": figures["slider_step_ms"] <= 150.0}
    if "speedup" in figures:
        goals["fixed_map_2x_faster_than_joint"] = figures["speedup"] >= 2.0
    print("goals: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in goals.items()))
    print(f"load average before/after: {figures['load_before']} / {figures['load_after']}")
    if args.json:
        print(json.dumps({**{k: round(v, 4) if isinstance(v, float) else v
                             for k, v in figures.items()}, "goals": goals}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
