"""Property-based tests (hypothesis) for the readers, the scaler and the path guards.

Beyond the examples in test_importers / test_scaling / test_uploads: feature
files, NPZ, CSV with text labels and the thesis's HDF5 layout round-trip for
any data hypothesis draws; any bytes handed to a reader give a FeatureSet or a
project error, never a crash; non-finite values are always refused; and no
user text makes ``safe_name``, ``Workspace.inside``, ``dataset_path`` or the
upload helpers point outside the workspace.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from synth_core.errors import InputError, StorageError, SynthError
from synth_core.features import FeatureSet, read_features, write_features
from synth_core.data.importers import import_features, output_path
from synth_core.data.scaling import MinMaxScaling
from synth_core.workspace import Workspace, get_workspace, safe_name

FAST = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)
matrices = arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 6)), elements=finite)
# Class names and ids as a user might type them: any printable text, HTML included.
names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
# Text that pandas keeps as text: starts with a letter, no separators or quotes trouble.
csv_labels = st.from_regex(r"[A-Za-z][A-Za-z0-9 _<>&'-]{0,8}", fullmatch=True).filter(
    lambda s: s.strip() == s and s.lower() not in {"nan", "na", "null", "none", "n/a", "true",
                                                   "false"})
path_text = st.text(st.sampled_from(list("ab./\\:~é _-\0")), min_size=0, max_size=16)


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="prop-"))


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return get_workspace(tmp_path_factory.mktemp("prop") / "workspace")


# --------------------------------------------------------------------------- feature files


@FAST
@given(X=matrices, data=st.data())
def test_feature_file_round_trip_keeps_everything(X, data):
    n = X.shape[0]
    k = data.draw(st.integers(1, 4))
    class_names = data.draw(st.lists(names, min_size=k, max_size=k, unique=True))
    labels = data.draw(st.lists(st.integers(-1, k - 1), min_size=n, max_size=n))
    ids = data.draw(st.lists(names, min_size=n, max_size=n))
    folds = data.draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))
    original = FeatureSet(features=X, labels=labels, class_names=class_names, ids=ids,
                          folds=folds, attrs={"source": data.draw(names), "frames": 4,
                                              "feature_shape": [n and 1, X.shape[1]]})
    path = write_features(_tmp() / "f.h5", original)
    back = read_features(path)
    np.testing.assert_array_equal(back.features, X)
    assert back.features.dtype == np.float32
    assert back.labels.tolist() == list(labels)
    assert back.class_names == class_names
    assert back.ids == ids
    assert back.folds.tolist() == folds
    assert back.attrs["source"] == original.attrs["source"]
    assert back.attrs["feature_shape"] == original.attrs["feature_shape"]


@FAST
@given(X=matrices)
def test_write_features_never_overwrites_without_asking(X):
    path = _tmp() / "f.h5"
    write_features(path, FeatureSet(features=X, labels=np.zeros(len(X))))
    before = path.read_bytes()
    with pytest.raises(StorageError, match="already exists"):
        write_features(path, FeatureSet(features=X + 1, labels=np.zeros(len(X))))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["f.h5"]  # no temporary file left


# --------------------------------------------------------------------------- importers


@FAST
@given(X=matrices, data=st.data())
def test_npz_round_trip_with_text_or_integer_labels(X, data):
    n = X.shape[0]
    text = data.draw(st.booleans())
    pool = (data.draw(st.lists(csv_labels, min_size=1, max_size=4, unique=True)) if text else
            data.draw(st.lists(st.integers(-5, 50), min_size=1, max_size=4, unique=True)))
    y = np.array(data.draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)))
    path = _tmp() / "m.npz"
    np.savez(path, X=X, y=y)
    imported = import_features(path)
    np.testing.assert_array_equal(imported.features, X)
    # Labels are 0..K-1 and the class names give back the original values.
    assert imported.labels.min() >= 0 and imported.labels.max() < imported.n_classes
    assert [imported.class_names[c] for c in imported.labels] == [str(v) for v in y]


@FAST
@given(images=arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 4),
                                           st.integers(1, 4)), elements=finite))
def test_npz_images_are_flattened_with_their_shape(images):
    path = _tmp() / "img.npz"
    np.savez(path, X=images)
    imported = import_features(path)
    assert imported.features.shape == (images.shape[0], images.shape[1] * images.shape[2])
    assert imported.attrs["feature_shape"] == list(images.shape[1:])
    np.testing.assert_array_equal(imported.features.reshape(images.shape), images)
    assert (imported.labels == -1).all()


@FAST
@given(X=matrices, data=st.data())
def test_csv_round_trip_with_text_labels_and_ids(X, data):
    n = X.shape[0]
    pool = data.draw(st.lists(csv_labels, min_size=1, max_size=4, unique=True))
    y = data.draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    ids = [f"clip-{i}.wav" for i in range(n)]
    path = _tmp() / "m.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file"] + [f"f{j}" for j in range(X.shape[1])] + ["class"])
        for i in range(n):
            writer.writerow([ids[i]] + [repr(float(v)) for v in X[i]] + [y[i]])
    imported = import_features(path)
    np.testing.assert_allclose(imported.features, X, rtol=1e-6)
    assert [imported.class_names[c] for c in imported.labels] == y
    assert imported.ids == ids


@FAST
@given(X=matrices, data=st.data())
def test_thesis_hdf5_layout_label_in_last_column(X, data):
    n = X.shape[0]
    labels = data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    path = _tmp() / "thesis.h5"
    with h5py.File(path, "w") as handle:
        handle["us8k"] = np.column_stack([X.astype(np.float64), labels])
    imported = import_features(path)
    np.testing.assert_array_equal(imported.features, X)
    assert [int(imported.class_names[c]) for c in imported.labels] == labels


@FAST
@given(X=matrices, data=st.data())
def test_non_finite_values_are_always_refused(X, data):
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    i = data.draw(st.integers(0, X.shape[0] - 1))
    j = data.draw(st.integers(0, X.shape[1] - 1))
    X = X.copy()
    X[i, j] = bad
    kind = data.draw(st.sampled_from(["npz", "csv", "h5"]))
    path = _tmp() / f"m.{kind}"
    if kind == "npz":
        np.savez(path, X=X)
    elif kind == "csv":
        header = ",".join(f"f{c}" for c in range(X.shape[1]))
        path.write_text(header + "\n" + "\n".join(",".join(str(float(v)) for v in row)
                                                  for row in X) + "\n")
    else:
        with h5py.File(path, "w") as handle:
            handle["features"] = X
    with pytest.raises(InputError) as exc:
        import_features(path)
    message = str(exc.value)
    assert path.name in message
    assert re.search(r"(row|line)", message)


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(max_size=400), kind=st.sampled_from(["csv", "npz", "h5", "hdf5"]))
def test_readers_turn_any_bytes_into_data_or_a_clear_error(payload, kind):
    path = _tmp() / f"upload.{kind}"
    path.write_bytes(payload)
    try:
        data = import_features(path)
    except SynthError as exc:
        message = str(exc)
        assert path.name in message and "\n" not in message.strip()
        return
    assert isinstance(data, FeatureSet) and data.n_samples > 0
    assert np.isfinite(data.features).all()


@settings(max_examples=30, deadline=None)
@given(payload=st.binary(max_size=300))
def test_read_features_on_any_bytes_raises_project_error(payload):
    path = _tmp() / "f.h5"
    path.write_bytes(payload)
    with pytest.raises(SynthError):
        read_features(path)


# --------------------------------------------------------------------------- scaler


@FAST
@given(X=arrays(np.float64, st.tuples(st.integers(1, 15), st.integers(1, 5)),
                elements=st.floats(-1e5, 1e5, allow_nan=False)),
       Y=arrays(np.float64, st.tuples(st.integers(1, 5), st.just(1)),
                elements=st.floats(-1e5, 1e5, allow_nan=False)))
def test_scaler_survives_json_and_is_monotone(X, Y):
    scaler = MinMaxScaling().fit(X)
    restored = MinMaxScaling.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(restored.transform(X), scaler.transform(X))
    Z = scaler.transform(X)
    # Per column the order of the rows is kept (ties stay ties).
    for j in range(X.shape[1]):
        order = np.argsort(X[:, j], kind="stable")
        assert np.all(np.diff(Z[order, j]) >= -1e-6)
    constant = X.max(0) == X.min(0)
    assert np.all(Z[:, constant] == 0)
    # New rows outside the training range are not clipped by default and invert back.
    wide = np.repeat(Y, X.shape[1], axis=1)
    span = max(float(np.abs(wide).max()), float(np.abs(X).max()), 1.0)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(wide)), wide,
                               atol=1e-4 * span + 1e-3)


@FAST
@given(X=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)),
                elements=st.floats(-10, 10)),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]), data=st.data())
def test_scaler_refuses_non_finite_training_rows(X, bad, data):
    X[data.draw(st.integers(0, X.shape[0] - 1)), data.draw(st.integers(0, X.shape[1] - 1))] = bad
    with pytest.raises(InputError, match="NaN or infinite"):
        MinMaxScaling().fit(X)


# --------------------------------------------------------------------------- path guards

_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=120), max_length=st.integers(1, 100))
def test_safe_name_is_always_a_plain_file_name(text, max_length):
    name = safe_name(text, max_length=max_length)
    assert _SAFE.match(name)
    assert name not in (".", "..") and not name.startswith(".")
    assert "/" not in name and "\\" not in name and "\0" not in name
    # The default ('unnamed') stands in for text with nothing usable, whatever max_length.
    assert len(name) <= max_length or name == "unnamed"
    if len(name) <= max_length:
        assert safe_name(name, max_length=max_length) == name  # idempotent


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(path_text, min_size=1, max_size=4))
def test_workspace_inside_never_escapes(ws, parts):
    root = ws.root.resolve()
    try:
        path = ws.inside(*parts)
    except InputError as exc:
        assert "outside the workspace" in str(exc)
        return
    except ValueError:  # an embedded NUL byte: the OS refuses such a path outright
        assert any("\0" in p for p in parts)
        return
    assert path == root or root in path.parents


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=60))
def test_dataset_names_stay_in_the_datasets_folder(ws, name):
    path = ws.dataset_path(name)
    assert path.parent == ws.datasets_dir and path.suffix == ".h5"
    if "/" not in name and "\\" not in name:
        out = _output_or_none(name, ws)
        assert out is None or out.parent == ws.datasets_dir


def _output_or_none(name: str, ws: Workspace) -> Path | None:
    try:
        return output_path(name, ws, overwrite=True)
    except SynthError:
        return None


@settings(max_examples=60, deadline=None)
@given(file_names=st.lists(path_text.filter(lambda s: "\0" not in s), min_size=1, max_size=3),
       folder=path_text.filter(lambda s: "\0" not in s), sub=path_text.filter(lambda s: "\0" not in s))
def test_uploaded_file_names_land_inside_the_upload_folder(ws, file_names, folder, sub):
    from synth_core.data.uploads import save_uploaded_files

    try:
        dest = save_uploaded_files([(n, b"x") for n in file_names], ws, name=folder,
                                   subfolder=sub)
    except InputError:
        return
    uploads = ws.uploads_dir.resolve()
    assert uploads in dest.resolve().parents
    written = [p for p in dest.rglob("*") if p.is_file()]
    assert len(written) == len(file_names)
    assert all(dest.resolve() in p.resolve().parents for p in written)
