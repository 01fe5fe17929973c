"""The path player: a marker and a decoded sample that move along a latent path in the browser.

Two parts, built once per pair of samples (the server decodes the path's points in
one batch when it builds them):

* :func:`path_map`: the real map (a plotly figure) with the path, its two ends and a
  legend entry for the marker. It never changes while the slider moves, so the browser
  draws it once and it keeps plotly's hover, legend and click-to-pick.
* :func:`player_data`: what the player component (``pages/common/path_player.js``)
  needs to move without the server: the path's map positions and the sample decoded at
  each of its points. Its slider moves a star drawn over the map (one SVG element placed
  with the map's own axes) and redraws the sample panel (a canvas or a line), a few
  milliseconds a move; nothing is sent to the server and the map is not redrawn.

Issue #13: with plotly frames, every move redrew the WebGL map, 75-200 ms a move in
headless Chromium and about 1 s with 20 browsers on 2 cores.

Torch-free: the caller decodes the path (``interpolation.decode_path``) and
places it on the map (``maps.RealMap.place``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from synth_core.generation.figures import freeze_frame, marker_trace

PLAYER_T = np.round(np.linspace(0.0, 1.0, 21), 2)  # steps of 0.05, ends included
MARKER = "decoded point"
PATH = "path (t = 0 to 1)"
ENDS = "decoded end points"
T_PREFIX = "decoded at t = "
SIGNIFICANT = 5  # digits of a decoded value sent to the browser (float32 has about 7)


def _checked(path_xy, samples, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    path_xy = np.asarray(path_xy, dtype=np.float64).reshape(-1, 2)
    samples = np.asarray(samples, dtype=np.float32)
    samples = samples.reshape(len(samples), -1)
    t = np.asarray(t, dtype=np.float64).ravel()
    if not (len(path_xy) == len(samples) == len(t)) or len(t) < 2:
        raise ValueError(f"path_player needs as many map positions ({len(path_xy)}), samples "
                         f"({len(samples)}) and t values ({len(t)}), at least two")
    return path_xy, samples, t


def path_map(base, path_xy: np.ndarray, *, map_xy: np.ndarray | None = None):
    """``base`` (the real map, :func:`figures.map_figure`) with the path drawn on it.

    Adds the path line through ``path_xy`` [S, 2], its two ends and a legend entry for
    the moving marker (the player component draws the marker itself). ``map_xy`` (the
    real points) fixes the map's ranges together with the path, so the marker never
    leaves the plot. Returns a new figure; ``base`` is not changed.
    """
    import plotly.graph_objects as go

    path_xy = np.asarray(path_xy, dtype=np.float64).reshape(-1, 2)
    fig = go.Figure(base)
    frame_xy = path_xy if map_xy is None else np.vstack([np.asarray(map_xy).reshape(-1, 2),
                                                         path_xy])
    freeze_frame(fig, frame_xy, legend_px=170)
    fig.add_trace(go.Scatter(x=path_xy[:, 0], y=path_xy[:, 1], mode="lines", name=PATH,
                             hoverinfo="skip",
                             line=dict(color="#222222", width=2, dash="dot")))
    fig.add_trace(go.Scatter(x=path_xy[[0, -1], 0], y=path_xy[[0, -1], 1], mode="markers+text",
                             name=ENDS, text=["first", "second"],
                             textposition="top center", hoverinfo="skip",
                             marker=dict(size=14, color="rgba(0,0,0,0)",
                                         line=dict(color="#222222", width=2))))
    legend_only = marker_trace(np.full((1, 2), np.nan), name=MARKER)
    legend_only.update(hoverinfo="skip", hovertemplate=None)
    fig.add_trace(legend_only)
    return fig


def _rounded(values: np.ndarray) -> list:
    """``values`` as nested lists of floats with :data:`SIGNIFICANT` significant digits
    (JSON for the browser: about half the bytes of full float32 text). A value that is
    not finite (a diverged model's output) becomes None: JSON has no NaN, and the player
    draws it as missing."""
    values = np.asarray(values, dtype=np.float64)
    out = [float(f"{v:.{SIGNIFICANT}g}") if np.isfinite(v) else None for v in values.ravel()]
    return np.array(out, dtype=object).reshape(values.shape).tolist()


def player_data(path_xy: np.ndarray, samples: np.ndarray, *,
                feature_shape: Sequence[int] | None, value_range: tuple[float, float],
                image: bool, t: np.ndarray = PLAYER_T, start: float = 0.5,
                target: str = "gen-map", key: str = "") -> dict[str, Any]:
    """What the player component moves through, as JSON-safe values.

    ``path_xy`` [S, 2] are the map positions of the decoded ``samples`` [S, F] at
    ``t`` [S]. The panel shows a sample as a heatmap of a two-axis ``feature_shape``
    (greyscale with square pixels for an ``image``, Viridis otherwise) or else as its
    values by feature, coloured or scaled within ``value_range``. The slider starts at
    the step nearest ``start``. ``target`` is the key of the ``st.plotly_chart`` holding
    the map (:func:`path_map`) that the marker is drawn over; ``key`` names the pair, so
    the browser keeps the slider where it was while the pair stays the same.
    """
    path_xy, samples, t = _checked(path_xy, samples, t)
    lo, hi = (float(v) for v in value_range)
    shape = [int(v) for v in (feature_shape or ())]
    if len(shape) != 2 or shape[0] * shape[1] != samples.shape[1]:
        shape = []
    return {"key": str(key), "target": str(target),
            "t": [f"{v:.2f}" for v in t], "start": int(np.argmin(np.abs(t - start))),
            "xy": _rounded(path_xy), "samples": _rounded(samples),
            "shape": shape, "image": bool(image) and bool(shape),
            "range": [lo, hi if hi > lo else lo + 1.0], "prefix": T_PREFIX}
