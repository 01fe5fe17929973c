"""The spectrogram extractor: shapes, attributes, long clips (synth_core/data/spectrogram.py)."""

from __future__ import annotations

import numpy as np
import pytest

from synth_core.data.extraction import ExtractConfig, extract_features
from synth_core.data.spectrogram import (ATTR, SpectrogramSettings, log_mel_spectrogram,
                                         spectrogram_settings)
from synth_core.errors import InputError
from synth_core.features import read_features, write_features
from tests.test_audio import write_tone


def test_spectrogram_settings_for_one_second_at_16k():
    s = SpectrogramSettings.for_clip(16000, 1.0)
    assert (s.n_fft, s.win_length, s.hop_length, s.n_mels) == (512, 400, 160, 64)
    assert s.feature_shape == [64, 101] and s.n_samples == 16000 and s.fmax == 8000.0
    assert SpectrogramSettings.from_attrs({ATTR: s.to_attrs()}) == s


def test_log_mel_spectrogram_matches_librosa():
    import librosa

    s = SpectrogramSettings.for_clip(8000, 0.5)
    rng = np.random.default_rng(0)
    wave = (0.3 * rng.standard_normal(s.n_samples)).astype(np.float32)
    mine = log_mel_spectrogram(wave, s)
    power = librosa.feature.melspectrogram(
        y=wave, sr=s.sample_rate, n_fft=s.n_fft, win_length=s.win_length,
        hop_length=s.hop_length, n_mels=s.n_mels, fmin=s.fmin, fmax=s.fmax, center=True,
        pad_mode="constant")
    assert mine.shape == (s.n_mels, s.n_frames) == power.shape
    np.testing.assert_allclose(mine, np.log(power + s.log_offset), atol=1e-3)


def test_spectrogram_extractor_rows_shapes_and_attrs(tmp_path):
    root = tmp_path / "clips"
    write_tone(root / "low" / "a.wav", 0.6, 8000, 300.0)            # short: zero-padded
    write_tone(root / "low" / "b.wav", 1.0, 22050, 330.0)           # resampled to 16 kHz
    write_tone(root / "high" / "long.wav", 60.0, 8000, 2000.0)      # long: only 1 s decoded
    data = extract_features(root, ExtractConfig(extractor="spectrogram", duration=1.0,
                                                pad=True, frames=1))
    assert data.features.shape == (3, 64 * 101)
    assert data.attrs["feature_shape"] == [64, 101] and data.attrs["modality"] == "audio"
    assert data.attrs["extractor"] == "spectrogram"
    settings = spectrogram_settings(data.attrs)
    assert (settings.sample_rate, settings.hop_length, settings.duration) == (16000, 160, 1.0)
    high = data.features[data.labels == data.class_names.index("high")][0].reshape(64, 101)
    low = data.features[data.labels == data.class_names.index("low")][0].reshape(64, 101)
    assert high.mean(axis=1).argmax() > low.mean(axis=1).argmax()  # 2 kHz sits above 300 Hz
    path = write_features(tmp_path / "spec.h5", data)
    again = read_features(path)
    assert spectrogram_settings(again.attrs, name="spec.h5") == settings
    assert again.attrs.get("frames") is None  # not VGGish examples


def test_spectrogram_extractor_long_clip_reads_only_its_head(tmp_path, monkeypatch):
    import synth_core.data.spectrogram as spectrogram

    write_tone(tmp_path / "c" / "x" / "long.wav", 30.0, 8000)
    asked = []
    real = spectrogram.read_audio_head

    def spy(path, max_seconds=None):
        asked.append(max_seconds)
        return real(path, max_seconds)

    monkeypatch.setattr(spectrogram, "read_audio_head", spy)
    data = extract_features(tmp_path / "c", ExtractConfig(extractor="spectrogram",
                                                          duration=1.0, pad=True, frames=1))
    assert data.n_samples == 1 and asked and all(s is not None and s < 2 for s in asked)


def test_spectrogram_settings_refuse_missing_attrs_and_embeddings():
    with pytest.raises(InputError, match="analysis settings are missing.*noise"):
        spectrogram_settings({"extractor": "spectrogram", "modality": "audio"}, name="x.h5")
    broken = SpectrogramSettings.for_clip(16000, 1.0).to_attrs()
    del broken["hop_length"]
    with pytest.raises(InputError, match="hop_length"):
        spectrogram_settings({ATTR: broken})
    with pytest.raises(InputError, match="embeddings.*cannot be turned back into sound"):
        spectrogram_settings({"extractor": "vggish", "modality": "audio"})
    with pytest.raises(InputError, match="not audio"):
        spectrogram_settings({"modality": "image"})


def test_spectrogram_frames_are_columns_for_the_per_frame_frechet():
    from synth_core.evaluation.metrics import frame_rows
    from synth_core.evaluation.scorecard import _frame_shape
    from tests.test_inversion import tiny_spectrograms

    data = tiny_spectrograms(n_per_class=2)
    mels, n_frames = data.attrs["feature_shape"]
    assert _frame_shape(data, None) == (mels, n_frames)  # automatic for spectrograms
    frames = frame_rows(data.features, (mels, n_frames), frames_last=True)
    assert frames.shape == (data.n_samples * n_frames, mels)
    np.testing.assert_array_equal(frames[1], data.features[0].reshape(mels, n_frames)[:, 1])
