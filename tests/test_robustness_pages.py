"""Bad input on the pages (AppTest): a clear ``st.error``, no exception, nothing lost.

The same bad inputs as tests/test_robustness_cli.py, wherever a page accepts
them: uploads on Data, training values on Train, storage and ranges on Tune,
end points on Generate, mismatched sets on Evaluate. Plus source checks for the
security rules of issue #7: no page renders user text as HTML, checkpoints load
with ``weights_only=True``, the server binds to localhost, and every page opens
with an introduction and gives each control a help text.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tomllib
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from synth_core.data.datasets import save_dataset
from synth_core.features import FeatureSet
from synth_core.jobs import list_jobs
from tests.conftest import ROOT, app_test, fill_train_form, make_blobs

PAGE_FILES = sorted((ROOT / "pages").glob("[0-9]*_*.py"))
UI_SOURCES = [ROOT / "app.py", *PAGE_FILES, *sorted((ROOT / "pages" / "common").glob("*.py"))]


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- Data


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _h5_other_layout() -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        handle["a"] = np.zeros((3, 2))
        handle["b"] = np.zeros((4, 5))
    return buffer.getvalue()


BAD_MATRICES = {
    "missing value": ("m.csv", b"f1,f2,label\n0.1,,a\n0.3,0.4,b\n", "auto",
                      ("m.csv", "missing values", "'f2'")),
    "non-numeric": ("m.csv", b"f1,f2,label\n0.1,x,a\n0.3,0.4,b\n", "auto",
                    ("m.csv", "non-numeric", "'f2'")),
    "nan and inf": ("m.csv", b"f1,f2,label\n0.1,nan,a\n0.3,inf,b\n", "auto", ("m.csv", "NaN")),
    "header only": ("m.csv", b"f1,f2,label\n", "auto", ("m.csv", "no data rows")),
    "empty csv": ("m.csv", b"", "auto", ("m.csv", "could not be read as CSV")),
    "label column missing": ("m.csv", b"f1,f2,label\n0.1,0.2,a\n", "species",
                             ("m.csv", "'species'", "columns are")),
    "npz with NaN": ("m.npz", _npz_bytes(X=np.array([[np.nan, 1.0]]), y=np.array([0])), "auto",
                     ("m.npz", "NaN")),
    "empty npz": ("m.npz", b"", "auto", ("m.npz", "not a readable NPZ")),
    "hdf5 other layout": ("m.h5", _h5_other_layout(), "auto", ("m.h5", "/features", "found a, b")),
    "not hdf5": ("m.h5", b"plain text, not HDF5", "auto", ("m.h5", "not a readable HDF5")),
}


@pytest.mark.parametrize("case", list(BAD_MATRICES))
def test_data_import_bad_matrix_shows_error_and_saves_nothing(workspace, case):
    name, payload, label_column, parts = BAD_MATRICES[case]
    at = app_test("pages/1_Data.py").run()
    at.file_uploader(key="data_import_file").set_value((name, payload, "application/octet-stream"))
    at.text_input(key="data_import_label").set_value(label_column)
    at.run()
    at.button(key="data_import_start").click().run()
    _ok(at)
    errors = _errors(at)
    assert errors, "no error shown"
    assert all(p.lower() in errors[0].lower() for p in parts), errors[0]
    assert workspace.list_datasets() == []
    assert not at.success


def test_data_import_does_not_replace_an_existing_dataset(workspace):
    path = save_dataset(make_blobs(), "blobs", workspace)
    before = _digest(path)
    at = app_test("pages/1_Data.py").run()
    at.file_uploader(key="data_import_file").set_value(
        ("blobs.csv", b"f1,f2,label\n0.1,0.2,a\n0.3,0.4,b\n", "text/csv"))
    at.run()
    at.button(key="data_import_start").click().run()
    _ok(at)
    assert any("blobs" in e and "already exists" in e
               for e in _errors(at)), _errors(at)
    assert _digest(path) == before


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry, data in entries.items():
            zf.writestr(entry, data)
    return buffer.getvalue()


BAD_ZIPS = {
    "not a zip": (b"this is not a zip" * 20, ("not a readable zip",)),
    "zip slip": (_zip({"a/x.wav": b"RIFF", "../../../evil.wav": b"RIFF"}), ("'..'", "refused")),
    "absolute path": (_zip({"/tmp/evil.wav": b"RIFF"}), ("absolute path",)),
    "zip bomb": (_zip({"a/bomb.wav": b"\0" * (30 * 1024 ** 2)}), ("zip bomb",)),
    "empty zip": (_zip({}), ("holds no files",)),
}


@pytest.mark.parametrize("case", list(BAD_ZIPS))
def test_data_extract_bad_zip_shows_error_and_starts_nothing(workspace, case, tmp_path):
    payload, parts = BAD_ZIPS[case]
    at = app_test("pages/1_Data.py").run()
    at.radio(key="data_audio_kind").set_value("zip").run()
    at.file_uploader(key="data_audio_zip").set_value(("clips.zip", payload, "application/zip"))
    at.run()
    at.button(key="data_extract_start").click().run()
    _ok(at)
    errors = _errors(at)
    assert errors and all(p.lower() in errors[0].lower() for p in parts), errors
    assert "clips.zip" in errors[0] or "my-audio" in errors[0]
    assert list_jobs(workspace, "extract") == []
    # A refused archive leaves no half-unpacked folder, and nothing lands outside the workspace.
    assert not [p for p in workspace.uploads_dir.rglob("*") if p.is_file()]
    assert not (workspace.root.parent / "evil.wav").exists()
    assert not Path("/tmp/evil.wav").exists() or case != "absolute path"


def test_data_extract_missing_server_folder_is_explained(workspace):
    at = app_test("pages/1_Data.py").run()
    at.radio(key="data_audio_kind").set_value("folder").run()
    at.text_input(key="data_audio_folder").set_value("/no/such/folder").run()
    at.button(key="data_extract_start").click().run()
    _ok(at)
    assert any("/no/such/folder" in e and "does not exist" in e for e in _errors(at))
    assert list_jobs(workspace, "extract") == []


# --------------------------------------------------------------------------- Train

def _train_with(at, dataset: str, **values):
    at.selectbox(key="dataset_picker").set_value(dataset).run()
    return fill_train_form(at, **{"latent": 2, "hidden": "8", "epochs": 2, "batch": 16, **values})


def _errors_now_or_after_the_job(at, workspace, kind: str) -> list[str]:
    """Errors the page shows at once, or once the background job it started has failed."""
    from synth_core.jobs import wait_for_job

    jobs = list_jobs(workspace, kind)
    if jobs and not _errors(at):
        assert wait_for_job(workspace, jobs[0].id, timeout=240).state == "failed"
        at.run()
        _ok(at)
    return _errors(at)


def test_train_fewer_rows_than_one_batch_is_explained(workspace):
    save_dataset(make_blobs().subset(np.array([0, 1, 2, 30, 31, 32])), "tiny", workspace)
    at = _train_with(app_test("pages/2_Train.py", timeout=180).run(), "tiny", batch=64)
    _ok(at)
    errors = _errors_now_or_after_the_job(at, workspace, "train")
    assert any("batch" in e and "tiny" in e for e in errors), errors
    assert workspace.list_runs() == []


def test_train_nan_in_the_data_is_explained(workspace):
    data = make_blobs()
    data.features[4, 1] = np.nan
    save_dataset(data, "holes", workspace)
    at = _train_with(app_test("pages/2_Train.py").run(), "holes")
    _ok(at)
    assert any("holes" in e and "NaN" in e and "rows 4" in e for e in _errors(at)), _errors(at)
    assert list_jobs(workspace, "train") == []


def test_train_cvae_on_one_class_is_explained(workspace):
    save_dataset(make_blobs(n_classes=1), "single", workspace)
    at = app_test("pages/2_Train.py").run()
    at.selectbox(key="dataset_picker").set_value("single").run()
    at.selectbox(key="train-model").set_value("cvae").run()
    key = "train-cvae-defaults"
    at.number_input(key=f"{key}-latent").set_value(2)
    at.number_input(key=f"{key}-epochs").set_value(2)
    at.button[0].click()
    at.run()
    _ok(at)
    assert any("single" in e and "two classes" in e for e in _errors(at)), _errors(at)
    assert list_jobs(workspace, "train") == []


# --------------------------------------------------------------------------- Tune


def test_tune_unreachable_storage_url_is_explained_without_the_password(workspace):
    at = app_test("pages/3_Tune.py").run()
    at.selectbox(key="tune-storage-kind").set_value("url").run()
    at.text_input(key="tune-storage-url").set_value(
        "postgresql://someone:hunter2@127.0.0.1:9/studies").run()
    _ok(at)
    errors = _errors(at)
    assert errors and "storage" in errors[0] and "127.0.0.1" in errors[0], errors
    assert all("hunter2" not in e for e in errors)
    assert list_jobs(workspace, "tune") == []


def test_tune_sqlite_in_missing_folder_is_explained(workspace, tmp_path):
    at = app_test("pages/3_Tune.py").run()
    at.selectbox(key="tune-storage-kind").set_value("url").run()
    at.text_input(key="tune-storage-url").set_value(
        f"sqlite:///{tmp_path}/nowhere/studies.db").run()
    _ok(at)
    assert any("does not exist" in e for e in _errors(at)), _errors(at)
    assert not (tmp_path / "nowhere").exists()


def test_tune_inverted_learning_rate_range_is_refused(workspace):
    save_dataset(make_blobs(), "blobs", workspace)
    at = app_test("pages/3_Tune.py").run()
    at.selectbox(key="tune-dataset").set_value("blobs").run()
    at.number_input(key="tune-vae-exploration-lr-lo").set_value(0.01).run()
    at.number_input(key="tune-vae-exploration-lr-hi").set_value(0.001).run()
    at.button(key="tune-start").click().run()
    _ok(at)
    assert any("lr" in e and "inverted" in e for e in _errors(at)), _errors(at)
    assert list_jobs(workspace, "tune") == []


def test_tune_empty_study_name_is_refused(workspace):
    save_dataset(make_blobs(), "blobs", workspace)
    at = app_test("pages/3_Tune.py").run()
    at.selectbox(key="tune-dataset").set_value("blobs").run()
    at.text_input(key="tune-vae-exploration-name").set_value("   ").run()
    at.button(key="tune-start").click().run()
    _ok(at)
    assert any("study name is empty" in e for e in _errors(at)), _errors(at)
    assert list_jobs(workspace, "tune") == []


# --------------------------------------------------------------------------- Generate


@pytest.fixture
def vae_workspace(workspace):
    from tests.test_generation import train_tiny_run

    train_tiny_run(workspace, epochs=1)
    return workspace


def test_generate_same_sample_twice_is_explained(vae_workspace):
    at = app_test("pages/4_Generate.py").run()
    _ok(at)
    at.selectbox(key="gen-a-class").set_value(2)
    at.selectbox(key="gen-b-class").set_value(2).run()
    at.number_input(key="gen-a-index").set_value(0)
    at.number_input(key="gen-b-index").set_value(0).run()
    _ok(at)
    assert any("same row" in e and "two different" in e for e in _errors(at)), _errors(at)


def test_generate_run_whose_data_is_gone_is_explained(vae_workspace):
    before = {p: _digest(p) for p in vae_workspace.runs_dir.rglob("*") if p.is_file()}
    vae_workspace.dataset_path("digits-small").unlink()
    at = app_test("pages/4_Generate.py").run()
    _ok(at)
    errors = _errors(at)
    assert errors and "digits-small" in errors[0] and "restore" in errors[0], errors
    # The run itself is untouched.
    assert {p: _digest(p) for p in before} == before


# --------------------------------------------------------------------------- Evaluate


def test_evaluate_mismatched_synthetic_set_fails_with_message(workspace):
    save_dataset(make_blobs(), "real", workspace)
    other = make_blobs(n_features=8, seed=1)
    save_dataset(FeatureSet(features=other.features, labels=other.labels,
                            class_names=other.class_names, attrs={"mode": "class"}),
                 "generated-narrow", workspace)
    at = app_test("pages/6_Evaluate.py", timeout=180).run()
    at.selectbox(key="eval_real").set_value("real").run()
    at.multiselect(key="eval_synthetic").set_value(
        [str(workspace.dataset_path("generated-narrow"))]).run()
    at.button(key="eval_start").click().run()
    _ok(at)
    errors = _errors_now_or_after_the_job(at, workspace, "evaluate")
    assert any("generated-narrow" in e and "8 features" in e for e in errors), errors


# --------------------------------------------------------------------------- source checks


def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return "?"


def _literal_strings(path: Path) -> set[str]:
    """Module-level names bound to a string literal (our own constant CSS/markup)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {target.id for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)}


def _constant_markup(call: ast.Call, constants: set[str]) -> bool:
    """st.html(<a string literal or a module constant bound to one>): no user text in it."""
    if len(call.args) != 1 or call.keywords:
        return False
    arg = call.args[0]
    return (isinstance(arg, ast.Constant) and isinstance(arg.value, str)) or (
        isinstance(arg, ast.Name) and arg.id in constants)


def test_no_page_renders_html():
    """User text (class names, file names) is never rendered as HTML: no unsafe_allow_html,
    no components.html, and st.html only of a constant string written in the source (CSS)."""
    offenders = []
    for path in UI_SOURCES:
        constants = _literal_strings(path)
        for call in _calls(path):
            name = _dotted(call.func)
            if name.endswith((".html", "components.v1.html")) or name == "html":
                if name == "st.html" and _constant_markup(call, constants):
                    continue
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno} {name}()")
            for kw in call.keywords:
                if kw.arg == "unsafe_allow_html" and not (
                        isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    offenders.append(f"{path.relative_to(ROOT)}:{call.lineno} unsafe_allow_html")
        if "unsafe_allow_html=True" in path.read_text(encoding="utf-8"):
            offenders.append(f"{path.relative_to(ROOT)}: unsafe_allow_html=True")
    assert not offenders, offenders


def test_torch_load_only_with_weights_only_true():
    """Checkpoints are state dicts loaded with weights_only=True (no pickled code runs)."""
    offenders, found = [], 0
    for path in sorted((ROOT / "synth_core").rglob("*.py")) + UI_SOURCES:
        for call in _calls(path):
            if _dotted(call.func) not in ("torch.load", "load") or (
                    _dotted(call.func) == "load" and "torch" not in path.read_text()):
                continue
            if _dotted(call.func) == "load":
                continue  # a bare load() is some other module's (json, np, pickle-free)
            found += 1
            ok = any(kw.arg == "weights_only" and isinstance(kw.value, ast.Constant)
                     and kw.value.value is True for kw in call.keywords)
            if not ok:
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert found >= 1  # runs and VGGish weights are loaded somewhere
    assert not offenders, f"torch.load without weights_only=True: {offenders}"
    unpickling = [f"{p.relative_to(ROOT)}:{c.lineno}" for p in (ROOT / "synth_core").rglob("*.py")
                  for c in _calls(p) if _dotted(c.func) in ("pickle.load", "pickle.loads")
                  or any(kw.arg == "allow_pickle" and getattr(kw.value, "value", None) is True
                         for kw in c.keywords)]
    assert not unpickling, unpickling


def test_server_binds_to_localhost_and_limits_uploads():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config["server"]
    assert server["address"] in ("127.0.0.1", "localhost")
    assert 0 < server["maxUploadSize"] <= 1024
    assert server.get("enableXsrfProtection", True) is True
    from synth_core.data.uploads import UploadLimits

    limits = UploadLimits()
    assert limits.max_upload_bytes >= server["maxUploadSize"] * 1024 ** 2
    assert limits.max_ratio <= 1000 and limits.max_total_bytes <= 16 * 1024 ** 3


# --------------------------------------------------------------------------- teaching


_WIDGETS = ("button", "checkbox", "color_picker", "date_input", "multiselect", "number_input",
            "radio", "select_slider", "selectbox", "slider", "text_area", "text_input",
            "time_input", "toggle", "file_uploader")


@pytest.mark.parametrize("script", ["app.py"] + [f"pages/{p.name}" for p in PAGE_FILES])
def test_page_opens_with_an_introduction_and_helps_every_control(workspace, script):
    at = app_test(script).run()
    _ok(at)
    assert at.title, "no title"
    intro = at.caption[0].value
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", intro.strip()) if len(s) > 10]
    assert 2 <= len(sentences) <= 6, f"{script}: intro has {len(sentences)} sentences: {intro}"
    missing = []
    for kind in _WIDGETS:
        for widget in at.get(kind):
            if not (getattr(widget, "help", None) or "").strip():
                missing.append(f"{kind} {getattr(widget, 'label', '?')!r}")
    assert not missing, f"{script}: controls without help text: {missing}"


# --------------------------------------------------------------------------- damaged workspace items


def _damage_runs(workspace) -> dict[str, Path]:
    """Damaged copies of the good run, one per way a run folder breaks (newest first)."""
    import shutil
    import time

    import torch

    good = next(p for p in workspace.runs_dir.iterdir() if p.is_dir())
    made = {}
    for name in ("zz-cut", "zz-notpt", "zz-shape", "zz-half"):
        made[name] = workspace.runs_dir / name
        shutil.copytree(good, made[name])
    text = (made["zz-cut"] / "config.json").read_bytes()
    (made["zz-cut"] / "config.json").write_bytes(text[: len(text) // 2])
    (made["zz-notpt"] / "model.pt").write_bytes(b"not a checkpoint")
    state = torch.load(good / "model.pt", weights_only=True)
    torch.save({k: torch.zeros(*[d + 1 for d in v.shape]) if v.ndim else v
                for k, v in state.items()}, made["zz-shape"] / "model.pt")
    (made["zz-half"] / "config.json").unlink()
    time.sleep(0.01)
    for run in made.values():  # newer than the good run: they would be picked first
        for path in run.iterdir():
            path.touch()
    return made


def _damaged_warnings(at) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("damaged ")]


@pytest.mark.parametrize("script", ["pages/4_Generate.py", "pages/5_Explore.py",
                                    "pages/2_Train.py"])
def test_damaged_run_folders_are_warnings_and_the_good_run_still_works(vae_workspace, script):
    made = _damage_runs(vae_workspace)
    before = {p: _digest(p) for p in vae_workspace.runs_dir.rglob("*") if p.is_file()}
    at = app_test(script, timeout=180).run()
    _ok(at)
    warnings = _damaged_warnings(at)
    assert len(warnings) == len(made), warnings
    for name, reason in (("zz-cut", "not valid JSON"), ("zz-notpt", "not a PyTorch checkpoint"),
                         ("zz-shape", "another shape"), ("zz-half", "half-written")):
        assert any(name in w and reason in w for w in warnings), (name, warnings)
    assert not _errors(at), _errors(at)
    if script == "pages/4_Generate.py":  # the good run is picked and drawn
        options = at.selectbox[0].options
        assert len(options) == 1 and not any(n in options[0] for n in made)
        assert at.get("plotly_chart")
    assert {p: _digest(p) for p in before} == before  # nothing removed without asking


def test_generate_remove_button_deletes_only_that_damaged_run(vae_workspace):
    made = _damage_runs(vae_workspace)
    at = app_test("pages/4_Generate.py", timeout=180).run()
    _ok(at)
    next(b for b in at.button if b.label == "Remove zz-notpt").click().run()
    _ok(at)
    assert not made["zz-notpt"].exists()
    assert all(made[n].exists() for n in ("zz-cut", "zz-shape", "zz-half"))
    assert len(_damaged_warnings(at)) == 3


@pytest.mark.parametrize("script", ["pages/home.py", "pages/2_Train.py", "pages/3_Tune.py",
                                    "pages/6_Evaluate.py"])
def test_damaged_dataset_is_a_warning_on_pages_that_pick_datasets(workspace, script):
    save_dataset(make_blobs(), "good", workspace)
    (workspace.datasets_dir / "junk.h5").write_bytes(b"not HDF5")
    at = app_test(script, timeout=180).run()
    _ok(at)
    assert any("junk.h5" in w and "not a readable HDF5" in w for w in _damaged_warnings(at))
    assert (workspace.datasets_dir / "junk.h5").exists()
