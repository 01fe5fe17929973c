"""Explore page widgets: pickers, the map section (inline or as a job), export, a picked point.

The map for a set of inputs is found again from the workspace
(``map_jobs.map_result_path``), so a refresh or a page switch shows it without
recomputing; t-SNE runs as a background ``"map"`` job, PCA inline.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import streamlit as st

from pages.common import audio_ui, state, ui
from pages.common.navigation import page_link
from pages.common.jobs_ui import job_panel, start_job
from synth_core.generation import figures, map_jobs, maps, neighbors
from synth_core.data.datasets import load_dataset
from synth_core.errors import SynthError
from synth_core.features import FeatureSet
from synth_core.jobs import JobStatus, list_jobs

AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".aiff", ".aif", ".m4a")
SLOW_SECONDS = 15.0  # warn before a computation expected to take longer than this


def train_link() -> None:
    """A link to the Train page (absent when a page runs alone, e.g. under AppTest).

    The Generate page uses it too (through generate_ui)."""
    from streamlit.errors import StreamlitPageNotFoundError

    try:
        page_link("pages/2_Train.py", label="Go to Train", icon=":material/model_training:")
    except StreamlitPageNotFoundError:
        pass  # the text above already names the Train page


def generated_picker(*, key: str) -> list[str]:
    """Multi-select over generated files (datasets/ and exports/ files whose attrs hold a mode)."""
    ws = state.workspace()
    files = map_jobs.generated_files(ws)
    options = [str(p) for p in files]
    remembered = state.get(state.SYNTHETIC)
    default = [remembered] if remembered in options else []
    chosen = st.multiselect(
        "Generated data", options, default=default, key=key,
        format_func=lambda p: f"{Path(p).parent.name}/{Path(p).name}",
        placeholder="none: show the real data only",
        help="Feature files made on the Generate page (or `python -m synth_core generate`), from "
             "the workspace's datasets/ and exports/ folders. They are drawn as stars. Leave "
             "empty to map the real data alone.")
    if chosen:
        state.put(state.SYNTHETIC, chosen[0])
    return chosen


def method_picker(*, key: str, latent: bool = False) -> str:
    methods = ["tsne", "pca"] if latent else list(maps.ALL_METHODS)
    return st.radio(
        "Method", methods, key=key, horizontal=True, format_func=maps.METHOD_LABELS.get,
        help="t-SNE with a fixed real map fits the real rows once (cached) and places generated "
             "rows on it, so the real points stay put between generations. Joint t-SNE maps "
             "real and generated rows together, as in the thesis (slower; the map changes each "
             "time). PCA is a fast linear projection.")


def _job_for(params: dict[str, Any]) -> JobStatus | None:
    for job in list_jobs(state.workspace(), "map", limit=30):
        if job.params == params:
            return job
    return None


def map_section(params: dict[str, Any], *, key: str) -> maps.MapData | None:
    """Show the map for ``params`` if it exists; else compute it (PCA inline, t-SNE as a job)."""
    ws = state.workspace()
    try:
        params = map_jobs.normalize_params(params)
        n_real, n_generated = map_jobs.check_map_inputs(params, ws)
        path = map_jobs.map_result_path(ws, params)
    except SynthError as exc:
        ui.show_error(exc)
        return None
    if path.is_file():
        return ui.attempt(maps.MapData.load, path)
    method = params["method"]
    seconds = maps.estimate_seconds(n_real + n_generated, method)
    if ui.attempt(map_jobs.is_quick, params, ws):
        with st.spinner("Placing the generated rows..." if method == "tsne" else
                        "Computing the PCA map..."):
            result = ui.attempt(map_jobs.compute_map, params, ws)
        return result[0] if result else None
    job = _job_for(params)
    if job is not None:
        status = job_panel(job, key=f"{key}-job")
        if status.is_active:
            return None
        if status.is_done and path.is_file():
            return ui.attempt(maps.MapData.load, path)
    if seconds > SLOW_SECONDS:
        st.warning(f"{n_real + n_generated} rows: this map takes roughly {seconds:.0f} s on this "
                   "machine. It runs in the background, so you can use other pages meanwhile; "
                   "PCA is instant if you only need a quick look.", icon=":material/schedule:")
    if st.button("Compute map", key=f"{key}-start", type="primary", icon=":material/play_arrow:",
                 help="Start the map as a background job; it survives a refresh or a page "
                      "switch, and the result is kept in the workspace's cache/ folder."):
        space = "latent " if params["run"] else ""
        title = f"{method} {space}map of {params['dataset']}"
        ui.attempt(start_job, "map", params, title=title)
        st.rerun()
    return None


def show_map(data: maps.MapData, *, key: str, params: dict[str, Any] | None = None) -> None:
    """The figure plus HTML/PNG download buttons (rendered only when clicked).

    With ``params`` (the map's inputs) a click on a point picks it for
    :func:`selected_point` (called after this with the same ``key``).
    """
    fig = figures.map_figure(data)
    clickable = params is not None
    for trace in fig.data if clickable else ():
        # After a click plotly dims the other points (to 0.2 by default); only halve them, so
        # the faded real points stay visible around the picked one.
        trace.unselected = {"marker": {"opacity": 0.5 * (trace.marker.opacity or 1.0)}}
    st.plotly_chart(fig, width="stretch", key=f"{key}-chart", config={"displaylogo": False},
                    **({"on_select": functools.partial(_on_pick, key, data),
                        "selection_mode": "points"} if clickable else {}))
    st.caption("Real points are faded circles, generated points stars of the same class colour. "
               "Numbered boxes mark class centres (real 0..K-1, generated K..2K-1). Click a "
               "legend entry to hide it, a group title to hide the whole group."
               + (" " + _click_hint(params) if clickable else ""))
    stem = f"map-{data.method}"
    cols = st.columns(2)
    cols[0].download_button(
        "Download HTML", data=lambda: figures.figure_bytes(fig, "html"), file_name=f"{stem}.html",
        mime="text/html", key=f"{key}-html", icon=":material/download:",
        help="An interactive page with the figure (plotly.js included: opens offline).")
    has_chrome = figures.chrome_path() is not None
    cols[1].download_button(
        "Download PNG", data=lambda: figures.figure_bytes(fig, "png"), file_name=f"{stem}.png",
        mime="image/png", key=f"{key}-png", icon=":material/image:", disabled=not has_chrome,
        help="A still image for a report (drawn with Chromium through kaleido; takes a few "
             "seconds)." if has_chrome else
             "PNG export needs Chrome or Chromium (apt-get install chromium); use HTML instead.")


# Loaded once per file version (the mtime is part of the key) and shared read-only: a rerun
# of the page (each widget change) must not re-read the HDF5 files.
@st.cache_resource(max_entries=4, show_spinner=False)
def _real(ref: str, mtime: float) -> FeatureSet:
    return load_dataset(ref, state.workspace())


@st.cache_resource(max_entries=4, show_spinner=False)
def _synthetic(refs: tuple[str, ...], mtimes: tuple[float, ...]) -> FeatureSet | None:
    return map_jobs.load_synthetic(refs, state.workspace())


# Widget and session keys of one map's point section, derived from the map's ``key``:
# "<key>-chart" the map (its selection), "<key>-point" the picked point (the customdata list
# of the clicked point: id, class, source, MapData row), "<key>-row" the typed generated row.
def _point_key(key: str) -> str:
    return f"{key}-point"


def _row_key(key: str) -> str:
    return f"{key}-row"


def _on_pick(key: str, data: maps.MapData) -> None:
    """Callback of the map: remember the clicked point (once per click); a click on empty space
    (which clears the selection) forgets it. A clicked star also sets the typed generated row."""
    selection = st.session_state.get(f"{key}-chart") or {}
    rows = figures.selected_rows(data, selection.get("selection", {}).get("points", []))
    if not rows:
        st.session_state.pop(_point_key(key), None)
        return
    row = rows[0]
    source, index = figures.source_row(data, row)
    st.session_state[_point_key(key)] = [data.ids[row], "", source, row]
    if source == maps.GENERATED and _row_key(key) in st.session_state:  # the input is shown
        st.session_state[_row_key(key)] = index


def _forget_pick(key: str) -> None:
    st.session_state.pop(_point_key(key), None)  # a typed row replaces the clicked point


def _clip(data: FeatureSet, index: int) -> str | None:
    """Row ``index``'s id when it names an audio file (on this machine or not), else None."""
    ident = data.ids[index] if data.ids else ""
    return ident if Path(ident).suffix.lower() in AUDIO_SUFFIXES else None


def _click_hint(params: dict[str, Any]) -> str:
    """What a click on the map gives, for the dataset of ``params`` (no promise of sound that
    cannot be played)."""
    try:
        real = _real(params["dataset"], ui.dataset_mtime(params["dataset"]))
    except SynthError:
        return ""  # the point section below shows the error
    stars = " (a star also shows its nearest real row)" if params.get("synthetic") else ""
    if audio_ui.settings_of(real) is not None:
        return f"Click a point to hear it below{stars}."
    clips = [c for c in (_clip(real, i) for i in range(min(real.n_samples, 5))) if c]
    if any(Path(c).is_file() for c in clips):
        return (f"Click a real point to hear its clip below{stars}; generated rows of this "
                "dataset are embeddings, which cannot be turned back into sound.")
    return f"Click a point to see it below{stars}."


def _show_row(x: Any, data: FeatureSet) -> None:
    """An image row drawn as its image (other rows are described by the text above them)."""
    if data.attrs.get("modality") == "image" and len(data.attrs.get("feature_shape") or []) == 2:
        from pages.common.generate_ui import to_image  # generate_ui imports this module

        st.image(to_image(x, data), width=96, clamp=True)


def _play_real(real: FeatureSet, index: int, *, caption: str) -> None:
    """Real row ``index``: its clip when on disk, else its spectrogram turned into sound, else
    a plain reason why it cannot be heard (embeddings, a clip on another machine)."""
    clip = _clip(real, index)
    if clip and audio_ui.play_clip(clip, caption=f"{caption}: its clip"):
        return
    if audio_ui.play(real.features[index], real, caption=caption):
        return
    _show_row(real.features[index], real)
    reason = audio_ui.why_silent(real)
    if clip:  # the id is user text: st.text, never markdown
        st.text(f"The clip {clip} is not on this machine, so it cannot be played.")
    if reason:
        st.caption(reason[0].upper() + reason[1:] + ".")


def _class_name(data: FeatureSet, label: int) -> str:
    names = data.class_names
    return names[label] if 0 <= label < len(names) else "unlabeled"


def _show_generated(real: FeatureSet, synthetic: FeatureSet, row: int) -> None:
    """Generated row ``row``: its sound (spectrograms), and the nearest real row, played."""
    found = ui.attempt(neighbors.nearest_rows, real.features, synthetic.features[row])
    if found is None:
        return
    index, distance = int(found[0][0, 0]), float(found[1][0, 0])
    real_id = real.ids[index] if real.ids else f"row {index}"
    # File and class names are user text: shown with st.text, never as markdown or HTML.
    st.text(f"Generated row {row} (id {synthetic.ids[row]}, class "
            f"{_class_name(synthetic, int(synthetic.labels[row]))}) is closest to real "
            f"{real_id} of class {_class_name(real, int(real.labels[index]))}"
            f" (Euclidean distance {distance:.3g}, in feature space).")
    cols = st.columns(2)
    with cols[0]:
        if not audio_ui.play(synthetic.features[row], real, caption=f"generated row {row}"):
            _show_row(synthetic.features[row], real)
            reason = audio_ui.why_silent(real)
            if reason:
                st.caption("The generated row cannot be heard: " + reason + ".")
    with cols[1]:
        _play_real(real, index, caption=f"nearest real row {index}")


def _show_real(real: FeatureSet, row: int) -> None:
    real_id = real.ids[row] if real.ids else f"row {row}"
    st.text(f"Real row {row}: {real_id}, class {_class_name(real, int(real.labels[row]))}.")
    _play_real(real, row, caption=f"real row {row}")


def selected_point(params: dict[str, Any], data: maps.MapData, *, key: str,
                   typed: bool = True) -> None:
    """The point clicked on the map drawn by ``show_map(..., key=key)``: a real row is played
    (clip, or spectrogram turned into sound); a generated row is played beside its nearest real
    row. With ``typed``, a number input picks a generated row too (a click on a star sets it)."""
    refs = tuple(params.get("synthetic") or ())
    try:
        real = _real(params["dataset"], ui.dataset_mtime(params["dataset"]))
        synthetic = _synthetic(refs, tuple(ui.dataset_mtime(r) for r in refs)) if refs else None
    except SynthError as exc:
        ui.show_error(exc)
        return
    n_generated = synthetic.n_samples if synthetic is not None else 0
    if (real.n_samples, n_generated) != (data.n_real, data.n_generated):
        st.caption("The data files changed since this map was drawn; compute the map again to "
                   "pick points on it.")
        return
    st.subheader("Selected point")
    picked = figures.point_row(data, st.session_state.get(_point_key(key)))
    typed_row = None
    if typed and synthetic is not None and synthetic.n_samples:
        typed_row = st.number_input(
            "Generated row", min_value=0, max_value=synthetic.n_samples - 1, step=1,
            key=_row_key(key), on_change=_forget_pick, args=(key,),
            help="Row number in the generated data (hover a star to see its id; click it to "
                 "pick it). The nearest real row is found in feature space, not on the map.")
    if picked is not None:
        source, index = figures.source_row(data, picked)
        if source == maps.REAL:
            _show_real(real, index)
        else:
            _show_generated(real, synthetic, index)
    elif typed_row is not None:
        _show_generated(real, synthetic, int(typed_row))
    else:
        st.caption("Click a point on the map to see it here.")
