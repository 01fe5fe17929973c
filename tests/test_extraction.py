"""Feature extraction: log-mel and VGGish, skipped clips, scaler, job (synth_core/data/extraction.py)."""

from __future__ import annotations

import numpy as np
import pytest

from synth_core.errors import InputError, StorageError, WeightsMissingError
from synth_core.events import Log, Progress
from synth_core.data.extraction import (EXTRACT_PRESETS, ExtractConfig, clip_policy, extract_clips,
                                        extract_features, extract_job)
from synth_core.data.vggish import load_vggish, log_mel, log_mel_examples, samples_for_frames
from synth_core.data.layouts import discover_clips
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
    result = extract_clips(clip_folder, ExtractConfig(**EXTRACT_PRESETS["us8k-thesis"]),
                           callback=events.append)
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

    from synth_core.data.vggish import PCA_URL, VGGISH_URL, missing_weights_message

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
    # Default policy: the 1.5 s clip is padded to the median 4 s; only the corrupt file is skipped.
    assert result["n_clips"] == 5 and result["n_skipped"] == 1 and result["dataset"] == "tones"
    assert result["notes"] == []
    assert result["duration"] == 4.0 and result["frames"] == 4 and result["n_padded"] == 1
    assert read_features(workspace.dataset_path("tones")).features.shape == (5, 512)
    with pytest.raises(StorageError, match="already exists"):
        extract_job({"input": str(clip_folder), "out": "tones", "config": {}}, ctx)
    again = extract_job({"input": str(clip_folder), "out": "tones", "overwrite": True,
                         "config": {"frames": 2}}, ctx)
    assert again["n_features"] == 256


def test_extract_job_carries_the_layout_notes(clip_folder, workspace):
    """How the folders were read (here: an empty folder is not a class) reaches the summary
    the CLI prints and the Data page shows, the file's attrs and the job log."""
    (clip_folder / "unused").mkdir()
    ctx = FakeCtx(workspace)
    result = extract_job({"input": str(clip_folder), "out": "tones", "config": {}}, ctx)
    note = "folder(s) unused hold no audio files and are not classes"
    assert result["notes"] == [note]
    assert read_features(workspace.dataset_path("tones")).attrs["layout_notes"] == [note]
    assert any(isinstance(e, Log) and e.message == note for e in ctx.events)


def test_vggish_weights_of_another_network(monkeypatch, tmp_path):
    import torch

    other = tmp_path / "other.pth"
    torch.save({"layer.weight": torch.zeros(2, 2)}, other)
    monkeypatch.setenv("SYNTH_VGGISH_WEIGHTS", str(other))
    with pytest.raises(WeightsMissingError, match="does not match the network"):
        load_vggish(pretrained=True)


def test_default_policy_pads_short_clips_to_the_median_length(clip_folder):
    # Default (auto): the median of 4, 4, 4, 4, 1.5 s is 4 s; the short clip is padded, not refused.
    data = extract_features(clip_folder, ExtractConfig())
    assert data.features.shape == (5, 512)
    assert data.attrs["duration"] == 4.0 and data.attrs["frames"] == 4
    assert data.attrs["duration_policy"] == "median" and data.attrs["n_padded"] == 1
    assert "median" in data.attrs["duration_reason"]


def test_clip_policy_of_spectrograms_names_no_frames(clip_folder):
    """A spectrogram covers the whole clip: its reason said "4 frame(s) of 0.96 s fit"."""
    clips = discover_clips(clip_folder)
    _, policy = clip_policy(clips, ExtractConfig(extractor="spectrogram"))
    assert policy.reason.endswith("; one spectrogram per clip") and "frame" not in policy.reason
    _, policy = clip_policy(clips, ExtractConfig())
    assert policy.reason.endswith("; 4 frame(s) of 0.96 s fit in 4 s")


def test_clip_policy_uses_the_esc50_clip_length(tmp_path):
    root = tmp_path / "ESC-50"
    (root / "meta").mkdir(parents=True)
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for i in range(2):
        write_tone(root / "audio" / f"1-{i}-A-{i}.wav", 5.0, 8000, 300 + 200 * i)
        lines.append(f"1-{i}-A-{i}.wav,1,{i},{['dog', 'rain'][i]},True,{i},A")
    (root / "meta" / "esc50.csv").write_text("\n".join(lines) + "\n")
    config, policy = clip_policy(discover_clips(root), ExtractConfig())
    assert (policy.source, policy.duration, policy.frames, policy.pad) == ("layout", 5.0, 5, True)
    assert config.resolved and config.duration == 5.0 and config.frames == 5
    data = extract_features(root, ExtractConfig())  # the thesis default (4 s only) refused all
    assert data.features.shape == (2, 5 * 128) and data.attrs["n_trimmed"] == 0


def test_mixed_lengths_are_padded_and_trimmed_with_counts(tmp_path):
    for i, seconds in enumerate([0.5, 1.2, 3.0, 4.0, 6.0, 30.0]):
        write_tone(tmp_path / "mix" / "ab"[i % 2] / f"{i}.wav", seconds, 8000, 250 + 50 * i)
    result = extract_clips(tmp_path / "mix", ExtractConfig())
    attrs = result.data.attrs
    assert result.data.n_samples == 6 and not result.skipped
    assert attrs["duration"] == 3.5 and attrs["frames"] == 3  # median of the six lengths
    assert (attrs["n_padded"], attrs["n_trimmed"]) == (3, 3)
    assert sum(attrs["duration_histogram"]["counts"]) == 6


def test_us8k_thesis_preset_keeps_only_exact_4s_clips(tmp_path):
    for i, seconds in enumerate([4.0, 4.0, 3.0, 5.0]):
        write_tone(tmp_path / "c" / "ab"[i % 2] / f"{i}.wav", seconds, 8000, 300 + 40 * i)
    result = extract_clips(tmp_path / "c", ExtractConfig(**EXTRACT_PRESETS["us8k-thesis"]))
    assert result.data.n_samples == 2 and len(result.skipped) == 2
    assert result.data.attrs["duration_policy"] == "given"
    assert result.data.attrs["feature_shape"] == [4, 128]


def test_clip_policy_given_frames_raise_a_short_derived_duration(tmp_path):
    for i in range(3):
        write_tone(tmp_path / "c" / "x" / f"{i}.wav", 1.0, 8000)
    _, policy = clip_policy(discover_clips(tmp_path / "c"), ExtractConfig(frames=3))
    assert policy.frames == 3 and policy.duration == 2.88 and policy.pad
