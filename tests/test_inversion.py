"""Spectrogram rows back to sound: Griffin-Lim, WAV files (synth_core/generation/audio.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from synth_core.data.spectrogram import ATTR, SpectrogramSettings, log_mel_spectrogram, mel_basis
from synth_core.errors import InputError, StorageError
from synth_core.features import FeatureSet
from synth_core.generation.audio import (check_audio_dir, invert, inversion_quality,
                                         settings_for, wav_bytes, write_wavs)

SETTINGS = SpectrogramSettings.for_clip(8000, 0.5)


def _tone(freq: float, settings: SpectrogramSettings = SETTINGS) -> np.ndarray:
    t = np.arange(settings.n_samples) / settings.sample_rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _band_of(freq: float) -> int:
    """The mel band whose filter peaks closest to ``freq``."""
    bins = np.fft.rfftfreq(SETTINGS.n_fft, 1 / SETTINGS.sample_rate)
    return int(np.argmax(mel_basis(SETTINGS)[:, np.argmin(np.abs(bins - freq))]))


@pytest.mark.parametrize("freq", [440.0, 1500.0])
def test_invert_tone_keeps_its_pitch_within_one_mel_band(freq):
    log_mel = log_mel_spectrogram(_tone(freq), SETTINGS)
    wave = invert(log_mel.ravel(), SETTINGS, n_iter=16)[0]
    assert wave.shape == (SETTINGS.n_samples,) and np.abs(wave).max() <= 1.0
    again = log_mel_spectrogram(wave, SETTINGS)
    assert abs(int(again.mean(axis=1).argmax()) - _band_of(freq)) <= 1
    spectrum = np.abs(np.fft.rfft(wave))
    peak_hz = spectrum.argmax() * SETTINGS.sample_rate / wave.size
    assert abs(_band_of(peak_hz) - _band_of(freq)) <= 1
    quality = inversion_quality(log_mel, wave, SETTINGS)
    assert 0 <= quality.spectral_convergence < 0.6


def test_invert_is_seeded():
    row = log_mel_spectrogram(_tone(700.0), SETTINGS).ravel()
    a = invert(np.stack([row, row]), SETTINGS, n_iter=4, random_state=1)
    assert np.array_equal(a, invert(np.stack([row, row]), SETTINGS, n_iter=4, random_state=1))
    assert not np.array_equal(a, invert(row, SETTINGS, n_iter=4, random_state=2)[[0, 0]])


def test_invert_refuses_rows_of_another_width():
    with pytest.raises(InputError, match="mel bands x"):
        invert(np.zeros(10), SETTINGS)


def test_write_wavs_names_rows_by_class_at_the_sample_rate(tmp_path):
    row = log_mel_spectrogram(_tone(500.0), SETTINGS).ravel()
    data = FeatureSet(features=np.stack([row] * 3), labels=np.array([0, 1, 1]),
                      class_names=["car horn", "Straßenbahn/犬の鳴き声"],
                      attrs={ATTR: SETTINGS.to_attrs(), "modality": "audio"})
    paths = write_wavs(data, tmp_path / "wavs", n_iter=2)
    # Letters of every script stay in the name; the slash does not.
    assert [p.name for p in paths] == ["0_car_horn.wav", "1_Straßenbahn_犬の鳴き声.wav",
                                       "2_Straßenbahn_犬の鳴き声.wav"]
    info = sf.info(str(paths[0]))
    assert info.samplerate == 8000 and info.frames == SETTINGS.n_samples
    with pytest.raises(StorageError, match="already"):
        write_wavs(data, tmp_path / "wavs", n_iter=2)
    with pytest.raises(StorageError, match="already holds WAV"):
        check_audio_dir(tmp_path / "wavs")
    assert wav_bytes(np.zeros(80), 8000)[:4] == b"RIFF"


def test_settings_for_explains_runs_that_cannot_be_heard():
    run = SimpleNamespace(meta={"modality": "audio", "extractor": "vggish", "n_features": 512},
                          run_dir=Path("runs/vae-1"))
    with pytest.raises(InputError, match="embeddings.*cannot be turned back into sound"):
        settings_for(run)
    old = SimpleNamespace(meta={"modality": "audio", "n_features": 512},
                          run_dir=Path("runs/vae-0"))
    with pytest.raises(InputError, match="cannot be turned back"):
        settings_for(old)
    lost = SimpleNamespace(meta={"modality": "audio", "extractor": "spectrogram"},
                           run_dir=Path("runs/vae-2"))
    with pytest.raises(InputError, match="settings are missing"):
        settings_for(lost)
    good = SimpleNamespace(meta={"modality": "audio", "extractor": "spectrogram",
                                 ATTR: SETTINGS.to_attrs()}, run_dir=Path("runs/cvae-1"))
    assert settings_for(good) == SETTINGS


TINY = SpectrogramSettings.for_clip(8000, 0.2, n_mels=16)  # [16, 17]: trains in seconds


def tiny_spectrograms(n_per_class: int = 8, settings: SpectrogramSettings = TINY) -> FeatureSet:
    """Two classes of tones (low, high) as log-mel rows with their analysis settings."""
    rng = np.random.default_rng(0)
    rows, labels = [], []
    for label, base in enumerate((300.0, 2000.0)):
        for _ in range(n_per_class):
            rows.append(log_mel_spectrogram(_tone(base * rng.uniform(0.9, 1.1), settings),
                                            settings).ravel())
            labels.append(label)
    return FeatureSet(features=np.stack(rows), labels=np.array(labels),
                      class_names=["low", "high"],
                      attrs={"modality": "audio", "extractor": "spectrogram",
                             "feature_shape": settings.feature_shape, ATTR: settings.to_attrs(),
                             "sample_rate": settings.sample_rate})


def test_cli_generate_audio_writes_one_wav_per_row_or_says_why_not(workspace, tmp_path, capsys):
    import json

    from synth_core.cli import main
    from synth_core.training.config import TrainConfig
    from synth_core.training.trainer import train_model

    config = TrainConfig(model="cvae", body="conv", latent_dim=2, hidden=(8,), epochs=1,
                         batch_size=8, transform="standard")
    run_dir = tmp_path / "runs" / "cvae-spec"
    from synth_core.features import write_features

    data_file = write_features(tmp_path / "spec.h5", tiny_spectrograms())
    train_model(tiny_spectrograms(), config, run_dir=run_dir, dataset_ref=str(data_file))
    base = ["--workspace", str(workspace.root), "--json", "-q", "generate", "--run", str(run_dir)]
    code = main([*base, "--out", str(tmp_path / "g.h5"), "--per-class", "2", "--audio",
                 str(tmp_path / "wavs")])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0, summary
    assert summary["n_wavs"] == 4 and summary["sample_rate"] == 8000
    names = sorted(p.name for p in (tmp_path / "wavs").glob("*.wav"))
    assert names == ["0_low.wav", "1_low.wav", "2_high.wav", "3_high.wav"]
    assert sf.info(str(tmp_path / "wavs" / "0_low.wav")).frames == TINY.n_samples

    embeddings = tiny_spectrograms()
    embeddings.attrs = {"modality": "audio", "extractor": "logmel"}
    other = tmp_path / "runs" / "vae-emb"
    train_model(embeddings, config.replace(model="vae", body="mlp"), run_dir=other)
    code = main(["--workspace", str(workspace.root), "-q", "generate", "--run", str(other),
                 "--out", str(tmp_path / "e.h5"), "--prior", "2", "--audio",
                 str(tmp_path / "none")])
    assert code != 0 and "cannot be turned back into sound" in capsys.readouterr().err
    assert not (tmp_path / "e.h5").exists() and not (tmp_path / "none").exists()


def test_griffin_lim_is_librosas_iteration():
    # The torch iteration must give librosa.griffinlim's waveform from the same start.
    import librosa

    from synth_core.generation.audio import _mel_inverse, griffin_lim

    log_mel = log_mel_spectrogram(_tone(440.0), SETTINGS)
    power = np.maximum(_mel_inverse(SETTINGS) @ (np.exp(log_mel) - SETTINGS.log_offset), 0.0)
    magnitude = np.sqrt(power).astype(np.float32)                       # [bins, frames]
    start = np.exp(2j * np.pi * np.random.default_rng(0).random(magnitude.shape))
    ours = griffin_lim(magnitude[None], start[None].astype(np.complex64), SETTINGS, n_iter=8)[0]
    theirs = librosa.griffinlim(
        magnitude, n_iter=8, hop_length=SETTINGS.hop_length, win_length=SETTINGS.win_length,
        n_fft=SETTINGS.n_fft, window="hann", center=True, pad_mode="constant",
        length=SETTINGS.n_samples, init="random", random_state=np.random.default_rng(0))
    assert np.abs(ours - theirs).max() < 1e-4 * np.abs(theirs).max()


def test_invert_gives_a_row_the_same_sound_alone_or_in_a_batch():
    row = log_mel_spectrogram(_tone(330.0), SETTINGS).ravel()
    other = log_mel_spectrogram(_tone(660.0), SETTINGS).ravel()
    alone = invert(row, SETTINGS, n_iter=4)[0]
    np.testing.assert_allclose(invert(np.stack([other, row]), SETTINGS, n_iter=4)[1], alone,
                               atol=1e-5)
