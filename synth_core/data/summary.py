"""Hand-crafted clip summaries: 37 numbers per clip (MFCCs, chroma, spectral shape).

The classic features of UrbanSound8K tutorials and of issue #12's outside
measurement ("hand-crafted features, 37 features"): over the whole clip,
the time average of

* 20 MFCCs (``librosa.feature.mfcc`` on a 128-band mel spectrogram in dB),
* 12 chroma bins (``librosa.feature.chroma_stft``, C to B),
* spectral centroid, bandwidth and 85 % roll-off (Hz), the zero-crossing rate
  and the RMS level,

each computed by librosa with its standard analysis (2048-sample windows,
512-sample hop) at the extraction's sample rate. A row is one clip, not
frames of 0.96 s: any clip length works, and the columns carry names
(``feature_names``), which the scorecard's per-feature table and the CSV
export show. Like the other embeddings these cannot be turned back into sound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from synth_core.data.audio import ClipConfig, prepare_waveform, read_audio_head

if TYPE_CHECKING:
    from synth_core.data.extraction import ExtractConfig
    from synth_core.data.layouts import ClipRef

N_FFT = 2048
HOP = 512
N_MFCC = 20
CHROMA = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
SPECTRAL = ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "zero_crossing_rate",
            "rms")
FEATURE_NAMES = ([f"mfcc_{k}" for k in range(1, N_MFCC + 1)]
                 + [f"chroma_{note}" for note in CHROMA] + list(SPECTRAL))
N_FEATURES = len(FEATURE_NAMES)  # 37
# "Any length" still reads a bounded head of each file (memory stays bounded on long
# recordings); UrbanSound8K's clips are at most 4 s, ESC-50's 5 s.
MAX_SECONDS = 60.0


def summarise(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """One mono waveform -> its :data:`N_FEATURES` numbers, in :data:`FEATURE_NAMES` order."""
    import librosa

    wave = np.asarray(wave, dtype=np.float32)
    magnitude = np.abs(librosa.stft(wave, n_fft=N_FFT, hop_length=HOP))
    power = magnitude ** 2
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sample_rate))
    parts = [
        librosa.feature.mfcc(S=mel_db, n_mfcc=N_MFCC),
        librosa.feature.chroma_stft(S=power, sr=sample_rate, n_fft=N_FFT),
        librosa.feature.spectral_centroid(S=magnitude, sr=sample_rate, n_fft=N_FFT),
        librosa.feature.spectral_bandwidth(S=magnitude, sr=sample_rate, n_fft=N_FFT),
        librosa.feature.spectral_rolloff(S=magnitude, sr=sample_rate, n_fft=N_FFT),
        librosa.feature.zero_crossing_rate(wave, frame_length=N_FFT, hop_length=HOP),
        librosa.feature.rms(y=wave, frame_length=N_FFT, hop_length=HOP),  # the waveform's
    ]
    frames = min(p.shape[1] for p in parts)  # the same count for these settings; be safe
    return np.concatenate([p[:, :frames].mean(axis=1) for p in parts]).astype(np.float32)


class SummaryExtractor:
    """Registry entry ``summary`` of :data:`synth_core.data.extraction.EXTRACTORS`."""

    name = "summary"

    def __init__(self, config: "ExtractConfig") -> None:
        self.config = config
        self.sample_rate = int(config.sample_rate)

    def clip_input(self, ref: "ClipRef", clip_config: ClipConfig,
                   durations: list[float]) -> np.ndarray:
        """One clip's summary [37]; only the used head of the file is decoded."""
        head = (clip_config.duration + clip_config.tolerance + 0.05
                if clip_config.duration is not None else MAX_SECONDS)
        waveform, rate, duration = read_audio_head(ref.path, head)
        durations.append(duration)
        name = ref.id or ref.path.name
        # Any clip of at least one analysis hop (32 ms at 16 kHz) can be summarised.
        clip = prepare_waveform(waveform, rate, clip_config, name=name, source_duration=duration,
                                min_seconds=HOP / self.sample_rate)
        return summarise(clip.waveform, self.sample_rate)

    def embed(self, examples: np.ndarray) -> np.ndarray:
        """[n_clips, 37] summaries are the features themselves."""
        return examples

    def attrs(self) -> dict[str, Any]:
        return {"feature_shape": [N_FEATURES],
                "frames": None,  # one summary per clip, not 0.96 s examples
                "feature_names": list(FEATURE_NAMES),
                "feature_description": (
                    f"per clip, time averages of {N_MFCC} MFCCs, 12 chroma bins, spectral "
                    "centroid, bandwidth and roll-off (Hz), zero-crossing rate and RMS (librosa, "
                    f"{N_FFT}-sample windows, {HOP}-sample hop)"),
                "pretrained": False}
