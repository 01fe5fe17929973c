"""The path player: the map with the path drawn once, and the data its slider moves through."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synth_core.generation import figures, player
from synth_core.generation.maps import REAL, MapData


def _base():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(30, 2))
    data = MapData(xy=xy, labels=np.repeat([0, 1, 2], 10), source=np.array([REAL] * 30),
                   ids=[f"r{i}" for i in range(30)], class_names=["a", "b", "c"], method="pca")
    return figures.map_figure(data, height=500), xy


def test_path_map_draws_the_path_once_with_fixed_ranges():
    base, xy = _base()
    n_base = len(base.data)
    path_xy = np.linspace([-1.0, -1.0], [3.0, 4.0], 21)
    fig = player.path_map(base, path_xy, map_xy=xy)
    assert len(base.data) == n_base  # the cached map is not changed
    assert not fig.frames and not fig.layout.sliders  # nothing moves inside the figure
    by_name = {t.name: t for t in fig.data}
    np.testing.assert_allclose(by_name[player.PATH].x, path_xy[:, 0])
    assert list(by_name[player.ENDS].text) == ["first", "second"]
    # The marker's legend entry holds no point: the component draws the marker.
    marker = by_name[player.MARKER]
    assert np.isnan(marker.x[0]) and marker.marker.symbol == "star-diamond"
    # The ranges hold the real points and the whole path, and cannot be zoomed away.
    lo = np.minimum(xy.min(axis=0), path_xy.min(axis=0))
    hi = np.maximum(xy.max(axis=0), path_xy.max(axis=0))
    assert fig.layout.xaxis.range[0] < lo[0] and fig.layout.xaxis.range[1] > hi[0]
    assert fig.layout.yaxis.range[1] > hi[1] and fig.layout.xaxis.fixedrange


def test_player_data_holds_every_step_as_json():
    path_xy = np.linspace([-1.0, -1.0], [1.0, 2.0], 21)
    samples = (np.arange(21 * 12, dtype=np.float32).reshape(21, 12) / 7.0)
    data = player.player_data(path_xy, samples, feature_shape=[3, 4], value_range=(0.0, 40.0),
                              image=True, target="the-map", key="pair-1")
    data = json.loads(json.dumps(data))  # what the browser gets
    assert data["t"] == [f"{t:.2f}" for t in np.linspace(0, 1, 21)]
    assert data["start"] == 10 and data["prefix"] == player.T_PREFIX
    assert data["target"] == "the-map" and data["key"] == "pair-1"
    assert data["shape"] == [3, 4] and data["image"] is True and data["range"] == [0.0, 40.0]
    # Each step its own map position and its own decoded sample, to 5 significant digits.
    np.testing.assert_allclose(data["xy"], path_xy, rtol=5e-5)
    np.testing.assert_allclose(data["samples"], samples, rtol=5e-5)
    assert all(len(f"{v}") <= 8 for v in np.ravel(data["samples"]))


def test_player_data_line_panel_flat_range_and_bad_lengths():
    data = player.player_data(np.zeros((5, 2)), np.ones((5, 7)), feature_shape=None,
                              value_range=(2.0, 2.0), image=True, t=np.linspace(0, 1, 5),
                              start=0.3)
    assert data["shape"] == [] and data["image"] is False  # a line: no image without a grid
    assert data["range"] == [2.0, 3.0]  # a flat range is widened
    assert data["start"] == 1  # the step nearest 0.3 (0.25)
    # A shape that does not fit the row is not used.
    assert player.player_data(np.zeros((5, 2)), np.ones((5, 6)), feature_shape=[4, 4],
                              value_range=(0, 1), image=False,
                              t=np.linspace(0, 1, 5))["shape"] == []
    with pytest.raises(ValueError, match="as many map positions"):
        player.player_data(np.zeros((4, 2)), np.ones((5, 7)), feature_shape=None,
                           value_range=(0, 1), image=False, t=np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="at least two"):
        player.player_data(np.zeros((1, 2)), np.ones((1, 7)), feature_shape=None,
                           value_range=(0, 1), image=False, t=[0.5])


def test_player_data_sends_values_that_are_not_finite_as_null():
    """A diverged model decodes NaN or inf: JSON has no NaN, so they go as null (the
    browser leaves them out) and the rest of the path still plays."""
    samples = np.ones((3, 4))
    samples[1, 2], samples[2, 0] = np.nan, np.inf
    xy = np.zeros((3, 2))
    xy[2] = np.nan
    data = player.player_data(xy, samples, feature_shape=None, value_range=(0, 1),
                              image=False, t=[0.0, 0.5, 1.0])
    back = json.loads(json.dumps(data, allow_nan=False))  # raises on NaN
    assert back["samples"][1] == [1.0, 1.0, None, 1.0] and back["samples"][2][0] is None
    assert back["xy"][2] == [None, None] and back["xy"][0] == [0.0, 0.0]
