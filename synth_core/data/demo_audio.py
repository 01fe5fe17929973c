"""``builtin:demo-sounds``: synthetic, clearly fake, labelled audio made with numpy.

Six classes that sound different and are named after UrbanSound8K classes
(siren, car horn, engine idling, drilling, door knock, air conditioner), 20
clips of 4 s at 16 kHz each, written as WAV files under
``cache/demo-sounds-v1/<class>/`` so that the pages can play them, then turned
into log-mel features by the same pipeline as real uploads. The clips are
deterministic (seeded) and are NOT recordings: every file name and the dataset
attrs say "synthetic demo audio". Making them takes about a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from synth_core.features import FeatureSet
from synth_core.data.layouts import ClipList, ClipRef
from synth_core.workspace import Workspace

SAMPLE_RATE = 16000
DURATION = 4.0
CLIPS_PER_CLASS = 20
FOLDER = "demo-sounds-v1"  # bump when the synthesis changes so old caches are not reused
NOTICE = ("Synthetic demo audio made with numpy by synth_core.data.demo_audio. These are not real "
          "recordings; they only let the audio path run offline.\n")


def _phase(freq: np.ndarray) -> np.ndarray:
    """Instantaneous frequency [n] in Hz -> phase [n] in radians."""
    return 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE


def _siren(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rate = rng.uniform(0.25, 3.0)  # sweeps per second: slow wail to fast yelp
    low, high = rng.uniform(550, 800), rng.uniform(1200, 1700)
    freq = low + (high - low) * 0.5 * (1 + np.sin(2 * np.pi * rate * t))
    ph = _phase(freq)
    return np.sin(ph) + 0.3 * np.sin(2 * ph) + 0.1 * np.sin(3 * ph)


def _car_horn(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f1 = rng.uniform(380, 460)
    tone = sum(np.sign(np.sin(2 * np.pi * f * t)) * 0.5 + 0.5 * np.sin(2 * np.pi * f * t)
               for f in (f1, f1 * 1.25))  # a major third, square-ish
    gate = np.zeros_like(t)
    start = rng.uniform(0.0, 0.5)
    while start < DURATION:
        length = rng.uniform(0.2, 1.2)
        gate[(t >= start) & (t < start + length)] = 1.0
        start += length + rng.uniform(0.15, 0.8)
    return tone * np.convolve(gate, np.hanning(160) / 80, mode="same")


def _engine_idling(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f0 = rng.uniform(25, 45) * (1 + 0.02 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t))
    ph = _phase(f0)
    tone = sum(np.sin(k * ph + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 9))
    rumble = np.convolve(rng.standard_normal(t.size), np.ones(64) / 8, mode="same")
    return tone * (0.7 + 0.3 * np.sin(ph / 2)) + 0.3 * rumble


def _drilling(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f0 = rng.uniform(900, 2200)
    whine = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in (1, 2, 3))
    grind = rng.standard_normal(t.size)
    chatter = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * rng.uniform(15, 40) * t))
    bursts = (np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t + rng.uniform(0, 6)) > -0.3)
    return (0.6 * whine + 0.5 * grind) * chatter * bursts


def _door_knock(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros_like(t)
    n_knocks = int(rng.integers(2, 6))
    start = rng.uniform(0.1, 1.0)
    for _ in range(n_knocks):
        if start >= DURATION - 0.2:
            break
        local = t - start
        on = local >= 0
        decay = np.exp(-local[on] * rng.uniform(25, 45))
        body = sum(np.sin(2 * np.pi * f * local[on]) for f in rng.uniform(120, 400, size=3))
        click = rng.standard_normal(on.sum()) * np.exp(-local[on] * 300)
        out[on] += (body * decay + click) * rng.uniform(0.6, 1.0)
        start += rng.uniform(0.15, 0.35)
    return out


def _air_conditioner(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(t.size)
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(t.size, 1 / SAMPLE_RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))  # pink-ish: 3 dB per octave down
    hum = 0.3 * np.sin(2 * np.pi * rng.choice([50.0, 60.0]) * 2 * t)
    return np.fft.irfft(spectrum, n=t.size) * 30 + hum


CLASSES: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "siren": _siren,
    "car_horn": _car_horn,
    "engine_idling": _engine_idling,
    "drilling": _drilling,
    "door_knock": _door_knock,
    "air_conditioner": _air_conditioner,
}


def synthesize(class_name: str, index: int, *, seed: int = 0) -> np.ndarray:
    """One deterministic clip of ``class_name``: float32 [64000] in [-1, 1]."""
    class_id = list(CLASSES).index(class_name)
    rng = np.random.default_rng([seed, class_id, index])
    t = np.arange(int(DURATION * SAMPLE_RATE)) / SAMPLE_RATE
    clip = CLASSES[class_name](t, rng)
    clip = clip + 0.01 * rng.standard_normal(t.size)  # a little room noise
    fade = np.minimum(1.0, np.minimum(t, DURATION - t) / 0.02)  # 20 ms fades: no clicks
    clip = clip * fade
    return (clip / np.max(np.abs(clip)) * rng.uniform(0.5, 0.9)).astype(np.float32)


def write_demo_clips(folder: Path, *, n_per_class: int = CLIPS_PER_CLASS) -> ClipList:
    """Write the clips once under ``folder/<class>/`` and list them.

    They are written into a temporary sibling folder that is renamed into place
    when complete (README.txt last), so a crash or a second process never leaves
    a half-written set that looks finished; no per-file fsync keeps this fast.
    """
    import os
    import shutil
    import tempfile

    import soundfile as sf

    names = [(label, name, i, f"synthetic-{name}-{i:02d}.wav")
             for label, name in enumerate(CLASSES) for i in range(n_per_class)]
    complete = (folder / "README.txt").is_file() and all(
        (folder / name / file).is_file() for _, name, _, file in names)
    if not complete:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for _, name, index, file in names:
                (tmp / name).mkdir(exist_ok=True)
                sf.write(tmp / name / file, synthesize(name, index), SAMPLE_RATE, subtype="PCM_16")
            (tmp / "README.txt").write_text(NOTICE, encoding="utf-8")
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
            try:
                os.replace(tmp, folder)
            except OSError:  # another process finished first: keep its copy
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    clips = [ClipRef(folder / name / file, label, None, f"{name}/{file}")
             for label, name, _, file in names]
    return ClipList(clips=clips, class_names=list(CLASSES), layout="folders", root=folder)


def load_demo_sounds_features(*, workspace: Workspace | None = None) -> FeatureSet:
    """The builtin loader: write the clips, extract log-mel features (4 x 128 per clip)."""
    from synth_core.data.extraction import ExtractConfig, extract_features
    from synth_core.workspace import get_workspace

    workspace = workspace or get_workspace()
    clips = write_demo_clips(workspace.cache_dir / FOLDER)
    data = extract_features(clips, ExtractConfig(extractor="logmel", frames=4, duration=DURATION))
    data.attrs["source"] = "synthetic demo audio (numpy, synth_core.data.demo_audio) - not recordings"
    data.attrs["synthetic_audio"] = True
    return data
