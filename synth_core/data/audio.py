"""Audio clips: reading, mono mixdown, resampling, and the duration filter.

:func:`load_clip` turns one audio file into a mono float32 waveform at the
extractor's sample rate, of the length the extraction asks for. It follows the
thesis's preparation of UrbanSound8K: only clips of exactly ``duration``
seconds (within ``tolerance``) are kept, which keeps 7077 of its 8732 clips; the
``pad`` option instead zero-pads shorter clips and trims longer ones so that
every clip is used. Files that cannot be used raise :class:`ClipRejected` (an
:class:`InputError`) whose message says why, so a folder scan can skip and
list them while keeping the good ones.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from synth_core.errors import InputError

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg")
FRAME_SECONDS = 0.96  # one VGGish example: 96 log-mel frames of 10 ms
SILENCE_PEAK = 1e-6  # a clip whose absolute peak is below this is treated as silent


class ClipRejected(InputError):
    """One clip cannot be used (unreadable, silent, wrong length...); others may be fine."""


@dataclass(frozen=True)
class ClipConfig:
    """How clips are prepared before feature extraction.

    ``duration=None`` keeps each clip's own length (at least one 0.96 s frame,
    or padded to one when ``pad``); otherwise clips must last ``duration`` s
    within ``tolerance`` s, or with ``pad`` are zero-padded / trimmed to it.
    """

    sample_rate: int = 16000
    duration: float | None = 4.0
    tolerance: float = 0.01
    pad: bool = False

    def __post_init__(self) -> None:
        if not 1000 <= int(self.sample_rate) <= 192_000:
            raise InputError(f"sample rate {self.sample_rate} Hz is out of range; use a rate "
                             "between 1000 and 192000 Hz (VGGish uses 16000)")
        if self.duration is not None and not (FRAME_SECONDS <= self.duration <= 600):
            raise InputError(f"duration {self.duration} s is out of range; give a duration "
                             f"between {FRAME_SECONDS} and 600 s, or none to keep each length")
        if self.tolerance < 0:
            raise InputError(f"duration tolerance {self.tolerance} s is negative; use 0 or more")


@dataclass
class Clip:
    """A prepared clip: mono float32 ``waveform`` [n_samples] at ``sample_rate``."""

    waveform: np.ndarray
    sample_rate: int
    source_duration: float  # seconds, before padding/trimming
    source_rate: int


def check_extension(path: str | os.PathLike[str]) -> None:
    """Raise :class:`ClipRejected` unless ``path`` ends in a supported audio extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in AUDIO_EXTENSIONS:
        raise ClipRejected(f"{Path(path).name}: unknown audio extension {suffix or '(none)'!r}; "
                           f"use one of {', '.join(AUDIO_EXTENSIONS)} (convert other formats "
                           "first, e.g. with ffmpeg)")


def audio_info(path: str | os.PathLike[str]) -> tuple[float, int]:
    """(duration in seconds, sample rate) from the file header, without decoding."""
    import soundfile as sf

    check_extension(path)
    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises LibsndfileError/RuntimeError for bad files
        raise ClipRejected(f"{Path(path).name}: not a readable audio file ({_short(exc)}); "
                           "re-export it as WAV, FLAC or OGG") from exc
    return float(info.frames) / float(info.samplerate), int(info.samplerate)


def read_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Decode ``path`` to a mono float32 waveform [n_samples] in [-1, 1] and its rate.

    Channels are averaged (the mixdown VGGish's own input code uses).
    """
    waveform, rate, _ = read_audio_head(path)
    return waveform, rate


def read_audio_head(path: str | os.PathLike[str], max_seconds: float | None = None
                    ) -> tuple[np.ndarray, int, float]:
    """:func:`read_audio` of at most the first ``max_seconds`` (None: all of it).

    Returns (mono waveform, rate, the whole file's duration in seconds). Only the
    head is decoded, so a long recording that is trimmed anyway costs the memory
    of the part that is used, not of the whole file.
    """
    import soundfile as sf

    path = Path(path)
    check_extension(path)
    if not path.is_file():
        raise ClipRejected(f"{path}: no such file; check the path")
    if path.stat().st_size == 0:
        raise ClipRejected(f"{path.name}: the file is empty (0 bytes); remove it or replace it "
                           "with the real recording")
    try:
        with sf.SoundFile(str(path)) as handle:
            rate, total = int(handle.samplerate), int(handle.frames)
            wanted = total if max_seconds is None else min(total, int(math.ceil(
                max_seconds * rate)) + 1)
            data = handle.read(frames=wanted, dtype="float32", always_2d=True)  # [n, channels]
    except Exception as exc:  # corrupt, truncated or not audio at all
        raise ClipRejected(f"{path.name}: not a readable audio file ({_short(exc)}); re-export "
                           "it as WAV, FLAC or OGG") from exc
    if data.shape[0] == 0:
        raise ClipRejected(f"{path.name}: the file holds no audio samples; remove it")
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]  # [n]
    if not np.isfinite(mono).all():
        raise ClipRejected(f"{path.name}: the audio contains NaN or infinite samples; "
                           "re-export it")
    full = (total if total > 0 else data.shape[0]) / float(rate)
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate), full


def resample(waveform: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample a mono waveform with a polyphase filter.

    ``scipy.signal.resample_poly`` is used rather than resampy (which VGGish's
    own input code calls): it is exact for rational ratios such as 44100 ->
    16000 (160/441), needs no numba JIT warm-up and is several times faster,
    which matters for thousands of clips on a CPU.
    """
    if rate_in == rate_out:
        return waveform.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = math.gcd(int(rate_in), int(rate_out))
    up, down = int(rate_out) // g, int(rate_in) // g
    out = resample_poly(waveform, up, down, window=_lowpass(up, down))
    return out.astype(np.float32, copy=False)


@lru_cache(maxsize=16)
def _lowpass(up: int, down: int) -> np.ndarray:
    """The anti-aliasing filter ``resample_poly`` designs by default, made once per ratio
    (designing it took about a sixth of the time of resampling a 4 s clip)."""
    from scipy.signal import firwin

    max_rate = max(up, down)
    taps = firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))
    taps.setflags(write=False)
    return taps


def fit_length(waveform: np.ndarray, n_samples: int) -> np.ndarray:
    """Zero-pad or trim ``waveform`` to exactly ``n_samples``."""
    if waveform.shape[0] >= n_samples:
        return waveform[:n_samples]
    return np.pad(waveform, (0, n_samples - waveform.shape[0]))


def prepare_waveform(waveform: np.ndarray, rate: int, config: ClipConfig, *,
                     name: str = "clip", source_duration: float | None = None,
                     min_seconds: float = FRAME_SECONDS) -> Clip:
    """Apply the duration rule of ``config`` and resample to ``config.sample_rate``.

    ``source_duration`` is the whole file's length when ``waveform`` is only its
    head (see :func:`read_audio_head`); the rule is applied to that length.
    ``min_seconds``: without a duration or padding, shorter clips are refused (one
    0.96 s frame; a whole-clip summary needs less).
    """
    duration = source_duration if source_duration is not None else waveform.shape[0] / float(rate)
    if float(np.max(np.abs(waveform), initial=0.0)) < SILENCE_PEAK:
        raise ClipRejected(f"{name}: the clip is silent (all samples are zero); remove it or "
                           "check the recording")
    if config.duration is not None and not config.pad:
        if abs(duration - config.duration) > config.tolerance + 0.5 / rate:
            raise ClipRejected(
                f"{name}: lasts {duration:.3f} s but the duration filter keeps clips of "
                f"{config.duration:g} s (+/- {config.tolerance:g} s); choose pad/trim to use "
                "every clip, or change the duration")
    if config.duration is None and duration < min_seconds and not config.pad:
        what = (f"one {FRAME_SECONDS} s frame" if min_seconds == FRAME_SECONDS else
                f"the {min_seconds:.3f} s this extractor needs")
        raise ClipRejected(f"{name}: lasts {duration:.3f} s, shorter than {what}; choose pad to "
                           "zero-pad short clips")
    out = resample(waveform, rate, config.sample_rate)
    if config.duration is not None:
        out = fit_length(out, int(round(config.duration * config.sample_rate)))
    elif config.pad:
        out = fit_length(out, max(out.shape[0], int(math.ceil(FRAME_SECONDS * config.sample_rate))))
    return Clip(waveform=out, sample_rate=config.sample_rate, source_duration=duration,
                source_rate=rate)


def load_clip(path: str | os.PathLike[str], config: ClipConfig) -> Clip:
    """Read, mix down, check and resample one file (see :class:`ClipConfig`)."""
    waveform, rate = read_audio(path)
    return prepare_waveform(waveform, rate, config, name=Path(path).name)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160] or type(exc).__name__
