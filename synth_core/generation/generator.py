"""Generation: new samples from a trained run, with provenance.

Four ways to make samples, all seeded and all returning a :class:`FeatureSet`
in the original feature scale (the run's decoder inverts its scaler):

* :func:`interpolate` / :func:`encode_pair` + :func:`decode_path` – VAE latent
  interpolation between two samples: encode both (posterior means, or sampled
  codes), decode ``z_a + (z_b - z_a) t`` (linear) or the great-circle path
  (spherical) for ``t`` in [0, 1];
* :func:`batch_protocol` – the thesis's protocol: per class, 8 random pairs
  from that class, 12 points from ``z_a`` to ``z_b`` with both ends dropped
  (10 new samples per pair, 800 for 10 classes); pairs across two classes too;
* :func:`sample_class` – CVAE by class: standard-normal codes and a class label
  to the decoder;
* :func:`sample_prior` – codes from N(0, I), or from N(mu, diag sigma^2) fitted
  to the data's codes (the deterministic autoencoders have no prior).

:func:`synthesize` picks the right one for a model (used by the augmentation
benchmark); :class:`GenerateConfig` + :func:`generate` are what the CLI, the
page and :func:`generate_job` share. Generated files carry ``/parents`` [N, 2]
(data rows of the two end points, -1 where there are none) and attrs
``model_run``, ``mode``, ``seed``, plus ``class_names``, ``feature_shape`` and
``modality`` copied from the real data. :func:`export_bytes` writes HDF5, CSV or
NPZ for downloads.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.events import Callback, Log, Progress, emit
from synth_core.features import FeatureSet, write_features
from synth_core.workspace import Workspace, safe_name

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from synth_core.training.runs import Run

logger = logging.getLogger(__name__)

PATHS = ("linear", "spherical")
CODES = ("mean", "sample")
MODES = ("protocol", "pair", "class", "prior", "synthesize")
PRIORS = ("auto", "standard", "fitted")
EXPORT_FORMATS = ("h5", "csv", "npz")
# Above this many rows the page runs generation as a background job (and warns).
LARGE_REQUEST = 5_000
# A hard cap so a typo (1e9 samples) fails at once instead of filling memory.
MAX_SAMPLES = 1_000_000
_DECODE_CHUNK = 4096
_COPIED_ATTRS = ("feature_shape", "modality", "extractor", "frames", "sample_rate", "dataset")


# --------------------------------------------------------------------------- codes and paths


def interpolate_codes(z_a: np.ndarray, z_b: np.ndarray, t: Sequence[float], *,
                      path: str = "linear") -> np.ndarray:
    """Codes along the path from ``z_a`` to ``z_b`` at ``t``: [len(t), latent].

    ``linear`` is ``z_a + (z_b - z_a) t``; ``spherical`` is slerp, which keeps
    the norm of the codes near that of typical prior samples (a straight line
    between two Gaussian codes passes through the low-density middle). Both
    give exactly ``z_a`` at t=0 and ``z_b`` at t=1.
    """
    _check_path(path)
    t_arr = check_t(t)[:, None]  # [T, 1]
    z_a = np.asarray(z_a, dtype=np.float64).reshape(-1)
    z_b = np.asarray(z_b, dtype=np.float64).reshape(-1)
    if path == "spherical":
        norm_a, norm_b = np.linalg.norm(z_a), np.linalg.norm(z_b)
        if norm_a > 0 and norm_b > 0:
            cos = np.clip(np.dot(z_a / norm_a, z_b / norm_b), -1.0, 1.0)
            omega = np.arccos(cos)
            if np.sin(omega) > 1e-6:  # (anti)parallel codes: slerp is undefined, use the line
                sin = np.sin(omega)
                return (np.sin((1.0 - t_arr) * omega) / sin * z_a
                        + np.sin(t_arr * omega) / sin * z_b).astype(np.float32)
    return (z_a + (z_b - z_a) * t_arr).astype(np.float32)  # [T, latent]


def check_t(t: Sequence[float] | float) -> np.ndarray:
    """``t`` as a 1-D float array, refusing values outside [0, 1] or non-finite."""
    t_arr = np.atleast_1d(np.asarray(t, dtype=np.float64)).reshape(-1)
    if t_arr.size == 0:
        raise InputError("t: no interpolation positions given; pass one or more values in "
                         "[0, 1] (0 = first sample, 1 = second sample)")
    bad = t_arr[~np.isfinite(t_arr) | (t_arr < 0.0) | (t_arr > 1.0)]
    if bad.size:
        raise InputError(f"t = {bad[0]:g} is outside [0, 1]; interpolation positions run from "
                         "0 (the first sample) to 1 (the second sample)")
    return t_arr


def _check_path(path: str) -> None:
    if path not in PATHS:
        raise InputError(f"path = {path!r} is not an interpolation path; choose one of "
                         f"{', '.join(PATHS)}")


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


def _decode(run: "Run", Z: np.ndarray, labels: np.ndarray | None, *,
            callback: Callback | None = None, stage: str = "decoding") -> np.ndarray:
    """Codes [N, latent] -> raw-scale features [N, D], in chunks with progress."""
    Z = np.asarray(Z, dtype=np.float32)
    cond = labels if run.is_conditional else None
    if len(Z) <= _DECODE_CHUNK:
        return np.asarray(run.decode(Z, cond), dtype=np.float32)
    parts = []
    for start in range(0, len(Z), _DECODE_CHUNK):
        stop = min(start + _DECODE_CHUNK, len(Z))
        parts.append(np.asarray(run.decode(Z[start:stop], None if cond is None
                                           else cond[start:stop]), dtype=np.float32))
        emit(callback, Progress(stop / len(Z), f"decoded {stop}/{len(Z)} samples", stage))
    return np.concatenate(parts)


def _nearest_end_labels(t: np.ndarray, label_a: int, label_b: int) -> np.ndarray:
    """The class of the nearer end point (t < 0.5 -> a): the label of a generated point."""
    return np.where(np.asarray(t) < 0.5, label_a, label_b).astype(np.int64)


@dataclass(frozen=True)
class Endpoints:
    """Two encoded samples to interpolate between (``z_*`` are [latent] codes)."""

    index_a: int
    index_b: int
    z_a: np.ndarray
    z_b: np.ndarray
    label_a: int = -1
    label_b: int = -1
    path: str = "linear"
    codes: str = "mean"

    def codes_at(self, t: Sequence[float]) -> np.ndarray:
        return interpolate_codes(self.z_a, self.z_b, t, path=self.path)


def encode_pair(run: "Run", data: FeatureSet, index_a: int, index_b: int, *,
                path: str = "linear", codes: str = "mean", random_state: int = 0) -> Endpoints:
    """Encode data rows ``index_a`` and ``index_b`` once; decode points with :func:`decode_path`."""
    _check_path(path)
    _check_data(run, data)
    index_a = _check_index(data, index_a, "first sample")
    index_b = _check_index(data, index_b, "second sample")
    if index_a == index_b or np.array_equal(data.features[index_a], data.features[index_b]):
        same = "the same row" if index_a == index_b else "identical rows"
        raise InputError(f"the two samples (rows {index_a} and {index_b}) are {same}; "
                         "interpolating a sample with itself gives that sample again; "
                         "pick two different samples")
    rows = np.array([index_a, index_b])
    labels = data.labels[rows]
    if run.is_conditional and (labels < 0).any():
        raise InputError("a conditional model (CVAE) encodes with the class label, but the "
                         f"chosen rows {index_a}, {index_b} are unlabeled; pick labelled rows")
    Z = _encode(run, data.features[rows], labels, codes=codes,
                rng=np.random.default_rng(random_state))  # [2, latent]
    return Endpoints(index_a, index_b, Z[0], Z[1], int(labels[0]), int(labels[1]), path, codes)


def decode_path(run: "Run", ends: Endpoints, t: Sequence[float] | float, *,
                label: int | None = None) -> np.ndarray:
    """Decoded raw-scale samples at ``t`` on the path between ``ends``: [len(t), D].

    Cheap enough for a slider (one small decoder pass). A CVAE decodes with
    ``label`` if given, else with the class of the nearer end point.
    """
    t_arr = check_t(t)
    Z = ends.codes_at(t_arr)  # [T, latent]
    labels = (np.full(len(t_arr), label, dtype=np.int64) if label is not None
              else _nearest_end_labels(t_arr, ends.label_a, ends.label_b))
    return _decode(run, Z, labels)


def interpolate(run: "Run", x_a: np.ndarray, x_b: np.ndarray, *, t: Sequence[float],
                path: str = "linear", label: int | None = None,
                end_labels: tuple[int, int] | None = None, codes: str = "mean",
                random_state: int = 0) -> np.ndarray:
    """Decode points between raw-scale samples ``x_a`` and ``x_b`` [D]: raw [len(t), D].

    A CVAE needs classes: ``end_labels`` (the classes of x_a and x_b, used to
    encode) and ``label`` (the class to decode with; default the nearer end's).
    """
    _check_path(path)
    x_a = np.asarray(x_a, dtype=np.float32).reshape(1, -1)
    x_b = np.asarray(x_b, dtype=np.float32).reshape(1, -1)
    if x_a.shape != x_b.shape:
        raise InputError(f"the two samples have different lengths ({x_a.shape[1]} and "
                         f"{x_b.shape[1]}); both must be rows of the same dataset")
    if np.array_equal(x_a, x_b):
        raise InputError("x_a and x_b are identical samples; interpolating a sample with "
                         "itself gives that sample again; pick two different samples")
    t_arr = check_t(t)
    if end_labels is None:
        if run.is_conditional and label is None:
            raise InputError("a conditional model (CVAE) needs classes to encode and decode "
                             "with; pass end_labels=(class_a, class_b) or label=")
        end_labels = (label if label is not None else -1,) * 2
    Z = _encode(run, np.vstack([x_a, x_b]), np.asarray(end_labels, dtype=np.int64), codes=codes,
                rng=np.random.default_rng(random_state))
    ends = Endpoints(-1, -1, Z[0], Z[1], int(end_labels[0]), int(end_labels[1]), path)
    return decode_path(run, ends, t_arr, label=label)


# --------------------------------------------------------------------------- output files


def _generated(run: "Run", data: FeatureSet | None, features: np.ndarray, labels: np.ndarray,
               parents: np.ndarray, *, mode: str, seed: int, ids: list[str],
               extra: dict[str, Any] | None = None) -> FeatureSet:
    attrs: dict[str, Any] = {}
    meta = getattr(run, "meta", None) or {}
    attrs.update({k: meta[k] for k in ("feature_shape", "modality") if meta.get(k) is not None})
    if data is not None:
        attrs.update({k: data.attrs[k] for k in _COPIED_ATTRS if k in data.attrs})
    attrs.update({"model_run": str(run.run_dir), "mode": mode, "seed": int(seed),
                  "source": f"synth_core.generation.generator ({mode})",
                  "model": str(getattr(run.config, "model", ""))})
    attrs.update(extra or {})
    return FeatureSet(features=features, labels=labels, class_names=_class_names(run, data),
                      ids=ids, parents=parents, attrs=attrs)


def batch_protocol(run: "Run", data: FeatureSet, *, pairs_per_class: int = 8, steps: int = 12,
                   random_state: int = 0, classes: Sequence[int | str] | None = None,
                   cross: tuple[int | str, int | str] | None = None, path: str = "linear",
                   codes: str = "mean", callback: Callback | None = None) -> FeatureSet:
    """The thesis's batch protocol: per class, random pairs x (steps - 2) interior points.

    With the defaults that is 8 pairs x 10 points = 80 per class (800 for 10
    classes). ``cross=(A, B)`` instead draws ``pairs_per_class`` pairs from
    class A to class B (the thesis's 3 -> 8); each point gets the nearer end's
    class. ``parents`` holds the two data rows of every point.
    """
    _check_path(path)
    _check_data(run, data)
    pairs_per_class = _check_count(pairs_per_class, "pairs per class")
    steps = _check_count(steps, "steps", minimum=3)
    rng = np.random.default_rng(random_state)
    if cross is not None:
        a, b = (resolve_class(run, c, data=data, name="cross class") for c in cross)
        groups = [(a, b)]
    else:
        chosen = (sorted({int(c) for c in data.labels if c >= 0}) if classes is None
                  else [resolve_class(run, c, data=data) for c in classes])
        if not chosen:
            raise InputError("the data has no labelled rows, so there are no classes to draw "
                             "pairs from; use prior sampling, or label the data")
        groups = [(c, c) for c in chosen]
    t_inner = np.linspace(0.0, 1.0, steps)[1:-1]  # the two ends are real samples: drop them
    pair_rows = []
    for a, b in groups:
        rows_a = np.flatnonzero(data.labels == a)
        rows_b = np.flatnonzero(data.labels == b)
        if a == b and len(rows_a) < 2:
            raise InputError(f"class {a} ({_class_names(run, data)[a]}) has {len(rows_a)} "
                             "row(s); a pair needs 2; leave that class out (classes=)")
        if len(rows_a) == 0 or len(rows_b) == 0:
            empty = a if len(rows_a) == 0 else b
            raise InputError(f"class {empty} has no rows in the data; pick classes that do")
        pair_rows.extend(_draw_pairs(rng, rows_a, rows_b, pairs_per_class))
    pairs = np.asarray(pair_rows, dtype=np.int64)  # [P, 2]
    n_total = len(pairs) * len(t_inner)
    _check_count(n_total, "samples requested")
    emit(callback, Progress(0.0, f"encoding {len(pairs)} pairs", "encoding"))
    ends = pairs.reshape(-1)
    Z = _encode(run, data.features[ends], data.labels[ends], codes=codes, rng=rng)
    Z = Z.reshape(len(pairs), 2, -1)  # [P, 2, latent]
    codes_all = np.concatenate([interpolate_codes(za, zb, t_inner, path=path) for za, zb in Z])
    t_all = np.tile(t_inner, len(pairs))  # [P * (steps - 2)]
    parents = np.repeat(pairs, len(t_inner), axis=0)  # [P * (steps - 2), 2]
    labels = _nearest_end_labels(t_all, data.labels[parents[:, 0]], data.labels[parents[:, 1]])
    features = _decode(run, codes_all, labels, callback=callback)
    ids = [f"interp-{p[0]}-{p[1]}-t{t:.3f}" for p, t in zip(parents, t_all)]
    emit(callback, Progress(1.0, f"generated {n_total} samples", "done"))
    return _generated(run, data, features, labels, parents, mode="interpolate", seed=random_state,
                      ids=ids, extra={"pairs_per_class": pairs_per_class, "steps": steps,
                                      "path": path, "codes": codes,
                                      "cross": list(groups[0]) if cross is not None else None})


def _draw_pairs(rng: np.random.Generator, rows_a: np.ndarray, rows_b: np.ndarray,
                n: int) -> list[tuple[int, int]]:
    """``n`` random (a, b) row pairs, a != b, all different while there are enough rows."""
    same = rows_a is rows_b or np.array_equal(rows_a, rows_b)
    n_distinct = len(rows_a) * (len(rows_a) - 1) // 2 if same else len(rows_a) * len(rows_b)
    pairs: list[tuple[int, int]] = []
    seen: set[frozenset[int] | tuple[int, int]] = set()
    while len(pairs) < n:
        if same:
            i, j = (int(v) for v in rng.choice(rows_a, size=2, replace=False))
            key: frozenset[int] | tuple[int, int] = frozenset((i, j))
        else:
            i, j = int(rng.choice(rows_a)), int(rng.choice(rows_b))
            key = (i, j)
        if key in seen and len(seen) < n_distinct:
            continue  # a pair already drawn: draw again while unused pairs remain
        seen.add(key)
        pairs.append((i, j))
    return pairs


def interpolate_pair(run: "Run", data: FeatureSet, index_a: int, index_b: int, *,
                     t: Sequence[float], path: str = "linear", codes: str = "mean",
                     random_state: int = 0) -> FeatureSet:
    """Decoded points at ``t`` between data rows ``index_a`` and ``index_b`` as a FeatureSet."""
    ends = encode_pair(run, data, index_a, index_b, path=path, codes=codes,
                       random_state=random_state)
    t_arr = check_t(t)
    features = decode_path(run, ends, t_arr)
    n = len(t_arr)
    return _generated(run, data, features, _nearest_end_labels(t_arr, ends.label_a, ends.label_b),
                      np.tile([ends.index_a, ends.index_b], (n, 1)), mode="interpolate",
                      seed=random_state,
                      ids=[f"interp-{index_a}-{index_b}-t{v:.3f}" for v in t_arr],
                      extra={"path": path, "codes": codes, "t": t_arr.tolist()})


def sample_class(run: "Run", classes: Sequence[int | str], n_per_class: int, *,
                 random_state: int = 0, data: FeatureSet | None = None,
                 callback: Callback | None = None) -> FeatureSet:
    """CVAE by class: ``n_per_class`` standard-normal codes decoded with each class label.

    ``data`` (the real data) is only used to copy attrs (modality, feature shape).
    """
    if not run.is_conditional:
        raise InputError(f"run {run_name(run)} is a {run.config.model.upper()}, not a "
                         "conditional model, so it cannot generate by class; use interpolation "
                         "(within-class pairs) or train a CVAE")
    n_per_class = _check_count(n_per_class, "samples per class")
    idx = [resolve_class(run, c, data=data) for c in classes]
    if not idx:
        raise InputError("no classes chosen; pick at least one class to generate")
    _check_count(n_per_class * len(idx), "samples requested")
    rng = np.random.default_rng(random_state)
    labels = np.repeat(np.asarray(idx, dtype=np.int64), n_per_class)  # [C * n]
    Z = rng.standard_normal((len(labels), _latent_dim(run)))  # [C * n, latent]
    features = _decode(run, Z, labels, callback=callback)
    ids = [f"class-{c}-{k}" for c in idx for k in range(n_per_class)]
    return _generated(run, data, features, labels, np.full((len(labels), 2), -1),
                      mode="class", seed=random_state, ids=ids,
                      extra={"n_per_class": n_per_class})


def sample_prior(run: "Run", n: int, *, data: FeatureSet | None = None, random_state: int = 0,
                 prior: str = "auto", callback: Callback | None = None) -> FeatureSet:
    """``n`` codes from the prior, decoded.

    ``prior="standard"`` draws from N(0, I) (what a VAE was trained towards);
    ``"fitted"`` from N(mu, diag sigma^2) fitted to the codes of ``data`` (the
    deterministic autoencoders have no prior, so ``"auto"`` picks this for
    them). A CVAE gets a random class per sample; other models label -1.
    """
    if prior not in PRIORS:
        raise InputError(f"prior = {prior!r}; choose one of {', '.join(PRIORS)}")
    n = _check_count(n, "number of prior samples")
    rng = np.random.default_rng(random_state)
    if prior == "auto":
        prior = "standard" if run.is_variational else "fitted"
    k = len(_class_names(run, data))
    labels = (rng.integers(0, k, n).astype(np.int64) if run.is_conditional and k
              else np.full(n, -1, dtype=np.int64))
    if prior == "fitted":
        if data is None:
            raise InputError(f"a fitted prior needs the codes of real data, and run "
                             f"{run_name(run)} is not variational; pass data= (the training "
                             "data) or prior='standard'")
        _check_data(run, data)
        rows = _training_rows(run, data)
        mu = _encode(run, data.features[rows], data.labels[rows], codes="mean",
                     rng=rng)  # [N_train, latent]
        center, scale = mu.mean(axis=0), mu.std(axis=0)
        Z = center + scale * rng.standard_normal((n, mu.shape[1]))
    else:
        Z = rng.standard_normal((n, _latent_dim(run)))
    features = _decode(run, Z, labels, callback=callback)
    return _generated(run, data, features, labels, np.full((n, 2), -1), mode="prior",
                      seed=random_state, ids=[f"prior-{i}" for i in range(n)],
                      extra={"prior": prior})


def _training_rows(run: "Run", data: FeatureSet) -> np.ndarray:
    """The run's training rows of ``data`` when the run recorded its split, else all rows."""
    split = run.split() if hasattr(run, "split") else {}
    train = np.asarray((split or {}).get("train_index") or [], dtype=np.int64)
    if train.size and train.max() < data.n_samples:
        return train
    return np.arange(data.n_samples)


def synthesize(run: "Run", data: FeatureSet, counts: dict[int, int], *, random_state: int = 0,
               callback: Callback | None = None) -> FeatureSet:
    """``counts[c]`` new samples of each class ``c``, the right way for the model.

    A CVAE samples by class; any other model interpolates between random pairs
    of the class's rows at random interior t (uniform in (0, 1)). Used by the
    augmentation benchmark.
    """
    counts = {resolve_class(run, c, data=data): _check_count(n, f"count for class {c}", minimum=0)
              for c, n in counts.items()}
    counts = {c: n for c, n in counts.items() if n > 0}
    if not counts:
        raise InputError("counts asks for 0 samples; give at least one class a positive count")
    if run.is_conditional:
        rng = np.random.default_rng(random_state)
        labels = np.concatenate([np.full(n, c, dtype=np.int64) for c, n in counts.items()])
        Z = rng.standard_normal((len(labels), _latent_dim(run)))
        features = _decode(run, Z, labels, callback=callback)
        return _generated(run, data, features, labels, np.full((len(labels), 2), -1),
                          mode="class", seed=random_state,
                          ids=[f"class-{c}-{k}" for c, n in counts.items() for k in range(n)])
    _check_data(run, data)
    rng = np.random.default_rng(random_state)
    pair_rows, t_all, labels = [], [], []
    for c, n in counts.items():
        rows = np.flatnonzero(data.labels == c)
        if len(rows) < 2:
            raise InputError(f"class {c} has {len(rows)} row(s) in the data; interpolation "
                             "needs at least 2; leave it out of counts")
        for _ in range(n):
            pair_rows.append(rng.choice(rows, size=2, replace=False))
        t_all.append(rng.uniform(0.0, 1.0, n))
        labels.append(np.full(n, c, dtype=np.int64))
    parents = np.asarray(pair_rows, dtype=np.int64)  # [N, 2]
    t_arr = np.concatenate(t_all)
    ends = parents.reshape(-1)
    Z = _encode(run, data.features[ends], data.labels[ends], codes="mean", rng=rng)
    Z = Z.reshape(len(parents), 2, -1)  # [N, 2, latent]
    codes = Z[:, 0] + (Z[:, 1] - Z[:, 0]) * t_arr[:, None]  # [N, latent]
    label_arr = np.concatenate(labels)
    features = _decode(run, codes, label_arr, callback=callback)
    ids = [f"interp-{p[0]}-{p[1]}-t{t:.3f}" for p, t in zip(parents, t_arr)]
    return _generated(run, data, features, label_arr, parents, mode="interpolate",
                      seed=random_state, ids=ids, extra={"path": "linear", "t": "random"})


# --------------------------------------------------------------------------- one config, one call


@dataclass(frozen=True)
class GenerateConfig:
    """What to generate; the CLI flags, the page's form and job params all become one.

    ``mode``: ``protocol`` (batch protocol; ``cross`` for pairs across two
    classes), ``pair`` (rows ``from_index`` -> ``to_index`` at ``t``, default
    ``steps`` evenly spaced values including the ends), ``class`` (CVAE,
    ``per_class`` per class in ``classes``, default all), ``prior`` (``n_prior``).
    """

    mode: str = "protocol"
    pairs: int = 8
    steps: int = 12
    from_index: int | None = None
    to_index: int | None = None
    t: tuple[float, ...] = ()
    per_class: int = 80
    classes: tuple[int, ...] | None = None
    n_prior: int = 100
    prior: str = "auto"
    cross: tuple[int, int] | None = None
    path: str = "linear"
    codes: str = "mean"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"mode = {self.mode!r}; choose one of {', '.join(MODES)}")
        _check_path(self.path)
        if self.mode == "pair" and (self.from_index is None or self.to_index is None):
            raise InputError("interpolating one pair needs both end points: give --from I and "
                             "--to J (data row numbers)")

    def n_requested(self, n_classes: int) -> int:
        """How many rows this config makes (to warn before large requests)."""
        k = len(self.classes) if self.classes else n_classes
        if self.mode == "protocol":
            return self.pairs * (self.steps - 2) * (1 if self.cross else k)
        if self.mode == "pair":
            return len(self.t) or self.steps
        if self.mode == "class":
            return self.per_class * k
        if self.mode == "prior":
            return self.n_prior
        return 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> "GenerateConfig":
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
        for key in ("t", "classes", "cross"):
            if known.get(key) is not None:
                known[key] = tuple(known[key])
        return cls(**known)


def generate(run: "Run", data: FeatureSet | None, config: GenerateConfig, *,
             callback: Callback | None = None) -> FeatureSet:
    """Run ``config`` on ``run``; ``data`` is the real data (None only for class/prior)."""
    if config.mode in ("protocol", "pair", "synthesize") and data is None:
        raise InputError(f"mode {config.mode!r} picks real samples, so it needs the run's data")
    if config.mode == "protocol":
        return batch_protocol(run, data, pairs_per_class=config.pairs, steps=config.steps,
                              random_state=config.seed, classes=config.classes,
                              cross=config.cross, path=config.path, codes=config.codes,
                              callback=callback)
    if config.mode == "pair":
        t = config.t or tuple(np.linspace(0.0, 1.0, _check_count(config.steps, "steps", minimum=2)))
        return interpolate_pair(run, data, config.from_index, config.to_index, t=t,
                                path=config.path, codes=config.codes, random_state=config.seed)
    if config.mode == "class":
        classes = config.classes if config.classes else range(len(_class_names(run, data)))
        return sample_class(run, list(classes), config.per_class, random_state=config.seed,
                            data=data, callback=callback)
    if config.mode == "prior":
        return sample_prior(run, config.n_prior, data=data, random_state=config.seed,
                            prior=config.prior, callback=callback)
    classes = config.classes if config.classes else range(len(_class_names(run, data)))
    return synthesize(run, data, {c: config.per_class for c in classes},
                      random_state=config.seed, callback=callback)


# --------------------------------------------------------------------------- saving and export


def default_export_name(run: "Run", config: GenerateConfig) -> str:
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
    so ``import --label-column last`` reads it back); NPZ and HDF5 also keep
    parents, ids, class names and attrs.
    """
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "h5":
        with tempfile.TemporaryDirectory() as tmp:
            path = write_features(Path(tmp) / "generated.h5", data)
            return path.read_bytes()
    if fmt == "csv":
        buffer = io.StringIO()
        header = ",".join([f"f{i}" for i in range(data.n_features)] + ["label"])
        table = np.column_stack([data.features.astype(np.float64), data.labels])
        np.savetxt(buffer, table, delimiter=",", header=header, comments="",
                   fmt=["%.7g"] * data.n_features + ["%d"])
        return buffer.getvalue().encode("utf-8")
    buffer = io.BytesIO()
    parents = data.parents if data.parents is not None else np.full((data.n_samples, 2), -1)
    np.savez_compressed(buffer, features=data.features, labels=data.labels, parents=parents,
                        ids=np.array(data.ids or [], dtype=str),
                        class_names=np.array(data.class_names, dtype=str),
                        attrs=np.array(json.dumps(data.attrs, default=str)))
    return buffer.getvalue()


# --------------------------------------------------------------------------- helpers for pages


def nearest_rows(data: FeatureSet, x: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` real rows closest to ``x`` [D] (Euclidean): (row indices, distances)."""
    diff = data.features - np.asarray(x, dtype=np.float32).reshape(1, -1)  # [N, D]
    dist = np.sqrt(np.einsum("nd,nd->n", diff, diff))
    k = min(int(k), data.n_samples)
    order = np.argpartition(dist, k - 1)[:k] if k < data.n_samples else np.arange(data.n_samples)
    order = order[np.argsort(dist[order])]
    return order, dist[order]


def random_pair(data: FeatureSet, *, label: int | None = None,
                random_state: int | None = None) -> tuple[int, int]:
    """Two different random rows (of class ``label`` when given)."""
    rows = np.arange(data.n_samples) if label is None else np.flatnonzero(data.labels == label)
    if len(rows) < 2:
        raise InputError(f"class {label} has {len(rows)} row(s); a pair needs 2; "
                         "pick another class")
    i, j = np.random.default_rng(random_state).choice(rows, size=2, replace=False)
    return int(i), int(j)


# --------------------------------------------------------------------------- the background job


def generate_job(params: dict[str, Any], ctx: Callback) -> dict[str, Any]:
    """Job body: ``{"run": RUN_DIR, "config": {...}, "name": NAME, "data": REF (optional)}``.

    Saves to ``exports/<name>.h5`` (a free name) and returns the path and counts.
    """
    from synth_core.data.datasets import load_dataset
    from synth_core.training.runs import Run

    workspace: Workspace = ctx.workspace  # type: ignore[attr-defined]
    config = GenerateConfig.from_dict(params.get("config", {}))
    run_dir = params.get("run")
    if not run_dir or not Path(run_dir).is_dir():
        raise StorageError(f"run folder {run_dir!r} not found; pick a trained run on the "
                           "Generate page or train one on the Train page")
    emit(ctx, Progress(0.0, f"loading run {Path(run_dir).name}", "loading"))
    run = Run.load(run_dir, device="cpu")
    data = (load_dataset(params["data"], workspace) if params.get("data")
            else run_data_or_none(run, workspace, config, ctx))
    generated = generate(run, data, config, callback=ctx)
    name = params.get("name") or default_export_name(run, config)
    path = save_generated(generated, workspace, name)
    return {"path": str(path), "n_samples": generated.n_samples, "mode": config.mode,
            "message": f"saved {generated.n_samples} samples to exports/{path.name}"}


def run_data_or_none(run: "Run", workspace: Workspace, config: GenerateConfig,
                     callback: Callback | None) -> FeatureSet | None:
    """The run's data; for modes that do not need it, None (with a warning) when it is gone."""
    try:
        return load_run_data(run, workspace)
    except StorageError as exc:
        fitted_prior = config.prior == "fitted" or (config.prior == "auto"
                                                    and not run.is_variational)
        needs_data = (config.mode in ("protocol", "pair", "synthesize")
                      or (config.mode == "prior" and fitted_prior))
        if needs_data:
            raise
        emit(callback, Log(f"{exc}; generating anyway without copying the data's attributes",
                           level="warning"))
        return None
