"""The path player: a map and a decoded sample that move along a latent path in the browser.

One plotly figure holds the real map, the path between two samples, a marker
on the path and a panel with the sample decoded there. One plotly frame per
point of the path carries only the marker's position and that sample, and a
plotly slider switches between the frames in the browser:
moving it costs the server nothing and sends nothing over the network, so a
room of students can move their sliders at the same moment (issue #13). (A Play
button was tried and left out: inside Streamlit, an animation of several frames
stalled or stopped half-way on a busy machine.) The
figure is built once per pair of samples; the server decodes the path's points
in one batch when it builds it.

Torch-free: the caller decodes the path (``interpolation.decode_path``) and
places it on the map (``maps.RealMap.place``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from synth_core.generation.figures import freeze_frame, marker_trace

PLAYER_T = np.round(np.linspace(0.0, 1.0, 21), 2)  # steps of 0.05, ends included
MARKER = "decoded point"
SAMPLE = "decoded sample"
T_PREFIX = "decoded at t = "
SAMPLE_DOMAIN = (0.0, 0.3)  # the sample panel's share of the width; the map takes the rest
MAP_DOMAIN = (0.36, 1.0)


def _animate(name: str) -> list[Any]:
    """Arguments of ``Plotly.animate`` that jump to frame ``name``.

    With redraw: a heatmap changes only on a redraw, and inside Streamlit a frame
    shown without one left the map deaf to clicks (no plotly_click, so no end point
    picked on the map). A redraw costs the browser 75-200 ms in headless Chromium
    (WebGL points; an SVG map of 1,800 points took 130-170 ms more), the server nothing.
    """
    return [[name], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                     "transition": {"duration": 0}}]


def _grid_panel(samples: np.ndarray, k: int, shape: Sequence[int], value_range, image: bool):
    """A row with a two-axis shape (an image, a spectrogram, VGGish frames) as a heatmap:
    greyscale with square pixels for images, Viridis filling the panel otherwise."""
    import plotly.graph_objects as go

    h, w = (int(v) for v in shape)
    lo, hi = value_range
    trace = go.Heatmap(z=samples[k].reshape(h, w), name=SAMPLE, xaxis="x2", yaxis="y2",
                       zmin=lo, zmax=hi, colorscale="gray" if image else "Viridis",
                       showscale=False, hovertemplate="value %{z:.3g}<extra></extra>")
    axes = dict(
        xaxis2=dict(domain=list(SAMPLE_DOMAIN), anchor="y2", visible=False, fixedrange=True,
                    constrain="domain"),
        yaxis2=dict(domain=[0.25, 1.0], anchor="x2", visible=False, fixedrange=True,
                    autorange="reversed", constrain="domain",
                    **({"scaleanchor": "x2", "scaleratio": 1} if image else {})))
    return trace, axes, lambda x: go.Heatmap(z=np.asarray(x).reshape(h, w))


def _line_panel(samples: np.ndarray, k: int, value_range):
    """Any other row as its values by feature (row ``k`` of ``samples`` first), the path's
    two decoded ends faint behind."""
    import plotly.graph_objects as go

    n = samples.shape[1]
    lo, hi = value_range
    index = np.arange(n)
    ends = [go.Scatter(x=index, y=samples[i], mode="lines", xaxis="x2", yaxis="y2",
                       name=f"decoded at t = {'0' if i == 0 else '1'}", showlegend=False,
                       hoverinfo="skip", line=dict(color="#bbbbbb", width=1))
            for i in (0, -1)]
    trace = go.Scatter(x=index, y=samples[k], mode="lines", name=SAMPLE, xaxis="x2",
                       yaxis="y2", showlegend=False,
                       hovertemplate="feature %{x}: %{y:.3g}<extra></extra>",
                       line=dict(color="#1f3b73", width=1.5))
    axes = dict(
        xaxis2=dict(domain=list(SAMPLE_DOMAIN), anchor="y2", fixedrange=True,
                    range=[-0.5, n - 0.5], title_text="feature", showgrid=False),
        yaxis2=dict(domain=[0.25, 1.0], anchor="x2", fixedrange=True, range=[lo, hi],
                    title_text="value", title_standoff=2))
    return ends, trace, axes, lambda x: go.Scatter(y=x)


def path_player(base, path_xy: np.ndarray, samples: np.ndarray, *,
                feature_shape: Sequence[int] | None, value_range: tuple[float, float],
                image: bool, t: np.ndarray = PLAYER_T, start: float = 0.5,
                map_xy: np.ndarray | None = None):
    """``base`` (the real map, :func:`figures.map_figure`) with the path player added.

    ``path_xy`` [S, 2] are the map positions of the decoded ``samples`` [S, F] at
    ``t`` [S]. Adds the path line, its two ends, the marker and the sample panel
    (a heatmap of a two-axis ``feature_shape``, greyscale with square pixels for an
    ``image``; else the values by feature; colours or axis within ``value_range``), one
    frame per ``t`` named by its value ("0.50"), and a slider that starts at ``start``.
    ``map_xy`` (the real points) fixes the map's ranges together with the path, so a
    move never rescales the axes. Returns a new figure; ``base`` is not changed.
    """
    import plotly.graph_objects as go

    path_xy = np.asarray(path_xy, dtype=np.float64).reshape(-1, 2)
    samples = np.asarray(samples, dtype=np.float32)
    samples = samples.reshape(len(samples), -1)
    t = np.asarray(t, dtype=np.float64).ravel()
    if not (len(path_xy) == len(samples) == len(t)) or len(t) < 2:
        raise ValueError(f"path_player needs as many map positions ({len(path_xy)}), samples "
                         f"({len(samples)}) and t values ({len(t)}), at least two")
    names = [f"{v:.2f}" for v in t]
    k = int(np.argmin(np.abs(t - start)))
    lo, hi = (float(v) for v in value_range)
    value_range = (lo, hi if hi > lo else lo + 1.0)
    fig = go.Figure(base)
    frame_xy = path_xy if map_xy is None else np.vstack([np.asarray(map_xy).reshape(-1, 2),
                                                         path_xy])
    freeze_frame(fig, frame_xy, legend_px=170)
    fig.update_layout(margin=dict(b=110), xaxis=dict(domain=list(MAP_DOMAIN)))
    fig.add_trace(go.Scatter(x=path_xy[:, 0], y=path_xy[:, 1], mode="lines",
                             name="path (t = 0 to 1)", hoverinfo="skip",
                             line=dict(color="#222222", width=2, dash="dot")))
    fig.add_trace(go.Scatter(x=path_xy[[0, -1], 0], y=path_xy[[0, -1], 1], mode="markers+text",
                             name="decoded end points", text=["first", "second"],
                             textposition="top center", hoverinfo="skip",
                             marker=dict(size=14, color="rgba(0,0,0,0)",
                                         line=dict(color="#222222", width=2))))
    shape = tuple(int(v) for v in (feature_shape or ()))
    if len(shape) == 2 and shape[0] * shape[1] == samples.shape[1]:
        panel, axes, frame_trace = _grid_panel(samples, k, shape, value_range, image)
    else:
        ends, panel, axes, frame_trace = _line_panel(samples, k, value_range)
        fig.add_traces(ends)
    fig.add_trace(marker_trace(path_xy[k:k + 1], name=MARKER))
    fig.add_trace(panel)
    fig.update_layout(**axes)
    marker_index, sample_index = len(fig.data) - 2, len(fig.data) - 1
    fig.frames = [go.Frame(name=name, traces=[marker_index, sample_index],
                           data=[go.Scatter(x=path_xy[i:i + 1, 0], y=path_xy[i:i + 1, 1]),
                                 frame_trace(samples[i])])
                  for i, name in enumerate(names)]
    fig.update_layout(
        sliders=[dict(active=k, x=0.0, len=1.0, y=0.0, yanchor="top", pad=dict(t=20, b=0),
                      currentvalue=dict(prefix=T_PREFIX, xanchor="left", font=dict(size=14)),
                      steps=[dict(label=name, method="animate", args=_animate(name))
                             for name in names])])
    return fig


def frame_samples(fig) -> dict[str, np.ndarray]:
    """The decoded sample of every frame of a player figure, by frame name ("0.50"), flat."""
    out = {}
    for frame in fig.frames:
        trace = frame.data[1]
        values = trace.z if trace.type == "heatmap" else trace.y
        out[frame.name] = np.asarray(values, dtype=np.float32).ravel()
    return out


def frame_markers(fig) -> dict[str, tuple[float, float]]:
    """The marker position of every frame of a player figure, by frame name."""
    return {frame.name: (float(frame.data[0].x[0]), float(frame.data[0].y[0]))
            for frame in fig.frames}
