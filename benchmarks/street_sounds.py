"""An UrbanSound8K-like stand-in made with numpy: street sounds in 10 folds, offline.

UrbanSound8K cannot be downloaded here, and issue #12's headline goal is measured
on it (folds 1-9 train, fold 10 test). The embedded ``builtin:demo-sounds`` are
too clean for that (a random forest tells them apart every time); these clips
keep US8K's shape and the things that make it hard:

* US8K's 10 classes with its class ids (0 air_conditioner ... 9 street_music);
  five reuse the demo sounds' per-class synthesis
  (:data:`synth_core.data.demo_audio.CLASSES`), five are new here;
* 4 s clips at 16 kHz in 10 folds, written in US8K's own layout
  (``audio/fold<k>/<fsID>-<classID>-0-<slice>.wav`` + ``metadata/UrbanSound8K.csv``)
  and read back by the product's extraction (the US8K layout, logmel, 4 frames:
  512 numbers a row, folds kept), exactly as the demo sounds are;
* per clip: the event covers a random part of the clip (some clips are mostly
  background), sits 0-20 dB above the background, and the clip has a random
  gain over 30 dB;
* per recording: as US8K cuts several slices from one freesound recording, 1-4
  clips share a source (the same sound, a different moment of it), a background
  and a level;
* per fold, "recording conditions": a background scene (traffic, crowd, wind,
  mains hum), a noise colour, a level offset and a microphone (band limits and
  spectral tilt) that every clip of the fold shares, so folds differ and a
  classifier trained on nine of them meets new conditions in the tenth.

Everything is seeded: the same arguments give the same samples on any machine.
Made by ``benchmarks/quality.py --folds``; about a minute for 800 clips, two and a half
for its default of 3,000 (writing and extraction included) on one core. These are NOT recordings.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth_core.data.demo_audio import CLASSES as DEMO_CLASSES  # noqa: E402

SAMPLE_RATE = 16000
DURATION = 4.0
N_SAMPLES = int(SAMPLE_RATE * DURATION)
N_FOLDS = 10
CLIPS_PER_CLASS = 80
_SCENES = ("traffic", "crowd", "wind", "hum")
NOTICE = ("Synthetic street sounds made with numpy by benchmarks/street_sounds.py, in "
          "UrbanSound8K's layout. These are not recordings.\n")


def _t() -> np.ndarray:
    return np.arange(N_SAMPLES) / SAMPLE_RATE


def _coloured(rng: np.random.Generator, alpha: float, n: int = N_SAMPLES) -> np.ndarray:
    """Noise with power ~ 1/f^alpha (0 white, 1 pink, 2 brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum /= np.maximum(freqs, 20.0) ** (alpha / 2)
    noise = np.fft.irfft(spectrum, n=n)
    return noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)


def _band(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Brick-wall band-pass through the FFT (good enough for noise shaping)."""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE)
    spectrum[(freqs < low) | (freqs > high)] = 0
    return np.fft.irfft(spectrum, n=x.size)


def _smooth_gate(t: np.ndarray, rng: np.random.Generator, rate: float, duty: float) -> np.ndarray:
    """A random on/off envelope switching about ``rate`` times a second, 10 ms ramps."""
    gate = np.zeros_like(t)
    start = rng.uniform(0.0, 1.0 / rate)
    while start < t[-1]:
        length = rng.exponential(duty / rate) + 0.03
        gate[(t >= start) & (t < start + length)] = 1.0
        start += length + rng.exponential((1 - duty) / rate) + 0.02
    ramp = np.hanning(320)
    return np.convolve(gate, ramp / ramp.sum(), mode="same")


# --------------------------------------------------------------------------- new classes
def _children_playing(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros_like(t)
    for _ in range(int(rng.integers(2, 6))):
        f0 = rng.uniform(220, 420) * (1 + 0.2 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t
                                                        + rng.uniform(0, 6)))
        f0 *= np.exp(np.cumsum(rng.standard_normal(t.size)) * 2e-4)  # wandering pitch
        phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
        f1, f2 = rng.uniform(500, 1000), rng.uniform(1400, 2800)
        voice = np.zeros_like(t)
        for k in range(1, 12):
            fk = k * f0.mean()
            weight = np.exp(-((fk - f1) / 300) ** 2) + 0.6 * np.exp(-((fk - f2) / 500) ** 2)
            voice += (weight + 0.05) * np.sin(k * phase) / k ** 0.5
        out += voice * _smooth_gate(t, rng, rate=rng.uniform(2.5, 6), duty=0.6)
    return out + 0.1 * _band(rng.standard_normal(t.size), 300, 4000)


def _dog_bark(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros_like(t)
    start = rng.uniform(0.0, 0.8)
    f_dog = rng.uniform(350, 900)  # one dog: its pitch and body
    for _ in range(int(rng.integers(1, 6))):
        if start >= t[-1] - 0.1:
            break
        length = rng.uniform(0.08, 0.3)
        local = t - start
        on = (local >= 0) & (local < length + 0.1)
        x = local[on]
        f0 = f_dog * rng.uniform(0.9, 1.1) * (1.2 - 0.4 * np.clip(x / length, 0, 1))
        phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
        tone = sum(np.sin(k * phase) * rng.uniform(0.3, 1.0) / k for k in range(1, 8))
        rasp = rng.standard_normal(x.size) * 0.4
        env = np.minimum(1.0, x / 0.01) * np.exp(-np.maximum(x - 0.02, 0) / (length / 2.5))
        out[on] += (tone + rasp) * env
        start += length + rng.uniform(0.15, 0.9)
    return out


def _gun_shot(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros_like(t)
    start = rng.uniform(0.0, 1.5)
    for _ in range(int(rng.integers(1, 4))):
        if start >= t[-1] - 0.1:
            break
        local = t - start
        on = local >= 0
        x = local[on]
        crack = rng.standard_normal(x.size) * np.exp(-x / rng.uniform(0.005, 0.02))
        boom = np.sin(2 * np.pi * rng.uniform(50, 120) * x) * np.exp(-x / rng.uniform(0.08, 0.2))
        tail = _band(rng.standard_normal(x.size), 100, 3000) * 0.3 * np.exp(
            -x / rng.uniform(0.2, 0.6))
        shot = crack + 0.8 * boom + tail
        delay = int(rng.uniform(0.08, 0.4) * SAMPLE_RATE)  # an echo off a building
        echo = np.zeros_like(shot)
        echo[delay:] = shot[:-delay] * rng.uniform(0.2, 0.5)
        out[on] += shot + echo
        start += rng.uniform(0.2, 1.5)
    return out


def _jackhammer(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rate = rng.uniform(12, 28)  # blows per second
    ring = rng.uniform(1500, 4500)
    phase = (t * rate) % 1.0
    since = phase / rate  # seconds since the last blow
    blows = (rng.standard_normal(t.size) * np.exp(-since / 0.004)
             + 0.6 * np.sin(2 * np.pi * ring * since) * np.exp(-since / 0.012))
    rumble = _band(rng.standard_normal(t.size), 30, 300) * 0.5
    bursts = _smooth_gate(t, rng, rate=rng.uniform(0.3, 1.0), duty=0.75)
    return blows * bursts + rumble * (0.3 + bursts)


def _street_music(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    root = rng.uniform(110, 260)
    scale = np.array([0, 2, 4, 7, 9, 12, 14, 16])  # pentatonic, semitones
    harmonics = rng.uniform(0.2, 0.9)  # timbre: how fast the overtones fall
    out = np.zeros_like(t)
    start = 0.0
    while start < t[-1]:
        length = rng.choice([0.15, 0.25, 0.3, 0.5])
        f = root * 2 ** (rng.choice(scale) / 12)
        local = t - start
        on = (local >= 0) & (local < length * 1.5)
        x = local[on]
        note = sum(harmonics ** (k - 1) * np.sin(2 * np.pi * k * f * x) for k in range(1, 7))
        out[on] += note * np.exp(-x / (length * 0.6)) * np.minimum(1, x / 0.005)
        start += length
    bass = np.sin(2 * np.pi * root / 2 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(
        0.5, 2) * t))
    beat = rng.standard_normal(t.size) * np.exp(-((t * rng.uniform(1.5, 3)) % 1.0) / 0.03)
    return out + 0.4 * bass + 0.3 * beat


# US8K's classes in its class-id order.
CLASSES: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "air_conditioner": DEMO_CLASSES["air_conditioner"],
    "car_horn": DEMO_CLASSES["car_horn"],
    "children_playing": _children_playing,
    "dog_bark": _dog_bark,
    "drilling": DEMO_CLASSES["drilling"],
    "engine_idling": DEMO_CLASSES["engine_idling"],
    "gun_shot": _gun_shot,
    "jackhammer": _jackhammer,
    "siren": DEMO_CLASSES["siren"],
    "street_music": _street_music,
}


# --------------------------------------------------------------------------- conditions
@dataclass(frozen=True)
class FoldConditions:
    """What every clip of one fold shares: the place and the microphone."""

    scene: str            # background kind: traffic, crowd, wind or hum
    alpha: float          # background noise colour (0 white .. 2 brown)
    scene_share: float    # how much of the background is the scene (the rest coloured noise)
    snr_offset_db: float  # added to each clip's event-to-background ratio
    gain_offset_db: float
    low_hz: float         # microphone band
    high_hz: float
    tilt_db: float        # spectral tilt, dB per octave above 1 kHz


def fold_conditions(fold: int, *, seed: int = 0) -> FoldConditions:
    rng = np.random.default_rng([seed, 7_000 + fold])
    return FoldConditions(scene=str(rng.choice(_SCENES)), alpha=float(rng.uniform(0.0, 2.0)),
                          scene_share=float(rng.uniform(0.3, 0.9)),
                          snr_offset_db=float(rng.uniform(-4, 4)),
                          gain_offset_db=float(rng.uniform(-8, 0)),
                          low_hz=float(rng.uniform(20, 250)),
                          high_hz=float(rng.uniform(3500, 8000)),
                          tilt_db=float(rng.uniform(-4, 3)))


def _scene(kind: str, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if kind == "traffic":  # low rumble swelling as cars pass
        swell = 1 + 0.8 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6))
        x = _band(_coloured(rng, 1.5), 20, 1200) * swell
    elif kind == "crowd":  # far-off voices: speech-band noise with syllable rhythm
        x = _band(rng.standard_normal(t.size), 250, 3500) * (
            0.6 + 0.4 * _smooth_gate(t, rng, rate=4.0, duty=0.5))
    elif kind == "wind":  # gusts of low noise
        gust = np.convolve(rng.standard_normal(t.size), np.ones(4000) / 4000, mode="same")
        x = _band(_coloured(rng, 2.0), 10, 600) * (1 + 8 * np.abs(gust))
    else:  # mains hum and its harmonics, a ventilation hiss
        mains = rng.choice([50.0, 60.0])
        x = sum(np.sin(2 * np.pi * k * mains * t + rng.uniform(0, 6)) / k for k in range(1, 6))
        x = x + 0.5 * _coloured(rng, 0.5)
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


def _microphone(x: np.ndarray, cond: FoldConditions) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE)
    octaves = np.log2(np.maximum(freqs, 1.0) / 1000.0)
    gain_db = cond.tilt_db * np.maximum(octaves, 0.0)
    spectrum *= 10 ** (gain_db / 20)
    spectrum /= np.sqrt(1 + (cond.low_hz / np.maximum(freqs, 1.0)) ** 4)   # 2nd-order high-pass
    spectrum /= np.sqrt(1 + (freqs / cond.high_hz) ** 8)                   # 4th-order low-pass
    return np.fft.irfft(spectrum, n=x.size)


# --------------------------------------------------------------------------- clips
@dataclass(frozen=True)
class ClipInfo:
    """One clip of the stand-in: where it goes and what it is (a row of the metadata CSV)."""

    file: str        # <fsID>-<classID>-0-<slice>.wav, as US8K names its slices
    fs_id: int       # the "recording" the clip is cut from
    slice: int
    fold: int
    class_id: int
    class_name: str


def clip_plan(*, clips_per_class: int = CLIPS_PER_CLASS, n_folds: int = N_FOLDS,
              seed: int = 0) -> list[ClipInfo]:
    """Every clip: the clips of a class are spread evenly over the folds, and within a
    (class, fold) they come from recordings of 1-4 slices each."""
    plan = []
    for class_id, name in enumerate(CLASSES):
        per_fold = np.bincount(np.arange(clips_per_class) % n_folds, minlength=n_folds)
        for fold in range(1, n_folds + 1):
            rng = np.random.default_rng([seed, 11, class_id, fold])
            left, rec = int(per_fold[fold - 1]), 0
            while left > 0:
                n_slices = min(left, int(rng.integers(1, 5)))
                fs_id = 100_000 * class_id + 1_000 * fold + rec
                plan.extend(ClipInfo(f"{fs_id}-{class_id}-0-{s}.wav", fs_id, s, fold, class_id,
                                     name) for s in range(n_slices))
                left -= n_slices
                rec += 1
    return plan


def synthesize_clip(info: ClipInfo, *, seed: int = 0) -> np.ndarray:
    """One clip, float32 [64000] in [-1, 1]; depends only on ``info`` and ``seed``."""
    t = _t()
    cond = fold_conditions(info.fold, seed=seed)
    rec = np.random.default_rng([seed, 21, info.fs_id])        # shared by the recording's slices
    source = CLASSES[info.class_name](t, np.random.default_rng([seed, 22, info.fs_id]))
    rec_snr = rec.uniform(0.0, 20.0) + cond.snr_offset_db
    rec_gain = rec.uniform(-24.0, -1.0) + cond.gain_offset_db
    rec_alpha = float(np.clip(cond.alpha + rec.normal(0, 0.3), 0.0, 2.5))
    rng = np.random.default_rng([seed, 23, info.fs_id, info.slice])  # this slice
    # A different moment of the same recording: the source shifted in time.
    event = np.roll(source, int(rng.integers(0, N_SAMPLES))) if info.slice else source
    # The event covers the whole clip, or part of it (the rest is background only).
    if rng.uniform() < 0.6:
        onset, length = 0.0, DURATION
    else:
        onset = rng.uniform(0.0, DURATION - 0.6)
        length = rng.uniform(0.5, DURATION - onset)
    env = ((t >= onset) & (t < onset + length)).astype(float)
    env = np.convolve(env, np.hanning(640) / np.hanning(640).sum(), mode="same")
    active = env > 0.5
    event = event * env
    event /= np.sqrt(np.mean(event[active] ** 2)) + 1e-12
    background = (cond.scene_share * _scene(cond.scene, t, rng)
                  + (1 - cond.scene_share) * _coloured(rng, rec_alpha))
    background /= np.sqrt(np.mean(background ** 2)) + 1e-12
    snr_db = rec_snr + rng.normal(0.0, 2.0)
    mix = _microphone(event * 10 ** (snr_db / 20) + background, cond)
    gain_db = rec_gain + rng.normal(0.0, 2.0)
    mix = mix / (np.max(np.abs(mix)) + 1e-12) * min(10 ** (gain_db / 20), 0.99)
    return mix.astype(np.float32)


def write_street_sounds(root: Path, *, clips_per_class: int = CLIPS_PER_CLASS,
                        n_folds: int = N_FOLDS, seed: int = 0) -> list[ClipInfo]:
    """Write the clips in UrbanSound8K's layout under ``root``; returns the plan."""
    import soundfile as sf

    plan = clip_plan(clips_per_class=clips_per_class, n_folds=n_folds, seed=seed)
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    for fold in range(1, n_folds + 1):
        (root / "audio" / f"fold{fold}").mkdir(parents=True, exist_ok=True)
    for info in plan:
        sf.write(root / "audio" / f"fold{info.fold}" / info.file, synthesize_clip(info, seed=seed),
                 SAMPLE_RATE, subtype="PCM_16")
    with open(root / "metadata" / "UrbanSound8K.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["slice_file_name", "fsID", "start", "end", "salience", "fold",
                         "classID", "class"])
        for info in plan:
            writer.writerow([info.file, info.fs_id, 0.0, DURATION, 1, info.fold, info.class_id,
                             info.class_name])
    (root / "README.txt").write_text(NOTICE, encoding="utf-8")
    return plan


def load_street_sounds(work_dir: Path, *, clips_per_class: int = CLIPS_PER_CLASS,
                       n_folds: int = N_FOLDS, seed: int = 0,
                       test_folds: tuple[int, ...] = (10,), extractor: str = "logmel"):
    """Write the clips under ``work_dir`` and extract them as the product does
    (``extract --test-folds 10``: the US8K layout, logmel, 4 frames of 0.96 s from 4 s
    clips -> 512 numbers a row, folds kept, the stored scaler fitted outside the test
    folds; ``extractor="summary"``: the 37 hand-crafted numbers a clip of issue #12's
    outside measurement). Returns the FeatureSet."""
    from synth_core.data.extraction import ExtractConfig, extract_features

    root = Path(work_dir) / f"street-sounds-{clips_per_class}x{n_folds}-seed{seed}"
    if not (root / "metadata" / "UrbanSound8K.csv").is_file():  # the same clips for each
        write_street_sounds(root, clips_per_class=clips_per_class, n_folds=n_folds, seed=seed)
    frames = 4 if extractor == "logmel" else "auto"
    data = extract_features(root, ExtractConfig(extractor=extractor, frames=frames,
                                                duration=DURATION, test_folds=tuple(test_folds)))
    data.attrs["dataset"] = "street-sounds (UrbanSound8K-like, benchmarks/street_sounds.py)"
    data.attrs["synthetic_audio"] = True
    return data
