"""Training: seconds per epoch (trainer vs bare vs thesis-style loop), and ``--quality`` of
the default settings against the thesis's.

The thesis VAE shape (512 -> 483 -> 42, MSE + KL, Adam lr 2.78e-4) on a
random 7077 x 512 matrix in [0, 1] (UrbanSound8K's 7077 training clips), at the
thesis batch size 12 and the project default. Three loops doing the same
arithmetic:

* ``synth_core``: :func:`synth_core.training.trainer.train_model` (includes its
  validation pass, 10% of the rows, and the per-epoch bookkeeping);
* ``bare``: the minimal PyTorch loop (tensors, index permutation, slices);
* ``thesis-style``: a DataLoader over a TensorDataset with per-batch
  ``.item()`` loss logging, as thesis-era notebooks do.

Run: ``python benchmarks/train.py [--epochs 3] [--batch-sizes 12,64,128] [--threads N] [--json]``.
Timings are only comparable on an otherwise idle machine: other processes
competing for the cores slow small multi-threaded batches down by large factors
(batch 12 on 2 busy cores: ~2-3 s/epoch on 1 thread, 14-80 s on 2).

``--quality [--seeds 2] [--datasets breast_cancer,wine,digits]`` compares
training settings of the CVAE (the thesis preset and decoder/transform
candidates for the defaults, everything else derived from the data) on
scikit-learn's bundled tables: each dataset is split 70/30 by class; the model
is trained on the 70 %; as many rows as the 70 % (same class counts) are
decoded from prior codes, as decoded means and drawn from the decoder; then

* TSTR/TRTR: accuracy on the real 30 % of a random forest trained on the
  synthetic rows, over that of one trained on the real 70 %;
* detection AUC: 3-fold cross-validated AUC of gradient boosting separating the
  real 70 % from the synthetic rows (0.5: indistinguishable).

This is how the defaults in ``synth_core/training/config.py`` were chosen;
``benchmarks/quality.py`` compares the generators and sampling options more widely.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth_core.features import FeatureSet  # noqa: E402
from synth_core.models import build_model, model_config  # noqa: E402
from synth_core.training.config import PRESETS, TrainConfig  # noqa: E402
from synth_core.training.defaults import MAX_BATCH  # noqa: E402
from synth_core.training.trainer import train_model  # noqa: E402

N_ROWS, N_FEATURES, HIDDEN, LATENT, LR = 7077, 512, 483, 42, 2.78e-4


def _thesis_vae() -> torch.nn.Module:
    return build_model("vae", model_config("vae", n_features=N_FEATURES, latent_dim=LATENT,
                                           hidden=(HIDDEN,)))


def _vae_loss(model, x):
    out = model(x)
    recon = (torch.sigmoid(out.logits) - x).pow(2).sum(1).mean()
    kl = (-0.5 * (1 + out.logvar - out.mu.pow(2) - out.logvar.exp()).sum(1)).mean()
    return recon + kl


def bare_loop(X: torch.Tensor, batch_size: int, epochs: int) -> list[float]:
    """The least a PyTorch loop can do: permutation, slices, Adam; losses never read."""
    torch.manual_seed(0)
    model = _thesis_vae()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        xs = X[torch.randperm(X.shape[0])]
        for start in range(0, X.shape[0], batch_size):
            loss = _vae_loss(model, xs[start:start + batch_size])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - t0)
    return times


def thesis_style_loop(X: torch.Tensor, batch_size: int, epochs: int) -> list[float]:
    """DataLoader(TensorDataset, shuffle=True) and ``.item()`` on every batch for logging."""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = _thesis_vae()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(TensorDataset(X), batch_size=batch_size, shuffle=True)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        losses = []
        for (xb,) in loader:
            optimizer.zero_grad()
            loss = _vae_loss(model, xb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        times.append(time.perf_counter() - t0)
    return times


def synth_core_loop(data: FeatureSet, batch_size: int, epochs: int) -> list[float]:
    config = TrainConfig(model="vae", latent_dim=LATENT, hidden=(HIDDEN,), lr=LR, epochs=epochs,
                         batch_size=batch_size, patience=0, val_fraction=0.1, device="cpu",
                         decoder="thesis", transform="minmax")
    result = train_model(data, config)
    return [h["seconds"] for h in result.history]


# ----------------------------------------------------------------------------- --quality
SETTINGS: dict[str, TrainConfig] = {
    "thesis": PRESETS["thesis-cvae"],
    "sigma/quantile": TrainConfig(model="cvae", decoder="sigma", transform="quantile"),
    "sigma/standard": TrainConfig(model="cvae", decoder="sigma", transform="standard"),
    "sigma/minmax": TrainConfig(model="cvae", decoder="sigma", transform="minmax"),
    "per-feature/quantile": TrainConfig(model="cvae", decoder="sigma-per-feature",
                                        transform="quantile"),
    "per-feature/standard": TrainConfig(model="cvae", decoder="sigma-per-feature",
                                        transform="standard"),
}


def _table(name: str) -> FeatureSet:
    from sklearn import datasets

    loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
              "digits": datasets.load_digits}[name]
    bunch = loader()
    return FeatureSet(bunch.data.astype(np.float32), bunch.target,
                      [str(c) for c in bunch.target_names], attrs={"dataset": name})


def _synthesize(result, labels: np.ndarray, n_classes: int, seed: int,
                sample: bool) -> np.ndarray:
    """Rows decoded from prior codes, one per label, in the raw feature scale."""
    model, scaler = result.model.eval(), result.scaler
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = torch.randn((len(labels), model.config.latent_dim), generator=g)
        y = torch.nn.functional.one_hot(torch.as_tensor(labels), n_classes).float()
        out = model.decode(z, y)
        if sample:
            out = model.sample_output(out, generator=g)
    return scaler.inverse_transform(out.numpy())


def _scores(X_train, y_train, X_test, y_test, X_syn, y_syn, seed: int) -> dict[str, float]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.model_selection import cross_val_score

    def accuracy(X, y):
        forest = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
        return float(forest.fit(X, y).score(X_test, y_test))

    both = np.vstack([X_train, X_syn])
    is_synthetic = np.r_[np.zeros(len(X_train)), np.ones(len(X_syn))]
    auc = cross_val_score(HistGradientBoostingClassifier(random_state=seed), both, is_synthetic,
                          cv=3, scoring="roc_auc").mean()
    return {"tstr": accuracy(X_syn, y_syn), "trtr": accuracy(X_train, y_train),
            "auc": float(auc)}


def quality(datasets: list[str], settings: list[str], n_seeds: int, as_json: bool) -> None:
    from sklearn.model_selection import train_test_split

    print(f"CVAE settings on {', '.join(datasets)}; {n_seeds} seeds; 70/30 split; "
          "random forest TSTR/TRTR, gradient-boosting detection AUC", flush=True)
    rows = []
    for name in datasets:
        data = _table(name)
        for setting in settings:
            for seed in range(n_seeds):
                train, test = train_test_split(np.arange(data.n_samples), test_size=0.3,
                                               stratify=data.labels, random_state=seed)
                config = SETTINGS[setting].replace(seed=seed, device="cpu")
                t0 = time.perf_counter()
                result = train_model(data.subset(train), config)
                seconds = time.perf_counter() - t0
                for sample in (False, True):
                    X_syn = _synthesize(result, data.labels[train], data.n_classes, seed, sample)
                    score = _scores(data.features[train], data.labels[train],
                                    data.features[test], data.labels[test], X_syn,
                                    data.labels[train], seed)
                    rows.append({"dataset": name, "setting": setting, "seed": seed,
                                 "sample": sample, "seconds": seconds,
                                 "epochs": result.epochs_run,
                                 "active_units": result.metrics["collapse"]["active_units"],
                                 **score})
                last = rows[-2:]
                print(f"  {name} {setting} seed {seed}: {seconds:.1f} s, TSTR/TRTR "
                      f"{last[0]['tstr'] / last[0]['trtr']:.3f} / "
                      f"{last[1]['tstr'] / last[1]['trtr']:.3f} (mean / sampled), AUC "
                      f"{last[0]['auc']:.3f} / {last[1]['auc']:.3f}", file=sys.stderr, flush=True)
    print(f"{'dataset':14s} {'setting':22s} {'output':7s} {'TSTR/TRTR':>9s} {'AUC':>6s} "
          f"{'active':>6s} {'s':>6s}")
    for name in datasets:
        for setting in settings:
            for sample in (False, True):
                group = [r for r in rows if (r["dataset"], r["setting"], r["sample"]) ==
                         (name, setting, sample)]
                ratio = np.mean([r["tstr"] / r["trtr"] for r in group])
                print(f"{name:14s} {setting:22s} {'sampled' if sample else 'mean':7s} "
                      f"{ratio:9.3f} {np.mean([r['auc'] for r in group]):6.3f} "
                      f"{np.mean([r['active_units'] for r in group]):6.1f} "
                      f"{np.mean([r['seconds'] for r in group]):6.1f}", flush=True)
    if as_json:
        print(json.dumps({"rows": rows}))


def _per_epoch(times: list[float]) -> float:
    # Skip the first epoch (allocator and thread-pool warm-up) when there are more.
    return statistics.median(times[1:] if len(times) > 1 else times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per measurement")
    parser.add_argument("--batch-sizes", default=",".join(map(str, sorted({12, 64, MAX_BATCH}))),
                        help="comma-separated batch sizes")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for the bare and thesis-style loops (default: torch's "
                             "default; synth_core picks its own, see SMALL_BATCH_WORK)")
    parser.add_argument("--json", action="store_true", help="print one JSON line at the end")
    parser.add_argument("--quality", action="store_true",
                        help="compare training settings by TSTR/TRTR and detection AUC instead")
    parser.add_argument("--seeds", type=int, default=2, help="--quality: seeds per dataset")
    parser.add_argument("--datasets", default="breast_cancer,wine,digits",
                        help="--quality: breast_cancer, wine, digits")
    parser.add_argument("--settings", default=",".join(SETTINGS),
                        help=f"--quality: settings to compare ({', '.join(SETTINGS)})")
    args = parser.parse_args()
    if args.quality:
        quality(args.datasets.split(","), args.settings.split(","), args.seeds, args.json)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    features = rng.random((N_ROWS, N_FEATURES), dtype=np.float32)
    data = FeatureSet(features=features, labels=np.full(N_ROWS, -1))
    X = torch.as_tensor(features)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}; VAE {N_FEATURES}->{HIDDEN}->{LATENT}, "
          f"{N_ROWS} rows, median s/epoch over {args.epochs} epochs", flush=True)
    rows = []
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        row = {"batch_size": batch_size,
               "synth_core": _per_epoch(synth_core_loop(data, batch_size, args.epochs)),
               "bare": _per_epoch(bare_loop(X, batch_size, args.epochs)),
               "thesis_style": _per_epoch(thesis_style_loop(X, batch_size, args.epochs))}
        rows.append(row)
        print(f"batch {batch_size:4d}: synth_core {row['synth_core']:.3f} s  "
              f"bare {row['bare']:.3f} s  thesis-style {row['thesis_style']:.3f} s  "
              f"(synth_core/bare {row['synth_core'] / row['bare']:.2f}x)", flush=True)
    thesis12 = next((r["thesis_style"] for r in rows if r["batch_size"] == 12), None)
    default = next((r for r in rows if r["batch_size"] == MAX_BATCH), None)
    if thesis12 and default:
        print(f"default batch {default['batch_size']}: {thesis12 / default['synth_core']:.1f}x "
              f"faster than the thesis-style loop at batch 12; "
              f"{default['synth_core'] / default['bare']:.2f}x the bare loop")
    if args.json:
        print(json.dumps({"rows": rows, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
