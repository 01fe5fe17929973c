"""The ``spectrogram`` extractor: each clip's log-mel spectrogram, a row that can be heard again.

Embeddings (``vggish``, ``logmel``) summarise a clip and cannot be turned back
into sound. This extractor keeps the whole time-frequency picture instead: the
clip is padded or trimmed to a fixed length (the Data step's clip policy), then
analysed with 25 ms Hann windows every 10 ms (centred frames, as librosa does)
into ``n_mels`` mel bands (librosa's Slaney filterbank, 0 Hz to Nyquist) of
power, and stored as ``log(mel power + log_offset)``. A 1 s clip at 16 kHz is
64 mel bands x 101 frames = 6464 numbers per row, ``feature_shape`` [64, 101],
which the convolutional body reads as an image.

Every setting needed to invert a row (:mod:`synth_core.generation.audio`) is
kept in the file's ``spectrogram`` attribute (:class:`SpectrogramSettings`).
Only the part of a file that is used is decoded, so a very long recording costs
the memory of ``duration`` seconds, not of the whole file.

``builtin:demo-spectrograms`` is the embedded demo sounds analysed this way
(their first second), so the audio path can be tried and tested offline.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from synth_core.data.audio import ClipConfig, ClipRejected, prepare_waveform, read_audio_head
from synth_core.errors import InputError

if TYPE_CHECKING:
    from synth_core.data.extraction import ExtractConfig
    from synth_core.data.layouts import ClipRef
    from synth_core.features import FeatureSet
    from synth_core.workspace import Workspace

ATTR = "spectrogram"           # the feature-file attribute holding the analysis settings
N_MELS = 64
WINDOW_SECONDS = 0.025
HOP_SECONDS = 0.010
LOG_OFFSET = 1e-6              # log(power + offset): silence floor at about -13.8
DEMO_SECONDS = 1.0             # builtin:demo-spectrograms keeps the first second of each clip


@dataclass(frozen=True)
class SpectrogramSettings:
    """How rows were analysed; everything :func:`synth_core.generation.audio.invert` needs."""

    sample_rate: int
    duration: float            # seconds every clip was padded/trimmed to
    n_fft: int
    win_length: int
    hop_length: int
    n_mels: int = N_MELS
    fmin: float = 0.0
    fmax: float = 0.0          # 0 -> filled with Nyquist by for_clip
    power: float = 2.0         # mel bands of power (|STFT|^2)
    log_offset: float = LOG_OFFSET
    n_frames: int = 0          # 0 -> filled by for_clip (centred frames: 1 + samples // hop)

    @classmethod
    def for_clip(cls, sample_rate: int, duration: float, *, n_mels: int = N_MELS
                 ) -> "SpectrogramSettings":
        """25 ms windows every 10 ms at ``sample_rate`` for clips of ``duration`` seconds."""
        win = int(round(WINDOW_SECONDS * sample_rate))
        hop = int(round(HOP_SECONDS * sample_rate))
        n_fft = 2 ** int(math.ceil(math.log2(win)))
        n_samples = int(round(duration * sample_rate))
        return cls(sample_rate=int(sample_rate), duration=float(duration), n_fft=n_fft,
                   win_length=win, hop_length=hop, n_mels=int(n_mels), fmin=0.0,
                   fmax=sample_rate / 2.0, n_frames=1 + n_samples // hop)

    @property
    def n_samples(self) -> int:
        return int(round(self.duration * self.sample_rate))

    @property
    def feature_shape(self) -> list[int]:
        return [self.n_mels, self.n_frames]

    def to_attrs(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any], *, name: str = "this dataset"
                   ) -> "SpectrogramSettings":
        """The settings stored with a feature file or run; a clear error when they are missing."""
        stored = attrs.get(ATTR)
        needed = [f.name for f in fields(cls)]
        if not isinstance(stored, dict) or any(k not in stored for k in needed):
            missing = needed if not isinstance(stored, dict) else \
                [k for k in needed if k not in stored]
            raise InputError(
                f"{name}: the spectrogram analysis settings are missing ({', '.join(missing)}), "
                "so its rows cannot be turned back into sound without guessing (that would "
                "play noise); extract the clips again with the 'spectrogram' extractor")
        try:
            settings = cls(**{k: stored[k] for k in needed})
            ok = (settings.sample_rate > 0 and settings.hop_length > 0 and settings.n_mels > 0
                  and settings.n_fft >= settings.win_length > 0 and settings.n_frames > 0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(f"{name}: the spectrogram analysis settings {stored} are not "
                             "usable; extract the clips again with the 'spectrogram' extractor")
        return settings


@lru_cache(maxsize=8)
def mel_basis(settings: SpectrogramSettings) -> np.ndarray:
    """librosa's Slaney mel filterbank [n_mels, n_fft // 2 + 1] (float32, read-only)."""
    from librosa.filters import mel

    basis = mel(sr=settings.sample_rate, n_fft=settings.n_fft, n_mels=settings.n_mels,
                fmin=settings.fmin, fmax=settings.fmax).astype(np.float32)
    basis.setflags(write=False)
    return basis


@lru_cache(maxsize=8)
def analysis_window(settings: SpectrogramSettings) -> np.ndarray:
    """Periodic Hann window of ``win_length`` centred in ``n_fft`` (librosa's stft window)."""
    n = settings.win_length
    hann = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)
    left = (settings.n_fft - n) // 2
    window = np.zeros(settings.n_fft, dtype=np.float32)
    window[left:left + n] = hann
    window.setflags(write=False)
    return window


def log_mel_spectrogram(waveform: np.ndarray, settings: SpectrogramSettings) -> np.ndarray:
    """A mono waveform at ``settings.sample_rate`` -> log-mel [n_mels, n_frames] (float32).

    The waveform is zero-padded or trimmed to ``settings.duration``; frames are
    centred (the signal is zero-padded by n_fft / 2 on both sides), which gives
    the same values as ``librosa.feature.melspectrogram(center=True,
    pad_mode="constant")`` (a test compares them) without librosa's import cost.
    """
    from synth_core.data.audio import fit_length

    wave = fit_length(np.asarray(waveform, dtype=np.float32), settings.n_samples)
    half = settings.n_fft // 2
    padded = np.pad(wave, (half, half))
    frames = np.lib.stride_tricks.sliding_window_view(padded, settings.n_fft)[
        ::settings.hop_length][:settings.n_frames]                       # [frames, n_fft]
    spectrum = np.fft.rfft(frames * analysis_window(settings), axis=1)  # [frames, n_fft/2+1]
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    if settings.power != 2.0:
        power = power ** (settings.power / 2.0)
    mel = mel_basis(settings) @ power.T                                  # [n_mels, frames]
    return np.log(mel + np.float32(settings.log_offset)).astype(np.float32)


class SpectrogramExtractor:
    """Registry entry ``spectrogram`` of :data:`synth_core.data.extraction.EXTRACTORS`."""

    name = "spectrogram"

    def __init__(self, config: "ExtractConfig") -> None:
        duration = config.duration
        if not isinstance(duration, (int, float)) or isinstance(duration, bool):
            raise InputError(
                f"duration {duration!r}: the spectrogram extractor needs one clip length for "
                "every row (a model sees a fixed [mels x frames] picture); give a duration in "
                "seconds, e.g. 1.0, or 'auto' to take it from the data")
        self.config = config
        self.settings = SpectrogramSettings.for_clip(int(config.sample_rate), float(duration))

    def clip_input(self, ref: "ClipRef", clip_config: ClipConfig,
                   durations: list[float]) -> np.ndarray:
        """One clip's log-mel spectrogram [n_mels, n_frames]; only its used head is decoded."""
        head = self.settings.duration + clip_config.tolerance + 0.05
        waveform, rate, duration = read_audio_head(ref.path, head)  # bounded memory
        durations.append(duration)
        clip = prepare_waveform(waveform, rate, clip_config, name=ref.id or ref.path.name,
                                source_duration=duration)
        if clip.waveform.shape[0] < self.settings.n_samples and not clip_config.pad:
            raise ClipRejected(f"{ref.id or ref.path.name}: lasts {duration:.2f} s, shorter than "
                               f"the {self.settings.duration:g} s every spectrogram covers; "
                               "choose pad to zero-pad short clips")
        return log_mel_spectrogram(clip.waveform, self.settings)

    def embed(self, examples: np.ndarray) -> np.ndarray:
        """[n_clips, n_mels, n_frames] spectrograms are the features themselves."""
        return examples

    def attrs(self) -> dict[str, Any]:
        s = self.settings
        return {"feature_shape": s.feature_shape,
                "frames": None,  # not VGGish examples: the spectrogram's frames are its columns
                ATTR: s.to_attrs(),
                "feature_description": (
                    f"log-mel spectrogram, {s.n_mels} mel bands x {s.n_frames} frames "
                    f"({s.duration:g} s at a {1000 * s.hop_length / s.sample_rate:g} ms hop): "
                    f"log(mel power + {s.log_offset:g}); invertible to audio"),
                "pretrained": False}


# Extractors whose rows summarise a clip; none of them can be turned back into sound.
EMBEDDING_EXTRACTORS = ("vggish", "logmel", "summary")


def spectrogram_settings(attrs: dict[str, Any], *, name: str = "this dataset"
                         ) -> SpectrogramSettings:
    """The analysis settings of a feature file's or a run's attrs, or why there are none.

    Embedding files (``vggish``, ``logmel``) and non-audio data get a message
    that says why they cannot be heard; spectrogram files whose settings were
    lost get one that says so (no audio is offered instead of noise).
    """
    extractor = str(attrs.get("extractor") or "")
    if ATTR not in attrs and extractor in EMBEDDING_EXTRACTORS:
        raise InputError(
            f"{name} holds {extractor} embeddings ({attrs.get('feature_shape') or 'a summary'} "
            "per clip): they summarise a clip and cannot be turned back into sound. To hear "
            "generated rows, extract the clips with the 'spectrogram' extractor and train on that")
    if ATTR not in attrs and str(attrs.get("modality", "")) != "audio" and not extractor:
        raise InputError(f"{name} is not audio (modality {attrs.get('modality', 'tabular')!r}); "
                         "only spectrogram datasets can be played")
    return SpectrogramSettings.from_attrs(attrs, name=name)


def load_demo_spectrograms(*, workspace: "Workspace | None" = None) -> "FeatureSet":
    """The builtin loader: the demo sounds' first second as [64, 101] log-mel spectrograms."""
    from synth_core.data.demo_audio import FOLDER, write_demo_clips
    from synth_core.data.extraction import ExtractConfig, extract_features
    from synth_core.workspace import get_workspace

    workspace = workspace or get_workspace()
    clips = write_demo_clips(workspace.cache_dir / FOLDER)
    data = extract_features(clips, ExtractConfig(extractor="spectrogram", frames=1,
                                                 duration=DEMO_SECONDS, pad=True))
    data.attrs["source"] = ("synthetic demo audio (numpy, synth_core.data.demo_audio), first "
                            f"{DEMO_SECONDS:g} s as log-mel spectrograms - not recordings")
    data.attrs["synthetic_audio"] = True
    return data
