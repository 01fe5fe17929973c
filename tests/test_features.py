"""The HDF5 feature file: round trip, layout checks, no silent overwrite."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from synth_core.errors import InputError, StorageError
from synth_core.features import FeatureSet, read_features, write_features
from tests.conftest import make_blobs


def test_write_read_round_trip(tmp_path):
    data = make_blobs()
    data.folds = np.arange(data.n_samples) % 3
    data.scaler = {"data_min": np.zeros(16), "data_max": np.ones(16)}
    data.attrs.update(extractor="logmel", frames=4, feature_shape=[4, 4], sample_rate=16000)
    path = write_features(tmp_path / "f.h5", data)
    back = read_features(path)
    np.testing.assert_array_equal(back.features, data.features)
    np.testing.assert_array_equal(back.labels, data.labels)
    np.testing.assert_array_equal(back.folds, data.folds)
    assert back.ids == data.ids
    assert back.class_names == data.class_names
    assert back.attrs["feature_shape"] == [4, 4]
    assert back.attrs["frames"] == 4
    assert back.attrs["extractor"] == "logmel"
    assert "created" in back.attrs and "synth_core_version" in back.attrs
    np.testing.assert_array_equal(back.scaler["data_max"], np.ones(16))


def test_write_features_refuses_overwrite(tmp_path):
    path = write_features(tmp_path / "f.h5", make_blobs(seed=1))
    with pytest.raises(StorageError, match="already exists"):
        write_features(path, make_blobs(seed=2))
    assert read_features(path).features.shape == make_blobs(seed=1).features.shape
    np.testing.assert_array_equal(read_features(path).features, make_blobs(seed=1).features)


def test_read_features_wrong_layout_names_file_and_fix(tmp_path):
    path = tmp_path / "thesis.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("data", data=np.zeros((4, 5)))
    with pytest.raises(InputError, match=r"thesis\.h5.*'/features'.*import"):
        read_features(path)


def test_read_features_not_hdf5(tmp_path):
    path = tmp_path / "junk.h5"
    path.write_bytes(b"not an hdf5 file")
    with pytest.raises(InputError, match="not a readable HDF5"):
        read_features(path)


def test_feature_set_checks_shapes_and_finite():
    with pytest.raises(InputError, match="labels has 2 entries"):
        FeatureSet(features=np.zeros((3, 2)), labels=[0, 1])
    data = FeatureSet(features=np.array([[0.0, np.nan], [1.0, 2.0]]), labels=[0, 1])
    with pytest.raises(InputError, match="1 row.*NaN"):
        data.check_finite()


def test_subset_keeps_aligned_columns():
    data = make_blobs()
    sub = data.subset(data.labels == 1)
    assert sub.n_samples == 30
    assert set(sub.labels) == {1}
    assert sub.ids[0] == "row-30"


def test_read_header_matches_read_features_without_loading(tmp_path):
    from synth_core.features import read_header

    data = make_blobs()
    data.attrs.update(feature_shape=[4, 4], modality="tabular")
    path = write_features(tmp_path / "f.h5", data)
    header = read_header(path)
    full = read_features(path)
    assert (header.n_samples, header.n_features) == full.features.shape
    assert header.class_names == full.class_names
    assert header.attrs["feature_shape"] == [4, 4]


def _foreign_file(path, labels, **attrs):
    """A project-layout file written by another tool: /features and /labels, no class_names."""
    with h5py.File(path, "w") as handle:
        handle.create_dataset("features", data=np.zeros((len(labels), 2), dtype=np.float32))
        handle.create_dataset("labels", data=np.asarray(labels, dtype=np.int64))
        for key, value in attrs.items():
            handle.attrs[key] = value
    return path


def test_read_features_labels_without_class_names_become_the_classes_present(tmp_path):
    """Labels 3, 7, 9 with no class_names were read as classes "0".."9", seven of them empty,
    so a CVAE trained on ten classes; the values present are the classes, named by value."""
    from synth_core.features import read_header

    path = _foreign_file(tmp_path / "f.h5", [9, 3, 7, -1, 3, 9])
    data = read_features(path)
    assert data.class_names == ["3", "7", "9"]
    assert data.labels.tolist() == [2, 0, 1, -1, 0, 2]  # -1 stays unlabelled
    assert read_header(path).class_names == ["3", "7", "9"]
    # Labels 0..K-1 all present: nothing changes.
    path = _foreign_file(tmp_path / "g.h5", [1, 0, 2, 1])
    assert read_features(path).labels.tolist() == [1, 0, 2, 1]
    assert read_header(path).class_names == read_features(path).class_names == ["0", "1", "2"]
    path = _foreign_file(tmp_path / "u.h5", [-1, -1])
    assert read_features(path).class_names == read_header(path).class_names == []


def test_read_features_keeps_labels_that_have_class_names_even_empty_classes(tmp_path):
    """A file with class_names (a test split without rows of class 1, or one without rows of
    classes 0..2) keeps its labels and names as written."""
    from synth_core.features import read_header

    data = FeatureSet(features=np.zeros((3, 2)), labels=[0, 2, 2], class_names=["a", "b", "c"])
    back = read_features(write_features(tmp_path / "split.h5", data))
    assert back.labels.tolist() == [0, 2, 2] and back.class_names == ["a", "b", "c"]
    # Nameless labels in memory are numbered 0..max and stored with those names: kept too.
    data = FeatureSet(features=np.zeros((2, 2)), labels=[3, 3])
    path = write_features(tmp_path / "top.h5", data)
    back = read_features(path)
    assert back.labels.tolist() == [3, 3] and back.class_names == ["0", "1", "2", "3"]
    assert read_header(path).class_names == ["0", "1", "2", "3"]
    path = _foreign_file(tmp_path / "named.h5", [2, 0, 2], class_names='["x", "y", "z"]')
    assert read_features(path).labels.tolist() == [2, 0, 2]
    assert read_features(path).class_names == read_header(path).class_names == ["x", "y", "z"]


def test_read_header_wrong_layout_same_message_as_read_features(tmp_path):
    from synth_core.features import read_header

    path = tmp_path / "thesis.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("data", data=np.zeros((4, 5)))
    with pytest.raises(InputError, match=r"thesis\.h5.*'/features'.*import"):
        read_header(path)


def test_file_digest_follows_content_changes(tmp_path):
    import os

    from synth_core.features import file_digest

    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    first = file_digest(path)
    assert file_digest(path) == first
    path.write_bytes(b"two!")
    os.utime(path, ns=(1, 1))  # even with an old mtime, the size changed
    assert file_digest(path) != first


def test_seen_ids_round_trip_any_length_and_absent_by_default(tmp_path):
    data = make_blobs(n_per_class=5)
    assert data.seen_ids is None
    assert read_features(write_features(tmp_path / "a.h5", data)).seen_ids is None
    generated = FeatureSet(features=data.features[:3], labels=data.labels[:3],
                           seen_ids=["clip-é1.wav", "row 7", b"x"],
                           attrs={"held_out_folds": [10]})
    back = read_features(write_features(tmp_path / "g.h5", generated))
    assert back.seen_ids == ["clip-é1.wav", "row 7", "x"]
    assert back.attrs["held_out_folds"] == [10]
    assert back.subset([0]).seen_ids == back.seen_ids  # the generator's rows, not per row
    empty = FeatureSet(features=data.features[:2], labels=data.labels[:2], seen_ids=[])
    assert read_features(write_features(tmp_path / "e.h5", empty)).seen_ids == []


def test_seen_ids_refuses_one_string_and_a_matrix(tmp_path):
    data = make_blobs(n_per_class=2)
    with pytest.raises(InputError, match="seen_ids must be a list"):
        FeatureSet(features=data.features, labels=data.labels, seen_ids="clip1.wav")
    path = write_features(tmp_path / "m.h5", data)
    with h5py.File(path, "a") as handle:
        handle.create_dataset("seen_ids", data=np.array([["a", "b"]], dtype=object),
                              dtype=h5py.string_dtype("utf-8"))
    with pytest.raises(InputError, match="m.h5.*seen_ids.*1-D"):
        read_features(path)
