"""Between a run and its latent codes: the pieces every way of generating shares.

Encode raw-scale rows to codes (posterior means or one draw each) and decode
codes back in chunks with progress; resolve a class given by index or name;
find the real data a run was trained on and the rows it was fitted on; and wrap
decoded rows as a :class:`FeatureSet` with provenance (``/parents`` and attrs
``model_run``, ``mode``, ``seed``, ``seen_ids``...). :mod:`.interpolation` and
:mod:`.sampling` build on these.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.events import Callback, Progress, emit
from synth_core.features import FeatureSet
from synth_core.workspace import Workspace

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from synth_core.training.runs import Run

logger = logging.getLogger(__name__)

CODES = ("mean", "sample")
OUTPUTS = ("auto", "mean", "sample")  # auto: a draw when the decoder can (resolve_output)
# A hard cap so a typo (1e9 samples) fails at once instead of filling memory.
MAX_SAMPLES = 1_000_000
_DECODE_CHUNK = 4096
_COPIED_ATTRS = ("feature_shape", "modality", "extractor", "frames", "sample_rate", "dataset",
                 "feature_names", "spectrogram")

def _check_count(value: int, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise InputError(f"{name} = {value!r} must be a whole number >= {minimum}")
    if value > MAX_SAMPLES:
        raise InputError(f"{name} = {value} is more than the {MAX_SAMPLES:,} samples one call "
                         "may make; ask for fewer and run several times")
    return int(value)


# --------------------------------------------------------------------------- runs and classes


def run_name(run: "Run") -> str:
    return Path(run.run_dir).name


def _latent_dim(run: "Run") -> int:
    return int(getattr(run, "latent_dim", None) or run.config.latent_dim)


def _class_names(run: "Run", data: FeatureSet | None) -> list[str]:
    names = list(getattr(run, "class_names", None) or [])
    return names or (list(data.class_names) if data is not None else [])


def resolve_class(run: "Run", value: int | str, *, data: FeatureSet | None = None,
                  name: str = "class") -> int:
    """A class index from an index or a class name; raises for a class the model does not know."""
    names = _class_names(run, data)
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        if value in names:
            return names.index(value)
        raise InputError(f"{name} {value!r} is not a class this model knows; known classes: "
                         f"{', '.join(names) or 'none (the model was trained without labels)'}")
    index = int(value)
    if not 0 <= index < len(names):
        known = ", ".join(f"{i}={n}" for i, n in enumerate(names)) or "none"
        raise InputError(f"{name} {index} is not a class this model knows (it has "
                         f"{len(names)} classes: {known}); pick one of those")
    return index


def load_run_data(run: "Run", workspace: Workspace | None = None) -> FeatureSet:
    """The real data a run was trained on (needed to pick end points and copy attrs).

    Raises :class:`StorageError` naming the run and the dataset when the file
    is gone, with the fix (restore it, or pass another feature file).
    """
    from synth_core.data.datasets import load_dataset
    from synth_core.workspace import get_workspace

    ref = str(getattr(run, "dataset_ref", "") or "")
    if not ref:
        raise InputError(f"run {run_name(run)} does not record which dataset it was trained "
                         "on; pass the feature file explicitly (--data F.h5)")
    try:
        return load_dataset(ref, workspace or get_workspace())
    except (StorageError, InputError) as exc:
        raise StorageError(
            f"run {run_name(run)} was trained on dataset {ref!r}, which cannot be read any more "
            f"({exc}); restore that file, or pass a feature file with the same "
            f"{run.n_features} columns (--data F.h5 on the CLI)") from exc


def _check_data(run: "Run", data: FeatureSet) -> None:
    if data.n_features != run.n_features:
        raise InputError(f"the data has {data.n_features} features per row but run "
                         f"{run_name(run)} was trained on {run.n_features}; use the dataset "
                         "the model was trained on")


def _check_index(data: FeatureSet, index: int, name: str) -> int:
    if isinstance(index, bool) or int(index) != index or not 0 <= int(index) < data.n_samples:
        raise InputError(f"{name} = {index!r} is not a row of the data (it has "
                         f"{data.n_samples} rows, 0..{data.n_samples - 1}); pick a row in range")
    return int(index)


# --------------------------------------------------------------------------- encode / decode


def _encode(run: "Run", X: np.ndarray, labels: np.ndarray | None, *, codes: str,
            rng: np.random.Generator) -> np.ndarray:
    """Raw-scale rows -> latent codes [N, latent]: posterior means, or one sample each."""
    if codes not in CODES:
        raise InputError(f"codes = {codes!r}; choose 'mean' (posterior means) or 'sample' "
                         "(one draw from each posterior)")
    mu, logvar = run.encode(np.asarray(X, dtype=np.float32),
                            labels if run.is_conditional else None)
    mu = np.asarray(mu, dtype=np.float64)
    if codes == "sample" and run.is_variational and logvar is not None:
        sigma = np.exp(0.5 * np.asarray(logvar, dtype=np.float64))
        return mu + sigma * rng.standard_normal(mu.shape)
    return mu


def check_output(output: str) -> str:
    if output not in OUTPUTS:
        raise InputError(f"output = {output!r}; choose 'mean' (the decoded mean), 'sample' "
                         "(a draw from the decoder's distribution around it) or 'auto'")
    return output


def resolve_output(run: "Run", output: str) -> str:
    """``"auto"`` -> ``"sample"`` when the run's decoder can draw, else ``"mean"``.

    Drawing is the default because rows decoded as means are too tidy: in
    ``benchmarks/quality.py`` (mixture codes, 3 seeds) decoder draws brought the
    detection AUC from 0.88 to 0.41 on the demo sounds and from 0.95 to 0.58 on wine
    at the same TSTR/TRTR. Runs saved before decoders measured their spread decode means.
    """
    if check_output(output) != "auto":
        return output
    return "sample" if getattr(run, "can_sample_output", False) else "mean"


def _decode(run: "Run", Z: np.ndarray, labels: np.ndarray | None, *,
            callback: Callback | None = None, stage: str = "decoding", output: str = "mean",
            random_state: int = 0) -> np.ndarray:
    """Codes [N, latent] -> raw-scale features [N, D], in chunks with progress.

    ``output="sample"`` draws each row from the decoder's distribution around
    its decoded mean (``Run.decode(..., sample=True)``), seeded by ``random_state``.
    """
    Z = np.asarray(Z, dtype=np.float32)
    cond = labels if run.is_conditional else None
    kwargs: dict[str, Any] = {}
    if resolve_output(run, output) == "sample":
        if not getattr(run, "can_sample_output", False):
            raise InputError(f"run {run_name(run)} cannot sample from its decoder: its output "
                             "spread was never measured (a run saved by an older version); use "
                             "output 'mean' (--output mean), or train the model again")
        kwargs = {"sample": True, "generator": _torch_generator(run, random_state)}
        if labels is not None and not run.is_conditional:  # each class's own output spread
            kwargs["classes"] = np.asarray(labels, dtype=np.int64)
    if len(Z) <= _DECODE_CHUNK:
        return np.asarray(run.decode(Z, cond, **kwargs), dtype=np.float32)
    parts = []
    for start in range(0, len(Z), _DECODE_CHUNK):
        stop = min(start + _DECODE_CHUNK, len(Z))
        part = dict(kwargs, classes=kwargs["classes"][start:stop]) if "classes" in kwargs \
            else kwargs
        parts.append(np.asarray(run.decode(Z[start:stop], None if cond is None
                                           else cond[start:stop], **part), dtype=np.float32))
        emit(callback, Progress(stop / len(Z), f"decoded {stop}/{len(Z)} samples", stage))
    return np.concatenate(parts)


def _torch_generator(run: "Run", seed: int):
    """A seeded torch.Generator on the run's device (one per call: draws repeat per seed)."""
    import torch

    device = getattr(run, "device", None) or "cpu"
    return torch.Generator(device=device).manual_seed(int(seed))


# --------------------------------------------------------------------------- output files


def _generated(run: "Run", data: FeatureSet | None, features: np.ndarray, labels: np.ndarray,
               parents: np.ndarray, *, mode: str, seed: int, ids: list[str],
               output: str = "mean", extra: dict[str, Any] | None = None) -> FeatureSet:
    """Decoded rows as a FeatureSet with provenance: the run, mode, seed and ``output``, and
    what the generator saw (``seen_ids``, attrs ``held_out_folds``; see :func:`seen_rows`)."""
    attrs: dict[str, Any] = {}
    meta = getattr(run, "meta", None) or {}
    attrs.update({k: meta[k] for k in ("feature_shape", "modality", "extractor", "spectrogram")
                  if meta.get(k) is not None})
    if data is not None:
        attrs.update({k: data.attrs[k] for k in _COPIED_ATTRS if k in data.attrs})
    attrs.update({"model_run": str(run.run_dir), "mode": mode, "seed": int(seed),
                  "source": f"synth_core.generation ({mode})",
                  "model": str(getattr(run.config, "model", "")),
                  "output": resolve_output(run, output)})
    if attrs["output"] == "sample":  # the decoder's spread the draws used (Run.decode)
        by_class = (getattr(run, "has_class_spread", False) and not run.is_conditional
                    and bool((np.asarray(labels) >= 0).any()))
        attrs["output_spread"] = "per class" if by_class else "per feature"
    seen_ids, held_out = seen_rows(run, data)
    attrs["held_out_folds"] = held_out  # a list: stored as JSON, read back as a list
    attrs.update(extra or {})
    return FeatureSet(features=features, labels=labels, class_names=_class_names(run, data),
                      ids=ids, parents=parents, attrs=attrs, seen_ids=seen_ids)


def _fitted_rows(run: "Run", data: FeatureSet | None) -> np.ndarray | None:
    """Positions in ``data`` of the rows the run was fitted on (training + validation rows of
    its split.json); None when the run recorded no split or it does not fit ``data``."""
    split = (run.split() if hasattr(run, "split") else {}) or {}
    rows = np.asarray(list(split.get("train_index") or []) + list(split.get("val_index") or []),
                      dtype=np.int64)
    if data is None or rows.size == 0 or rows.min() < 0 or rows.max() >= data.n_samples:
        return None
    return np.unique(rows)


def _recorded_test_folds(run: "Run") -> list[int]:
    """The test folds the run's config records ([] when it records none)."""
    for source in (getattr(run, "config", None), getattr(run, "meta", None) or {}):
        folds = (source.get("test_folds") if isinstance(source, dict)
                 else getattr(source, "test_folds", None))
        if folds:
            return sorted({int(f) for f in folds})
    return []


def seen_rows(run: "Run", data: FeatureSet | None) -> tuple[list[str] | None, list[int]]:
    """What a generated set's generator saw: (``seen_ids``, ``held_out_folds``).

    ``seen_ids`` are the ids of the real rows the run was fitted on (its training
    and validation rows), None when the data has no ids or the run no split (row
    numbers would not match the same rows numbered elsewhere, so none are
    invented). ``held_out_folds`` are the data's folds none of whose rows were
    fitted on when the data has folds and the run a split; otherwise the test
    folds the run's config records; otherwise [].
    """
    rows = _fitted_rows(run, data)
    seen_ids = ([data.ids[i] for i in rows] if rows is not None and data is not None
                and data.ids is not None else None)
    if rows is not None and data is not None and data.folds is not None:
        fitted = set(np.unique(data.folds[rows]).tolist())
        held_out = sorted(int(f) for f in np.unique(data.folds) if int(f) not in fitted)
    else:
        held_out = _recorded_test_folds(run)
    return seen_ids, held_out




def _training_rows(run: "Run", data: FeatureSet) -> np.ndarray:
    """The run's training rows of ``data`` when the run recorded its split, else all rows."""
    split = run.split() if hasattr(run, "split") else {}
    train = np.asarray((split or {}).get("train_index") or [], dtype=np.int64)
    if train.size and train.max() < data.n_samples:
        return train
    return np.arange(data.n_samples)


