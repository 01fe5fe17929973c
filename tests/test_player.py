"""The path player figure: one frame per t with the marker and the decoded sample."""

from __future__ import annotations

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


def test_sample_grid_uses_two_axis_shapes_else_one_row():
    x = np.arange(12.0)
    assert player.sample_grid(x, [3, 4]).shape == (3, 4)
    assert player.sample_grid(x, [1, 3, 4]).shape == (1, 12)  # [C, H, W]: one row
    assert player.sample_grid(x, None).shape == (1, 12)
    assert player.sample_grid(x, [5, 5]).shape == (1, 12)  # shape of other data: one row


def test_path_player_has_a_frame_per_t_with_marker_and_sample():
    base, xy = _base()
    n_base = len(base.data)
    path_xy = np.linspace([-1.0, -1.0], [1.0, 2.0], 21)
    samples = np.arange(21 * 12, dtype=np.float32).reshape(21, 12)
    fig = player.path_player(base, path_xy, samples, feature_shape=[3, 4],
                             value_range=(0.0, 250.0), image=True, map_xy=xy)
    assert len(base.data) == n_base and not base.frames  # the cached map is not changed
    names = [t.name for t in fig.data]
    marker, sample = names.index(player.MARKER), names.index(player.SAMPLE)
    assert [f.name for f in fig.frames] == [f"{t:.2f}" for t in np.linspace(0, 1, 21)]
    assert all(list(f.traces) == [marker, sample] for f in fig.frames)
    # Starts at t = 0.5: the slider, the marker and the panel agree.
    slider = fig.layout.sliders[0]
    assert slider.active == 10 and slider.currentvalue.prefix == player.T_PREFIX
    assert [list(s.args[0]) for s in slider.steps] == [[f.name] for f in fig.frames]
    assert (fig.data[marker].x[0], fig.data[marker].y[0]) == tuple(path_xy[10])
    np.testing.assert_array_equal(fig.data[sample].z, samples[10].reshape(3, 4))
    # Each frame carries its own point of the path and its own decoded sample.
    markers, grids = player.frame_markers(fig), player.frame_samples(fig)
    assert markers["0.00"] == tuple(path_xy[0]) and markers["1.00"] == tuple(path_xy[20])
    np.testing.assert_array_equal(grids["0.35"], samples[7].reshape(3, 4))
    # An image keeps its aspect and reads top row first; the map's ranges cover map and path.
    assert fig.layout.yaxis2.scaleanchor == "x2" and fig.layout.yaxis2.autorange == "reversed"
    lo = np.minimum(xy.min(axis=0), path_xy.min(axis=0))
    assert fig.layout.xaxis.range[0] < lo[0] and fig.layout.xaxis.fixedrange
    assert fig.data[sample].colorscale[0][1].startswith("rgb(0")  # greyscale, black at zmin


def test_path_player_heatmap_for_features_and_bad_lengths_refused():
    base, _ = _base()
    fig = player.path_player(base, np.zeros((5, 2)), np.ones((5, 7)), feature_shape=None,
                             value_range=(2.0, 2.0), image=False, t=np.linspace(0, 1, 5))
    heat = fig.data[-1]
    assert np.asarray(heat.z).shape == (1, 7) and heat.zmax > heat.zmin  # flat range widened
    assert fig.layout.yaxis2.scaleanchor is None
    assert fig.layout.sliders[0].active == 2
    with pytest.raises(ValueError, match="as many map positions"):
        player.path_player(base, np.zeros((4, 2)), np.ones((5, 7)), feature_shape=None,
                           value_range=(0, 1), image=False, t=np.linspace(0, 1, 5))
