"""Extraction speed: VGGish end to end vs the bare network, and the log-mel extractor.

Generates 4-second clips at 22.05 kHz (noise plus tones) in a temporary folder
and prints clips/s and frames/s (one frame = one 0.96 s VGGish example) for

* ``vggish end-to-end`` – read WAV, resample to 16 kHz, log-mel, network
  (untrained weights: same cost as the real ones), batches of 64 examples;
* ``vggish bare network`` – the network alone on ready [64, 1, 96, 64] batches;
* ``logmel end-to-end`` – the weight-free extractor.

Goals on a 2-core CPU: end-to-end >= 80 % of the bare network's frames/s, and
logmel >= 100 clips/s. Run: ``python benchmarks/extract.py [--clips N]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth_core.data.extraction import ExtractConfig, extract_features  # noqa: E402
from synth_core.data.vggish import load_vggish  # noqa: E402

RATE = 22050
FRAMES = 4
BATCH = 64  # examples per network pass


def make_clips(folder: Path, n_clips: int) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(4 * RATE) / RATE
    for i in range(n_clips):
        wave = 0.1 * rng.standard_normal(t.size) + 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t)
        path = folder / f"class{i % 2}" / f"clip{i:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, wave.astype(np.float32), RATE, subtype="PCM_16")


def bare_network(n_batches: int) -> float:
    """Frames per second of the VGGish network alone at batch size BATCH."""
    import torch

    model, _ = load_vggish(pretrained=False)
    x = torch.randn(BATCH, 1, 96, 64)
    with torch.inference_mode():
        model(x)  # warm-up
        start = time.perf_counter()
        for _ in range(n_batches):
            model(x)
    return n_batches * BATCH / (time.perf_counter() - start)


def end_to_end(folder: Path, extractor: str, n_clips: int) -> float:
    """Clips per second for extract_features over the generated folder."""
    config = ExtractConfig(extractor=extractor, frames=FRAMES, pretrained=False, batch_size=BATCH)
    extract_features(folder / "class0", config)  # warm-up: imports, model build, caches
    start = time.perf_counter()
    data = extract_features(folder, config)
    seconds = time.perf_counter() - start
    assert data.n_samples == n_clips
    return n_clips / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=64, help="clips for the VGGish runs")
    parser.add_argument("--logmel-clips", type=int, default=400, help="clips for logmel")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    args = parser.parse_args()
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_clips(folder, max(args.clips, args.logmel_clips))
        logmel_folder = folder
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
              f"device {'cuda' if torch.cuda.is_available() else 'cpu'}")
        lm = max(end_to_end(logmel_folder, "logmel", max(args.clips, args.logmel_clips))
                 for _ in range(args.repeats))
        print(f"logmel end-to-end      : {lm:8.1f} clips/s  {lm * FRAMES:8.1f} frames/s "
              f"(goal >= 100 clips/s)")
        # The VGGish runs use the first --clips clips only.
        vgg_folder = folder / "vgg"
        vgg_folder.mkdir()
        for path in sorted(folder.glob("class*/*.wav"))[: args.clips]:
            target = vgg_folder / path.parent.name / path.name
            target.parent.mkdir(exist_ok=True)
            path.rename(target)
        # Best of --repeats, alternating the two, so that a burst of load from other
        # processes on a shared machine does not decide the ratio.
        e2e, bare = 0.0, 0.0
        for _ in range(args.repeats):
            e2e = max(e2e, end_to_end(vgg_folder, "vggish", args.clips))
            bare = max(bare, bare_network(max(2, args.clips * FRAMES // BATCH)))
        print(f"vggish end-to-end      : {e2e:8.1f} clips/s  {e2e * FRAMES:8.1f} frames/s")
        print(f"vggish bare network    : {bare / FRAMES:8.1f} clips/s  {bare:8.1f} frames/s "
              f"(batch {BATCH})")
        print(f"end-to-end / bare      : {e2e * FRAMES / bare:8.1%} (goal >= 80%)")


if __name__ == "__main__":
    main()
