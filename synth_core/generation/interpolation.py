"""Latent interpolation: codes along a path, one pair for the slider, the thesis's batch protocol.

* :func:`interpolate_codes` – ``z_a + (z_b - z_a) t`` (linear) or the great-circle
  path (spherical) for ``t`` in [0, 1];
* :func:`encode_pair` + :func:`decode_path` – encode two data rows once, then
  decode any point between them (cheap enough for a slider);
  :func:`interpolate` does both for two raw rows, :func:`interpolate_pair` returns
  the points as a :class:`FeatureSet` with provenance;
* :func:`batch_protocol` – per class, 8 random pairs from that class, 12 points
  from ``z_a`` to ``z_b`` with both ends dropped (10 new samples per pair, 800
  for 10 classes); pairs across two classes too.

Every generated point takes the class of the nearer end point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from synth_core.errors import InputError
from synth_core.events import Callback, Log, Progress, emit
from synth_core.features import FeatureSet
from synth_core.generation.codes import (_check_count, _check_data, _check_index, _class_names,
                                         _decode, _encode, _generated, resolve_class, run_name)

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from synth_core.training.runs import Run

PATHS = ("linear", "spherical")

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
                label: int | None = None, output: str = "mean",
                random_state: int = 0) -> np.ndarray:
    """Decoded raw-scale samples at ``t`` on the path between ``ends``: [len(t), D].

    Cheap enough for a slider (one small decoder pass). A CVAE decodes with
    ``label`` if given, else with the class of the nearer end point.
    ``output="sample"`` draws around the decoded means (seeded by ``random_state``).
    """
    t_arr = check_t(t)
    Z = ends.codes_at(t_arr)  # [T, latent]
    labels = (np.full(len(t_arr), label, dtype=np.int64) if label is not None
              else _nearest_end_labels(t_arr, ends.label_a, ends.label_b))
    return _decode(run, Z, labels, output=output, random_state=random_state)


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


def batch_protocol(run: "Run", data: FeatureSet, *, pairs_per_class: int = 8, steps: int = 12,
                   random_state: int = 0, classes: Sequence[int | str] | None = None,
                   cross: tuple[int | str, int | str] | None = None, path: str = "linear",
                   codes: str = "mean", output: str = "mean",
                   callback: Callback | None = None) -> FeatureSet:
    """The thesis's batch protocol: per class, random pairs x (steps - 2) interior points.

    With the defaults that is 8 pairs x 10 points = 80 per class (800 for 10
    classes). ``cross=(A, B)`` instead draws ``pairs_per_class`` pairs from
    class A to class B (the thesis's 3 -> 8); each point gets the nearer end's
    class. ``parents`` holds the two data rows of every point. Unlabelled data
    make one group: ``pairs_per_class`` pairs of any two rows.
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
        if not chosen and classes is None:
            if data.n_samples < 2:
                raise InputError(f"run {run_name(run)}: its data has {data.n_samples} row(s); "
                                 "a pair needs 2; sample the prior instead (--prior N)")
            chosen = [-1]  # unlabelled data: pairs of any two rows, unlabelled points
        elif classes is None:
            chosen = _classes_with_pairs(run, data, chosen, callback)
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
    features = _decode(run, codes_all, labels, callback=callback, output=output,
                       random_state=random_state)
    ids = [f"interp-{p[0]}-{p[1]}-t{t:.3f}" for p, t in zip(parents, t_all)]
    emit(callback, Progress(1.0, f"generated {n_total} samples", "done"))
    return _generated(run, data, features, labels, parents, mode="interpolate", seed=random_state,
                      ids=ids, output=output, extra={"pairs_per_class": pairs_per_class, "steps": steps,
                                      "path": path, "codes": codes,
                                      "cross": list(groups[0]) if cross is not None else None})


def _classes_with_pairs(run: "Run", data: FeatureSet, chosen: list[int],
                        callback: Callback | None) -> list[int]:
    """``chosen`` without the classes of fewer than 2 rows (no pair to draw), with a warning;
    refuses when no class is left. Classes the caller names are never dropped silently."""
    sizes = np.bincount(data.labels[data.labels >= 0], minlength=max(chosen, default=-1) + 1)
    kept = [c for c in chosen if sizes[c] >= 2]
    dropped = [c for c in chosen if sizes[c] < 2]
    if not dropped:
        return chosen
    names = _class_names(run, data)
    listed = ", ".join(f"{c} ({names[c]})" for c in dropped[:5])
    more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
    if not kept:
        raise InputError(f"run {run_name(run)}: no class has 2 rows to make a pair from "
                         f"(classes {listed}{more} have 1 each); interpolate one pair of any "
                         "two rows (--from I --to J) or sample the prior (--prior N)")
    emit(callback, Log(f"{len(dropped)} of {len(chosen)} classes have a single row, so no pair "
                       f"to interpolate: left out ({listed}{more}); their rows are made only "
                       "by a CVAE (--per-class) or from the prior", level="warning"))
    return kept


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
                     random_state: int = 0, output: str = "mean") -> FeatureSet:
    """Decoded points at ``t`` between data rows ``index_a`` and ``index_b`` as a FeatureSet."""
    ends = encode_pair(run, data, index_a, index_b, path=path, codes=codes,
                       random_state=random_state)
    t_arr = check_t(t)
    features = decode_path(run, ends, t_arr, output=output, random_state=random_state)
    n = len(t_arr)
    return _generated(run, data, features, _nearest_end_labels(t_arr, ends.label_a, ends.label_b),
                      np.tile([ends.index_a, ends.index_b], (n, 1)), mode="interpolate",
                      seed=random_state, output=output,
                      ids=[f"interp-{index_a}-{index_b}-t{v:.3f}" for v in t_arr],
                      extra={"path": path, "codes": codes, "t": t_arr.tolist()})



def random_pair(data: FeatureSet, *, label: int | None = None,
                random_state: int | None = None) -> tuple[int, int]:
    """Two different random rows (of class ``label`` when given)."""
    rows = np.arange(data.n_samples) if label is None else np.flatnonzero(data.labels == label)
    if len(rows) < 2:
        raise InputError(f"class {label} has {len(rows)} row(s); a pair needs 2; "
                         "pick another class")
    i, j = np.random.default_rng(random_state).choice(rows, size=2, replace=False)
    return int(i), int(j)

