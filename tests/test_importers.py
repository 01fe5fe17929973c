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


def test_import_hdf5_project_layout_labels_without_names_are_compacted(tmp_path, workspace):
    """Labels 3, 7, 9 and no class_names: import kept them and named ten classes "0".."9",
    seven empty (a CVAE then trained on 10 classes); now 0..2 named "3", "7", "9", as a
    CSV or NPZ with those labels gets, with a note saying so."""
    from synth_core.data.importers import import_summary, import_to_file

    labels = np.array([3, 7, 9] * 4 + [-1])
    with h5py.File(tmp_path / "other.h5", "w") as handle:
        handle.create_dataset("features", data=np.random.default_rng(0).random((13, 3)))
        handle.create_dataset("labels", data=labels)
    data = import_features(tmp_path / "other.h5")
    assert data.class_names == ["3", "7", "9"]
    assert data.labels.tolist() == [0, 1, 2] * 4 + [-1]
    np.savez(tmp_path / "other.npz", X=np.zeros((12, 3)), y=labels[:12])
    assert import_features(tmp_path / "other.npz").class_names == data.class_names
    summary = import_summary(data, tmp_path / "o.h5", "o")
    assert summary["class_counts"] == {"3": 4, "7": 4, "9": 4}
    assert any("other.h5: its labels (3, 7, 9) came without class names" in note
               and "class_names attribute" in note for note in summary["notes"])
    summary = import_to_file(str(tmp_path / "other.h5"), "other", workspace)
    saved = read_features(workspace.dataset_path("other"))
    assert saved.class_names == ["3", "7", "9"] and summary["n_classes"] == 3


def test_import_hdf5_project_layout_with_class_names_is_unchanged(tmp_path, blobs):
    """Class names stored: labels are kept, even classes without rows (a test split)."""
    from synth_core.data.importers import import_summary

    split = blobs.subset(blobs.labels != 1)
    path = write_features(tmp_path / "split.h5", split)
    data = import_features(path)
    np.testing.assert_array_equal(data.labels, split.labels)
    assert data.class_names == blobs.class_names
    summary = import_summary(data, tmp_path / "s.h5", "s")
    assert summary["class_counts"][blobs.class_names[1]] == 0 and summary["notes"] == []


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
    # Both text columns are named at once (it took one try a column), and the advice
    # follows whether a label column was given.
    with pytest.raises(InputError, match=r"2 columns hold non-numeric text: 'kind' \('a' on "
                       r"line 2\), 'colour' \('red' on line 2\); .*pass it as --label-column"):
        import_features(path)
    with pytest.raises(InputError) as given:
        import_features(path, label_column="kind")
    assert "column 'colour' holds non-numeric text ('red' on line 2)" in str(given.value)
    assert "the classes come from --label-column 'kind'" in str(given.value)
    assert "if it holds the classes" not in str(given.value)


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


def test_import_csv_numeric_id_column_is_row_ids_not_a_feature(tmp_path):
    """`id,f0,f1,label` with ids 0..N-1 or 1000..: the id was a feature (a model learnt the
    row numbers); distinct whole numbers under an id name are the row ids, and the summary
    says so. Whole numbers that repeat, or under another name, stay features."""
    from synth_core.data.importers import import_summary

    path = tmp_path / "ids.csv"
    for first in (0, 1, 1000):
        path.write_text("id,f0,f1,label\n" + "".join(
            f"{first + i},{i / 10},{i % 4},{i % 2}\n" for i in range(8)))
        data = import_features(path)
        assert data.attrs["feature_names"] == ["f0", "f1"] and data.features.shape == (8, 2)
        assert data.ids == [str(first + i) for i in range(8)]
        assert data.labels.tolist() == [0, 1] * 4
        summary = import_summary(data, tmp_path / "ids.h5", "ids")
        assert summary["id_column"] == "id" and summary["n_features"] == 2
        assert "column 'id' of ids.csv holds distinct whole numbers" in summary["message"]
    path.write_text("Index,f0,label\n3.0,0.5,a\n1.0,0.7,b\n")  # whole numbers written as floats
    assert import_features(path).ids == ["3", "1"]
    path.write_text("ID,f0,label\n1,0.5,a\n1,0.7,b\n2,0.1,a\n")  # repeats: not row ids
    data = import_features(path)
    assert data.attrs["feature_names"] == ["ID", "f0"] and data.ids[0] == "ids.csv:2"
    assert import_summary(data, tmp_path / "ids.h5", "ids")["id_column"] is None
    path.write_text("id,f0,label\n0.5,1,a\n1.5,2,b\n")  # fractional: a measurement
    assert import_features(path).attrs["feature_names"] == ["id", "f0"]
    path.write_text("count,f0,label\n0,0.5,a\n1,0.7,b\n")  # not an id name: a feature
    assert import_features(path).attrs["feature_names"] == ["count", "f0"]
    path.write_text("id,f0,label\nclip_0.wav,0.5,a\nclip_1.wav,0.7,b\n")  # text, as before
    data = import_features(path)
    assert data.ids == ["clip_0.wav", "clip_1.wav"] and data.attrs["id_column"] == "id"
    assert import_summary(data, tmp_path / "ids.h5", "ids")["notes"] == []
    path.write_text("id,label\n0,a\n1,b\n")
    with pytest.raises(InputError, match="besides the label and the id column 'id'"):
        import_features(path)


def test_import_csv_unlabelled_names_a_whole_number_column_that_may_hold_the_classes(
        tmp_path):
    """An integer class column not called label/class/target/y ("cls") was a feature of an
    unlabelled table with only "(no labels)" said; it is still not guessed, but named with
    the flag that takes it."""
    from synth_core.data.importers import import_summary

    rng = np.random.default_rng(0)
    path = tmp_path / "cls.csv"
    path.write_text("a,b,cls\n" + "".join(f"{x:.3f},{y:.3f},{i % 3}\n" for i, (x, y) in
                                         enumerate(rng.random((30, 2)))))
    data = import_features(path)
    assert not data.is_labeled and data.attrs["feature_names"] == ["a", "b", "cls"]
    message = import_summary(data, tmp_path / "cls.h5", "cls")["message"]
    assert "(no labels); column 'cls' of cls.csv holds 3 distinct whole numbers" in message
    assert "import again with --label-column 'cls'" in message
    assert import_features(path, label_column="cls").class_names == ["0", "1", "2"]
    assert "import_notes" not in import_features(path, label_column="none").attrs  # asked
    # Fractional values, a distinct number per row, or many such columns: no hint.
    path.write_text("a,b\n" + "".join(f"{x:.3f},{i}\n" for i, x in enumerate(rng.random(30))))
    assert "import_notes" not in import_features(path).attrs
    path.write_text("p0,p1,p2,p3\n" + "".join(f"{i % 3},{i % 4},{i % 5},{i % 2}\n"
                                              for i in range(30)))
    assert "import_notes" not in import_features(path).attrs
    path.write_text("a,g1,g2\n" + "".join(f"{x:.3f},{i % 2},{i % 3}\n"
                                          for i, x in enumerate(rng.random(30))))
    notes = import_features(path).attrs["import_notes"]
    assert notes == [notes[0]] and "columns 'g1', 'g2' of cls.csv" in notes[0]
    assert "--label-column NAME (e.g. --label-column 'g1')" in notes[0]


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
