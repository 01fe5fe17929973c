"""The synthetic demo sounds behind builtin:demo-sounds (synth_core/data/demo_audio.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from synth_core.data.datasets import load_dataset
from synth_core.data.demo_audio import CLASSES, synthesize, write_demo_clips


def test_synthesize_is_deterministic_and_in_range():
    for name in CLASSES:
        a, b = synthesize(name, 3), synthesize(name, 3)
        np.testing.assert_array_equal(a, b)
        assert a.shape == (64000,) and a.dtype == np.float32
        assert 0.4 < np.abs(a).max() <= 0.9
    assert not np.array_equal(synthesize("siren", 0), synthesize("siren", 1))


def test_write_demo_clips_labelled_and_playable(tmp_path):
    clips = write_demo_clips(tmp_path / "demo", n_per_class=1)
    assert clips.class_names == list(CLASSES)
    assert len(clips.clips) == len(CLASSES)
    info = sf.info(str(clips.clips[0].path))
    assert info.samplerate == 16000 and info.duration == 4.0
    assert "synthetic" in clips.clips[0].path.name
    assert "not real recordings" in (tmp_path / "demo" / "README.txt").read_text()


def test_builtin_demo_sounds_features_separate_classes(workspace):
    data = load_dataset("builtin:demo-sounds", workspace)
    assert data.features.shape == (6 * 20, 512)
    assert data.attrs["modality"] == "audio" and data.attrs["feature_shape"] == [4, 128]
    assert "synthetic" in data.attrs["source"]
    assert all(Path(i).is_file() for i in data.ids[:3])
    # The classes should sound different: nearest class centroid (leave-none-out) is near perfect.
    X = (data.features - data.features.mean(0)) / (data.features.std(0) + 1e-6)
    centroids = np.stack([X[data.labels == k].mean(0) for k in range(6)])
    predicted = np.argmin(((X[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (predicted == data.labels).mean() > 0.9
