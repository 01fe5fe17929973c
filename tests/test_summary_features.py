"""The ``summary`` extractor: 37 hand-crafted numbers per clip (synth_core/data/summary.py).

The Data page's side is in tests/test_page_data.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from synth_core.cli import main
from synth_core.data.extraction import ExtractConfig, extract_clips
from synth_core.data.summary import FEATURE_NAMES, N_FEATURES, summarise
from synth_core.features import read_features
from tests.test_audio import write_tone

RATE = 16000


def _tone(freq: float, seconds: float = 2.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_names_are_the_37_classic_features():
    assert N_FEATURES == 37 == len(set(FEATURE_NAMES))
    assert FEATURE_NAMES[:2] == ["mfcc_1", "mfcc_2"] and FEATURE_NAMES[20] == "chroma_C"
    assert FEATURE_NAMES[29] == "chroma_A" and FEATURE_NAMES[-5:] == [
        "spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "zero_crossing_rate", "rms"]


def test_a_pure_tone_has_the_known_answers():
    row = dict(zip(FEATURE_NAMES, summarise(_tone(440.0), RATE)))
    chroma = [row[f"chroma_{n}"] for n in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#",
                                             "A", "A#", "B")]
    assert int(np.argmax(chroma)) == 9  # 440 Hz is an A
    assert row["spectral_centroid"] == pytest.approx(440.0, rel=0.1)
    assert row["spectral_rolloff"] == pytest.approx(440.0, rel=0.15)
    assert row["zero_crossing_rate"] == pytest.approx(2 * 440.0 / RATE, rel=0.05)
    assert row["rms"] == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    high = dict(zip(FEATURE_NAMES, summarise(_tone(3000.0), RATE)))
    assert high["spectral_centroid"] == pytest.approx(3000.0, rel=0.1)
    quiet = dict(zip(FEATURE_NAMES, summarise(_tone(440.0, amplitude=0.05), RATE)))
    assert quiet["rms"] == pytest.approx(row["rms"] / 10, rel=0.05)
    assert quiet["mfcc_1"] < row["mfcc_1"]  # MFCC 1 follows the level (dB)


def test_extraction_gives_one_named_row_per_clip_of_any_length(tmp_path):
    root = tmp_path / "clips"
    for label, freq in (("low", 200.0), ("high", 3000.0)):
        write_tone(root / label / "a.wav", 1.5, 22050, freq)   # resampled to 16 kHz
        write_tone(root / label / "b.wav", 3.0, 8000, freq * 1.1, channels=2)  # stereo
    write_tone(root / "low" / "blip.wav", 0.01, 16000)  # shorter than one hop
    write_tone(root / "high" / "c.wav", 0.5, 16000, 3000.0)  # under a 0.96 s frame: fine
    result = extract_clips(root, ExtractConfig(extractor="summary", duration=None))
    data = result.data
    assert data.features.shape == (5, 37) and np.isfinite(data.features).all()
    assert data.attrs["feature_names"] == FEATURE_NAMES and data.attrs["frames"] is None
    assert data.attrs["feature_shape"] == [37] and data.attrs["extractor"] == "summary"
    centroid = data.features[:, FEATURE_NAMES.index("spectral_centroid")]
    high = np.array(data.class_names)[data.labels] == "high"
    assert centroid[high].min() > 5 * centroid[~high].max()
    assert [s.file for s in result.skipped] == ["low/blip.wav"]
    assert "lasts 0.010 s, shorter than the 0.032 s this extractor needs" in \
        result.skipped[0].reason and "choose pad" in result.skipped[0].reason


def test_given_frames_do_not_bind_a_summary(tmp_path):
    write_tone(tmp_path / "c" / "x" / "a.wav", 2.0, RATE)
    write_tone(tmp_path / "c" / "y" / "a.wav", 2.0, RATE, 2000.0)
    config = ExtractConfig(extractor="summary", duration=2.0, frames=4)  # frames do not apply
    assert extract_clips(tmp_path / "c", config).data.features.shape == (2, 37)
    with pytest.raises(Exception, match="4 frames of 0.96 s need clips of at least"):
        ExtractConfig(extractor="logmel", duration=2.0, frames=4)


def test_cli_summary_extraction_and_its_refusals(capsys, workspace, tmp_path):
    for cls, freq in (("a", 300), ("b", 2000)):
        write_tone(tmp_path / "clips" / cls / "x.wav", 1.0, 8000, freq)
    base = ["--workspace", str(workspace.root), "--json", "extract", "--input",
            str(tmp_path / "clips"), "--extractor", "summary"]
    assert main([*base, "--out", "tones"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert summary["n_features"] == 37 and summary["frames"] is None
    assert "one summary per clip" in summary["duration_policy"]
    data = read_features(workspace.dataset_path("tones"))
    assert data.attrs["feature_names"][0] == "mfcc_1"
    for extra in (["--frames", "4"], ["--preset", "us8k-thesis"]):
        assert main([*base, "--out", "other", *extra]) == 2
        error = json.loads(capsys.readouterr().out.strip().splitlines()[0])["error"]
        assert "one row of 37 numbers per clip" in error and f"drop {extra[0]}" in error
    assert not workspace.dataset_path("other").exists()


def test_summary_rows_cannot_be_played(tmp_path):
    from synth_core.data.spectrogram import spectrogram_settings
    from synth_core.errors import InputError

    with pytest.raises(InputError, match="cannot be turned back into sound"):
        spectrogram_settings({"extractor": "summary", "modality": "audio"}, name="tones")


def test_auto_length_summarises_each_whole_clip_without_padding(tmp_path):
    # Padding a 1 s clip to the median 3 s would pull its averages towards silence.
    write_tone(tmp_path / "c" / "short" / "a.wav", 1.0, RATE, 440.0)
    write_tone(tmp_path / "c" / "long" / "a.wav", 3.0, RATE, 440.0)
    write_tone(tmp_path / "c" / "long" / "b.wav", 3.0, RATE, 440.0)
    data = extract_clips(tmp_path / "c", ExtractConfig(extractor="summary")).data
    rms = data.features[:, FEATURE_NAMES.index("rms")]
    assert rms.max() / rms.min() < 1.05
    assert data.attrs["duration"] == "any" and data.attrs["n_padded"] == 0
    assert "each clip's own length" in data.attrs["duration_reason"]
    logmel = extract_clips(tmp_path / "c", ExtractConfig(extractor="logmel")).data
    assert logmel.attrs["n_padded"] == 1  # frame-based extractors still pad to one length
