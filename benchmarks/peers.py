"""Outside generators the benchmarks compare against: SDV's TVAE (issue #12's peer).

Optional: SDV is not a dependency of synth_core. ``pip install sdv`` to run the
``tvae`` generator of ``benchmarks/quality.py`` (``--generators default-cvae,tvae``);
it is never in the default set.

:func:`tvae_feature_set` fits ``sdv.single_table.TVAESynthesizer`` on a FeatureSet's rows
(the features as numerical columns, the class as a categorical column; metadata from
SDV's detection, with those two kinds set explicitly; SDV's defaults otherwise,
300 epochs, on the CPU) and returns a synthetic FeatureSet with the class counts asked
for, carrying the same fields as :func:`synth_core.generation.baselines.baseline_feature_set`
(class names, ids, ``seen_ids``, ``held_out_folds``...), so the scorecard and the
leakage checks treat it like any generated set.

Class counts: SDV's conditional sampling (``sample_from_conditions`` with one
``sdv.sampling.Condition`` per class; for TVAE that is rejection sampling on the class
column). Where it fails (a class the model rarely makes), the rows are drawn
unconditionally in batches and each class is filled from them (``attrs["sampling"]``
says which path made the rows).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import numpy as np

from synth_core.features import FeatureSet
from synth_core.generation.baselines import fitted_feature_set

LABEL_COLUMN = "class_label"
TVAE_EPOCHS = 300  # SDV's default


def require_sdv():
    """The ``sdv`` modules the peer needs, or a SystemExit that says how to get them."""
    try:
        import sdv
        from sdv.metadata import Metadata
        from sdv.sampling import Condition
        from sdv.single_table import TVAESynthesizer
    except ImportError as exc:
        raise SystemExit(f"the tvae generator needs SDV, which is not installed ({exc}); "
                         "`pip install sdv` (an optional extra of the benchmarks, not a "
                         "synth_core dependency), or leave tvae out of --generators") from exc
    return sdv, Metadata, Condition, TVAESynthesizer


def _column(i: int, width: int) -> str:
    return f"x{i:0{width}d}"


def fit_tvae(data: FeatureSet, *, random_state: int = 0, epochs: int = TVAE_EPOCHS):
    """A TVAESynthesizer fitted on ``data`` (features and class) -> (synthesizer, columns)."""
    import pandas as pd
    import torch

    _, Metadata, _, TVAESynthesizer = require_sdv()
    width = len(str(max(data.n_features - 1, 0)))
    columns = [_column(i, width) for i in range(data.n_features)]
    frame = pd.DataFrame(data.features.astype(np.float64), columns=columns)
    frame[LABEL_COLUMN] = [f"c{int(c)}" for c in data.labels]
    table = "rows"
    if hasattr(Metadata, "detect_from_dataframe"):  # SDV 1.x
        metadata = Metadata.detect_from_dataframe(frame, table_name=table)
    else:  # SDV 2.x: only the multi-table form is public
        metadata = Metadata.detect_from_dataframes({table: frame}, infer_keys=None)
    metadata.update_columns(column_names=columns, table_name=table, sdtype="numerical")
    metadata.update_column(LABEL_COLUMN, table_name=table, sdtype="categorical")
    torch.manual_seed(random_state)
    np.random.seed(random_state)
    synth = TVAESynthesizer(metadata, epochs=int(epochs), enable_gpu=False)
    # SDV 2.x single-table synthesizers take and return {table name: DataFrame}.
    synth.fit(frame if hasattr(Metadata, "detect_from_dataframe") else {table: frame})
    return synth, columns


def _one_table(out):
    """A DataFrame from SDV's output: SDV 2.x returns {table name: DataFrame}."""
    if isinstance(out, dict):
        (frame,) = out.values()
        return frame
    return out


def fill_classes(draw: Callable[[int], tuple[np.ndarray, np.ndarray]],
                 counts: Mapping[int, int], *, batch: int, max_batches: int = 100
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Rows with ``counts[c]`` of each class, taken from unconditional batches ``draw(n)`` ->
    (X [n, D], y [n]); a RuntimeError naming the short classes after ``max_batches``."""
    have: dict[int, list[np.ndarray]] = {int(c): [] for c in counts}
    got = {int(c): 0 for c in counts}
    for _ in range(max_batches):
        if all(got[c] >= counts[c] for c in got):
            break
        X, y = draw(batch)
        for c in got:
            need = counts[c] - got[c]
            if need > 0:
                rows = X[y == c][:need]
                have[c].append(rows)
                got[c] += len(rows)
    short = {c: (got[c], counts[c]) for c in got if got[c] < counts[c]}
    if short:
        raise RuntimeError(f"after {max_batches} batches of {batch} rows, classes short "
                           f"(got, wanted): {short}")
    order = [c for c in counts if counts[c] > 0]
    X = np.vstack([np.vstack(have[c]) for c in order])
    y = np.concatenate([np.full(counts[c], c, dtype=np.int64) for c in order])
    return X, y


def sample_tvae(synth, columns: list[str], counts: Mapping[int, int], *, random_state: int = 0
                ) -> tuple[np.ndarray, np.ndarray, str]:
    """``counts[c]`` rows of each class -> (X, y, path): path "conditions" (SDV's
    sample_from_conditions) or "fill (...)" (unconditional batches, classes filled; why
    conditional sampling was not used)."""
    import torch

    _, _, Condition, _ = require_sdv()
    counts = {int(c): int(n) for c, n in counts.items() if int(n) > 0}

    def reseed(seed: int) -> None:
        torch.manual_seed(seed)
        np.random.seed(seed)
        if hasattr(synth, "_set_random_state"):  # SDV fixes its sampling seed otherwise
            synth._set_random_state(seed)

    def split(frame) -> tuple[np.ndarray, np.ndarray]:
        frame = _one_table(frame)
        labels = frame[LABEL_COLUMN].astype(str).str.slice(1).astype(int).to_numpy()
        return frame[columns].to_numpy(dtype=np.float64), labels

    reseed(random_state)
    why = "wrong class counts"
    try:
        conditions = [Condition(num_rows=n, column_values={LABEL_COLUMN: f"c{c}"})
                      for c, n in counts.items()]
        frame = synth.sample_from_conditions(conditions)
        X, y = split(frame)
        if all(int((y == c).sum()) == n for c, n in counts.items()) and len(y) == sum(
                counts.values()):
            order = np.argsort(y, kind="stable")
            return X[order], y[order], "conditions"
    except Exception as exc:  # noqa: BLE001 - SDV raises its own errors when a class is rare
        why = f"{type(exc).__name__}: {str(exc)[:200]}"
    reseed(random_state)
    total = sum(counts.values())
    X, y = fill_classes(lambda n: split(synth.sample(num_rows=n)), counts, batch=max(total, 500))
    return X, y, f"fill (conditional sampling failed: {why})"


def tvae_feature_set(data: FeatureSet, counts: Mapping[int, int], *, random_state: int = 0,
                     epochs: int = TVAE_EPOCHS, fitted: Any = None
                     ) -> tuple[FeatureSet, Any, dict[str, Any]]:
    """Fit TVAE on ``data`` (or reuse ``fitted``, a former result's model) and draw ``counts``
    -> (synthetic FeatureSet, the fitted model to reuse, details: fit and sample seconds,
    epochs, sampling path)."""
    started = time.perf_counter()
    if fitted is None:
        fitted = fit_tvae(data, random_state=random_state, epochs=epochs)
    fit_seconds = time.perf_counter() - started
    synth, columns = fitted
    started = time.perf_counter()
    X, y, path = sample_tvae(synth, columns, counts, random_state=random_state)
    sample_seconds = time.perf_counter() - started
    rows = np.arange(data.n_samples)
    import sdv

    attrs = {"mode": "peer:tvae", "seed": int(random_state), "model": "tvae",
             "model_run": "", "peer": f"sdv {sdv.__version__} TVAESynthesizer",
             "peer_params": {"epochs": int(epochs), "enable_gpu": False},
             "sampling": path, "source": "benchmarks/peers.py (SDV TVAESynthesizer)"}
    out = fitted_feature_set(data, rows, X, y, id_prefix="tvae", attrs=attrs)
    return out, fitted, {"fit_seconds": fit_seconds, "sample_seconds": sample_seconds,
                         "tvae_epochs": int(epochs), "sampling": path}
