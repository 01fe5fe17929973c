"""Importing feature matrices made elsewhere: HDF5, CSV, NPZ and MNIST IDX folders.

:func:`import_features` reads

* HDF5 in this project's layout (``/features``, ``/labels``...), or the
  thesis's single dataset [N, D+1] with the class label in the last column;
* CSV with a header row: the label column by name, ``"last"``, or found by its
  name (label/class/target/y); an id column (``id``, ``file``, ``index``...) of text, or
  of distinct whole numbers, becomes the ids;
* NPZ with ``X`` (or ``features``) and optionally ``y`` (or ``labels``);
* a folder of MNIST IDX files (see :mod:`synth_core.data.mnist`); :func:`import_any`
  also takes ``openml:mnist_784`` (downloaded when online, cached in the workspace).

Rows without ids get ``<file name>:<row>`` (a CSV's line number, else the row
number from 0), so what a run was fitted on can be traced back to these rows.
NaN or infinite values are refused with the rows that hold them. Labels that
are not 0..K-1 (text, or integers like 3, 5, 9) are mapped to 0..K-1 and the
originals kept as class names; a feature file without class names gets the same
(:func:`synth_core.features.read_features`). What the reader decided for the user (an id
column, a column that may hold the classes) is listed in the attrs ``import_notes`` and
the summary's ``notes``. :func:`import_job` is the job kind ``import``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.events import Callback, Progress, emit
from synth_core.features import FeatureSet, read_features, write_features
from synth_core.workspace import Workspace

IMPORT_EXTENSIONS = (".h5", ".hdf5", ".csv", ".npz")
OPENML_MNIST = "openml:mnist_784"
# In order of preference: a table with a feature called "y" and a "label" column takes "label".
_LABEL_NAMES = ("label", "labels", "class", "category", "target", "y")
# Names that hold a regression target as often as classes (scikit-learn's frames call both
# "target"): taken as labels only when the values look like classes.
_AMBIGUOUS_LABEL_NAMES = ("target", "y")
_MAX_SPARSE_CLASSES = 20  # above this many distinct values, each in few rows: no classes
_ID_NAMES = ("id", "ids", "file", "filename", "name", "index", "idx", "clip", "clip_id",
             "sample_id", "row_id")
# A whole-number column with at most this many distinct values, and at least 3 rows per
# value on average, may hold classes: an unlabelled import names it (never takes it).
_MAX_HINT_CLASSES = 50
_MAX_HINT_COLUMNS = 3  # more such columns (counts, pixels): no one of them stands out


def output_path(out: str, workspace: Workspace, *, overwrite: bool = False) -> Path:
    """Where ``--out`` points: a plain name -> ``datasets/<name>.h5``; a path -> that path.

    Refuses an existing file unless ``overwrite`` (checked before any work starts).
    """
    text = str(out).strip()
    if not text:
        raise InputError("no output name given; pass --out NAME (saved in the workspace) or "
                         "--out path/to/file.h5")
    if os.sep in text or "/" in text:
        path = Path(text).expanduser()
        if path.suffix.lower() not in (".h5", ".hdf5"):
            raise InputError(f"output {text!r} must end in .h5; e.g. {path.with_suffix('.h5')}")
        if path.is_dir():
            raise InputError(f"output {text!r} is a folder; name a .h5 file inside it")
    else:
        path = workspace.dataset_path(text)
    if path.exists() and not overwrite:
        raise StorageError(f"output {path} already exists; choose another name, delete it first, "
                           "or pass --overwrite")
    return path


def import_features(path: str | os.PathLike[str], *, label_column: str | None = "auto",
                    callback: Callback | None = None) -> FeatureSet:
    """Read the feature matrix at ``path`` (see the module docstring)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise StorageError(f"input {path}: no such file; check the path")
    emit(callback, Progress(0.0, f"reading {path.name}", stage="import"))
    if path.is_dir():
        from synth_core.data.mnist import load_mnist_idx

        data = load_mnist_idx(path)
    else:
        suffix = path.suffix.lower()
        if suffix in (".h5", ".hdf5"):
            data = _read_hdf5(path)
        elif suffix == ".csv":
            data = _read_csv(path, label_column)
        elif suffix == ".npz":
            data = _read_npz(path)
        else:
            raise InputError(f"input {path.name}: unknown file type {suffix or '(none)'!r}; "
                             f"import one of {', '.join(IMPORT_EXTENSIONS)} (audio is extracted, "
                             "not imported)")
    data.check_finite(f"input {path.name}")
    if data.n_samples == 0:
        raise InputError(f"input {path.name}: holds no rows; export some data first")
    if data.ids is None:
        # Rows without ids get their place in the source file (a CSV's line numbers), so a
        # run's record of the rows it was fitted on (a generated set's seen_ids) can be
        # matched against these rows: evaluate then tests on exactly the rows it did not see.
        first = 2 if path.suffix.lower() == ".csv" else 0
        data.ids = [f"{path.name}:{first + i}" for i in range(data.n_samples)]
    data.attrs.setdefault("source", str(path.absolute()))
    data.attrs.setdefault("modality", "tabular")
    data.attrs.setdefault("extractor", "imported")
    emit(callback, Progress(1.0, f"read {data.n_samples} rows x {data.n_features} features",
                            stage="import"))
    return data


def _encode_labels(raw: np.ndarray, where: str) -> tuple[np.ndarray, list[str]]:
    """Labels of any type -> (int64 0..K-1, class names)."""
    raw = np.asarray(raw)
    if raw.dtype.kind == "f":
        if not np.isfinite(raw).all():
            rows = np.flatnonzero(~np.isfinite(raw))[:5].tolist()
            raise InputError(f"{where}: labels missing or not finite at rows {rows}; give every "
                             "row a label")
        if not np.all(raw == np.round(raw)):
            bad = raw[raw != np.round(raw)][:3].tolist()
            raise InputError(f"{where}: labels must be class ids or names, found fractional "
                             f"values {bad}; is the label column the right one?")
        raw = raw.astype(np.int64)
    if raw.dtype.kind in "iu":
        values = np.unique(raw)
        if values.min() >= 0 and np.array_equal(values, np.arange(values.max() + 1)):
            return raw.astype(np.int64), [str(v) for v in values]
        return np.searchsorted(values, raw).astype(np.int64), [str(v) for v in values]
    text = np.array([str(v) for v in raw])
    values = np.unique(text)
    return np.searchsorted(values, text).astype(np.int64), [str(v) for v in values]


def _read_hdf5(path: Path) -> FeatureSet:
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"input {path.name}: not a readable HDF5 file ({exc}); export it "
                         "again, or use CSV/NPZ") from exc
    with handle:
        if "features" in handle:
            layout = "project"
            stored = handle["labels"][()] if "labels" in handle else None
        else:
            datasets = [k for k, v in handle.items() if isinstance(v, h5py.Dataset)]
            matrices = [k for k in datasets if handle[k].ndim == 2]
            if len(matrices) != 1:
                raise InputError(
                    f"input {path.name}: expected '/features' (this project's layout) or one 2-D "
                    f"dataset [N, D+1] with the label in the last column (the thesis's layout); "
                    f"found {', '.join(datasets) or 'no datasets'}; export one of these layouts")
            matrix = np.asarray(handle[matrices[0]][()], dtype=np.float64)
            layout = matrices[0]
    if layout == "project":
        return _read_project_hdf5(path, stored)
    if matrix.shape[1] < 2:
        raise InputError(f"input {path.name}: dataset {layout!r} has shape {matrix.shape}; the "
                         "thesis layout needs features plus a label column")
    bad = ~np.isfinite(matrix)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise InputError(f"input {path.name}: {len(rows)} row(s) contain NaN or infinite values "
                         f"(rows {rows[:5].tolist()}); remove or impute them")
    labels, names = _encode_labels(matrix[:, -1], f"input {path.name}, last column")
    return FeatureSet(features=matrix[:, :-1], labels=labels, class_names=names,
                      attrs={"import_layout": f"thesis: dataset {layout!r} [N, D+1], label last"})


def _read_project_hdf5(path: Path, stored: np.ndarray | None) -> FeatureSet:
    """A feature file in this project's layout; ``stored`` is its /labels as written.

    read_features renumbers labels that come without class names (3, 7, 9 -> 0, 1, 2 named
    "3", "7", "9"); the note says so, since the numbers a user sees afterwards changed.
    """
    data = read_features(path)
    # Notes of the import that wrote the file describe that import, not this one.
    data.attrs.pop("import_notes", None)
    data.attrs.pop("import_note", None)
    if stored is not None and not np.array_equal(np.asarray(stored).reshape(-1), data.labels):
        names = ", ".join(data.class_names[:10]) + (" ..." if data.n_classes > 10 else "")
        data.attrs["import_notes"] = [
            f"input {path.name}: its labels ({names}) came without class names, so they were "
            f"renumbered 0..{data.n_classes - 1} and each class is named by its label value; "
            "to name the classes yourself, store a class_names attribute (a JSON list, one "
            "name per class 0..K-1) in the file and import it again"]
    return data


def _text_columns_message(path: Path, block, non_numeric: np.ndarray,
                          label_col: str | None) -> str:
    """Every feature column holding text, with its first text cell, and what to do: one
    message, so a table of several category columns is not refused one column a try."""
    columns = np.flatnonzero(non_numeric.any(axis=0))
    cells = []
    for col in columns[:8]:
        row = int(np.flatnonzero(non_numeric[:, col])[0])
        cells.append((block.columns[col], f"{block.iat[row, col]!r} on line {row + 2}"))
    more = f" and {len(columns) - 8} more" if len(columns) > 8 else ""
    text = (f"input {path.name}: column {cells[0][0]!r} holds non-numeric text ({cells[0][1]})"
            if len(columns) == 1 else
            f"input {path.name}: {len(columns)} columns hold non-numeric text: "
            + ", ".join(f"{name!r} ({cell})" for name, cell in cells) + more)
    fix = ("features must be numbers - encode each as numbers (a category as 0/1 columns, "
           "e.g. pandas.get_dummies) or remove it")
    if label_col is not None:
        return f"{text}; {fix}; the classes come from --label-column {label_col!r}"
    if len(columns) == 1:
        return f"{text}; {fix}, or if it holds the classes pass --label-column {cells[0][0]!r}"
    return f"{text}; {fix}; if one of them holds the classes, pass it as --label-column NAME"


def _read_csv(path: Path, label_column: str | None) -> FeatureSet:
    import pandas as pd

    sep = _separator(path)
    try:
        table = pd.read_csv(path, sep=sep)
        if sep == ";":
            # Spreadsheets in decimal-comma locales write "5,1;3,5": keep whichever reading
            # gives more numeric columns (a tie keeps the decimal point).
            comma = pd.read_csv(path, sep=sep, decimal=",")
            if _numeric_columns(comma) > _numeric_columns(table):
                table = comma
    except Exception as exc:  # pandas: ParserError, UnicodeDecodeError, EmptyDataError...
        reason = " ".join(str(exc).split())
        raise InputError(f"input {path.name}: could not be read as CSV ({reason}); "
                         "save it as comma-separated UTF-8 text with a header row") from exc
    if table.shape[1] == 0 or table.shape[0] == 0:
        raise InputError(f"input {path.name}: the CSV holds no data rows; export the matrix "
                         "with a header row and one row per sample")
    columns = [str(c) for c in table.columns]
    table.columns = columns
    if label_column not in columns:
        _check_header_is_not_data(columns, path)
    label_col = _pick_label_column(columns, label_column, path)
    numbers = table.apply(pd.to_numeric, errors="coerce")  # every column parsed once
    id_col = next((c for c in columns if c != label_col
                   and _id_column_kind(c, table[c]) is not None), None)
    # pandas' DataFrame.to_csv writes the row index first, under an empty header (read back
    # as "Unnamed: 0"): row names, not a feature; as one, the row number would be learnt.
    index_col = (columns[0] if columns[0] == "Unnamed: 0" and columns[0] != label_col
                 and len(columns) > 1 and table[columns[0]].is_unique else None)
    id_col = id_col or index_col
    notes = []
    if id_col not in (None, index_col) and _id_column_kind(id_col, table[id_col]) == "number":
        notes.append(f"column {id_col!r} of {path.name} holds distinct whole numbers under an "
                     "id name, so it was kept as the row ids, not learnt as a feature; if it is "
                     "a measurement, rename the column and import again")
    demoted = None  # an auto-picked "target" of measurements: a feature, and not a class hint
    if label_column == "auto" and label_col is not None:
        note = _continuous_target_note(label_col, numbers[label_col])
        if note:
            demoted, label_col = label_col, None
            notes.append(note)
    if label_col is None and label_column == "auto":
        label_col = _text_label_column(table, numbers, [c for c in columns
                                                        if c not in (id_col, index_col)])
    feature_cols = [c for c in columns if c not in (label_col, id_col, index_col)]
    if not feature_cols:
        used = f" and the id column {id_col!r}" if id_col else ""
        raise InputError(f"input {path.name}: no feature columns left besides the label{used}; "
                         "check --label-column")
    block = table[feature_cols]
    numeric = numbers[feature_cols]
    non_numeric = numeric.isna() & block.notna()
    if non_numeric.to_numpy().any():
        raise InputError(_text_columns_message(path, block, non_numeric.to_numpy(), label_col))
    missing = numeric.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing.any(axis=1))
        lines = ", ".join(str(r + 2) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
        cols = [feature_cols[c] for c in np.flatnonzero(missing.any(axis=0))]
        named = ", ".join(repr(c) for c in cols[:5]) + (" ..." if len(cols) > 5 else "")
        raise InputError(f"input {path.name}: {len(rows)} row(s) have missing values (lines "
                         f"{lines}) in column(s) {named} (empty cells or NaN); fill or remove "
                         "them before importing")
    values = numeric.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        lines = ", ".join(str(r + 2) for r in rows[:5])
        raise InputError(f"input {path.name}: {len(rows)} row(s) hold infinite values (lines "
                         f"{lines}); remove or clip them")
    if label_col is None:
        labels, names = np.full(len(table), -1, dtype=np.int64), []
        if label_column == "auto":
            hint = _class_column_hint(numeric, [c for c in feature_cols if c != demoted],
                                      path.name)
            notes += [hint] if hint else []
    else:
        raw = table[label_col]
        if raw.isna().any():
            line = int(raw.isna().to_numpy().argmax()) + 2
            raise InputError(f"input {path.name}: label column {label_col!r} is empty on line "
                             f"{line}; give every row a label")
        labels, names = _encode_labels(raw.to_numpy(), f"input {path.name}, column {label_col!r}")
    ids = _id_strings(table[id_col]) if id_col else None
    return FeatureSet(features=values, labels=labels, class_names=names, ids=ids,
                      attrs={"import_layout": f"csv, label column {label_col or 'none'}",
                             **({"id_column": id_col} if id_col else {}),
                             **({"import_notes": notes} if notes else {}),
                             "feature_columns": feature_cols if len(feature_cols) <= 64 else None,
                             # every column name, so exports of generated rows keep them
                             "feature_names": feature_cols})


def _separator(path: Path) -> str:
    """The CSV's field separator: a comma, or the semicolon or tab its header row uses instead.

    Spreadsheets in decimal-comma locales save ';'-separated files; read with commas they
    come back as one column whose every value is text.
    """
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            header = handle.readline()
    except OSError:
        return ","  # pandas raises the reading error with its own reason
    if "," in header:
        return ","
    return next((sep for sep in (";", "\t") if sep in header), ",")


def _check_header_is_not_data(columns: list[str], path: Path) -> None:
    """Refuse a CSV without a header row: pandas would take its first row as the names.

    A header of numbers only is data unless it counts up (pixel or wavelength names such as
    0, 1, 2... or 400, 410...): the first row would be lost and the label column not found.
    """
    try:
        values = [float(c) for c in columns]
    except ValueError:
        return
    if len(values) < 2 or all(a < b for a, b in zip(values, values[1:])):
        return
    shown = ", ".join(columns[:6]) + (" ..." if len(columns) > 6 else "")
    raise InputError(f"input {path.name}: the first row ({shown}) holds only numbers, so the "
                     "file has no header row and that row would be read as column names; add "
                     "a header row naming the columns (e.g. f1,f2,...,label)")


def _id_column_kind(name: str, column) -> str | None:
    """Whether ``column`` holds the row ids: as "text", as a "number", or not (None).

    Its name must be an id name (id, file, index...); text values are names (their repeats
    are left to the data), numbers only when they are distinct whole numbers (row numbers
    such as 0..N-1 or 1000..1149: as a feature a model would learn the row order). Other
    numbers under such a name stay a feature.
    """
    if name.strip().lower() not in _ID_NAMES:
        return None
    if column.dtype.kind not in "iuf":
        return "text"
    values = column.to_numpy(dtype=np.float64)
    if (np.isfinite(values).all() and np.array_equal(values, np.round(values))
            and column.is_unique):
        return "number"
    return None


def _id_strings(column) -> list[str]:
    """Row ids as text; whole numbers read as floats (a column with 1.0, 2.0) lose the ".0"."""
    if column.dtype.kind == "f" and np.isfinite(column.to_numpy(dtype=np.float64)).all():
        return [str(int(v)) for v in column]
    return [str(v) for v in column]


def _class_column_hint(numeric, candidates: list[str], source: str) -> str | None:
    """A note naming the feature column(s) that may hold the classes of an unlabelled table.

    Such a column holds a few distinct whole numbers (2..50, at least 3 rows each on
    average), like a class column named "cls" or "group"; it is never taken as the labels
    (an integer feature looks the same), only named with the flag that takes it. With more
    than a few such columns (counts, pixel values) none stands out and there is no note.
    ``numeric`` is the feature table parsed as numbers, every value finite.
    """
    n_rows = len(numeric)
    found: list[tuple[str, np.ndarray]] = []
    for column in candidates:
        values = numeric[column].to_numpy(dtype=np.float64)
        if not np.array_equal(values, np.round(values)):
            continue
        distinct = np.unique(values)
        if 2 <= distinct.size <= _MAX_HINT_CLASSES and distinct.size * 3 <= n_rows:
            found.append((column, distinct))
    if not found or len(found) > _MAX_HINT_COLUMNS:
        return None
    if len(found) == 1:
        column, distinct = found[0]
        shown = ", ".join(f"{v:g}" for v in distinct[:6]) + (" ..." if distinct.size > 6 else "")
        return (f"column {column!r} of {source} holds {distinct.size} distinct whole numbers "
                f"({shown}) in {n_rows} rows, so it may hold the classes; it was imported as a "
                f"feature and the rows have no labels; if it holds the classes, import again "
                f"with --label-column {column!r}")
    named = ", ".join(repr(c) for c, _ in found)
    return (f"columns {named} of {source} each hold a few distinct whole numbers, so one may "
            f"hold the classes; they were imported as features and the rows have no labels; "
            f"if one holds the classes, import again with --label-column NAME (e.g. "
            f"--label-column {found[0][0]!r})")


def _text_label_column(table, numbers, candidates: list[str]) -> str | None:
    """The one column of ``candidates`` that holds text and repeats its values: the classes
    (iris's "species", a "Klasse" column), which can be no feature. None when there are
    none or several (the import then names the text column and --label-column), or when
    the values hardly repeat (names or ids, not classes). ``numbers`` is ``table`` parsed
    as numbers (NaN where a cell is not one)."""
    text = [c for c in candidates if (numbers[c].isna() & table[c].notna()).any()]
    if len(text) != 1 or table[text[0]].isna().all():
        return None
    return text[0] if table[text[0]].nunique() <= len(table) // 2 else None


def _continuous_target_note(column: str, values) -> str | None:
    """Why the auto-picked ``column`` ("target", "y") is a measurement, not classes, or None.

    Fractional numbers are no classes; nor are integers with many distinct values that each
    occur a few times (scikit-learn's diabetes "target": 214 values in 442 rows). Such a
    column stays a feature of an unlabelled table, so that a VAE learns it with the rest.
    """
    if column.strip().lower() not in _AMBIGUOUS_LABEL_NAMES or values.isna().any():
        return None
    numbers = values.to_numpy(dtype=np.float64)
    _, sizes = np.unique(numbers, return_counts=True)
    fractional = not np.all(numbers == np.round(numbers))
    if not fractional and (len(sizes) <= _MAX_SPARSE_CLASSES or np.median(sizes) >= 5):
        return None
    why = ("holds fractional values" if fractional else
           f"holds {len(sizes)} distinct values, most of them in fewer than 5 rows")
    return (f"column {column!r} {why}, so it looks like a measurement rather than classes: it "
            f"was imported as a feature and the rows have no labels; to use it as the classes, "
            f"import again with --label-column {column!r}")


def _numeric_columns(table) -> int:
    return sum(table[c].dtype.kind in "iuf" for c in table.columns)


def _pick_label_column(columns: list[str], label_column: str | None, path: Path) -> str | None:
    if label_column in (None, "", "none"):
        return None
    if label_column == "last":
        return columns[-1]
    if label_column == "auto":
        named = {c.strip().lower(): c for c in reversed(columns)}  # the first of equal names
        return next((named[n] for n in _LABEL_NAMES if n in named), None)
    if label_column not in columns:
        shown = ", ".join(columns[:12]) + (" ..." if len(columns) > 12 else "")
        raise InputError(f"input {path.name}: no column named {label_column!r}; columns are "
                         f"{shown}; pass one of them, or 'last'")
    return label_column


def _read_npz(path: Path) -> FeatureSet:
    import zipfile
    import zlib

    # An empty or truncated file raises EOFError, a damaged archive BadZipFile/zlib.error.
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
    try:
        npz = np.load(path, allow_pickle=False)
    except unreadable as exc:
        raise InputError(f"input {path.name}: not a readable NPZ file ({exc or 'empty'}); save "
                         "it with numpy.savez(path, X=features, y=labels)") from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):  # a single .npy array saved under .npz
        raise InputError(f"input {path.name}: holds one bare array, not an NPZ archive; save it "
                         "with numpy.savez(path, X=features, y=labels)")
    with npz:
        keys = set(npz.files)
        x_key = next((k for k in ("X", "features", "x", "data") if k in keys), None)
        y_key = next((k for k in ("y", "labels", "Y", "target") if k in keys), None)
        if x_key is None:
            raise InputError(f"input {path.name}: no 'X' array (found {', '.join(sorted(keys))}); "
                             "save it with numpy.savez(path, X=features, y=labels)")
        try:
            X = np.asarray(npz[x_key])
            y = np.asarray(npz[y_key]) if y_key else None
        except ValueError as exc:  # object arrays need pickle, which is refused
            raise InputError(f"input {path.name}: holds object arrays ({exc}); save plain "
                             "numeric arrays") from exc
        except unreadable as exc:
            raise InputError(f"input {path.name}: the archive is damaged ({exc}); save it "
                             "again with numpy.savez(path, X=features, y=labels)") from exc
    if X.dtype.kind not in "iufb":
        raise InputError(f"input {path.name}: '{x_key}' has dtype {X.dtype}, not numbers")
    if X.ndim > 2:
        shape = list(X.shape[1:])
        X = X.reshape(X.shape[0], -1)
    else:
        shape = None
    if X.ndim != 2:
        raise InputError(f"input {path.name}: '{x_key}' has shape {X.shape}; expected [rows, "
                         "features]")
    if y is None:
        labels, names = np.full(X.shape[0], -1, dtype=np.int64), []
    else:
        if y.reshape(-1).shape[0] != X.shape[0]:
            raise InputError(f"input {path.name}: '{y_key}' has {y.size} labels for {X.shape[0]} "
                             "rows; give one label per row")
        labels, names = _encode_labels(y.reshape(-1), f"input {path.name}, '{y_key}'")
    attrs: dict[str, Any] = {"import_layout": f"npz: {x_key}, {y_key or 'no labels'}"}
    if shape is not None:
        attrs["feature_shape"] = shape
        if len(shape) == 2:
            attrs["modality"] = "image"
    return FeatureSet(features=X.astype(np.float32), labels=labels, class_names=names,
                      attrs=attrs)


def import_any(source: str, workspace: Workspace, *, label_column: str | None = "auto",
               callback: Callback | None = None) -> FeatureSet:
    """:func:`import_features`, plus ``openml:mnist_784`` (fetched when online, cached)."""
    if source.strip().lower() in (OPENML_MNIST, "openml:mnist"):
        from synth_core.data.mnist import fetch_mnist_openml

        emit(callback, Progress(0.0, "fetching MNIST from OpenML", stage="import"))
        return fetch_mnist_openml(workspace)
    return import_features(source, label_column=label_column, callback=callback)


def import_job(params: dict[str, Any], ctx) -> dict[str, Any]:
    """Job kind ``import``. params: input, out (name or path), label_column, overwrite."""
    from synth_core.workspace import get_workspace

    workspace = getattr(ctx, "workspace", None) or get_workspace()
    return import_to_file(str(params.get("input", "")), params.get("out", ""), workspace,
                          label_column=params.get("label_column", "auto"),
                          overwrite=bool(params.get("overwrite")), callback=ctx)


def import_to_file(source: str, out: str, workspace: Workspace, *,
                   label_column: str | None = "auto", overwrite: bool = False,
                   callback: Callback | None = None) -> dict[str, Any]:
    """:func:`import_any` into the feature file ``out`` (see :func:`output_path`); returns
    :func:`import_summary`. The job and the CLI verb both run this."""
    from synth_core.data.datasets import dataset_ref_for_path

    path = output_path(out, workspace, overwrite=overwrite)  # refused before any work
    data = import_any(source, workspace, label_column=label_column, callback=callback)
    write_features(path, data, overwrite=overwrite)
    return import_summary(data, path, dataset_ref_for_path(path, workspace))


def import_summary(data: FeatureSet, out: Path, ref: str) -> dict[str, Any]:
    """What an import made, for the CLI's summary, the import job and the Data page alike:
    ``message`` (one line, the notes appended), ``notes`` (what the reader decided for the
    user, each with the flag that changes it) and ``id_column`` (the CSV column used as the
    row ids, or None)."""
    counts = np.bincount(data.labels[data.labels >= 0], minlength=data.n_classes)
    notes = [str(n) for n in data.attrs.get("import_notes") or []]
    return {"message": f"imported {data.n_samples} rows x {data.n_features} features into "
                       f"{out.name}" + ("" if data.n_classes else " (no labels)")
                       + "".join(f"; {note}" for note in notes),
            "path": str(out), "dataset": ref, "n_samples": data.n_samples,
            "n_features": data.n_features, "n_classes": data.n_classes,
            "class_counts": {n: int(c) for n, c in zip(data.class_names, counts)},
            "labeled": data.is_labeled, "id_column": data.attrs.get("id_column"),
            "notes": notes}
