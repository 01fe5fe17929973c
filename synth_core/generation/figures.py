"""Figures of maps: the thesis's plotly scatter, a movable marker, and HTML/JSON/PNG export.

:func:`map_figure` draws a :class:`~synth_core.generation.maps.MapData` the
thesis's way: real points faded, generated points as stars in the class colour
(matplotlib's nipy_spectral palette), numbered boxes at the class centroids
(real 0..K-1, generated K..2K-1), a legend grouped by source. :func:`add_marker`
moves one marker trace in place; :func:`export_figure` writes HTML, JSON or PNG.
Each point carries its MapData row in ``customdata``, so :func:`selected_rows`
turns a click on the map (a plotly selection) back into data rows.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.generation.maps import GENERATED, REAL, MapData, centroids
from synth_core.workspace import atomic_write_bytes


# matplotlib's nipy_spectral colour map (segment data copied; matplotlib is not a dependency):
# the thesis's palette, wide enough to keep 10+ classes apart.
_NIPY_SPECTRAL = {
    "red": [0.0, 0.4667, 0.5333, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.7333,
            0.9333, 1.0, 1.0, 1.0, 0.8667, 0.80, 0.80],
    "green": [0.0, 0.0, 0.0, 0.0, 0.0, 0.4667, 0.6000, 0.6667, 0.6667, 0.6000, 0.7333, 0.8667,
              1.0, 1.0, 0.9333, 0.8000, 0.6000, 0.0, 0.0, 0.0, 0.80],
    "blue": [0.0, 0.5333, 0.6000, 0.6667, 0.8667, 0.8667, 0.8667, 0.6667, 0.5333, 0.0, 0.0, 0.0,
             0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.80],
}
UNLABELED_COLOR = "#9e9e9e"


def class_colors(n_classes: int) -> list[str]:
    """One hex colour per class from nipy_spectral, skipping its black start and its end
    (0.86..1 is three near-identical reds, then grey)."""
    if n_classes <= 0:
        return []
    stops = np.linspace(0.0, 1.0, 21)
    where = np.linspace(0.03, 0.86, n_classes) if n_classes > 1 else np.array([0.5])
    channels = [np.interp(where, stops, _NIPY_SPECTRAL[c]) for c in ("red", "green", "blue")]
    return ["#%02x%02x%02x" % tuple(int(round(255 * v)) for v in rgb) for rgb in zip(*channels)]


def _text_color(hex_color: str) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


_AXIS_TITLES = {"tsne": "t-SNE", "joint-tsne": "t-SNE", "pca": "PC"}


def map_figure(data: MapData, *, title: str | None = None, show_centroids: bool = True,
               real_opacity: float = 0.5, height: int = 700, gl: bool = False):
    """Plotly figure of a map: one trace per (class, source), numbered centroid boxes.

    Real points are faded circles, generated points stars of the same class
    colour; the legend groups real and generated traces (click an entry to hide
    it, click a group title to hide the group); hover shows id, class and source.
    ``gl`` draws the points with WebGL (``Scattergl``): a figure the browser redraws
    often (the path player) redraws 1,800 points in ~30-45 ms instead of ~150 ms.
    """
    import plotly.graph_objects as go

    k = len(data.class_names)
    colors = class_colors(k)
    fig = go.Figure()
    labels = list(range(k)) + ([-1] if (data.labels < 0).any() else [])
    for source, offset in ((REAL, 0), (GENERATED, k)):
        for label in labels:
            mask = (data.source == source) & (data.labels == label)
            if not mask.any():
                continue
            name = data.class_names[label] if label >= 0 else "unlabeled"
            color = colors[label] if label >= 0 else UNLABELED_COLOR
            idx = np.flatnonzero(mask)
            # [n, 4]: id, class, source, and the MapData row (what a click maps back to)
            custom = np.stack([np.array(data.ids, dtype=object)[idx],
                               np.full(len(idx), name, dtype=object),
                               np.full(len(idx), source, dtype=object),
                               idx.astype(object)], axis=1)
            is_real = source == REAL
            fig.add_trace((go.Scattergl if gl else go.Scatter)(
                x=data.xy[idx, 0], y=data.xy[idx, 1], mode="markers",
                name=f"{label + offset}: {name}" if label >= 0 else f"{name} ({source})",
                legendgroup=source,
                legendgrouptitle_text="Real (faded)" if is_real else "Generated (stars)",
                marker=dict(color=color, symbol="circle" if is_real else "star",
                            size=7 if is_real else 13, opacity=real_opacity if is_real else 1.0,
                            line=dict(width=0 if is_real else 0.8, color="#222222")),
                customdata=custom,
                hovertemplate="%{customdata[0]}<br>class: %{customdata[1]}"
                              "<br>%{customdata[2]}<extra></extra>",
                meta={"label": int(label), "source": source}))
    if show_centroids:
        for c in centroids(data):
            color = colors[c.label]
            generated = c.source == GENERATED
            fig.add_annotation(
                x=c.x, y=c.y, text=f"<b>{c.number}</b>", showarrow=False,
                font=dict(size=12, color=_text_color(color) if generated else "#000000"),
                bgcolor=color if generated else "rgba(255,255,255,0.85)",
                bordercolor="#222222" if generated else color, borderwidth=2, borderpad=3,
                hovertext=f"{'generated' if generated else 'real'} centroid of "
                          f"{data.class_names[c.label]}")
    axis = _AXIS_TITLES.get(data.method, "")
    fig.update_layout(
        title=title or _default_title(data), template="plotly_white", height=height,
        legend=dict(groupclick="toggleitem", itemsizing="constant", tracegroupgap=12),
        margin=dict(l=40, r=20, t=60, b=40), hovermode="closest")
    fig.update_xaxes(title_text=f"{axis} 1", showticklabels=False, zeroline=False)
    fig.update_yaxes(title_text=f"{axis} 2", showticklabels=False, zeroline=False,
                     scaleanchor="x", scaleratio=1)
    return fig


CUSTOM_ROW = 3  # the column of a point's customdata holding its MapData row


def point_row(data: MapData, customdata: Any) -> int | None:
    """The MapData row of one point of :func:`map_figure` (its ``customdata``), or None.

    The row counts only when the id and source stored beside it name that row of
    ``data``, so a selection left over from another map (other files, another
    method) is ignored instead of pointing at the wrong row; points of other
    traces (a marker, a path) have no such customdata.
    """
    if not isinstance(customdata, (list, tuple)) or len(customdata) <= CUSTOM_ROW:
        return None
    try:
        row = int(customdata[CUSTOM_ROW])
    except (TypeError, ValueError):
        return None
    if not 0 <= row < len(data.ids):
        return None
    if data.ids[row] != str(customdata[0]) or data.source[row] != str(customdata[2]):
        return None
    return row


def selected_rows(data: MapData, points: Any) -> list[int]:
    """MapData rows of a plotly selection (``st.plotly_chart(...).selection.points``), in order.

    Each point is a dict whose ``customdata`` is the one :func:`map_figure` gave it.
    """
    rows = (point_row(data, (p or {}).get("customdata")) for p in points or [])
    return [r for r in rows if r is not None]


def source_row(data: MapData, row: int) -> tuple[str, int]:
    """``(source, i)``: MapData row ``row`` is row ``i`` of the real data or of the generated data.

    Counted by source, so it holds whatever order the rows are in (maps put real rows first).
    """
    source = str(data.source[row])
    return source, int((data.source[:row] == source).sum())


def _default_title(data: MapData) -> str:
    method = {"tsne": "t-SNE (real map fixed)", "joint-tsne": "joint t-SNE",
              "pca": "PCA"}.get(data.method, data.method)
    space = "latent space, " if data.meta.get("space") == "latent" else ""
    gen = f" + {data.n_generated} generated" if data.n_generated else ""
    return f"{method}: {space}{data.n_real} real{gen}"


MARKER_NAME = "selected sample"


def add_marker(fig, xy: np.ndarray, *, name: str = MARKER_NAME, color: str = "#000000"):
    """Show ``xy`` [n, 2] as a big outlined marker; updates the trace in place if it exists.

    Changes only the marker trace's data when called again (no rebuilt figure).
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    for trace in fig.data:
        if trace.name == name:
            trace.x, trace.y = xy[:, 0], xy[:, 1]
            return fig
    fig.add_trace(marker_trace(xy, name=name, color=color))
    return fig


def freeze_frame(fig, xy: np.ndarray, *, legend_px: int = 230, pad: float = 0.05):
    """Fix ``fig``'s plot area: no zoom, no rescaling when a marker moves (the path player).

    Axis ranges are set to cover ``xy`` [n, 2] (plus ``pad`` of the span) and
    can no longer be zoomed; margins are fixed (the legend sits in a right
    margin of ``legend_px`` pixels instead of pushing the plot area aside), so
    the plot area depends only on the figure's width and height. Returns ``fig``.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    lo, hi = lo - pad * span, hi + pad * span
    margin = fig.layout.margin
    fig.update_layout(margin=dict(l=margin.l if margin.l is not None else 40,
                                  r=legend_px, t=margin.t if margin.t is not None else 60,
                                  b=margin.b if margin.b is not None else 40, autoexpand=False),
                      legend=dict(x=1.02, xanchor="left", y=1.0, yanchor="top"))
    fig.update_xaxes(range=[lo[0], hi[0]], autorange=False, fixedrange=True)
    fig.update_yaxes(range=[lo[1], hi[1]], autorange=False, fixedrange=True)
    return fig


def marker_trace(xy: np.ndarray, *, name: str = "selected sample", color: str = "#000000"):
    """The big outlined star that marks one decoded point (:func:`add_marker` draws it too)."""
    import plotly.graph_objects as go

    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    return go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers", name=name,
                      marker=dict(symbol="star-diamond", size=20, color=color,
                                  line=dict(width=2, color="#ffffff")),
                      hovertemplate=f"{name}<extra></extra>")


# --------------------------------------------------------------------------- export

EXPORT_FORMATS = {".html": "text/html", ".json": "application/json", ".png": "image/png"}


def chrome_path() -> str | None:
    """The Chrome/Chromium that PNG export (kaleido) will use, or None when there is none."""
    override = os.environ.get("BROWSER_PATH")
    if override:
        return override if Path(override).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in ("/usr/bin/chromium", "/usr/lib/chromium/chromium"):
        if Path(candidate).is_file():
            return candidate
    return None


def figure_bytes(fig, fmt: str, *, width: int = 1100, height: int = 800, scale: float = 2.0
                 ) -> bytes:
    """The figure as ``html`` (self-contained, works offline), ``json`` or ``png`` bytes."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "html":
        return fig.to_html(include_plotlyjs=True, full_html=True).encode("utf-8")
    if fmt == "json":
        return fig.to_json().encode("utf-8")
    if fmt == "png":
        browser = chrome_path()
        if browser is None:
            raise StorageError(
                "PNG export needs Chrome or Chromium (kaleido draws the figure with it) and none "
                "was found; install it (apt-get install chromium), point BROWSER_PATH at it, or "
                "export HTML instead")
        # kaleido 1.x finds the browser through choreographer: $BROWSER_PATH first, then PATH.
        os.environ.setdefault("BROWSER_PATH", browser)
        try:
            return fig.to_image(format="png", width=width, height=height, scale=scale)
        except Exception as exc:  # noqa: BLE001 - kaleido/Chrome failures have many types
            raise StorageError(f"PNG export with {browser} failed: {type(exc).__name__}: {exc}; "
                               "export HTML instead, or check that the browser starts") from exc
    raise InputError(f"export format {fmt!r} is not supported; use one of "
                     f"{', '.join(s.lstrip('.') for s in EXPORT_FORMATS)}")


def export_figure(fig, path: str | os.PathLike[str], *, overwrite: bool = False, **kwargs) -> Path:
    """Write the figure to ``path``; the format follows the suffix (.html, .json, .png)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise InputError(f"{path}: unknown map format {suffix or '(none)'}; end the file name "
                         f"in {', '.join(EXPORT_FORMATS)}")
    if path.exists() and not overwrite:
        raise StorageError(f"{path} already exists; choose another name or pass overwrite=True "
                           "(--overwrite on the CLI)")
    atomic_write_bytes(path, figure_bytes(fig, suffix, **kwargs))
    return path

