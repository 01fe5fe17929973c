"""Datasets by reference: embedded ones, workspace files and plain paths.

A dataset reference is one of

* ``builtin:NAME`` – an embedded dataset from :data:`BUILTINS` that needs no
  download (made on first use and kept under ``cache/builtin/``);
* a workspace dataset name (``datasets/<name>.h5``);
* a path to a feature file (``.h5``).

Everything downstream works on a feature-file path, so jobs and the CLI can
pass references around as text. Adding an embedded dataset means one entry in
:data:`BUILTINS` and one loader function returning a :class:`FeatureSet`.
"""

from __future__ import annotations

import functools
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from synth_core import __version__
from synth_core.errors import DamagedError, InputError, StorageError
from synth_core.features import FeatureSet, read_features, read_header, write_features
from synth_core.workspace import Damaged, Workspace, newer_version, safe_name

BUILTIN_PREFIX = "builtin:"


@dataclass(frozen=True)
class BuiltinDataset:
    """An embedded dataset: a title for the page and a loader ``"module:function"``."""

    title: str
    description: str
    loader: str  # "module:function"; the function takes workspace= and returns a FeatureSet
    modality: str  # "image", "audio" or "tabular"


BUILTINS: dict[str, BuiltinDataset] = {
    "digits": BuiltinDataset(
        title="Digits (8x8 images)",
        description="scikit-learn's 1797 handwritten digits, 8x8 pixels scaled to [0, 1], "
                    "10 classes. A quick visual check: samples are drawn as images.",
        loader="synth_core.data.datasets:load_digits_features",
        modality="image"),
    "demo-sounds": BuiltinDataset(
        title="Demo sounds (synthetic audio)",
        description="Synthetic demo audio made with numpy (sirens, horns, engine hum, drilling, "
                    "impulses...): short labelled clips turned into log-mel features, so the "
                    "whole audio path runs offline. Not real recordings.",
        loader="synth_core.data.demo_audio:load_demo_sounds_features",
        modality="audio"),
    "demo-spectrograms": BuiltinDataset(
        title="Demo sounds as spectrograms (synthetic audio you can hear)",
        description="The synthetic demo sounds' first second as 64 x 101 log-mel "
                    "spectrograms: models trained on them (conv body) generate rows that the "
                    "Generate page plays as sound. Not real recordings.",
        loader="synth_core.data.spectrogram:load_demo_spectrograms",
        modality="audio"),
}


@dataclass
class DatasetInfo:
    """A one-line description of a dataset for lists and the home page."""

    ref: str
    path: str
    n_samples: int
    n_features: int
    n_classes: int
    class_names: list[str] = field(default_factory=list)
    modality: str = "tabular"
    source: str = ""
    extractor: str = ""


def load_digits_features(*, workspace: Workspace | None = None) -> FeatureSet:
    """scikit-learn's 8x8 digits as a FeatureSet, pixels scaled to [0, 1].

    Every builtin loader takes ``workspace`` (where it may cache files); this one
    needs none since scikit-learn ships the data.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    features = (bunch.data / 16.0).astype(np.float32)  # [1797, 64], pixel values 0..16
    return FeatureSet(
        features=features, labels=bunch.target.astype(np.int64),
        class_names=[str(c) for c in bunch.target_names],
        ids=[f"digits-{i}" for i in range(len(features))],
        attrs={"source": "scikit-learn load_digits", "modality": "image",
               "feature_shape": [8, 8], "extractor": "pixels"})


def is_builtin(ref: str) -> bool:
    return str(ref).startswith(BUILTIN_PREFIX)


def builtin_path(name: str, workspace: Workspace) -> Path:
    """Materialise the embedded dataset ``name`` into the cache (once) and return its file."""
    if name not in BUILTINS:
        raise InputError(f"unknown embedded dataset 'builtin:{name}'; choose one of "
                         + ", ".join(f"builtin:{n}" for n in BUILTINS))
    path = workspace.cache_dir / "builtin" / f"{name}.h5"
    if not path.is_file():
        module_name, _, func_name = BUILTINS[name].loader.partition(":")
        loader: Callable[..., FeatureSet] = getattr(importlib.import_module(module_name), func_name)
        data = loader(workspace=workspace)
        data.attrs.setdefault("modality", BUILTINS[name].modality)
        data.attrs["dataset"] = f"builtin:{name}"
        write_features(path, data, overwrite=True)
    return path


def dataset_path(ref: str | os.PathLike[str], workspace: Workspace) -> Path:
    """The feature file behind a dataset reference (see the module docstring)."""
    text = str(ref).strip()
    if not text:
        raise InputError("no dataset given; pass builtin:digits, a workspace dataset name or "
                         "a path to a .h5 feature file")
    if is_builtin(text):
        return builtin_path(text[len(BUILTIN_PREFIX):], workspace)
    candidate = Path(text).expanduser()
    if candidate.suffix.lower() in (".csv", ".npz", ".npy", ".txt"):
        raise InputError(f"{text}: {candidate.suffix} files are imported first; run "
                         f"`python -m synth_core import --input {text} --out NAME.h5`")
    if candidate.is_file():
        return candidate
    named = workspace.dataset_path(text)
    if named.is_file():
        return named
    generated = workspace.exports_dir / named.name  # a generated set saved by name
    if generated.is_file():
        return generated
    known = ", ".join(list_dataset_refs(workspace)) or "none"
    raise StorageError(f"dataset {text!r} not found (no such file, and no workspace dataset of "
                       f"that name); known datasets: {known}")


def load_dataset(ref: str | os.PathLike[str], workspace: Workspace) -> FeatureSet:
    """Read the dataset behind ``ref``; a damaged file raises :class:`DamagedError`."""
    path = dataset_path(ref, workspace)
    problem = check_dataset(path)
    if problem is not None:
        raise DamagedError(problem)
    data = read_features(path)
    if is_builtin(str(ref)):
        data.attrs.setdefault("dataset", str(ref))
    return data


def dataset_ref_for_path(path: Path, workspace: Workspace) -> str:
    """The shortest reference that names ``path`` (workspace name when it is one)."""
    path = Path(path).absolute()
    if path.parent == workspace.datasets_dir.absolute():
        return path.stem
    builtin_dir = (workspace.cache_dir / "builtin").absolute()
    if path.parent == builtin_dir:
        return BUILTIN_PREFIX + path.stem
    return str(path)


def list_dataset_refs(workspace: Workspace) -> list[str]:
    """Embedded datasets first, then the workspace datasets that can be read, by name.

    Damaged files are left out here and listed by :func:`scan_datasets`.
    """
    return [BUILTIN_PREFIX + n for n in BUILTINS] + [p.stem for p in scan_datasets(workspace)[0]]


def scan_datasets(workspace: Workspace) -> tuple[list[Path], list[Damaged]]:
    """Workspace feature files that can be read, and the damaged ones beside them."""
    good: list[Path] = []
    damaged: list[Damaged] = []
    for path in workspace.list_datasets():
        problem = check_dataset(path)
        if problem is None:
            good.append(path)
        else:
            damaged.append(problem)
    return good, damaged


def check_dataset(path: str | os.PathLike[str]) -> Damaged | None:
    """None when ``path`` is a feature file this version reads, else what is wrong with it.

    Checks the header only (HDF5, a 2-D /features, row counts of labels/ids/folds
    matching, the version that wrote it); remembered per (path, mtime, size).
    """
    path = Path(path)
    try:
        info = path.stat()
    except OSError:
        return None  # a missing file is not damaged; dataset_path reports it
    return _check_cached(str(path), info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=512)
def _check_cached(path_text: str, mtime_ns: int, size: int) -> Damaged | None:
    import h5py

    path = Path(path_text)
    fix = (f"import or extract it again, and remove the file (Remove button on the Data page, "
           f"or `python -m synth_core check --remove {path}`)")
    try:
        header = read_header(path)
        with h5py.File(path, "r") as handle:
            for name in ("labels", "ids", "folds", "parents"):
                if name in handle and (not isinstance(handle[name], h5py.Dataset)
                                       or handle[name].shape[:1] != (header.n_samples,)):
                    shape = getattr(handle[name], "shape", "a group")
                    return Damaged("dataset", path, f"/{name} has shape {shape} but /features "
                                   f"has {header.n_samples} rows (wrong layout)", fix)
    except InputError as exc:
        reason = " ".join(str(exc).split()).removeprefix(f"{path}: ")
        return Damaged("dataset", path, reason.split("; ")[0], fix)
    except (OSError, ValueError, KeyError) as exc:
        return Damaged("dataset", path, f"cannot be read ({type(exc).__name__}: "
                       f"{' '.join(str(exc).split())[:160]})", fix)
    found = header.attrs.get("synth_core_version", "")
    if newer_version(found, __version__):
        return Damaged("dataset", path, f"written by synth_core {found}, newer than this "
                       f"{__version__}", "update synth_core to read it, or remove the file "
                       f"(`python -m synth_core check --remove {path}`)")
    return None


def describe_dataset(ref: str, workspace: Workspace) -> DatasetInfo:
    """One dataset's size, classes and provenance; reads the header only, not the matrix."""
    header = read_header(dataset_path(ref, workspace))
    return DatasetInfo(ref=ref, path=str(header.path), n_samples=header.n_samples,
                       n_features=header.n_features, n_classes=len(header.class_names),
                       class_names=header.class_names,
                       modality=str(header.attrs.get("modality", "tabular")),
                       source=str(header.attrs.get("source", "")),
                       extractor=str(header.attrs.get("extractor", "")))


def save_dataset(data: FeatureSet, name: str, workspace: Workspace, *,
                 overwrite: bool = False) -> Path:
    """Save ``data`` as the workspace dataset ``name`` (sanitised); never overwrites silently."""
    return write_features(workspace.dataset_path(name), data, overwrite=overwrite)


def rename_dataset(old: str, new: str, workspace: Workspace) -> Path:
    source = workspace.dataset_path(old)
    target = workspace.dataset_path(new)
    if not source.is_file():
        raise StorageError(f"no workspace dataset {old!r} to rename")
    workspace.check_own(source, what="dataset")  # classroom: the teacher's data is read-only
    if target.exists():
        raise StorageError(f"a dataset called {safe_name(new)!r} already exists; pick another name")
    # link + unlink, not rename: two sessions renaming at once must neither overwrite a
    # dataset that appeared meanwhile nor fail with a raw error when the source just went.
    try:
        os.link(source, target)
    except FileExistsError:
        raise StorageError(f"a dataset called {safe_name(new)!r} already exists (made just "
                           "now, perhaps in another session); pick another name") from None
    except FileNotFoundError:
        raise StorageError(f"dataset {old!r} was renamed or deleted just now (perhaps in "
                           "another session); reload the page to see its new name") from None
    source.unlink(missing_ok=True)
    return target


def delete_dataset(name: str, workspace: Workspace) -> None:
    path = workspace.dataset_path(name)
    if not path.is_file():
        raise StorageError(f"no workspace dataset {name!r} to delete")
    workspace.check_own(path, what="dataset")
    path.unlink()
