"""Saving and exporting generated rows: free names in exports/, and HDF5, CSV or NPZ files.

Nothing is overwritten unless asked: :func:`save_generated` picks a free
``exports/<name>[-N].h5``; :func:`export_generated` refuses an existing path
without ``overwrite=True``; :func:`export_bytes` gives the bytes for download
buttons.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.features import FeatureSet, write_features
from synth_core.generation.codes import run_name
from synth_core.workspace import Workspace, safe_name

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from synth_core.training.runs import Run

EXPORT_FORMATS = ("h5", "csv", "npz")

def default_export_name(run: "Run", config: Any) -> str:
    """``generated-<run>-<mode>-seed<seed>``: the name a config's rows are saved under."""
    return safe_name(f"generated-{run_name(run)}-{config.mode}-seed{config.seed}")


def free_export_path(workspace: Workspace, name: str) -> Path:
    """``exports/<name>.h5``, or ``<name>-2.h5``, ``-3``... when taken: never overwrites."""
    stem = safe_name(Path(str(name)).name.removesuffix(".h5"), default="generated")
    path = workspace.exports_dir / f"{stem}.h5"
    k = 2
    while path.exists():
        path = workspace.exports_dir / f"{stem}-{k}.h5"
        k += 1
    return path


def save_generated(data: FeatureSet, workspace: Workspace, name: str) -> Path:
    """Save generated rows as ``exports/<name>.h5`` (a free name; nothing is overwritten)."""
    return write_features(free_export_path(workspace, name), data)


def export_generated(data: FeatureSet, path: str | os.PathLike[str], *,
                     overwrite: bool = False) -> Path:
    """Write ``data`` to ``path``; the format follows the suffix (.h5, .csv, .npz)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    fmt = "h5" if fmt in ("h5", "hdf5") else fmt
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"{path}: unknown export format {path.suffix!r}; use .h5, .csv or .npz")
    if fmt == "h5":
        return write_features(path, data, overwrite=overwrite)
    if path.exists() and not overwrite:
        raise StorageError(f"{path} already exists; choose another name or delete it first "
                           "(--overwrite on the CLI)")
    from synth_core.workspace import atomic_write_bytes

    atomic_write_bytes(path, export_bytes(data, fmt))
    return path


def export_bytes(data: FeatureSet, fmt: str) -> bytes:
    """The file contents of ``data`` as HDF5, CSV or NPZ (for download buttons).

    CSV has one column per feature and the class label last (the thesis layout,
    so ``import --label-column last`` reads it back); the feature columns keep
    the imported names (attrs ``feature_names``) when there are names for all,
    else ``f0, f1, ...``, and the label column holds each row's class name (its
    number where the class has no name, -1 for an unlabelled row). NPZ and HDF5 also
    keep parents, ids, class names and attrs.
    """
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "h5":
        with tempfile.TemporaryDirectory() as tmp:
            path = write_features(Path(tmp) / "generated.h5", data)
            return path.read_bytes()
    if fmt == "csv":
        buffer = io.StringIO()
        header = ",".join(_csv_names(data) + ["label"])
        np.savetxt(buffer, data.features.astype(np.float64), delimiter=",", header=header,
                   comments="", fmt="%.7g")
        lines = buffer.getvalue().splitlines()
        labels = _csv_labels(data)
        body = [f"{line},{label}" for line, label in zip(lines[1:], labels)]
        return "\n".join([lines[0], *body, ""]).encode("utf-8")
    buffer = io.BytesIO()
    parents = data.parents if data.parents is not None else np.full((data.n_samples, 2), -1)
    np.savez_compressed(buffer, features=data.features, labels=data.labels, parents=parents,
                        ids=np.array(data.ids or [], dtype=str),
                        class_names=np.array(data.class_names, dtype=str),
                        attrs=np.array(json.dumps(data.attrs, default=str)))
    return buffer.getvalue()




def _csv_labels(data: FeatureSet) -> list[str]:
    """Each row's class name for the CSV's label column (quoted as CSV needs); the class
    number where it has no name (or an empty one), -1 for an unlabelled row."""
    names = [str(n) for n in data.class_names]
    out = []
    for label in data.labels.tolist():
        text = names[label] if 0 <= label < len(names) and names[label].strip() else str(label)
        out.append(_csv_quote(text))
    return out


def _csv_quote(text: str) -> str:
    if any(ch in text for ch in ',"\n\r') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_names(data: FeatureSet) -> list[str]:
    """Feature column names: the imported ones when there is one per column, else f0..f{D-1}.

    Names are quoted as CSV needs when they hold a comma, a quote or a line break.
    """
    names = data.attrs.get("feature_names")
    if not (isinstance(names, (list, tuple)) and len(names) == data.n_features):
        return [f"f{i}" for i in range(data.n_features)]
    return [_csv_quote(name) for name in map(str, names)]
