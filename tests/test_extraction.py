"""Feature extraction: log-mel and VGGish, skipped clips, scaler, job (synth_core/data/extraction.py)."""

from __future__ import annotations

import numpy as np
import pytest

from synth_core.errors import InputError, StorageError, WeightsMissingError
from synth_core.events import Log, Progress
from synth_core.data.extraction import (ExtractConfig, extract_clips, extract_features, extract_job,
                                   load_vggish, log_mel, log_mel_examples, samples_for_frames)
from synth_core.features import read_features
from tests.test_audio import write_tone


@pytest.fixture
def clip_folder(tmp_path):
    """2 classes x 2 clips of 4 s at 22.05 kHz, plus one corrupt and one short clip."""
    root = tmp_path / "clips"
    for label, freq in (("low", 200.0), ("high", 3000.0)):
        for i in range(2):
            write_tone(root / label / f"{i}.wav", 4.0, 22050, freq * (1 + 0.1 * i))
    (root / "low" / "broken.wav").write_bytes(b"RIFF" + b"\x00" * 50)
    write_tone(root / "high" / "short.wav", 1.5, 22050)
    return root


class FakeCtx:
    def __init__(self, workspace):
        self.workspace = workspace
        self.events = []

    def __call__(self, event):
        self.events.append(event)


def test_logmel_rows_shape_attrs_and_skipped(clip_folder):
    events = []
    result = extract_clips(clip_folder, ExtractConfig(), callback=events.append)
    data = result.data
    assert data.features.shape == (4, 512)
    assert data.class_names == ["high", "low"]
    assert sorted(data.labels.tolist()) == [0, 0, 1, 1]
    assert data.attrs["feature_shape"] == [4, 128] and data.attrs["modality"] == "audio"
    assert data.attrs["extractor"] == "logmel" and data.attrs["sample_rate"] == 16000
    assert {s.file for s in result.skipped} == {"low/broken.wav", "high/short.wav"}
    assert all(id_.endswith(".wav") for id_ in data.ids)
    assert data.scaler is not None and np.all(data.scaler["data_min"] <= data.scaler["data_max"])
    assert isinstance(events[-1], Progress) and events[-1].fraction == 1.0
    assert any(isinstance(e, Log) and "broken.wav" in e.message for e in events)
    assert sum(data.attrs["duration_histogram"]["counts"]) == 5  # the corrupt file has none


def test_logmel_matches_vggish_front_end():
    from torchvggish import mel_features, vggish_params as vp

    rng = np.random.default_rng(0)
    wave = rng.standard_normal(samples_for_frames(2, 16000)).astype(np.float32) * 0.1
    ours = log_mel_examples(wave, 16000, 2)  # [2, 96, 64]
    ref = mel_features.log_mel_spectrogram(
        wave, audio_sample_rate=16000, log_offset=vp.LOG_OFFSET,
        window_length_secs=vp.STFT_WINDOW_LENGTH_SECONDS,
        hop_length_secs=vp.STFT_HOP_LENGTH_SECONDS, num_mel_bins=64,
        lower_edge_hertz=vp.MEL_MIN_HZ, upper_edge_hertz=vp.MEL_MAX_HZ)
    assert ours.shape == (2, 96, 64)
    np.testing.assert_allclose(ours.reshape(-1, 64), ref[:192], rtol=1e-5, atol=1e-5)
    assert log_mel(wave, 16000).shape == (192, 64)


def test_logmel_pad_keeps_short_clips(clip_folder):
    data = extract_features(clip_folder, ExtractConfig(pad=True, frames=2))
    assert data.features.shape == (5, 256)


def test_vggish_untrained_network_gives_frames_times_128(clip_folder):
    config = ExtractConfig(extractor="vggish", pretrained=False, frames=2, duration=None,
                           pad=True, device="cpu")
    data = extract_features(clip_folder / "high", config)
    assert data.features.shape == (3, 256)
    assert data.attrs["pretrained"] is False and "UNTRAINED" in data.attrs["warning"]
    assert data.attrs["postprocess"] is False


def test_vggish_missing_weights_message(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTH_VGGISH_WEIGHTS", str(tmp_path / "vggish-10086976.pth"))
    with pytest.raises(WeightsMissingError) as info:
        load_vggish(pretrained=True)
    message = str(info.value)
    assert "vggish-10086976.pth" in message and "SYNTH_VGGISH_WEIGHTS" in message
    assert "load_state_dict_from_url" in message and "logmel" in message


def test_vggish_urls_match_torchvggish(monkeypatch, tmp_path):
    from torchvggish.torchvggish import PCA_PARAMS, VGGISH_WEIGHTS

    from synth_core.data.extraction import PCA_URL, VGGISH_URL, missing_weights_message

    assert (VGGISH_URL, PCA_URL) == (VGGISH_WEIGHTS, PCA_PARAMS)
    weights = tmp_path / "w.pth"
    monkeypatch.setenv("SYNTH_VGGISH_WEIGHTS", str(weights))
    monkeypatch.setenv("SYNTH_VGGISH_PCA", str(tmp_path / "pca.pth"))
    assert "VGGish weights not found" in missing_weights_message()
    weights.write_bytes(b"x")
    assert missing_weights_message() is None
    assert "PCA parameters not found" in missing_weights_message(postprocess=True)


def test_vggish_damaged_weights_file(monkeypatch, tmp_path):
    bad = tmp_path / "vggish.pth"
    bad.write_bytes(b"not a checkpoint")
    monkeypatch.setenv("SYNTH_VGGISH_WEIGHTS", str(bad))
    with pytest.raises(WeightsMissingError, match="could not be loaded"):
        load_vggish(pretrained=True)


def test_extract_config_validation():
    with pytest.raises(InputError, match="16000"):
        ExtractConfig(extractor="vggish", sample_rate=22050)
    with pytest.raises(InputError, match="lower --frames"):
        ExtractConfig(frames=5, duration=4.0)
    with pytest.raises(InputError, match="unknown"):
        ExtractConfig(extractor="mfcc")
    with pytest.raises(InputError, match="unknown option"):
        ExtractConfig.from_dict({"nope": 1})


def test_extract_nothing_usable_explains(clip_folder):
    with pytest.raises(InputError, match="none of the .* clips could be used"):
        extract_features(clip_folder, ExtractConfig(duration=10.0))


def test_scaler_fitted_outside_test_folds(tmp_path):
    root = tmp_path / "us"
    (root / "metadata").mkdir(parents=True)
    lines = ["slice_file_name,fsID,start,end,salience,fold,classID,class"]
    for i, (fold, amp) in enumerate([(1, 0.2), (1, 0.3), (2, 0.9)]):
        write_tone(root / "audio" / f"fold{fold}" / f"{i}.wav", 4.0, 8000, 300, amplitude=amp)
        lines.append(f"{i}.wav,1,0,4,1,{fold},0,hum")
    (root / "metadata" / "UrbanSound8K.csv").write_text("\n".join(lines) + "\n")
    data = extract_features(root, ExtractConfig(test_folds=(2,)))
    assert data.folds.tolist() == [1, 1, 2]
    train = data.features[:2]
    np.testing.assert_allclose(data.scaler["data_max"], train.max(axis=0), rtol=1e-6)
    assert "folds [2]" in data.attrs["scaler_fitted_on"]


def test_extract_job_saves_and_refuses_overwrite(clip_folder, workspace):
    ctx = FakeCtx(workspace)
    result = extract_job({"input": str(clip_folder), "out": "tones", "config": {}}, ctx)
    assert result["n_clips"] == 4 and result["n_skipped"] == 2 and result["dataset"] == "tones"
    assert read_features(workspace.dataset_path("tones")).features.shape == (4, 512)
    with pytest.raises(StorageError, match="already exists"):
        extract_job({"input": str(clip_folder), "out": "tones", "config": {}}, ctx)
    again = extract_job({"input": str(clip_folder), "out": "tones", "overwrite": True,
                         "config": {"frames": 2}}, ctx)
    assert again["n_features"] == 256


def test_vggish_weights_of_another_network(monkeypatch, tmp_path):
    import torch

    other = tmp_path / "other.pth"
    torch.save({"layer.weight": torch.zeros(2, 2)}, other)
    monkeypatch.setenv("SYNTH_VGGISH_WEIGHTS", str(other))
    with pytest.raises(WeightsMissingError, match="does not match the network"):
        load_vggish(pretrained=True)
