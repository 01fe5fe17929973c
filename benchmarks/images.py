"""MNIST autoencoders: held-out PSNR and minutes, conv vs MLP body, AE and DAE.

The autoencoder study reports held-out PSNR on MNIST of 31.97 dB for its CNN-3L
and 26.07 dB for its MLP; this script trains synth_core's own models through
:func:`synth_core.training.trainer.train_model` on the first 50,000 images of
``../shared/data/mnist/mnist_train.npz`` (the trainer keeps 10% of those for
early stopping) and measures PSNR on the last 10,000, which no model sees.

PSNR is computed on raw pixels in [0, 1] (peak 1) from eval-mode
reconstructions (the code is the encoder's output; the DAE sees clean input).

Run: ``nice -n 10 python benchmarks/images.py [--epochs 12] [--threads 2]
[--models ae:fcn,dae:fcn,ae:conv,ae:mlp,dae:mlp] [--n-train 50000] [--json]``.
Each model trains for at most ``--epochs`` with patience 5; minutes are the
whole ``train_model`` call (validation passes included).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth_core.features import FeatureSet  # noqa: E402
from synth_core.training.config import TrainConfig  # noqa: E402
from synth_core.training.trainer import train_model  # noqa: E402

MNIST = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mnist" / \
    "mnist_train.npz"
STUDY_DB = {"fcn": 31.97, "conv": 31.97, "mlp": 26.07}  # the study's CNN-3L and MLP
N_HELD_OUT = 10_000


def _config(model: str, body: str, epochs: int) -> TrainConfig:
    # fcn: the study's CNN-3L, fully convolutional, its code derived (16 maps of 7x7 for the
    # AE/DAE); conv: latent 64 behind one dense layer of 512; mlp: the study's MLP shape
    # (784-512-64). Sigmoid decoder on min-max pixels (the study's setting): PSNR is on raw
    # [0, 1] pixels.
    dense = body != "fcn"
    return TrainConfig(model=model, body=body, latent_dim=64 if dense else None,
                       hidden=(512,) if dense else None, lr=1e-3,
                       epochs=epochs, batch_size=128, patience=5, val_fraction=0.1, seed=0,
                       device="cpu", noise_std=0.1, decoder="thesis", transform="minmax")


@torch.no_grad()
def held_out_psnr(result, X_test: np.ndarray) -> float:
    """PSNR (dB) of eval-mode reconstructions of raw [0, 1] pixels."""
    model = result.model.eval()
    scaled = np.clip(result.scaler.transform(X_test), 0.0, 1.0).astype(np.float32)
    recon = np.empty_like(scaled)
    for start in range(0, len(scaled), 1000):
        xb = torch.from_numpy(scaled[start:start + 1000])
        recon[start:start + 1000] = model.decode(model.encode(xb)[0]).numpy()
    pixels = np.clip(result.scaler.inverse_transform(recon), 0.0, 1.0)
    mse = float(np.mean((pixels - X_test) ** 2))
    return 10.0 * math.log10(1.0 / mse)


def run_one(name: str, data: FeatureSet, X_test: np.ndarray, epochs: int) -> dict:
    model, body = name.split(":")
    started = time.perf_counter()
    result = train_model(data, _config(model, body, epochs))
    seconds = time.perf_counter() - started
    return {"model": name, "epochs": result.epochs_run, "best_epoch": result.best_epoch,
            "minutes": round(seconds / 60, 2),
            "seconds_per_epoch": round(result.seconds_per_epoch, 1),
            "parameters": result.metrics["n_parameters"],
            "held_out_psnr_db": round(held_out_psnr(result, X_test), 2),
            "study_db": STUDY_DB[body]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12, help="at most, per model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="ae:fcn,dae:fcn,ae:conv,ae:mlp,dae:mlp")
    parser.add_argument("--n-train", type=int, default=50_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not MNIST.is_file():
        sys.exit(f"{MNIST} not found: this benchmark needs the MNIST training images")
    with np.load(MNIST) as npz:
        images = npz["X"].reshape(len(npz["X"]), -1).astype(np.float32) / 255.0  # [60000, 784]
        labels = npz["y"].astype(np.int64)
    X_test = images[-N_HELD_OUT:]
    train = slice(0, min(args.n_train, len(images) - N_HELD_OUT))
    data = FeatureSet(features=images[train], labels=labels[train],
                      class_names=[str(d) for d in range(10)],
                      attrs={"modality": "image", "feature_shape": [28, 28]})
    rows = [run_one(name, data, X_test, args.epochs)
            for name in args.models.split(",")]
    if args.json:
        print(json.dumps(rows))
        return
    print(f"MNIST, {data.n_samples} training images ({N_HELD_OUT} held out), "
          f"{args.threads} threads, at most {args.epochs} epochs per model")
    print(f"{'model':<10}{'params':>10}{'epochs':>8}{'s/epoch':>9}{'minutes':>9}"
          f"{'PSNR dB':>9}{'study dB':>10}")
    for r in rows:
        print(f"{r['model']:<10}{r['parameters']:>10}{r['epochs']:>8}{r['seconds_per_epoch']:>9}"
              f"{r['minutes']:>9}{r['held_out_psnr_db']:>9}{r['study_db']:>10}")


if __name__ == "__main__":
    main()
