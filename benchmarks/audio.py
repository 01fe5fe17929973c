"""Hearing spectrograms: extraction speed, a listening slider step, and what inversion loses.

Three figures:

* ``extraction``: clips per second of the ``spectrogram`` extractor on the
  embedded demo sounds (120 clips of 4 s, first 1 s kept) and, when present,
  on ``../shared/data/fsdd-mini`` (100 spoken digits, 8 kHz, 0.3-1 s);
* ``slider step``: what one move of the Generate page's slider costs for a
  1 s clip: encoding the two end clips, decoding the point (conv CVAE of the
  ``spectrogram-cvae`` preset, trained for a few epochs only: speed does not
  depend on how well it learned), Griffin-Lim inversion and the WAV bytes
  (median of repeated steps; the goal is <= 400 ms on 2 cores);
* ``inversion``: real clips (the UrbanSound8K sample in ``../shared/data``,
  first 1 s, and a spoken digit) analysed, inverted and re-analysed: spectral
  convergence and log-spectral distance say how much the inversion itself
  loses, before any model.

Run: ``nice -n 10 python benchmarks/audio.py [--threads 2] [--repeats 10] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth_core.data.audio import ClipConfig, prepare_waveform, read_audio  # noqa: E402
from synth_core.data.demo_audio import FOLDER, write_demo_clips  # noqa: E402
from synth_core.data.extraction import ExtractConfig, extract_clips  # noqa: E402
from synth_core.data.spectrogram import SpectrogramSettings, log_mel_spectrogram  # noqa: E402
from synth_core.generation.audio import (N_ITER, invert, inversion_quality,  # noqa: E402
                                         settings_for, wav_bytes)
from synth_core.workspace import Workspace  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
FSDD = SHARED / "fsdd-mini"
US8K_CLIP = SHARED / "urbansound8k-sample" / "101415-3-0-2.wav"


def extraction(workspace: Workspace) -> list[dict]:
    rows = []
    sources = [("demo-sounds (4 s clips, 1 s kept)", write_demo_clips(
        workspace.cache_dir / FOLDER), ExtractConfig(extractor="spectrogram", frames=1,
                                                     duration=1.0, pad=True))]
    if FSDD.is_dir():
        sources.append(("fsdd-mini (8 kHz, 0.3-1 s, padded)", FSDD,
                        ExtractConfig(extractor="spectrogram")))
    for name, source, config in sources:
        extract_clips(source, config)  # warm-up: imports, filterbank, resampling filters
        result = extract_clips(source, config)
        rows.append({"source": name, "clips": result.data.n_samples,
                     "feature_shape": result.data.attrs["feature_shape"],
                     "seconds": round(result.seconds, 2),
                     "clips_per_second": round(result.data.n_samples / result.seconds, 1)})
    return rows


def slider_step(workspace: Workspace, repeats: int, epochs: int = 3,
                server_threads: int = 1) -> dict:
    from synth_core.data.datasets import load_dataset
    from synth_core.generation.interpolation import decode_path, encode_pair
    from synth_core.training.config import PRESETS
    from synth_core.training.runs import Run
    from synth_core.training.trainer import new_run_dir, train_model

    data = load_dataset("builtin:demo-spectrograms", workspace)
    config = replace(PRESETS["spectrogram-cvae"], epochs=epochs, device="cpu")
    started = time.perf_counter()
    result = train_model(data, config, run_dir=new_run_dir(workspace, "cvae"),
                         dataset_ref="builtin:demo-spectrograms")
    train_seconds = time.perf_counter() - started
    run = Run.load(result.run_dir)
    settings = settings_for(run)
    a = int(np.flatnonzero(data.labels == 0)[0])
    b = int(np.flatnonzero(data.labels == 1)[0])
    parts: dict[str, list[float]] = {"encode": [], "decode": [], "invert": [], "wav": []}
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(server_threads)  # as the dashboard's server (SYNTH_SERVER_THREADS)
    limits = threadpool_limits(limits=server_threads)
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        ends = encode_pair(run, data, a, b)
        t1 = time.perf_counter()
        x = decode_path(run, ends, [(i % 10) / 10])[0]
        t2 = time.perf_counter()
        wave = invert(x, settings, random_state=0)[0]
        t3 = time.perf_counter()
        wav_bytes(wave, settings.sample_rate)
        t4 = time.perf_counter()
        if i:  # the first step pays imports and caches
            for key, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                parts[key].append(dt * 1000)
    limits.restore_original_limits()
    torch.set_num_threads(before)
    medians = {k: round(statistics.median(v), 1) for k, v in parts.items()}
    return {"clip_seconds": settings.duration, "n_iter": N_ITER,
            "median_ms": medians, "total_ms": round(sum(medians.values()), 1),
            "goal_ms": 400, "server_threads": server_threads, "train_epochs": epochs, "train_seconds": round(train_seconds, 1),
            "parameters": result.metrics["n_parameters"]}


def inversion_losses() -> list[dict]:
    clips = []
    if US8K_CLIP.is_file():
        clips.append(("UrbanSound8K dog_bark 101415-3-0-2.wav (first 1 s, 16 kHz)", US8K_CLIP))
    if FSDD.is_dir():
        clips.append(("FSDD spoken digit 0 (16 kHz, padded to 1 s)",
                      sorted((FSDD / "0").glob("*.wav"))[0]))
    rows = []
    settings = SpectrogramSettings.for_clip(16000, 1.0)
    for name, path in clips:
        wave, rate = read_audio(path)
        clip = prepare_waveform(wave, rate, ClipConfig(sample_rate=16000, duration=1.0, pad=True),
                                name=path.name)
        log_mel = log_mel_spectrogram(clip.waveform, settings)
        for n_iter in (8, N_ITER, 100):
            again = invert(log_mel.ravel(), settings, n_iter=n_iter)[0]
            quality = inversion_quality(log_mel, again, settings)
            rows.append({"clip": name, "n_iter": n_iter,
                         "spectral_convergence": round(quality.spectral_convergence, 3),
                         "log_spectral_distance_db": round(quality.log_spectral_distance_db, 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3, help="training epochs of the slider's CVAE")
    parser.add_argument("--parts", default="extraction,slider,inversion")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads), tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp))
        report = {"extraction": extraction(workspace) if "extraction" in parts else [],
                  "slider_step": (slider_step(workspace, args.repeats, args.epochs)
                                  if "slider" in parts else None),
                  "inversion": inversion_losses() if "inversion" in parts else [],
                  "threads": args.threads}
    if args.json:
        print(json.dumps(report))
        return
    print(f"threads: {args.threads}")
    for r in report["extraction"]:
        print(f"extraction  {r['source']:<40} {r['clips']:>4} clips {r['feature_shape']} "
              f"{r['clips_per_second']:>7} clips/s")
    s = report["slider_step"] or {}
    if s:
        print(f"slider step ({s['clip_seconds']:g} s clip, Griffin-Lim {s['n_iter']} "
              f"iterations, {s['server_threads']} thread as the server): {s['total_ms']} ms (goal <= {s['goal_ms']} ms): " +
              ", ".join(f"{k} {v} ms" for k, v in s["median_ms"].items()))
        print(f"            conv CVAE {s['parameters']:,} parameters, {s['train_epochs']} "
              f"epoch(s) on the demo spectrograms in {s['train_seconds']} s")
    for r in report["inversion"]:
        print(f"inversion   {r['clip']:<60} n_iter {r['n_iter']:>3}: spectral convergence "
              f"{r['spectral_convergence']}, log-spectral distance "
              f"{r['log_spectral_distance_db']} dB")


if __name__ == "__main__":
    main()
