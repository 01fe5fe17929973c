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
    np.testing.assert_array_equal(grids["0.35"], samples[7])
    # An image: a greyscale heatmap of its shape, square pixels, row 0 on top.
    trace = fig.data[sample]
    assert trace.type == "heatmap" and trace.zmax == 250.0
    assert trace.colorscale[0][1].startswith("rgb(0")  # black at zmin
    assert fig.layout.yaxis2.scaleanchor == "x2" and fig.layout.yaxis2.autorange == "reversed"
    lo = np.minimum(xy.min(axis=0), path_xy.min(axis=0))
    assert fig.layout.xaxis.range[0] < lo[0] and fig.layout.xaxis.fixedrange


def test_path_player_line_for_features_and_bad_lengths_refused():
    base, _ = _base()
    fig = player.path_player(base, np.zeros((5, 2)), np.ones((5, 7)), feature_shape=None,
                             value_range=(2.0, 2.0), image=False, t=np.linspace(0, 1, 5))
    line = fig.data[-1]
    assert line.name == player.SAMPLE and len(line.y) == 7 and line.mode == "lines"
    assert fig.layout.yaxis2.range == (2.0, 3.0)  # a flat range is widened
    assert fig.layout.yaxis2.scaleanchor is None
    assert player.frame_samples(fig)["0.25"].shape == (7,)
    # Two-axis rows that are no image (a spectrogram): a heatmap filling the panel.
    fig = player.path_player(base, np.zeros((5, 2)), np.ones((5, 6)), feature_shape=[2, 3],
                             value_range=(0.0, 1.0), image=False, t=np.linspace(0, 1, 5))
    assert fig.data[-1].type == "heatmap" and fig.layout.yaxis2.scaleanchor is None
    assert fig.layout.sliders[0].active == 2
    with pytest.raises(ValueError, match="as many map positions"):
        player.path_player(base, np.zeros((4, 2)), np.ones((5, 7)), feature_shape=None,
                           value_range=(0, 1), image=False, t=np.linspace(0, 1, 5))
