"""Training defaults that fit the data, derived in one place (no torch here).

A :class:`~synth_core.training.config.TrainConfig` may leave ``latent_dim``,
``hidden``, ``batch_size``, ``val_fraction`` and ``test_folds`` as None;
:func:`plan_training` fills them in from the data and fixes the row split, and
the trainer, the CLI, the Train page, tuning and augment-benchmark all use it,
so a user gets the same values everywhere and each derived value is reported
(``TrainPlan.derived`` -> CLI summary, page caption, the run's config.json).
Explicit values are kept as given and checked against the data instead.

The rules (``derive_*`` below), from the rows the model may learn from (the
dataset minus its held-out test folds):

* validation share: 0.1, or none when that would hold out fewer than
  :data:`MIN_VALIDATION_ROWS` rows (tables under ~95 rows) or some class has
  fewer than :data:`MIN_CLASS_ROWS_FOR_VALIDATION` rows: early stopping then
  watches the training loss. A validation loss over a handful of rows stops
  training too soon: on the 50-row leukemia-like stand-in of
  ``benchmarks/quality.py --augmentation`` (7,129 features) the loss over its 5
  validation rows bottomed out at epoch 5-8 on every seed, when the synthetic
  rows had a fifth to two thirds of the real difference between the class
  means, and they trained a classifier to 0.64 (VAE) and 0.68 (CVAE), seeds
  0-5 (the per-class Gaussian 0.86); on the training loss the VAE trains 50-100
  epochs, keeps 0.54-0.81 of that difference and reaches 0.80 (docs/quality.md, the
  augmentation protocol);
* batch size: the largest power of two that is at most
  :data:`MAX_BATCH` (fast per epoch, ``benchmarks/train.py``) and at most a
  quarter of the training rows (a few optimisation steps per epoch);
* latent size: a quarter of the feature count, between 2 and
  :data:`MAX_LATENT` (never above the feature count); for the CVAE also at
  most one unit per :data:`ROWS_PER_CODE_UNIT` training rows of its smallest
  class (at least 2). A CVAE's new rows are decoded from codes drawn from a
  full-covariance Gaussian mixture fitted to each class's training codes
  (``generation.priors``): 16 units from 17 rows leave that covariance (152
  numbers) unestimable, and the label already carries the class, so the code
  needs only the variation within it. On the leukemia-like stand-in (17 AML
  training rows) this gives 4 units: without validation, the class difference of
  the synthetic rows went from 0.61-0.84 of the real one to 0.89-1.03, and TSTR
  accuracy from 0.74 to 0.80 (seeds 0-2; with both rules 0.76 on seeds 0-5,
  against 0.68 before). The VAE keeps its size: its rows are interpolated
  between codes of real rows (no covariance to estimate) and its code must
  carry the class itself (4 units there: 0.83 -> 0.59);
* hidden layer: one layer of the feature count rounded up to a power of two,
  between 256 and 512 units. Not bounded by the rows: on the leukemia-like
  stand-in (seed 0, no validation, latent 4) 32 units kept 0.75 of the real
  class difference (VAE 0.46) where 512 kept 0.92 (VAE 0.52), and were still
  improving at the 100th epoch. Nor by few features: on the street-sounds
  stand-in's 37 hand-crafted features a clip (``quality.py --folds
  --fold-features summary``, seeds 0-2) the 64 units the rule gave before
  trained the CVAE's rows to 0.92x the real rows' random-forest accuracy on
  fold 10 at detection AUC 0.90, 256 units to 0.99x at 0.86 (VAE 0.88x / 0.91 ->
  0.91x / 0.87); on wine, breast cancer, digits and iris 256 units were as good
  or better on TSTR and detection but for the iris VAE's TSTR (0.89 -> 0.86,
  within one seed's spread), and digits trained faster (docs/quality.md). Two layers of
  128 were worse on the 512 log-mel numbers (CVAE 0.88x -> 0.80x);
* with the fully convolutional ``fcn`` body the code is maps of the coarse grid
  and there are no hidden layers: as many maps as keep the code at the feature
  count for the deterministic AE/DAE (the study's CNN-3L, ~31 dB on MNIST in
  four epochs), a quarter of it for the VAEs, at least one map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synth_core.errors import InputError
from synth_core.features import FeatureSet
from synth_core.models.geometry import check_image_shape, grid_cells
from synth_core.training.config import TrainConfig

MAX_BATCH = 128
MAX_LATENT = 16
ROWS_PER_CODE_UNIT = 4  # a CVAE's latent has at most smallest-class training rows // 4 units
MIN_HIDDEN, MAX_HIDDEN = 256, 512
DEFAULT_VAL_FRACTION = 0.1
MIN_VALIDATION_ROWS = 10
MIN_CLASS_ROWS_FOR_VALIDATION = 10
DEFAULT_TEST_FRACTION = 0.2
MIN_ROWS_FOR_TEST = 20
MIN_CLASS_ROWS_FOR_TEST = 5
_TEST_SPLIT_SEED = 20_261_202


# ----------------------------------------------------------------------------- rules
def derive_val_fraction(n_rows: int, min_class_rows: int) -> float:
    """0.1, or 0 when that would be fewer than MIN_VALIDATION_ROWS rows or some class is tiny."""
    if (round(DEFAULT_VAL_FRACTION * n_rows) < MIN_VALIDATION_ROWS
            or min_class_rows < MIN_CLASS_ROWS_FOR_VALIDATION):
        return 0.0
    return DEFAULT_VAL_FRACTION


def derive_test_fraction(n_rows: int, min_class_rows: int,
                         splittable_classes: int | None = None) -> float:
    """0.2 of each class held out for testing, or 0 on tiny data.

    The bar is lower than validation's: a few unseen rows per class are what makes
    Evaluate honest at all (without them it refuses, the generator having seen every
    real row), while 36 demo clips (12 a class) still keep 30 to learn from. A class of
    fewer than MIN_CLASS_ROWS_FOR_TEST rows has none to spare, and all its rows train
    (:func:`split_indices` with ``min_rows``); the table still gets test rows from the
    classes that can spare them (``splittable_classes``), so 300 rows of one class and 3
    of another no longer leave Evaluate nothing to test on (its scorecard notes the class
    its test rows lack).
    """
    if n_rows < MIN_ROWS_FOR_TEST:
        return 0.0
    if min_class_rows >= MIN_CLASS_ROWS_FOR_TEST or (splittable_classes or 0) >= 1:
        return DEFAULT_TEST_FRACTION
    return 0.0


def derive_batch_size(n_train: int) -> int:
    """Largest power of two <= min(MAX_BATCH, n_train // 4), at least 1."""
    cap = min(MAX_BATCH, max(int(n_train) // 4, 1))
    return int(2 ** int(math.floor(math.log2(cap))))


def derive_latent_dim(n_features: int, min_class_rows: int | None = None) -> int:
    """n_features // 4 clipped to [2, MAX_LATENT], and never above n_features.

    ``min_class_rows`` (given for a CVAE: the training rows of its smallest class)
    caps it further at min_class_rows // ROWS_PER_CODE_UNIT, but not below 2.
    """
    latent = max(2, min(MAX_LATENT, n_features // 4))
    if min_class_rows is not None:
        latent = min(latent, max(2, int(min_class_rows) // ROWS_PER_CODE_UNIT))
    return int(min(n_features, latent))


def derive_hidden(n_features: int) -> tuple[int, ...]:
    """One hidden layer: n_features rounded up to a power of two, in [256, 512]."""
    size = 2 ** int(math.ceil(math.log2(max(n_features, 1))))
    return (int(min(MAX_HIDDEN, max(MIN_HIDDEN, size))),)


def derive_spatial_latent(feature_shape, n_features: int, variational: bool) -> int:
    """The "fcn" body's code size: whole maps of the coarse grid (see the module docstring)."""
    cells = grid_cells(feature_shape)
    maps = n_features // cells // (4 if variational else 1)
    return int(max(1, maps) * cells)


def default_batch_size(n_train: int, batch_size: int | None) -> int:
    """The batch a study or benchmark should use: ``batch_size`` when given, else derived."""
    return int(batch_size) if batch_size is not None else derive_batch_size(n_train)


# ----------------------------------------------------------------------------- split
def test_share(labels: np.ndarray, test_fraction: float | None
               ) -> tuple[np.ndarray, np.ndarray, float, list[int]]:
    """The rows of ``labels`` held out as never-seen test rows when no test folds are in
    force: (kept positions, test positions, the fraction, classes that keep every row).

    ``test_fraction`` None derives it (:func:`derive_test_fraction`); a derived share
    leaves classes under MIN_CLASS_ROWS_FOR_TEST rows whole, an explicit one takes rows
    from every class of two or more. The split has a seed of its own, so the test rows
    are the same for every generator fitted on these rows (training, baselines) and do
    not move when the training seed changes.
    """
    labels = np.asarray(labels)
    values, counts = (np.unique(labels, return_counts=True) if len(labels)
                      else (np.zeros(1, int), np.zeros(1, int)))
    min_rows, whole = 2, []
    if test_fraction is None:
        test_fraction = derive_test_fraction(
            len(labels), int(counts.min()), int((counts >= MIN_CLASS_ROWS_FOR_TEST).sum()))
        if test_fraction:
            min_rows = MIN_CLASS_ROWS_FOR_TEST
            whole = [int(v) for v, n in zip(values, counts) if n < MIN_CLASS_ROWS_FOR_TEST]
    if not test_fraction:
        return np.arange(len(labels)), np.zeros(0, dtype=np.int64), 0.0, []
    keep, test = split_indices(labels, test_fraction, _TEST_SPLIT_SEED, min_rows=min_rows)
    return keep, test, float(test_fraction), whole


def split_indices(labels: np.ndarray, val_fraction: float, seed: int, *, min_rows: int = 2
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, val) row positions; stratified by label, every class kept in training.

    A class of fewer than ``min_rows`` rows gives none to the second part.
    """
    rng = np.random.default_rng(seed)
    train, val = [], []
    for value in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == value))
        n_val = int(round(val_fraction * len(rows)))
        if len(rows) < max(min_rows, 2):
            n_val = 0
        elif val_fraction > 0:
            n_val = min(max(n_val, 1), len(rows) - 1)
        val.append(rows[:n_val])
        train.append(rows[n_val:])
    if not train:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return (rng.permutation(np.concatenate(train)).astype(np.int64),
            np.sort(np.concatenate(val)).astype(np.int64))


def held_out_rows(data: FeatureSet, test_folds: tuple[int, ...] | None, *,
                  name: str = "dataset") -> tuple[tuple[int, ...], np.ndarray]:
    """(the test folds in force, a [N] bool mask of the rows they hold).

    ``None`` means the dataset's own ``attrs["test_folds"]`` (set at extraction
    or import), or none. Explicit folds need a dataset with folds, present ones.
    """
    explicit = test_folds is not None
    if not explicit:
        recorded = data.attrs.get("test_folds")
        test_folds = tuple(sorted({int(f) for f in recorded})) if isinstance(
            recorded, (list, tuple, np.ndarray)) and data.folds is not None else ()
    if not test_folds:
        return (), np.zeros(data.n_samples, dtype=bool)
    if data.folds is None:
        raise InputError(f"test_folds: {name} records no folds, so folds {list(test_folds)} "
                         "cannot be held out; leave --test-folds out, or import the data with "
                         "its fold column")
    present = sorted(int(f) for f in np.unique(data.folds))
    missing = [f for f in test_folds if f not in present]
    if explicit and missing:
        raise InputError(f"test_folds: {name} has no fold {', '.join(map(str, missing))}; its "
                         f"folds are {', '.join(map(str, present))}")
    mask = np.isin(data.folds, test_folds)
    if mask.all():
        raise InputError(f"test_folds: folds {list(test_folds)} hold every row of {name}, "
                         "leaving nothing to train on; hold out fewer folds")
    return tuple(test_folds), mask


# ----------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class TrainPlan:
    """A config with every value filled in, the derived values, and the row split."""

    config: TrainConfig                 # nothing left None
    derived: dict[str, Any]             # option -> value for the options derived from the data
    train_index: np.ndarray             # [n_train] row positions (shuffled)
    val_index: np.ndarray               # [n_val] sorted
    held_out_index: np.ndarray          # [n_held] sorted: rows of the test folds, never seen
    notes: dict[str, str] = field(default_factory=dict)  # option -> why this value

    @property
    def test_folds(self) -> tuple[int, ...]:
        return tuple(self.config.test_folds or ())

    @property
    def seen_index(self) -> np.ndarray:
        """Sorted rows the model learns from or is validated on (train + val)."""
        return np.sort(np.concatenate([self.train_index, self.val_index]))

    def caption(self) -> str:
        """One line naming each derived value and why, for the page and logs."""
        if not self.derived:
            return "All settings as given (nothing derived from the data)."
        parts = [f"{name} {_show(value)} ({self.notes.get(name, 'derived')})"
                 for name, value in self.derived.items()]
        return "Derived from the data: " + "; ".join(parts) + "."


def _show(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value)) if value else "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def plan_training(data: FeatureSet, config: TrainConfig, *, name: str = "dataset") -> TrainPlan:
    """Fill in the derived options of ``config`` for ``data`` and split its rows.

    Raises :class:`InputError` when explicit values cannot fit the data (a
    batch larger than the training rows, a latent larger than the features).
    """
    derived: dict[str, Any] = {}
    notes: dict[str, str] = {}
    test_folds, held = held_out_rows(data, config.test_folds, name=name)
    if config.test_folds is None:
        derived["test_folds"] = list(test_folds)
        notes["test_folds"] = ("the dataset's own test folds" if test_folds
                               else "the dataset records no test folds")
    pool = np.flatnonzero(~held)                                  # [n_pool] rows to learn from
    labels = data.labels[pool]
    values, counts = (np.unique(labels, return_counts=True) if len(pool)
                      else (np.zeros(1, int), np.zeros(1, int)))
    min_class_rows = int(counts.min())

    # Without test folds, a stratified share of the rows is held out so that the generator
    # never sees the real rows Evaluate tests on (split.json records them as held_out_index).
    test_fraction = config.test_fraction
    if test_folds:
        if test_fraction is None:
            test_fraction = 0.0
            derived["test_fraction"] = test_fraction
            notes["test_fraction"] = "the test folds are the held-out rows"
        elif test_fraction > 0:
            raise InputError(f"test_fraction: {name} already holds out test folds "
                             f"{list(test_folds)}; give either test folds or a test fraction, "
                             "not both (use --test-folds none with --test-fraction)")
    if not test_folds:
        derive = test_fraction is None
        keep_pos, test_pos, test_fraction, whole = test_share(labels, test_fraction)
        if derive:
            derived["test_fraction"] = test_fraction
            if test_fraction:  # smaller classes train on all their rows
                notes["test_fraction"] = (
                    f"{int(round(100 * test_fraction))}% of each class never seen, for Evaluate"
                    + (f"; class(es) {whole} have under {MIN_CLASS_ROWS_FOR_TEST} rows and "
                       "train on all of them" if whole else ""))
            else:
                notes["test_fraction"] = (f"{len(pool)} rows, {min_class_rows} in the smallest "
                                          "class: too few to hold out test rows")
    if test_fraction:
        held = held.copy()
        held[pool[test_pos]] = True
        pool = pool[keep_pos]
        labels = data.labels[pool]
        counts = np.unique(labels, return_counts=True)[1]
        min_class_rows = int(counts.min())

    val_fraction = config.val_fraction
    if val_fraction is None:
        val_fraction = derive_val_fraction(len(pool), min_class_rows)
        derived["val_fraction"] = val_fraction
        n_val = round(DEFAULT_VAL_FRACTION * len(pool))
        notes["val_fraction"] = (
            "10% of each class" if val_fraction else
            (f"10% of {len(pool)} rows would be {n_val} validation rows, too few to stop on"
             if n_val < MIN_VALIDATION_ROWS else
             f"{min_class_rows} rows in the smallest class, too few to hold out")
            + "; early stopping watches the training loss")
    train_pos, val_pos = split_indices(labels, val_fraction, config.seed)
    train_index, val_index = pool[train_pos], pool[val_pos]

    batch_size = config.batch_size
    if batch_size is None:
        batch_size = derive_batch_size(len(train_index))
        derived["batch_size"] = batch_size
        notes["batch_size"] = (f"{len(train_index)} training rows" if batch_size < MAX_BATCH
                               else "fast per epoch")
    elif len(train_index) < batch_size:
        raise InputError(
            f"batch_size: {name} leaves {len(train_index)} training rows after the "
            f"{val_fraction:.0%} validation split"
            f"{' and the held-out test folds' if test_folds else ''}, fewer than one batch of "
            f"{batch_size}; use a batch size of at most {max(len(train_index), 1)}, or leave "
            f"--batch-size out to fit it (it would be {derive_batch_size(len(train_index))})")

    latent_dim = config.latent_dim
    spatial = config.body == "fcn"
    if spatial:
        check_image_shape(config.body, data.attrs.get("feature_shape"), data.n_features)
    # A CVAE draws its codes from a Gaussian fitted to each class's codes: bounded by rows.
    class_rows = (int(np.unique(data.labels[train_index], return_counts=True)[1].min())
                  if config.model == "cvae" and len(train_index) else None)
    if latent_dim is None:
        latent_dim = (derive_spatial_latent(data.attrs.get("feature_shape"), data.n_features,
                                            config.model in ("vae", "cvae")) if spatial
                      else derive_latent_dim(data.n_features, class_rows))
        derived["latent_dim"] = latent_dim
        bounded = class_rows is not None and latent_dim < derive_latent_dim(data.n_features)
        notes["latent_dim"] = (
            f"whole maps of the fcn body's grid, {data.n_features} features" if spatial
            else f"{class_rows} training rows in the smallest class, at least "
                 f"{ROWS_PER_CODE_UNIT} a unit of the class code mixture" if bounded
            else f"{data.n_features} features")
    elif latent_dim > data.n_features:
        raise InputError(
            f"latent_dim: {latent_dim} is above the number of features ({data.n_features}) of "
            f"{name}; pick a latent size of at most {data.n_features} (smaller is the point of "
            f"an autoencoder), or leave it out to derive it (it would be "
            f"{derive_latent_dim(data.n_features, class_rows)}; a preset such as thesis-vae "
            f"sets its own, which --latent-dim overrides)")

    hidden = config.hidden
    if hidden is None:
        hidden = () if spatial else derive_hidden(data.n_features)
        derived["hidden"] = list(hidden)
        notes["hidden"] = ("the fcn body has no dense layers" if spatial
                           else f"{data.n_features} features")

    full = config.replace(latent_dim=latent_dim, hidden=hidden, batch_size=batch_size,
                          val_fraction=float(val_fraction), test_folds=test_folds,
                          test_fraction=float(test_fraction))
    return TrainPlan(config=full, derived=derived, train_index=train_index,
                     val_index=np.sort(val_index), held_out_index=np.flatnonzero(held),
                     notes=notes)


def study_defaults(data: FeatureSet, config: TrainConfig, *, batch_searched: bool = False,
                   max_rows: int | None = None) -> dict[str, Any]:
    """Values an Optuna study fixes before its trials, for the options ``config`` leaves None.

    A study compares validation losses, so its validation share is never 0 (0.1
    when derived); its batch size is derived from the training rows a trial
    sees (``max_rows`` subsamples are split as unlabelled rows, as the study
    does), unless the study searches it. Returns option -> value (empty when
    nothing is left to derive); latent and hidden sizes are searched by the study.
    """
    filled: dict[str, Any] = {}
    val_fraction = config.val_fraction
    if val_fraction is None:
        val_fraction = filled["val_fraction"] = DEFAULT_VAL_FRACTION
    if config.batch_size is None and not batch_searched:
        _, held = held_out_rows(data, config.test_folds)
        n = int((~held).sum()) if max_rows is None else min(int((~held).sum()), max_rows)
        labels = data.labels[~held] if n == int((~held).sum()) else np.full(n, -1)
        n_train = len(split_indices(labels, val_fraction, config.seed)[0])
        filled["batch_size"] = derive_batch_size(n_train)
    return filled
