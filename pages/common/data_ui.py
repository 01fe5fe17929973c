"""Data page helpers: dataset preview, the extraction and import forms, dataset management.

Figures are built by small pure functions (``*_figure``) and drawn by the
``show_*`` functions; everything that reads or writes data calls synth_core.
User-provided text (file names, class names) is only shown through widgets
that render it as plain text (dataframes, ``st.text``, ``st.code``), never as HTML.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from pages.common import state
from pages.common.ui import attempt, show_error
from synth_core.data.datasets import (DatasetInfo, dataset_path, delete_dataset, describe_dataset,
                                 rename_dataset, save_dataset)
from synth_core.errors import InputError, SynthError
from synth_core.features import FeatureSet, read_features

N_SAMPLES_SHOWN = 8
PICKER_KEY = "data_dataset_picker"  # widget key of this page's dataset picker


@st.cache_data(show_spinner=False, max_entries=8)
def _read(path: str, mtime: float) -> FeatureSet:
    return read_features(path)


@st.cache_data(show_spinner=False, max_entries=256)
def _describe(path: str, mtime: float, _ws) -> DatasetInfo:
    # describe_dataset reads the whole matrix: cached so that the table does not
    # re-read every workspace dataset on each rerun of the page.
    return describe_dataset(path, _ws)


def load(ref: str) -> FeatureSet | None:
    """The dataset behind ``ref`` (cached by file and modification time)."""
    with st.spinner(f"Loading {ref}..."):
        path = attempt(dataset_path, ref, state.workspace())
        if path is None:
            return None
        return attempt(_read, str(path), path.stat().st_mtime)


def class_counts_figure(data: FeatureSet) -> go.Figure:
    counts = np.bincount(data.labels[data.labels >= 0], minlength=data.n_classes)
    names = data.class_names or ["unlabeled"]
    if not data.n_classes:
        counts = np.array([data.n_samples])
    fig = px.bar(x=names, y=counts, labels={"x": "class", "y": "rows"}, title="Rows per class")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10))
    fig.update_xaxes(type="category")  # class names such as "0".."9" are names, not numbers
    return fig


def duration_figure(hist: dict, duration: float | None = None) -> go.Figure:
    edges, counts = np.asarray(hist["edges"]), np.asarray(hist["counts"])
    fig = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges)))
    if isinstance(duration, (int, float)):
        fig.add_vline(x=duration, line_dash="dash", annotation_text=f"{duration:g} s used")
    fig.update_layout(title="Clip lengths of the source files", height=300,
                      xaxis_title="seconds", yaxis_title="clips",
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


@st.cache_data(show_spinner=False, max_entries=32)
def _spectrogram(path: str) -> np.ndarray:
    from synth_core.data.audio import read_audio, resample
    from synth_core.data.vggish import log_mel

    waveform, rate = read_audio(path)
    return log_mel(resample(waveform, rate, 16000), 16000)  # [frames, 64]


def show_preview(data: FeatureSet) -> None:
    cols = st.columns(4)
    cols[0].metric("Rows", data.n_samples, help="Clips, images or samples in the dataset")
    cols[1].metric("Features", data.n_features, help="Numbers per row")
    cols[2].metric("Classes", data.n_classes, help="Distinct labels (0 when unlabeled)")
    cols[3].metric("Kind", str(data.attrs.get("modality", "tabular")),
                   help="audio / image / tabular: decides how samples are drawn")
    hist = data.attrs.get("duration_histogram")
    has_hist = isinstance(hist, dict) and bool(hist.get("counts"))
    charts = st.columns(2) if has_hist else [st.container()]
    charts[0].plotly_chart(class_counts_figure(data), width="stretch")
    if has_hist:
        charts[1].plotly_chart(duration_figure(hist, data.attrs.get("duration")), width="stretch")
    if data.attrs.get("duration_reason"):
        st.caption(f"Clip length {data.attrs.get('duration')} s, {data.attrs.get('frames')} "
                   f"frame(s): {data.attrs['duration_reason']}. {data.attrs.get('n_padded', 0)} "
                   f"clip(s) padded, {data.attrs.get('n_trimmed', 0)} trimmed.")
    if data.attrs.get("warning"):
        st.warning(str(data.attrs["warning"]))
    choices = ["all"] + data.class_names
    pick = st.columns(3)[0].selectbox("Samples from class", choices, key="data_sample_class",
                                      help="Which class the samples below are drawn from")
    rows = np.arange(data.n_samples) if pick == "all" else \
        np.flatnonzero(data.labels == data.class_names.index(pick))
    rows = np.random.default_rng(0).permutation(rows)[:N_SAMPLES_SHOWN]
    modality = data.attrs.get("modality")
    shape = data.attrs.get("feature_shape")
    if modality == "image" and shape and int(np.prod(shape)) == data.n_features:
        _show_images(data, rows, [int(s) for s in shape])
    elif modality == "audio" and data.ids:
        _show_audio(data, rows[:3])
    else:
        _show_heatmap(data, rows)


def _label(data: FeatureSet, row: int) -> str:
    label = int(data.labels[row])
    return data.class_names[label] if 0 <= label < data.n_classes else "unlabeled"


def _show_images(data: FeatureSet, rows: np.ndarray, shape: list[int]) -> None:
    X = data.features[rows]
    low, high = float(X.min(initial=0.0)), float(X.max(initial=1.0))
    images = [np.clip((x.reshape(shape) - low) / max(high - low, 1e-9), 0, 1) for x in X]
    st.image(images, caption=[f"#{r}: {_label(data, r)}" for r in rows], width=96, clamp=True)


def _show_audio(data: FeatureSet, rows: np.ndarray) -> None:
    for row in rows:
        path = Path(data.ids[row])
        st.text(f"#{row}  {_label(data, row)}  {path.name}")
        if not path.is_file():
            st.caption("The source clip is not on this machine any more; features only.")
            continue
        st.audio(str(path))
        spec = attempt(_spectrogram, str(path))
        if spec is not None:
            fig = px.imshow(spec.T, origin="lower", aspect="auto", color_continuous_scale="magma",
                            labels={"x": "10 ms frame", "y": "mel band", "color": "log"})
            fig.update_layout(height=200, margin=dict(l=10, r=10, t=10, b=10))
            st.plotly_chart(fig, width="stretch", key=f"spec-{row}")


def _show_heatmap(data: FeatureSet, rows: np.ndarray) -> None:
    fig = px.imshow(data.features[rows], aspect="auto", color_continuous_scale="viridis",
                    labels={"x": "feature", "y": "sample", "color": "value"},
                    y=[f"#{r} {_label(data, r)}" for r in rows], title="Sample rows")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(fig, width="stretch")


LENGTH_MODES = {
    "auto": "from the data (layout length, else median; pad/trim)",
    "thesis": "UrbanSound8K thesis: only clips of exactly 4 s, 4 frames",
    "pad": "pad / trim to a duration",
    "exact": "keep only clips of a duration",
    "any": "any length",
}


def extract_config_form():
    """Extractor, frames, clip length rule; returns an ExtractConfig (or None on bad input)."""
    from synth_core.data.extraction import AUTO, EXTRACT_PRESETS, ExtractConfig
    from synth_core.data.vggish import missing_weights_message

    c1, c2, c3, c4 = st.columns(4)
    extractor = c1.selectbox(
        "Extractor", ["logmel", "vggish", "spectrogram", "summary"], key="data_extractor",
        help="logmel: weight-free log-mel statistics (works offline). vggish: the thesis's "
             "pretrained VGGish embeddings; needs the weights file once. spectrogram: whole "
             "log-mel spectrograms (64 mels x 10 ms frames) for conv models whose generated "
             "rows you can listen to. summary: 37 hand-crafted numbers per clip (20 MFCCs, "
             "12 chroma, spectral centroid, bandwidth and roll-off, zero-crossing rate, RMS), "
             "the classic UrbanSound8K tutorial features, named columns.")
    mode = c2.selectbox("Clip length", list(LENGTH_MODES), format_func=LENGTH_MODES.get,
                        key="data_length_mode",
                        help="By default every clip is padded or trimmed to the dataset's own "
                             "clip length (ESC-50 5 s, UrbanSound8K 4 s) or, for other folders, "
                             "the typical (median) length. The thesis kept only UrbanSound8K "
                             "clips of exactly 4 s (7077 of 8732).")
    frames = c3.selectbox("Frames per clip", [AUTO, *range(1, 17)], key="data_frames",
                          disabled=mode == "thesis" or extractor == "summary",
                          help="0.96 s frames; each gives 128 numbers (4 -> 512). auto: the "
                               "whole frames that fit in the clip length. The summary "
                               "extractor makes one row of 37 numbers per clip, with no frames.")
    duration = c4.number_input("Duration (s)", 0.96, 60.0, 4.0, 0.5, key="data_duration",
                               disabled=mode in ("auto", "thesis", "any"),
                               help="Clip duration kept (or padded/trimmed to)")
    if extractor == "summary":  # one row per clip: the (disabled) frames box does not apply
        frames = AUTO
    missing = missing_weights_message() if extractor == "vggish" else None
    if missing:
        st.warning(missing, icon=":material/download:")
        return None
    options = {"auto": {"duration": AUTO, "frames": frames},
               "thesis": EXTRACT_PRESETS["us8k-thesis"],
               "pad": {"duration": float(duration), "frames": frames, "pad": True},
               "exact": {"duration": float(duration), "frames": frames},
               "any": {"duration": None, "frames": frames}}[mode]
    try:
        return ExtractConfig(extractor=extractor, **options)
    except SynthError as exc:
        show_error(exc)
        return None


@st.cache_data(show_spinner="Reading clip lengths...", max_entries=8)
def _folder_lengths(folder: str, labels: str, mtime: float) -> tuple[list[float], str, float | None]:
    from synth_core.data.extraction import clip_lengths
    from synth_core.data.layouts import discover_clips

    clips = discover_clips(folder, labels=labels)
    return clip_lengths(clips), clips.layout, clips.clip_seconds


def _upload_lengths(uploads) -> list[float]:
    import io

    import soundfile as sf

    lengths = []
    for upload in uploads or []:
        try:
            info = sf.info(io.BytesIO(upload.getvalue()))
            lengths.append(info.frames / float(info.samplerate))
        except Exception:  # noqa: BLE001 - an unreadable upload is listed as skipped later
            continue
    return lengths


def lengths_figure(lengths: list[float], duration: float | None) -> go.Figure:
    fig = px.histogram(x=lengths, nbins=min(40, max(5, len(lengths) // 2)),
                       labels={"x": "clip length (s)"}, title="Clip lengths")
    if duration is not None:
        fig.add_vline(x=duration, line_dash="dash", annotation_text=f"{duration:g} s used")
    fig.update_layout(height=280, yaxis_title="clips", margin=dict(l=10, r=10, t=40, b=10))
    return fig


def show_length_preview(kind: str, config, *, server_path: str = "", uploads=None) -> None:
    """The clip length histogram and the length/frames the extraction will use."""
    from synth_core.data.extraction import clip_policy
    from synth_core.data.layouts import ClipList

    if config is None or kind == "zip" or (kind == "folder" and not server_path.strip()) \
            or (kind == "files" and not uploads):
        return
    if kind == "folder":
        folder = Path(server_path).expanduser()
        if not folder.exists():
            return
        found = attempt(_folder_lengths, str(folder), config.labels, folder.stat().st_mtime)
        if found is None:
            return
        lengths, layout, clip_seconds = found
    else:
        lengths, layout, clip_seconds = _upload_lengths(uploads), "files", None
    clips = ClipList(clips=[], class_names=[], layout=layout, root=Path("."),
                     clip_seconds=clip_seconds)
    resolved = attempt(clip_policy, clips, config, lengths=lengths)
    if resolved is None:
        return
    _, policy = resolved
    if lengths:
        st.plotly_chart(lengths_figure(lengths, policy.duration), width="stretch",
                        key="data-lengths")
    st.caption(f"{len(lengths)} clip(s). Clip length: {policy.reason}.")


def save_audio_source(kind: str, uploads, *, name: str, class_name: str, server_path: str):
    """Put the chosen audio where the extraction job can read it; returns the folder."""
    from synth_core.data.uploads import save_uploaded_files, unpack_zip

    ws = state.workspace()
    if kind == "folder":
        path = Path(server_path).expanduser()
        if not server_path.strip() or not path.exists():
            raise InputError(f"folder {server_path!r} does not exist on the server; type the "
                             "full path of a folder of class folders")
        return path
    if not uploads:
        raise InputError("no files uploaded yet; drop audio files or a zip above")
    if kind == "zip":
        return unpack_zip(uploads.getvalue(), ws, name=name or uploads.name)
    return save_uploaded_files([(f.name, f.getvalue()) for f in uploads], ws, name=name,
                               subfolder=class_name)


def default_name(source: str) -> str:
    """A dataset name for an import source: the file or folder name ('mnist_784' for OpenML)."""
    return Path(source.split(":", 1)[-1].rstrip("/")).stem or "imported"


def import_upload(upload, *, name: str, label_column: str, overwrite: bool) -> dict | None:
    """Save an uploaded matrix under uploads/, import it and store it as a dataset."""
    from synth_core.data.importers import import_features, import_summary, output_path
    from synth_core.data.uploads import save_uploaded_files

    ws = state.workspace()
    folder = None
    try:
        out = output_path(name or Path(upload.name).stem, ws, overwrite=overwrite)
        folder = save_uploaded_files([(upload.name, upload.getvalue())], ws, name="import")
        path = next(p for p in folder.iterdir() if p.is_file())
        data = import_features(path, label_column=label_column.strip() or "auto")
        data.attrs["source"] = f"uploaded {upload.name}"
        save_dataset(data, out.stem, ws, overwrite=overwrite)
        return import_summary(data, out, out.stem)
    except SynthError as exc:
        if folder is not None:  # the upload was only kept for this import: do not leave it behind
            shutil.rmtree(folder, ignore_errors=True)
        show_error(exc)
        return None


def _select(ref: str) -> None:
    state.put(state.DATASET, ref)  # the picker follows the shared choice on the next run


def use_dataset_button(ref: str, *, key: str) -> None:
    """A button that makes ``ref`` the dataset of every page."""
    st.button(f"Use {ref}", key=key, on_click=_select, args=(ref,), icon=":material/check:",
              help="Select this dataset here and on the next steps")


def manage_datasets() -> None:
    """Workspace datasets as a table, with rename and delete (confirmed)."""
    from synth_core.data.datasets import scan_datasets

    ws = state.workspace()
    paths, damaged = scan_datasets(ws)
    if damaged:  # each has its warning and Remove button under the dataset picker
        st.caption(f"{len(damaged)} damaged file(s) are not listed here; see the warnings at "
                   "the top of the page.")
    if not paths:
        st.info("No readable datasets in the workspace yet: extract or import one above.")
        return
    names = [p.stem for p in paths]
    rows = []
    for name, path in zip(names, paths):
        info = attempt(_describe, str(path), path.stat().st_mtime, ws)
        if info is not None:
            rows.append({"name": name, "rows": info.n_samples, "features": info.n_features,
                         "classes": info.n_classes, "kind": info.modality,
                         "extractor": info.extractor, "source": info.source})
    st.dataframe(rows, hide_index=True, width="stretch")
    target = st.selectbox("Dataset to rename or delete", names, key="data_manage_pick",
                          help="The workspace dataset to rename or delete")
    c1, c2 = st.columns(2)
    new = c1.text_input("New name", key="data_rename_to", help="Letters, digits, '.', '_', '-'")
    if c1.button("Rename", key="data_rename", help="Rename the file; nothing is overwritten"):
        renamed = attempt(rename_dataset, target, new, ws)
        if renamed is not None:
            _forget(target, renamed.stem)
            st.rerun()
    sure = c2.checkbox("Yes, delete the selected dataset for good", key="data_delete_sure",
                       help="Deleting cannot be undone; runs trained on it keep working.")
    if c2.button("Delete", key="data_delete", disabled=not sure, type="primary",
                 help="Delete the selected dataset file"):
        attempt(delete_dataset, target, ws)
        _forget(target, state.DEFAULT_DATASET)
        st.rerun()


def _forget(old: str, replacement: str) -> None:
    """After a rename or delete, point the shared dataset choice away from ``old``."""
    if state.current_dataset() == old:
        state.put(state.DATASET, replacement)
    st.session_state.pop(PICKER_KEY, None)
    st.session_state.pop("data_manage_pick", None)
