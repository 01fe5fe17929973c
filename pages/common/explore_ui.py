"""Explore page widgets: pickers, the map section (inline or as a job), export, nearest clip.

The map for a set of inputs is found again from the workspace
(``map_jobs.map_result_path``), so a refresh or a page switch shows it without
recomputing; t-SNE runs as a background ``"map"`` job, PCA inline.
"""

from __future__ import annotations

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


def show_map(data: maps.MapData, *, key: str) -> None:
    """The figure plus HTML/PNG download buttons (rendered only when clicked)."""
    fig = figures.map_figure(data)
    st.plotly_chart(fig, width="stretch", key=f"{key}-chart", config={"displaylogo": False})
    st.caption("Real points are faded circles, generated points stars of the same class colour. "
               "Numbered boxes mark class centres (real 0..K-1, generated K..2K-1). Click a "
               "legend entry to hide it, a group title to hide the whole group.")
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


def nearest_clip(params: dict[str, Any], *, key: str) -> None:
    """Pick a generated row; show the nearest real row (in feature space); play it if audio."""
    if not params.get("synthetic"):
        return
    refs = tuple(params["synthetic"])
    try:
        real = _real(params["dataset"], ui.dataset_mtime(params["dataset"]))
        synthetic = _synthetic(refs, tuple(ui.dataset_mtime(r) for r in refs))
    except SynthError as exc:
        ui.show_error(exc)
        return
    st.subheader("Nearest real sample")
    row = st.number_input(
        "Generated row", min_value=0, max_value=max(synthetic.n_samples - 1, 0), value=0, step=1,
        key=f"{key}-row", help="Row number in the generated data (hover a star to see its id). "
                               "The nearest real row is found in feature space, not on the map.")
    found = ui.attempt(neighbors.nearest_rows, real.features, synthetic.features[int(row)])
    if found is None:
        return
    index, distance = int(found[0][0, 0]), float(found[1][0, 0])
    real_id = real.ids[index] if real.ids else f"row {index}"
    label = int(real.labels[index])
    names = real.class_names
    # File and class names are user text: shown with st.text, never as markdown or HTML.
    st.text(f"Generated row {int(row)} (id {synthetic.ids[int(row)]}) is closest to real "
            f"{real_id} of class {names[label] if 0 <= label < len(names) else 'unlabeled'}"
            f" (Euclidean distance {distance:.3g}).")
    # Spectrogram data: hear the generated row itself beside the real clip it is nearest to.
    audio_ui.play(synthetic.features[int(row)], real, caption=f"generated row {int(row)}")
    clip = Path(real_id)
    if clip.suffix.lower() in AUDIO_SUFFIXES:
        if clip.is_file():
            st.audio(str(clip))
        else:
            st.caption(f"The clip {real_id} is not on this machine, so it cannot be played.")
