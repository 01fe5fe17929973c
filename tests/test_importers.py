"""Importing feature matrices: HDF5 (both layouts), CSV, NPZ (synth_core/data/importers.py)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from synth_core.errors import InputError, StorageError
from synth_core.features import read_features, write_features
from synth_core.data.importers import import_features, import_job, output_path


def test_import_hdf5_project_layout(tmp_path, blobs):
    path = write_features(tmp_path / "b.h5", blobs)
    data = import_features(path)
    np.testing.assert_allclose(data.features, blobs.features)
    assert data.class_names == blobs.class_names


def test_import_hdf5_thesis_layout_label_last(tmp_path):
    matrix = np.hstack([np.random.default_rng(0).random((6, 4)), np.array([[0, 1, 2, 0, 1, 2]]).T])
    with h5py.File(tmp_path / "thesis.h5", "w") as handle:
        handle.create_dataset("data", data=matrix)
    data = import_features(tmp_path / "thesis.h5")
    assert data.features.shape == (6, 4)
    assert data.labels.tolist() == [0, 1, 2, 0, 1, 2]


def test_import_hdf5_unknown_layout(tmp_path):
    with h5py.File(tmp_path / "odd.h5", "w") as handle:
        handle.create_dataset("a", data=np.zeros((2, 3)))
        handle.create_dataset("b", data=np.zeros((2, 3)))
    with pytest.raises(InputError, match="found a, b"):
        import_features(tmp_path / "odd.h5")


def test_import_csv_label_by_name_last_and_auto(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("f1,f2,kind\n0.1,0.2,cat\n0.3,0.4,dog\n0.5,0.6,cat\n")
    data = import_features(path, label_column="kind")
    assert data.class_names == ["cat", "dog"] and data.labels.tolist() == [0, 1, 0]
    assert data.features.shape == (3, 2)
    assert import_features(path, label_column="last").labels.tolist() == [0, 1, 0]
    path.write_text("f1,f2,label\n0.1,0.2,3\n0.3,0.4,9\n")
    auto = import_features(path)
    assert auto.class_names == ["3", "9"] and auto.labels.tolist() == [0, 1]
    # No id column: each row is named by its file and line, so runs can record what they saw.
    assert auto.ids == ["m.csv:2", "m.csv:3"]
    path.write_text("id,f1,label\na,0.1,3\nb,0.3,9\n")
    assert import_features(path).ids == ["a", "b"]


def test_import_csv_errors_name_the_problem(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("f1,f2,label\n0.1,0.2,0\n0.3,,1\n0.5,0.6,1\n")
    with pytest.raises(InputError, match=r"missing values \(lines 3\)"):
        import_features(path)
    path.write_text("f1,f2,label\n0.1,abc,0\n")
    with pytest.raises(InputError, match="column 'f2' holds non-numeric text"):
        import_features(path)
    with pytest.raises(InputError, match="no column named 'species'"):
        import_features(path, label_column="species")
    path.write_text("f1,label\ninf,0\n")
    with pytest.raises(InputError, match="infinite"):
        import_features(path)


def test_import_csv_semicolon_separated_with_decimal_point_or_comma(tmp_path):
    # Spreadsheets in decimal-comma locales save ';'-separated CSVs; read with commas they
    # were one text column, refused as "non-numeric text".
    path = tmp_path / "semi.csv"
    path.write_text("f1;f2;label\n0.5;2;a\n1.5;3;b\n")
    data = import_features(path)
    np.testing.assert_allclose(data.features, [[0.5, 2], [1.5, 3]])
    assert data.class_names == ["a", "b"]
    path.write_text("f1;f2;label\n0,5;2;a\n1,5;3;b\n")
    np.testing.assert_allclose(import_features(path).features, [[0.5, 2], [1.5, 3]])
    path.write_text("f1\tf2\tlabel\n0.5\t2\ta\n")
    assert import_features(path).features.tolist() == [[0.5, 2.0]]


def test_import_csv_text_column_error_names_the_label_flag(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text("f1,f2,species\n0.1,0.2,setosa\n")
    with pytest.raises(InputError, match="pass --label-column 'species'"):
        import_features(path)


def test_import_csv_auto_takes_the_only_repeated_text_column_as_labels(tmp_path):
    """iris as the web has it ('species', not 'label'): the one text column of repeated
    values is the classes; a column of unique names, or two text columns, are not guessed."""
    path = tmp_path / "iris.csv"
    path.write_text("sepal length,petal width,species\n5.1,0.2,setosa\n7.0,1.4,versicolor\n"
                    "4.9,0.2,setosa\n6.4,1.5,versicolor\n")
    data = import_features(path)
    assert data.class_names == ["setosa", "versicolor"] and data.labels.tolist() == [0, 1, 0, 1]
    assert data.attrs["feature_names"] == ["sepal length", "petal width"]
    assert data.attrs["import_layout"] == "csv, label column species"
    with pytest.raises(InputError, match="column 'species' holds non-numeric text"):
        import_features(path, label_column="none")  # asked for no labels: text is no feature
    path.write_text("city,f1\nOslo,0.1\nRiga,0.2\nLima,0.3\nBonn,0.4\n")
    with pytest.raises(InputError, match="column .city. holds non-numeric text"):
        import_features(path)
    path.write_text("f1,kind,colour\n0.1,a,red\n0.2,b,red\n0.3,a,blue\n0.4,b,blue\n")
    with pytest.raises(InputError, match="column 'kind' holds non-numeric text"):
        import_features(path)


def test_import_csv_auto_prefers_label_over_y_and_keeps_a_continuous_target_as_a_feature(
        tmp_path):
    """A feature called "y" beside a "label" column: the label column is the classes. A
    "target" of measurements (scikit-learn's diabetes: 214 values in 442 rows) was taken as
    214 classes of 1-6 rows; it is a feature of an unlabelled table, and the note says how
    to take it as classes anyway."""
    from synth_core.data.importers import import_summary

    rng = np.random.default_rng(0)
    path = tmp_path / "xy.csv"
    lines = ["x,y,label"] + [f"{a:.3f},{b:.3f},{c}" for a, b, c in
                             zip(rng.random(12), rng.random(12), [0, 1, 2] * 4)]
    path.write_text("\n".join(lines) + "\n")
    data = import_features(path)
    assert data.labels.tolist() == [0, 1, 2] * 4 and data.attrs["feature_names"] == ["x", "y"]

    path = tmp_path / "diabetes.csv"
    target = rng.integers(25, 347, size=120)
    lines = ["age,bmi,target"] + [f"{a:.3f},{b:.3f},{t}" for a, b, t in
                                   zip(rng.random(120), rng.random(120), target)]
    path.write_text("\n".join(lines) + "\n")
    data = import_features(path)
    assert not data.is_labeled and data.attrs["feature_names"] == ["age", "bmi", "target"]
    np.testing.assert_allclose(data.features[:, 2], target)
    message = import_summary(data, tmp_path / "diabetes.h5", "diabetes")["message"]
    assert "(no labels); column 'target' holds" in message
    assert "--label-column 'target'" in message
    explicit = import_features(path, label_column="target")  # asked for: taken as classes
    assert explicit.n_classes == len(np.unique(target))
    # Fractional values under "y" are a measurement too; under "label" they are refused.
    path.write_text("f1,y\n0.1,0.25\n0.2,1.5\n0.3,2.75\n")
    assert not import_features(path).is_labeled
    path.write_text("f1,label\n0.1,0.25\n0.2,1.5\n")
    with pytest.raises(InputError, match="fractional values"):
        import_features(path)
    # A "target" of a few classes, each in many rows, stays the classes (wine, iris...).
    path.write_text("f1,target\n" + "".join(f"{i / 10},{i % 3}\n" for i in range(30)))
    assert import_features(path).n_classes == 3


def test_import_csv_pandas_index_column_is_row_names_not_a_feature(tmp_path):
    # DataFrame.to_csv() without index=False: the row number came in as a feature.
    import pandas as pd

    path = tmp_path / "saved.csv"
    pd.DataFrame({"f1": [0.1, 0.3, 0.5], "f2": [1.0, 2.0, 3.0], "label": [0, 1, 0]}).to_csv(path)
    data = import_features(path)
    assert data.attrs["feature_names"] == ["f1", "f2"] and data.features.shape == (3, 2)
    assert data.ids == ["0", "1", "2"] and data.labels.tolist() == [0, 1, 0]


def test_import_csv_without_header_row_is_refused_not_shortened(tmp_path):
    # The first data row was taken as the header: a row lost, the label column not found.
    path = tmp_path / "raw.csv"
    path.write_text("5.1,3.5,1.4,0\n4.9,3.0,1.4,1\n")
    with pytest.raises(InputError, match=r"raw.csv: the first row \(5.1, 3.5, 1.4, 0\) holds "
                                         r"only numbers.*add a header row"):
        import_features(path)
    path.write_text("400,410,420\n0.1,0.2,0.3\n")     # numbered columns (wavelengths) are names
    assert import_features(path).features.shape == (1, 3)


def test_import_npz_and_nan_rows(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.savez(tmp_path / "d.npz", X=X, y=np.array([1, 0, 1, 0]))
    data = import_features(tmp_path / "d.npz")
    np.testing.assert_array_equal(data.features, X)
    X[2, 1] = np.nan
    np.savez(tmp_path / "nan.npz", X=X)
    with pytest.raises(InputError, match=r"rows 2\)"):
        import_features(tmp_path / "nan.npz")
    np.savez(tmp_path / "img.npz", X=np.zeros((2, 5, 5)))
    assert import_features(tmp_path / "img.npz").attrs["feature_shape"] == [5, 5]


def test_import_unknown_extension(tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"x")
    with pytest.raises(InputError, match="unknown file type"):
        import_features(tmp_path / "x.parquet")


def test_output_path_name_or_path(workspace, tmp_path):
    assert output_path("feat.h5", workspace) == workspace.datasets_dir / "feat.h5"
    assert output_path(str(tmp_path / "x.h5"), workspace) == tmp_path / "x.h5"
    with pytest.raises(InputError, match="must end in .h5"):
        output_path(str(tmp_path / "x.csv"), workspace)
    (workspace.datasets_dir / "feat.h5").write_bytes(b"")
    with pytest.raises(StorageError, match="already exists"):
        output_path("feat", workspace)


def test_import_job_saves_dataset(workspace, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,b,label\n1,2,x\n3,4,y\n")
    ctx = type("Ctx", (), {"workspace": workspace, "__call__": lambda self, e: None})()
    result = import_job({"input": str(path), "out": "mine"}, ctx)
    assert result["dataset"] == "mine" and result["n_samples"] == 2
    assert read_features(workspace.dataset_path("mine")).class_names == ["x", "y"]


@settings(max_examples=20, deadline=None)
@given(X=arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 5)),
                elements=st.floats(-1e6, 1e6, allow_nan=False)),
       seed=st.integers(0, 10))
def test_csv_round_trip_property(tmp_path_factory, X, seed):
    y = np.random.default_rng(seed).integers(0, 3, X.shape[0])
    path = tmp_path_factory.mktemp("csv") / "p.csv"
    header = ",".join(f"f{i}" for i in range(X.shape[1])) + ",label"
    rows = [",".join(repr(float(v)) for v in row) + f",{label}" for row, label in zip(X, y)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    data = import_features(path)
    np.testing.assert_allclose(data.features, X.astype(np.float32), rtol=1e-6)
    assert [data.class_names[i] for i in data.labels] == [str(v) for v in y]
