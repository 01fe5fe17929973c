"""Cost of listing runs and datasets with the damaged ones found (pages do it every rerun).

Builds a temporary workspace with N tiny VAE run folders (copies of one trained run),
a few damaged ones and M dataset files, then prints

* ``scan_runs`` cold (every run loaded once: config, weights, scaler) and warm (the
  result remembered per folder signature, what later page reruns cost);
* ``scan_datasets`` cold and warm (headers only);
* peak memory of decoding the first 4 s of a 300 s clip vs the whole clip (how
  extraction trims long recordings).

Run: ``python benchmarks/damaged_scan.py [--runs 20] [--datasets 20]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth_core.data.audio import read_audio, read_audio_head  # noqa: E402
from synth_core.data.datasets import save_dataset, scan_datasets  # noqa: E402
from synth_core.training.config import TrainConfig  # noqa: E402
from synth_core.training.runs import scan_runs  # noqa: E402
from synth_core.training.trainer import train_model  # noqa: E402
from synth_core.workspace import get_workspace  # noqa: E402
from tests.conftest import make_blobs  # noqa: E402


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--datasets", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = get_workspace(Path(tmp) / "workspace")
        data = make_blobs(n_per_class=50, n_features=64)
        config = TrainConfig(model="vae", latent_dim=8, hidden=(128,), epochs=1, batch_size=32,
                             patience=0, device="cpu")
        first = train_model(data, config, run_dir=ws.runs_dir / "run-000").run_dir
        for i in range(1, args.runs):
            shutil.copytree(first, ws.runs_dir / f"run-{i:03d}")
        for name in ("cut", "notpt"):
            shutil.copytree(first, ws.runs_dir / f"bad-{name}")
        (ws.runs_dir / "bad-cut" / "config.json").write_text('{"model": "va')
        (ws.runs_dir / "bad-notpt" / "model.pt").write_bytes(b"junk")
        for i in range(args.datasets):
            save_dataset(data, f"data-{i:03d}", ws)
        (ws.datasets_dir / "junk.h5").write_bytes(b"junk")

        (good, damaged), cold = _timed(lambda: scan_runs(ws))
        _, warm = _timed(lambda: scan_runs(ws))
        print(f"scan_runs      {len(good)} good + {len(damaged)} damaged: cold {cold * 1e3:7.1f} ms"
              f" ({cold / (len(good) + len(damaged)) * 1e3:.1f} ms/run), warm {warm * 1e3:6.2f} ms")
        (good, damaged), cold = _timed(lambda: scan_datasets(ws))
        _, warm = _timed(lambda: scan_datasets(ws))
        print(f"scan_datasets  {len(good)} good + {len(damaged)} damaged: cold {cold * 1e3:7.1f} "
              f"ms, warm {warm * 1e3:6.2f} ms")

        long_clip = Path(tmp) / "long.wav"
        sf.write(long_clip, 0.1 * np.sin(np.arange(44100 * 300) / 10.0), 44100)
        for label, read in (("first 4 s", lambda: read_audio_head(long_clip, 4.05)),
                            ("whole clip", lambda: read_audio(long_clip))):
            tracemalloc.start()
            read()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"decode 300 s clip at 44.1 kHz, {label:10s}: peak {peak / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
