"""Seconds per training epoch: synth_core's trainer vs a bare loop vs the thesis-style loop.

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
from synth_core.training.config import TrainConfig
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
                         batch_size=batch_size, patience=0, val_fraction=0.1, device="cpu")
    result = train_model(data, config)
    return [h["seconds"] for h in result.history]


def _per_epoch(times: list[float]) -> float:
    # Skip the first epoch (allocator and thread-pool warm-up) when there are more.
    return statistics.median(times[1:] if len(times) > 1 else times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per measurement")
    parser.add_argument("--batch-sizes", default=",".join(str(b) for b in sorted({12, 64, TrainConfig().batch_size})),
                        help="comma-separated batch sizes")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for the bare and thesis-style loops (default: torch's "
                             "default; synth_core picks its own, see SMALL_BATCH_WORK)")
    parser.add_argument("--json", action="store_true", help="print one JSON line at the end")
    args = parser.parse_args()
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
    default = next((r for r in rows if r["batch_size"] == TrainConfig().batch_size), None)
    if thesis12 and default:
        print(f"default batch {default['batch_size']}: {thesis12 / default['synth_core']:.1f}x "
              f"faster than the thesis-style loop at batch 12; "
              f"{default['synth_core'] / default['bare']:.2f}x the bare loop")
    if args.json:
        print(json.dumps({"rows": rows, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
