"""Data step: pick, bring in and preview datasets (audio -> features, or a feature matrix)."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from pages.common import data_ui, ui
from pages.common.jobs_ui import job_panel, latest_job, start_job
from synth_core.errors import SynthError

ui.page_header(
    "Data",
    "Choose the data the other steps work on. Embedded datasets need no download; your own "
    "audio becomes one row of numbers per clip (VGGish embeddings as in the thesis, or weight-free "
    "log-mel statistics), and feature matrices made elsewhere can be imported. Everything is "
    "stored as an HDF5 file in the workspace, so every step and the CLI can use it.",
    icon=":material/dataset:")

ref = ui.dataset_picker("Dataset", key=data_ui.PICKER_KEY,
                        help="The dataset previewed here and used by the next steps")
preview, extract, imports, manage = st.tabs(
    ["Preview", "Audio to features", "Import a feature matrix", "Workspace datasets"])

with preview:
    data = data_ui.load(ref)
    if data is not None:
        st.text(f"Source: {data.attrs.get('source', 'unknown')}")
        data_ui.show_preview(data)

with extract:
    st.caption("Upload clips or point at a folder; extraction runs in the background, so you "
               "can switch pages and come back.")
    kind = st.radio(
        "Audio source", ["files", "zip", "folder"], horizontal=True, key="data_audio_kind",
        format_func={"files": "Upload audio files", "zip": "Upload a zip of class folders",
                     "folder": "Folder on the server"}.get,
        help="A zip or folder holds one sub-folder per class; UrbanSound8K and ESC-50 folders "
             "(with their metadata CSV) keep their official classes and folds.")
    uploads, class_name, server_path = None, "", ""
    if kind == "files":
        uploads = st.file_uploader("Audio files", type=["wav", "flac", "ogg"],
                                   accept_multiple_files=True, key="data_audio_files",
                                   help="WAV, FLAC or OGG clips; all get the class named below")
        class_name = st.text_input("Class of these clips", key="data_audio_class",
                                   help="Leave empty for unlabeled clips; for several classes "
                                        "upload a zip of class folders")
    elif kind == "zip":
        uploads = st.file_uploader("Zip of class folders", type=["zip"], key="data_audio_zip",
                                   help="e.g. clips.zip holding dog/*.wav, siren/*.wav ...")
    else:
        server_path = st.text_input("Folder", key="data_audio_folder",
                                    help="Full path of a folder on the machine running this app, "
                                         "e.g. /data/UrbanSound8K")
    config = data_ui.extract_config_form()
    data_ui.show_length_preview(kind, config, server_path=server_path, uploads=uploads)
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    out_name = c1.text_input("Save as", "my-audio", key="data_extract_name",
                             help="Name of the new workspace dataset")
    overwrite = c2.checkbox("Replace existing", key="data_extract_overwrite",
                            help="Overwrite a workspace dataset of the same name")
    if st.button("Extract features", type="primary", disabled=config is None,
                 icon=":material/graphic_eq:", key="data_extract_start",
                 help="Start the extraction as a background job"):
        try:
            folder = data_ui.save_audio_source(kind, uploads, name=out_name,
                                               class_name=class_name, server_path=server_path)
            start_job("extract", {"input": str(folder), "out": out_name, "overwrite": overwrite,
                                  "config": asdict(config)}, title=f"Extract {out_name}")
        except SynthError as exc:
            ui.show_error(exc)
    job = latest_job("extract")
    if job is not None:
        status = job_panel(job, key="extract")
        result = status.result if status.is_done else {}
        if result.get("duration_policy"):
            frames = (f", {result['frames']} frame(s)" if result.get("frames") else
                      ", one row per clip")
            length = ("each clip's own" if result["duration"] in (None, "any") else
                      f"{result['duration']} s")
            st.caption(f"Clip length {length}{frames}: "
                       f"{result['duration_policy']}. {result.get('n_padded', 0)} clip(s) "
                       f"padded, {result.get('n_trimmed', 0)} trimmed.")
        if result.get("layout_reading"):  # a guess about the folders, said once
            st.caption(f"Read as: {result['layout_reading']}.")
        for note in result.get("notes") or []:  # what the folders or the CSV left out
            st.warning(note, icon=":material/info:")
        if result.get("skipped"):
            with st.expander(f"{result['n_skipped']} file(s) skipped"):
                st.dataframe(result["skipped"], hide_index=True, width="stretch")
        if result.get("dataset"):
            data_ui.use_dataset_button(result["dataset"], key="data_use_extracted")

with imports:
    upload = st.file_uploader("Feature matrix", type=["h5", "hdf5", "csv", "npz"],
                              key="data_import_file",
                              help="HDF5 (this layout, or one [N, D+1] matrix with the label "
                                   "last), CSV with a header row, or NPZ with X and y")
    c1, c2, c3 = st.columns(3, vertical_alignment="bottom")
    label_column = c1.text_input("Label column", "auto", key="data_import_label",
                                 help="CSV: a column name, 'last', 'none', or 'auto' (a column "
                                      "called label/class/target/y/category, else the only "
                                      "column of repeated text, such as 'species')")
    import_name = c2.text_input("Save as", key="data_import_name",
                                help="Workspace dataset name (default: the file's name)")
    import_overwrite = c3.checkbox("Replace existing", key="data_import_overwrite",
                                   help="Overwrite a workspace dataset of the same name")
    if st.button("Import", type="primary", disabled=upload is None, key="data_import_start",
                 icon=":material/upload_file:", help="Check the matrix and save it"):
        summary = data_ui.import_upload(upload, name=import_name, label_column=label_column,
                                        overwrite=import_overwrite)
        if summary is not None:
            st.success(summary["message"], icon=":material/check_circle:")
            data_ui.use_dataset_button(summary["dataset"], key="data_use_imported")

    with st.expander("A file or folder on the server, or MNIST"):
        server_input = st.text_input(
            "Path or source", key="data_import_path",
            help="A .h5/.csv/.npz file or a folder of MNIST IDX files on the machine running "
                 "this app, or openml:mnist_784 to download MNIST (needs internet once)")
        if st.button("Import in the background", key="data_import_job", disabled=not server_input,
                     help="Runs as a job: large files and downloads do not block the page"):
            source = server_input.strip()
            start_job("import", {"input": source, "label_column": label_column,
                                 "out": import_name or data_ui.default_name(source),
                                 "overwrite": import_overwrite}, title=f"Import {source}")
        job = latest_job("import")
        if job is not None:
            status = job_panel(job, key="import")
            if status.is_done and status.result.get("dataset"):
                data_ui.use_dataset_button(status.result["dataset"], key="data_use_job")

with manage:
    data_ui.manage_datasets()
