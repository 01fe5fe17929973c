"""Widgets of the Generate page: cached run loading, the pair picker, sample views, results.

Models, data and maps are loaded through ``st.cache_resource`` keyed by the run
folder (and its config's mtime), so a new pair decodes its path in one batch
with a model already in memory, and the path player then moves in the browser
alone. Session state holds only row indices and configs (see
:mod:`pages.common.state`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages.common import audio_ui, player_ui, state, ui
from pages.common.explore_ui import train_link  # noqa: F401 - the pages share one link
from synth_core.data.datasets import load_dataset
from synth_core.events import Log
from synth_core.features import FeatureSet
from synth_core.generation.baselines import (baseline_feature_set, class_counts, fit_rows,
                                             fittable_counts)
from synth_core.generation.codes import load_run_data
from synth_core.generation.export import default_export_name, export_bytes, save_generated
from synth_core.generation.figures import class_colors, map_figure, selected_rows, source_row
from synth_core.generation.generator import GenerateConfig, generate, path_spread_warning
from synth_core.generation.interpolation import (Endpoints, decode_path, encode_pair,
                                                 interpolate_pair, random_pair)
from synth_core.generation.maps import REAL, fit_map
from synth_core.generation.neighbors import nearest_rows
from synth_core.generation.player import PLAYER_T, path_map, player_data
from synth_core.training.runs import Run
from synth_core.workspace import read_json, safe_name

MAP_METHODS = {"pca": "PCA (instant)", "tsne": "t-SNE (computed once, then cached)"}
_IMAGE_PX = 144  # decoded images are drawn this wide (nearest-neighbour upscaling)


# --------------------------------------------------------------------------- cached loaders


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def _load_run(run_dir: str, mtime: float) -> Run:
    return Run.load(run_dir, device="cpu")


def load_run(run_dir: str) -> Run:
    """The run at ``run_dir``, loaded once per server (CPU: one point decodes in ~1 ms)."""
    return _load_run(run_dir, ui.run_mtime(run_dir))


@st.cache_resource(show_spinner="Reading the data...", max_entries=4)
def _load_data(run_dir: str, mtime: float) -> FeatureSet:
    return load_run_data(load_run(run_dir), state.workspace())


def load_data(run_dir: str) -> FeatureSet:
    """The real data the run was trained on (shared, read-only)."""
    return _load_data(run_dir, ui.run_mtime(run_dir))


@st.cache_resource(max_entries=32)
def endpoints(run_dir: str, i: int, j: int, path: str, codes: str) -> Endpoints:
    return encode_pair(load_run(run_dir), load_data(run_dir), i, j, path=path, codes=codes)


@st.cache_resource(max_entries=8)
def path_rows(run_dir: str, i: int, j: int, path: str, codes: str, steps: int) -> FeatureSet:
    """The path between rows ``i`` and ``j`` at ``steps`` evenly spaced t, ends included, with
    provenance (what the strip shows and the save/download buttons write)."""
    return interpolate_pair(load_run(run_dir), load_data(run_dir), i, j,
                            t=np.linspace(0.0, 1.0, steps), path=path, codes=codes)


@st.cache_resource(show_spinner="Fitting the map of the real data...", max_entries=4)
def real_map(run_dir: str, method: str):
    return fit_map(load_data(run_dir), method=method, cache_dir=state.workspace().cache_dir)


def generated(run_dir: str, config_json: str) -> FeatureSet:
    """Generated rows for a config; seeded, so caching by the config is exact."""
    return _generated_and_warnings(run_dir, config_json)[0]


@st.cache_resource(show_spinner="Generating...", max_entries=8)
def _generated_and_warnings(run_dir: str, config_json: str) -> tuple[FeatureSet, list[str]]:
    """The rows and the warnings generation logged (a class the draw gave no rows, ...)."""
    warnings: list[str] = []

    def collect(event) -> None:
        if isinstance(event, Log) and event.level == "warning":
            warnings.append(event.message)

    config = GenerateConfig.from_dict(json.loads(config_json))
    return generate(load_run(run_dir), load_data(run_dir), config, callback=collect), warnings


def generation_warnings(run_dir: str, config_json: str) -> list[str]:
    """What generating these rows warned about, in the page's words (no CLI flags)."""
    return [w.replace("(--per-class N)", "(By class, with the real class balance off)")
            for w in _generated_and_warnings(run_dir, config_json)[1]]


@st.cache_resource(max_entries=8)
def spread_warning(run_dir: str, config_json: str) -> str | None:
    """:func:`path_spread_warning` of :func:`generated`'s rows, measured once per config,
    not on every rerun of the page."""
    return path_spread_warning(generated(run_dir, config_json), load_data(run_dir))


# --------------------------------------------------------------------------- pickers


def run_label(run_dir: Path) -> str:
    meta = read_json(run_dir / "config.json", {})
    return f"{run_dir.name}  ({meta.get('model', '?')} on {meta.get('dataset_ref', '?')})"


def run_picker(runs: list[Path]) -> str:
    current = state.get(state.RUN)
    names = [str(r) for r in runs]
    choice = st.selectbox("Trained model", names, index=names.index(current) if current in names
                          else 0, format_func=lambda r: run_label(Path(r)),
                          help="A run folder from the Train page (newest first). A VAE "
                               "interpolates between samples; a CVAE also generates by class.")
    state.put(state.RUN, choice)
    return choice


def class_row_picker(data: FeatureSet, label: str, *, key: str, default_row: int) -> int:
    """A class and the index of a sample inside it -> a data row."""
    names = data.class_names or ["(unlabeled)"]
    default_class = max(int(data.labels[default_row]), 0)
    left, right = st.columns(2)
    c = left.selectbox(f"{label}: class", range(len(names)), index=default_class,
                       format_func=lambda k: names[k] if names[k] == str(k) else f"{k}: {names[k]}",
                       key=f"{key}-class",
                       help="The class to take this end point from.")
    rows = np.flatnonzero(data.labels == c) if data.is_labeled else np.arange(data.n_samples)
    pos = int(np.searchsorted(rows, default_row)) if c == default_class else 0
    k = right.number_input(f"{label}: index in class", 0, max(len(rows) - 1, 0),
                           min(pos, len(rows) - 1), key=f"{key}-index",
                           help=f"Which of the {len(rows)} samples of this class (0-based).")
    return int(rows[k])


def pair_picker(data: FeatureSet) -> tuple[int, int]:
    """Choose two samples: by class and index, a random pair, or clicks on the map."""
    stored = state.get(state.GEN_PAIR)
    # A pair remembered from another run's data may point past this data's rows.
    fits = stored is not None and max(stored) < data.n_samples
    i, j = stored if fits else random_pair(data, random_state=0)
    how = st.radio("Choose the two samples", ["By class and index", "Random pair",
                                              "Click on the map"], horizontal=True,
                   help="End points of the interpolation: pick them in lists, draw a random "
                        "pair, or click two points of the map below.")
    if how == "By class and index":
        left, right = st.columns(2)
        with left:
            i = class_row_picker(data, "First", key="gen-a", default_row=i)
        with right:
            j = class_row_picker(data, "Second", key="gen-b", default_row=j)
    elif how == "Random pair":
        same = st.checkbox("Both from the same class", value=True,
                           help="Within-class pairs are what the thesis's protocol uses.")
        if st.button("New random pair", icon=":material/casino:",
                     help="Draw two different random samples."):
            label = int(np.random.default_rng().choice(data.labels)) if same else None
            i, j = random_pair(data, label=label if data.is_labeled else None)
    else:
        target = st.radio("The next click sets", ["first", "second"], horizontal=True,
                          key=state.GEN_CLICK, help="Click a real point on the map to make it "
                                                    "this end point.")
        st.caption(f"Click a faded (real) point on the map to set the {target} sample.")
    state.put(state.GEN_PAIR, (int(i), int(j)))
    return int(i), int(j)


# --------------------------------------------------------------------------- sample views


def modality(data: FeatureSet) -> str:
    shape = data.attrs.get("feature_shape")
    if data.attrs.get("modality") == "image" and shape and len(shape) == 2:
        return "image"
    return str(data.attrs.get("modality", "tabular"))


def to_image(x: np.ndarray, data: FeatureSet) -> np.ndarray:
    """A decoded row as a crisp greyscale image in [0, 1] (nearest-neighbour upscaled)."""
    h, w = data.attrs["feature_shape"]
    lo, hi = float(data.features.min()), float(data.features.max())
    img = np.clip((np.asarray(x).reshape(h, w) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    scale = max(_IMAGE_PX // max(h, w), 1)
    return np.kron(img, np.ones((scale, scale)))


def heatmap(X: np.ndarray, data: FeatureSet, *, title: str, row_labels=None) -> go.Figure:
    """Feature vectors as a heatmap: one row per vector (or the feature shape for one)."""
    X = np.atleast_2d(X)
    shape = data.attrs.get("feature_shape")
    if len(X) == 1 and shape and len(shape) == 2 and shape[0] * shape[1] == X.shape[1]:
        X = X.reshape(shape)
        row_labels = None
    lo, hi = value_range(data)
    fig = go.Figure(go.Heatmap(z=X, y=row_labels, zmin=lo, zmax=hi, colorscale="Viridis",
                               colorbar={"thickness": 10}))
    fig.update_layout(title=title, height=120 + 14 * len(X), margin=dict(l=40, r=10, t=40, b=20),
                      yaxis={"autorange": "reversed"})
    return fig


def show_sample(x: np.ndarray, data: FeatureSet, *, caption: str, key: str) -> None:
    """One decoded sample: an image, a heatmap, and for audio the nearest real clips."""
    kind = modality(data)
    if kind == "image":
        st.image(to_image(x, data), caption=caption, clamp=True)
        return
    if kind == "audio" and audio_ui.play(x, data, caption=caption):  # spectrograms: hear it
        return
    st.plotly_chart(heatmap(x, data, title=caption), key=key, width="stretch",
                    config={"displayModeBar": False})
    if kind == "audio":
        rows, dist = (a[0] for a in nearest_rows(data.features, x, k=3))
        st.caption("Nearest real clips (Euclidean distance in feature space):")
        for row, d in zip(rows, dist):
            clip = (data.ids or [""] * data.n_samples)[row]
            label = data.class_names[data.labels[row]] if data.labels[row] >= 0 else "?"
            st.text(f"row {row} · {label} · distance {d:.3g} · {Path(clip).name or clip}")
            audio_ui.play_clip(clip)


def show_ends(data: FeatureSet, ends: Endpoints) -> None:
    """The two real samples at the ends of the path (images only), for comparison."""
    if modality(data) == "image":
        st.image([to_image(data.features[r], data) for r in (ends.index_a, ends.index_b)],
                 caption=["first", "second"], width=64, clamp=True)


def path_strip(X: np.ndarray, t: np.ndarray, data: FeatureSet, *, key: str) -> None:
    """The whole path as a strip of decoded samples, first sample left."""
    if modality(data) == "image":
        st.image([to_image(x, data) for x in X], caption=[f"t={v:.2f}" for v in t],
                 width=72, clamp=True)
    elif modality(data) == "audio" and audio_ui.play_strip(X, [f"t={v:.2f}" for v in t], data):
        return
    else:
        st.plotly_chart(heatmap(X, data, title="Path (one row per t)",
                                row_labels=[f"t={v:.2f}" for v in t]),
                        key=key, width="stretch", config={"displayModeBar": False})


# --------------------------------------------------------------------------- sampling options

PRIOR_LABELS = {"auto": "Automatic", "normal": "N(0, I)",
                "mixture": "Mixture of the training codes",
                "posterior": "Posterior of a training row", "fitted": "Gaussian of the codes"}
OUTPUT_LABELS = {"mean": "Decoded mean", "sample": "Drawn from the decoder"}


def output_option(run: Run, *, key: str, default: str | None = None) -> str:
    """Decoded means, or rows drawn from the decoder's distribution (when the run can);
    ``default`` preselects one (else draws where the run can)."""
    can = bool(getattr(run, "can_sample_output", False))
    # Draws are the default where the decoder can (benchmarks/quality.py: far harder to tell
    # from real rows at the same accuracy); a run saved before decoders measured their spread
    # can only give means.
    default = default if can and default in OUTPUT_LABELS else ("sample" if can else "mean")
    return st.radio("Rows", list(OUTPUT_LABELS), format_func=OUTPUT_LABELS.get, horizontal=True,
                    index=list(OUTPUT_LABELS).index(default),
                    key=f"{key}-output", disabled=not can,
                    help="Decoded mean: the decoder's average row for each code (smooth, a "
                         "little too tidy). Drawn from the decoder: that mean plus the spread "
                         "the model learned, so the rows vary as much as real ones."
                         + ("" if can else " This run was saved before decoders measured "
                                           "their spread: train it again to draw."))


def sampling_options(run: Run, *, by_class: bool, key: str) -> dict[str, str]:
    """Where the codes come from and what is decoded: ``{"prior": ..., "output": ...}``."""
    if by_class and not run.is_conditional:
        # An unconditional model's N(0, I) codes carry no class; the training rows' do.
        priors = ["mixture"] + (["posterior"] if run.is_variational else [])
    else:
        priors = (["auto", "normal", "mixture"]
                  + (["posterior"] if run.is_variational else ["fitted"]))
    left, right = st.columns(2)
    prior = left.selectbox(
        "Codes from", priors, format_func=PRIOR_LABELS.get, key=f"{key}-prior",
        help="N(0, I): the prior a VAE was trained towards. Mixture: a Gaussian mixture fitted "
             "on the codes of the training rows, one per class (Ghosh et al.), so codes land "
             "where real rows are. Posterior of a training row: a random training row of the "
             "class, then one code drawn from the encoder's posterior for it; rows land around "
             "real rows (harder to tell from them, but nearer). Automatic: for a CVAE by "
             "class the posterior when every class has 50 or more training rows, else the "
             "mixture; the mixture for VAEs; the Gaussian of the codes for autoencoders.")
    with right:
        output = output_option(run, key=key)
    return {"prior": prior, "output": output}


# --------------------------------------------------------------------------- results


def save_and_download(run: Run, rows: FeatureSet, config: GenerateConfig, *, key: str) -> None:
    """Name box + save to exports/ (never overwriting) + HDF5/CSV/NPZ downloads.

    The box is keyed by its default name, so it follows the run and mode shown: a fixed
    key kept the first name, and batch rows of a prior were saved as "...-class-..."."""
    default = default_export_name(run, config)
    name = st.text_input("File name", default, key=f"{key}-name-{default}",
                         help="Saved as exports/<name>.h5 in the workspace; an existing file "
                              "is never replaced (a -2, -3... suffix is added).")
    cols = st.columns(4)
    if cols[0].button("Save to workspace", key=f"{key}-save", icon=":material/save:",
                      help="Write an HDF5 feature file with provenance (run, mode, seed, "
                           "parents); Explore and Evaluate can open it."):
        path = save_generated(rows, state.workspace(), name)
        state.put(state.SYNTHETIC, str(path))
        st.success(f"Saved {rows.n_samples} samples to exports/{path.name}")
    for col, fmt, mime in zip(cols[1:], ("h5", "csv", "npz"),
                              ("application/x-hdf5", "text/csv", "application/octet-stream")):
        col.download_button(f"Download {fmt.upper()}", data=lambda f=fmt: export_bytes(rows, f),
                            file_name=f"{name}.{fmt}", mime=mime, key=f"{key}-{fmt}",
                            on_click="ignore", icon=":material/download:",
                            help=f"The {rows.n_samples} generated rows as {fmt.upper()}"
                                 + (" (features, then the label column)." if fmt == "csv"
                                    else " with parents and provenance."))


def row_text(data: FeatureSet, row: int) -> str:
    label = int(data.labels[row])
    name = data.class_names[label] if 0 <= label < len(data.class_names) else "unlabeled"
    return f"class {name}"


# --------------------------------------------------------------------------- maps


def map_picker(data: FeatureSet, *, key: str, help: str) -> str | None:
    """The map radio, or None with a note when ``data`` cannot be mapped in 2-D (one
    feature per row): the rows are still generated, shown and saved without the map."""
    if data.n_features < 2:
        st.info(f"No map: these rows have {data.n_features} feature, and a 2-d map needs at "
                "least 2. The generated values are shown over the real ones in a histogram "
                "instead; the scorecard (Evaluate page) compares their spread and shape.",
                icon=":material/map:")
        return None
    return st.radio("Map", list(MAP_METHODS), format_func=MAP_METHODS.get, horizontal=True,
                    key=key, help=help)


def _map_figure(run_dir: str, method: str, rows: FeatureSet | None, *, gl: bool = False
                ) -> go.Figure:
    """synth_core.generation.figures' map figure: real points faded, generated ``rows`` as stars
    (``gl``: WebGL points, for the player the browser redraws on every move)."""
    return map_figure(real_map(run_dir, method).map_data(rows), height=560, gl=gl)


@st.cache_resource(max_entries=16, show_spinner="Decoding the path...")
def _decoded_path(run_dir: str, i: int, j: int, path: str, codes: str) -> np.ndarray:
    """The path's samples [21, F] at the player's t values, decoded in one batch per pair."""
    return decode_path(load_run(run_dir), endpoints(run_dir, i, j, path, codes), PLAYER_T)


@st.cache_resource(max_entries=16, show_spinner="Placing the path on the map...")
def _placed_path(run_dir: str, method: str, i: int, j: int, path: str, codes: str) -> np.ndarray:
    """Map positions [21, 2] of the decoded path (PCA projects them exactly; t-SNE places
    them on the fitted map)."""
    return real_map(run_dir, method).place(_decoded_path(run_dir, i, j, path, codes))


_RANGE_VALUES = 200_000  # values a colour range is read from (evenly strided)


def value_range(data: FeatureSet) -> tuple[float, float]:
    """The colour range of a decoded sample: an image's own range, else the middle 98 % of
    the real values (one outlier does not wash the heatmap out), read from at most
    :data:`_RANGE_VALUES` of them: the Listen slider asks on every move, and the
    percentiles of all 7,077 x 512 UrbanSound8K values took ~90 ms."""
    if modality(data) == "image":
        return float(data.features.min()), float(data.features.max())
    values = data.features.ravel()
    lo, hi = np.percentile(values[::max(1, values.size // _RANGE_VALUES)], [1, 99])
    return float(lo), float(hi)


@st.cache_resource(max_entries=8, show_spinner="Drawing the path on the map...")
def _path_map(run_dir: str, method: str, i: int, j: int, path: str, codes: str) -> go.Figure:
    """The map with the path drawn on it (synth_core.generation.player.path_map), built once
    per pair and never changed while the slider moves."""
    return path_map(_map_figure(run_dir, method, None, gl=True),
                    _placed_path(run_dir, method, i, j, path, codes),
                    map_xy=real_map(run_dir, method).xy)


@st.cache_resource(max_entries=8, show_spinner=False)
def _player_data(run_dir: str, method: str, i: int, j: int, path: str, codes: str) -> dict:
    """What the player component moves through: the path's map positions and decoded
    samples (synth_core.generation.player.player_data)."""
    data = load_data(run_dir)
    return player_data(_placed_path(run_dir, method, i, j, path, codes),
                       _decoded_path(run_dir, i, j, path, codes),
                       feature_shape=data.attrs.get("feature_shape"),
                       value_range=value_range(data), image=modality(data) == "image",
                       target="gen-map", key=hashlib.sha1(  # names the pair, not the folders
                           f"{run_dir}|{method}|{i}|{j}|{path}|{codes}".encode()).hexdigest()[:16])


def path_player_view(run_dir: str, method: str, ends: Endpoints) -> None:
    """The path player: the map (a plotly chart, drawn once per pair) and under it the
    player component, whose slider moves a star along the path over the map and shows the
    sample decoded there, in the browser, with no rerun. Clicking a real point on the map
    picks it as an end point."""
    args = (run_dir, method, ends.index_a, ends.index_b, ends.path, ends.codes)
    fig = ui.attempt(_path_map, *args)
    data = None if fig is None else ui.attempt(_player_data, *args)
    if data is None:
        return
    st.plotly_chart(fig, key="gen-map", on_select=functools.partial(_on_map_click, run_dir, method),
                    selection_mode="points", width="stretch",
                    config={"scrollZoom": False, "displaylogo": False})
    player_ui.path_player(data, key="gen-player")


def _on_map_click(run_dir: str, method: str) -> None:
    """Callback of the map: a clicked real point becomes the chosen end point (once per click).

    The point's customdata names its map row (figures.selected_rows); the path, the marker
    and generated points are not data rows."""
    selection = st.session_state.get("gen-map") or {}
    data = real_map(run_dir, method).map_data(None)
    for row in selected_rows(data, selection.get("selection", {}).get("points", [])):
        source, index = source_row(data, row)
        if source != REAL:
            continue
        i, j = state.get(state.GEN_PAIR)
        first = state.get(state.GEN_CLICK, "first") == "first"
        state.put(state.GEN_PAIR, (index, j) if first else (i, index))


def value_histogram(rows: FeatureSet, real: FeatureSet, *, key: str) -> None:
    """For one-feature data (no map): the generated values over the real values of the same
    classes, one colour per class, real bars faded."""
    classes = [int(c) for c in np.unique(rows.labels)]
    colors = class_colors(max(len(real.class_names), max(classes) + 1, 1))
    fig = go.Figure()
    for c in classes:
        name = real.class_names[c] if 0 <= c < len(real.class_names) else "unlabeled"
        color = colors[c] if c >= 0 else "#555555"
        for source, values, opacity in (("real", real.features[real.labels == c, 0], 0.35),
                                        ("generated", rows.features[rows.labels == c, 0], 0.8)):
            fig.add_trace(go.Histogram(x=values, name=f"{name}, {source}", opacity=opacity,
                                       histnorm="probability density", marker_color=color,
                                       marker_pattern_shape="/" if source == "real" else ""))
    fig.update_layout(barmode="overlay", height=360, margin=dict(l=10, r=10, t=40, b=10),
                      title="Values of the generated rows (solid) over the real ones (hatched)",
                      xaxis_title=str((real.attrs.get("feature_names") or ["value"])[0]),
                      yaxis_title="density")
    st.plotly_chart(fig, key=key, width="stretch", config={"displayModeBar": False})


def result_map(run_dir: str, method: str, rows: FeatureSet) -> None:
    """Real points faded, the generated rows as stars in their class colour."""
    fig = ui.attempt(_map_figure, run_dir, method, rows)
    if fig is not None:
        st.plotly_chart(fig, key="gen-result-map", width="stretch")


# --------------------------------------------------------------------------- baselines

BASELINE_KINDS = {"gaussian": "Gaussian per class", "copula": "Gaussian copula per class",
                  "smote": "SMOTE (between same-class neighbours)"}


@st.cache_resource(show_spinner="Reading the data...", max_entries=4)
def _baseline_data(ref: str, mtime: float) -> FeatureSet:
    return load_dataset(ref, state.workspace())


def baseline_rows(ref: str, mtime: float, kind: str, per_class: int, seed: int) -> FeatureSet:
    """Rows of baseline ``kind`` fitted on the dataset (its test folds, or the rows train
    holds out, left out: ``fit_rows``); seeded."""
    return _baseline_rows_and_warning(ref, mtime, kind, per_class, seed)[0]


def baseline_left_out(ref: str, mtime: float, kind: str, per_class: int, seed: int
                      ) -> str | None:
    """The classes :func:`baseline_rows` left out as too small to fit (a warning), or None."""
    return _baseline_rows_and_warning(ref, mtime, kind, per_class, seed)[1]


@st.cache_resource(show_spinner="Fitting the baseline and drawing rows...", max_entries=8)
def _baseline_rows_and_warning(ref: str, mtime: float, kind: str, per_class: int, seed: int
                               ) -> tuple[FeatureSet, str | None]:
    data = _baseline_data(ref, mtime)
    rows = fit_rows(data)
    counts, warning = fittable_counts(data, rows, class_counts(data, rows, per_class), kind)
    return (baseline_feature_set(data, kind, counts, train_rows=rows, random_state=seed),
            warning)


@st.cache_resource(show_spinner="Fitting the map of the real data...", max_entries=4)
def _baseline_map(ref: str, mtime: float, method: str):
    return fit_map(_baseline_data(ref, mtime), method=method,
                   cache_dir=state.workspace().cache_dir)


def baseline_section() -> None:
    """Baseline generators: no trained model needed; a dataset, a kind, a count and a seed."""
    st.caption("Simple generators to compare a VAE against: if a model's rows do not score "
               "better on Evaluate than these, the model adds nothing over them.")
    ref = ui.dataset_picker(key="gen-baseline-dataset",
                            help="The real rows the baseline is fitted on. Left out: the "
                                 "test folds the dataset records, else the rows Train holds "
                                 "out by default (20% of each class on all but tiny data), "
                                 "so Evaluate tests the baseline and the models on rows none "
                                 "of them saw.")
    left, mid, right = st.columns(3)
    kind = left.radio("Baseline", list(BASELINE_KINDS), format_func=BASELINE_KINDS.get,
                      key="gen-baseline-kind",
                      help="Gaussian: one multivariate normal per class. Copula: each "
                           "feature's real distribution, joined by a Gaussian dependence. "
                           "SMOTE: points on segments between a row and a same-class neighbour.")
    per_class = int(mid.number_input("Samples per class", 1, 100_000, 80,
                                      key="gen-baseline-count",
                                      help="New rows drawn for every class."))
    seed = int(right.number_input("Seed", 0, 2**31 - 1, 0, key="gen-baseline-seed",
                                  help="Same seed, same rows."))
    wanted = {"ref": ref, "kind": kind, "per_class": per_class, "seed": seed}
    if st.button("Generate baseline rows", type="primary", icon=":material/auto_awesome:",
                 key="gen-baseline-go", help="Fit the baseline on the real rows and draw."):
        state.put(state.GEN_BASELINE, wanted)
    shown = state.get(state.GEN_BASELINE)
    if not shown or shown["ref"] != ref:
        return
    mtime = ui.attempt(ui.dataset_mtime, ref)
    rows = (ui.attempt(baseline_rows, ref, mtime, shown["kind"], shown["per_class"], shown["seed"])
            if mtime is not None else None)
    if rows is None:
        return
    st.subheader(f"{rows.n_samples:,} rows from the {BASELINE_KINDS[shown['kind']]} baseline")
    if left_out := baseline_left_out(ref, mtime, shown["kind"], shown["per_class"],
                                     shown["seed"]):
        st.warning(left_out.replace(" (--classes)", " (generate --classes on the command "
                                    "line)"), icon=":material/warning:")
    fitted = int(rows.attrs.get("n_train_rows", 0))
    total = _baseline_data(ref, mtime).n_samples
    st.caption(f"Fitted on {fitted:,} of the {total:,} real rows"
               + (f"; {total - fitted:,} left out for Evaluate to test on." if fitted < total
                  else " (too few to leave any out for Evaluate)."))
    method = map_picker(_baseline_data(ref, mtime), key="gen-baseline-map",
                        help="Real points faded, baseline rows as stars.")
    if method is None:
        value_histogram(rows, _baseline_data(ref, mtime), key="gen-baseline-hist")
    real = ui.attempt(_baseline_map, ref, mtime, method) if method else None
    if real is not None:
        st.plotly_chart(map_figure(real.map_data(rows), height=560), key="gen-baseline-fig",
                        width="stretch")
    name = st.text_input("File name", safe_name(f"baseline-{shown['kind']}-{ref}-seed"
                                                f"{shown['seed']}"), key="gen-baseline-name",
                         help="Saved as exports/<name>.h5; an existing file is never replaced.")
    cols = st.columns(4)
    if cols[0].button("Save to workspace", key="gen-baseline-save", icon=":material/save:",
                      help="An HDF5 feature file with provenance (baseline, seed, dataset)."):
        path = save_generated(rows, state.workspace(), name)
        state.put(state.SYNTHETIC, str(path))
        st.success(f"Saved {rows.n_samples} rows to exports/{path.name}")
    for col, fmt in zip(cols[1:], ("h5", "csv", "npz")):
        col.download_button(f"Download {fmt.upper()}", data=lambda f=fmt: export_bytes(rows, f),
                            file_name=f"{name}.{fmt}", key=f"gen-baseline-{fmt}",
                            on_click="ignore", icon=":material/download:")
