"""Reading, mixing down, resampling and the duration filter (synth_core/data/audio.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_core.data.audio import (ClipConfig, ClipRejected, audio_info, fit_length, load_clip,
                              read_audio, resample)
from synth_core.errors import InputError


def write_tone(path: Path, seconds: float = 1.0, rate: int = 8000, freq: float = 440.0, *,
               channels: int = 1, amplitude: float = 0.5, fmt: str | None = None) -> Path:
    """A sine tone written with soundfile (tests' stand-in for real clips)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(round(seconds * rate))) / rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    if channels > 1:
        wave = np.stack([wave * (c + 1) / channels for c in range(channels)], axis=1)
    sf.write(path, wave, rate, format=fmt)
    return path


def test_read_audio_mixes_stereo_to_mono(tmp_path):
    path = write_tone(tmp_path / "stereo.wav", 0.5, 8000, channels=2)
    wave, rate = read_audio(path)
    assert rate == 8000 and wave.ndim == 1 and wave.dtype == np.float32
    left, _ = sf.read(path, dtype="float32")
    np.testing.assert_allclose(wave, left.mean(axis=1), atol=1e-6)


@pytest.mark.parametrize("name,fmt", [("a.flac", "FLAC"), ("a.ogg", "OGG")])
def test_read_audio_flac_and_ogg(tmp_path, name, fmt):
    wave, rate = read_audio(write_tone(tmp_path / name, 0.5, 16000, fmt=fmt))
    assert rate == 16000 and abs(wave.shape[0] - 8000) < 1000


def test_read_audio_corrupt_file_rejected(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF this is not really audio" * 10)
    with pytest.raises(ClipRejected, match="not a readable audio file"):
        read_audio(path)


def test_read_audio_empty_file_rejected(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(ClipRejected, match="empty"):
        read_audio(path)


def test_read_audio_unknown_extension_rejected(tmp_path):
    path = tmp_path / "clip.mp3"
    path.write_bytes(b"ID3")
    with pytest.raises(ClipRejected, match="unknown audio extension '.mp3'"):
        read_audio(path)
    assert issubclass(ClipRejected, InputError)


def test_load_clip_silent_rejected(tmp_path):
    path = write_tone(tmp_path / "silent.wav", 4.0, 8000, amplitude=0.0)
    with pytest.raises(ClipRejected, match="silent"):
        load_clip(path, ClipConfig())


def test_load_clip_duration_filter_keeps_exact_length(tmp_path):
    clip = load_clip(write_tone(tmp_path / "four.wav", 4.0, 22050), ClipConfig())
    assert clip.waveform.shape == (64000,)  # resampled 22050 -> 16000 Hz, exactly 4 s
    assert clip.source_duration == pytest.approx(4.0)
    with pytest.raises(ClipRejected, match="duration filter keeps clips of 4 s"):
        load_clip(write_tone(tmp_path / "three.wav", 3.0, 22050), ClipConfig())


def test_load_clip_pad_and_trim(tmp_path):
    config = ClipConfig(pad=True)
    for name, seconds in (("short.wav", 0.3), ("long.wav", 5.5)):
        clip = load_clip(write_tone(tmp_path / name, seconds, 8000), config)
        assert clip.waveform.shape == (64000,)


def test_load_clip_shorter_than_frame_needs_pad(tmp_path):
    path = write_tone(tmp_path / "blip.wav", 0.5, 8000)
    with pytest.raises(ClipRejected, match="shorter than one 0.96 s frame"):
        load_clip(path, ClipConfig(duration=None))
    clip = load_clip(path, ClipConfig(duration=None, pad=True))
    assert clip.waveform.shape[0] >= int(0.96 * 16000)


def test_audio_info_reads_header(tmp_path):
    duration, rate = audio_info(write_tone(tmp_path / "x.wav", 2.0, 8000))
    assert duration == pytest.approx(2.0) and rate == 8000


def test_clip_config_rejects_bad_values():
    with pytest.raises(InputError, match="duration"):
        ClipConfig(duration=0.1)
    with pytest.raises(InputError, match="sample rate"):
        ClipConfig(sample_rate=10)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5000), rate_in=st.sampled_from([8000, 11025, 22050, 44100, 48000]))
def test_resample_length_property(n, rate_in):
    out = resample(np.ones(n, dtype=np.float32), rate_in, 16000)
    assert abs(out.shape[0] - n * 16000 / rate_in) <= 1
    assert out.dtype == np.float32


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 300), target=st.integers(0, 300))
def test_fit_length_property(n, target):
    wave = np.arange(n, dtype=np.float32) + 1
    out = fit_length(wave, target)
    assert out.shape == (target,)
    k = min(n, target)
    np.testing.assert_array_equal(out[:k], wave[:k])
    assert not out[k:].any()


def test_read_audio_head_decodes_only_the_head_and_reports_the_full_length(tmp_path):
    from synth_core.data.audio import read_audio_head

    path = write_tone(tmp_path / "long.wav", 30.0, 8000)
    head, rate, full = read_audio_head(path, 2.0)
    assert rate == 8000 and abs(full - 30.0) < 1e-6
    assert head.shape[0] <= 2 * 8000 + 2  # bounded memory: 2 s decoded, not 30 s
    whole, _, _ = read_audio_head(path)
    assert whole.shape[0] == 30 * 8000
