"""The one-click tour: train, interpolate 3 -> 8, map."""

from __future__ import annotations

import numpy as np
import pytest

from synth_core.data.datasets import load_dataset
from synth_core.errors import InputError
from synth_core.features import read_features
from synth_core.generation import MapData
from synth_core.tour import TourConfig, run_tour, typical_row


def test_typical_row_is_of_the_class(workspace):
    data = load_dataset("builtin:digits", workspace)
    row = typical_row(data, 3)
    assert data.labels[row] == 3


@pytest.mark.slow
def test_tour_makes_run_path_and_map(workspace):
    result = run_tour(workspace, TourConfig(map_method="pca", steps=6))
    path = read_features(result["generated"])
    assert path.n_samples == 6
    assert path.attrs["mode"] == "interpolate"
    np.testing.assert_array_equal(path.parents[0], result["rows"])
    map_data = MapData.load(result["map"])
    assert map_data.n_generated == 6 and map_data.n_real == 1797


def test_tour_unknown_class_refused(workspace):
    with pytest.raises(InputError, match="class 'x'"):
        run_tour(workspace, TourConfig(from_class="x"))


@pytest.mark.slow
def test_tour_audio_variant_decodes_a_path_that_can_be_heard(workspace):
    from dataclasses import replace

    from synth_core.generation.audio import invert, settings_for
    from synth_core.tour import AUDIO_TOUR

    result = run_tour(workspace, replace(AUDIO_TOUR, epochs=1, steps=3))
    path = read_features(result["generated"])
    assert result["audio"] and path.n_samples == 3
    assert path.attrs["feature_shape"] == [64, 101]
    settings = settings_for(path)
    waves = invert(path.features[:1], settings, n_iter=2)
    assert waves.shape == (1, settings.n_samples) and np.abs(waves).max() > 0


def test_tour_job_refuses_an_unknown_variant(workspace):
    from synth_core.tour import tour_job

    ctx = type("Ctx", (), {"workspace": workspace, "__call__": lambda self, e: None})()
    with pytest.raises(InputError, match="variant 'video'"):
        tour_job({"variant": "video"}, ctx)
