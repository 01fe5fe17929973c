"""AppTest of the Data page (pages/1_Data.py)."""

from __future__ import annotations

import numpy as np

from synth_core.features import read_features
from tests.conftest import app_test


def test_data_page_renders_on_digits(workspace):
    at = app_test("pages/1_Data.py").run()
    assert not at.exception
    assert at.title[0].value == "Data"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows"] == "1797" and metrics["Kind"] == "image"
    assert len(at.get("image")) >= 1  # digit samples drawn as images


def test_data_page_imports_csv_upload(workspace):
    at = app_test("pages/1_Data.py").run()
    csv = b"f1,f2,label\n0.1,0.2,a\n0.3,0.4,b\n0.5,0.6,a\n"
    at.file_uploader(key="data_import_file").set_value(("mine.csv", csv, "text/csv"))
    at.run()
    at.text_input(key="data_import_name").input("mine")
    at.button(key="data_import_start").click().run()
    assert not at.exception and not at.error
    assert "imported 3 rows" in at.success[0].value
    data = read_features(workspace.dataset_path("mine"))
    np.testing.assert_allclose(data.features[:, 0], [0.1, 0.3, 0.5], rtol=1e-6)
    at.button(key="data_use_imported").click().run()
    assert at.selectbox(key="data_dataset_picker").value == "mine"
    assert {m.label: m.value for m in at.metric}["Rows"] == "3"


def test_data_page_import_shows_the_notes_the_cli_gives(workspace):
    """A numeric id column and an unlabelled table with a whole-number column that may hold
    the classes: the page's success line carries import_summary's notes, as the CLI's."""
    csv = "id,f1,cls\n" + "".join(f"{i},{i / 10},{i % 2}\n" for i in range(8))
    at = app_test("pages/1_Data.py").run()
    at.file_uploader(key="data_import_file").set_value(("clsid.csv", csv.encode(), "text/csv"))
    at.run()
    at.text_input(key="data_import_name").input("clsid")
    at.button(key="data_import_start").click().run()
    assert not at.exception and not at.error
    message = at.success[0].value
    assert "imported 8 rows x 2 features" in message and "(no labels)" in message
    assert "column 'id' of clsid.csv holds distinct whole numbers" in message
    assert "import again with --label-column 'cls'" in message
    assert read_features(workspace.dataset_path("clsid")).ids[:2] == ["0", "1"]


def test_data_page_shows_error_for_bad_csv(workspace):
    at = app_test("pages/1_Data.py").run()
    at.file_uploader(key="data_import_file").set_value(
        ("bad.csv", b"f1,f2,label\n0.1,,a\n", "text/csv"))
    at.run()
    at.button(key="data_import_start").click().run()
    assert not at.exception
    assert any("missing values" in e.value for e in at.error)
    assert not workspace.dataset_path("bad").exists()
    assert list(workspace.uploads_dir.iterdir()) == []  # the failed upload is not left behind


def _extract_tone_zip(workspace, tmp_path, choose) -> object:
    """Upload a zip of two tones on the Data page, let ``choose(at)`` set the options,
    start the extraction and wait for its job; returns the AppTest after a rerun."""
    import io
    import zipfile

    from synth_core.jobs import list_jobs, wait_for_job
    from tests.test_audio import write_tone

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for cls, freq in (("low", 200), ("high", 2000)):
            zf.write(write_tone(tmp_path / f"{cls}.wav", 1.0, 8000, freq), f"clips/{cls}/a.wav")
        zf.writestr("clips/low/notes.txt", "not audio")
    at = app_test("pages/1_Data.py").run()
    at.radio(key="data_audio_kind").set_value("zip").run()
    at.file_uploader(key="data_audio_zip").set_value(("clips.zip", buffer.getvalue(),
                                                      "application/zip"))
    choose(at)
    at.text_input(key="data_extract_name").input("tones")
    at.button(key="data_extract_start").click().run()
    assert not at.exception and not at.error
    job = list_jobs(workspace, "extract")[0]
    assert wait_for_job(workspace, job.id, timeout=120).state == "done"
    at.run()
    assert not at.exception
    assert any("extracted 2 clips" in s.value for s in at.success)
    # The zip's clips/ folder was looked through (said once, quietly); notes are warnings.
    assert any(c.value.startswith("Read as: ") and "clips/ holds only folders" in c.value
               for c in at.caption)
    assert not at.warning
    return at


def test_data_page_extracts_uploaded_zip_in_background(workspace, tmp_path):
    def choose(at):
        at.selectbox(key="data_length_mode").set_value("pad").run()  # enables the duration box
        at.selectbox(key="data_frames").set_value(1)
        at.number_input(key="data_duration").set_value(1.0)

    _extract_tone_zip(workspace, tmp_path, choose)
    assert read_features(workspace.dataset_path("tones")).features.shape == (2, 128)


def test_data_page_extracts_summaries_with_the_frames_box_off(workspace, tmp_path):
    def choose(at):
        at.selectbox(key="data_frames").set_value(4).run()
        at.selectbox(key="data_extractor").set_value("summary").run()
        assert at.selectbox(key="data_frames").disabled

    at = _extract_tone_zip(workspace, tmp_path, choose)
    assert any("one row per clip" in c.value for c in at.caption)
    assert read_features(workspace.dataset_path("tones")).features.shape == (2, 37)


def test_data_page_vggish_without_weights_explains(workspace, monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTH_VGGISH_WEIGHTS", str(tmp_path / "missing.pth"))
    at = app_test("pages/1_Data.py").run()
    at.selectbox(key="data_extractor").set_value("vggish").run()
    assert not at.exception
    assert any("VGGish weights not found" in w.value for w in at.warning)
    assert at.button(key="data_extract_start").disabled


def test_data_page_rename_and_delete_with_confirmation(workspace):
    from synth_core.data.datasets import save_dataset
    from tests.conftest import make_blobs

    save_dataset(make_blobs(), "blobs", workspace)
    at = app_test("pages/1_Data.py").run()
    at.selectbox(key="data_dataset_picker").select("blobs").run()
    at.text_input(key="data_rename_to").input("renamed")
    at.button(key="data_rename").click().run()
    assert not at.exception and workspace.dataset_path("renamed").is_file()
    assert at.selectbox(key="data_dataset_picker").value == "renamed"
    assert at.button(key="data_delete").disabled  # nothing is deleted without the tick
    at.checkbox(key="data_delete_sure").check().run()
    at.button(key="data_delete").click().run()
    assert not at.exception and not workspace.dataset_path("renamed").exists()
    assert at.selectbox(key="data_dataset_picker").value == "builtin:digits"


def test_data_page_imports_server_file_as_job(workspace, tmp_path):
    from synth_core.jobs import list_jobs, wait_for_job

    np.savez(tmp_path / "feats.npz", X=np.eye(4), y=np.array([0, 1, 0, 1]))
    at = app_test("pages/1_Data.py").run()
    at.text_input(key="data_import_path").input(str(tmp_path / "feats.npz")).run()
    at.button(key="data_import_job").click().run()
    assert not at.exception
    job = list_jobs(workspace, "import")[0]
    assert wait_for_job(workspace, job.id, timeout=120).state == "done"
    at.run()
    assert read_features(workspace.dataset_path("feats")).n_samples == 4
    assert any("imported 4 rows" in s.value for s in at.success)


def test_data_page_shows_clip_length_histogram_and_derived_policy(workspace, tmp_path):
    from tests.test_audio import write_tone

    for i, seconds in enumerate([0.5, 2.0, 2.0, 9.0]):
        write_tone(tmp_path / "mix" / "ab"[i % 2] / f"{i}.wav", seconds, 8000)
    at = app_test("pages/1_Data.py").run()
    at.radio(key="data_audio_kind").set_value("folder").run()
    at.text_input(key="data_audio_folder").input(str(tmp_path / "mix")).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="data_length_mode").value == "auto"
    assert len(at.get("plotly_chart")) >= 2  # class counts of the preview, and clip lengths
    caption = " ".join(c.value for c in at.caption)
    assert "4 clip(s)" in caption and "median" in caption and "2 s" in caption
    at.selectbox(key="data_length_mode").set_value("thesis").run()  # the preset, one choice away
    caption = " ".join(c.value for c in at.caption)
    assert "only clips of 4 s" in caption and at.selectbox(key="data_frames").disabled


def test_data_page_lists_damaged_dataset_with_remove_button(workspace, blobs):
    from synth_core.data.datasets import save_dataset

    save_dataset(blobs, "good", workspace)
    junk = workspace.datasets_dir / "junk.h5"
    junk.write_bytes(b"not an HDF5 file")
    at = app_test("pages/1_Data.py").run()
    assert not at.exception and not at.error
    warnings = [w.value for w in at.warning]
    assert any("damaged dataset" in w and "junk.h5" in w and "not a readable HDF5" in w
               for w in warnings)
    assert "junk" not in at.selectbox(key="data_dataset_picker").options
    assert "good" in at.selectbox(key="data_dataset_picker").options
    assert junk.exists()  # listed, never removed without asking
    remove = next(b for b in at.button if b.label == "Remove junk.h5")
    remove.click().run()
    assert not junk.exists() and workspace.dataset_path("good").exists()
    assert not any("junk.h5" in w.value for w in at.warning)
