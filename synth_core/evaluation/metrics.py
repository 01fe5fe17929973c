"""Metrics on arrays: fidelity, diversity, detection, copying, images, per-feature agreement.

Each metric is a small pure function on arrays or :class:`FeatureSet` s that
returns a small dataclass (compute-then-draw: the scorecard, the page and the
CLI only render these records):

* :func:`prdc` – precision, recall, density and coverage with k nearest
  neighbours (Naeem et al. 2020, "Reliable fidelity and diversity metrics").
* :func:`frechet_distance` – Frechet distance between Gaussians fitted to the
  real and synthetic rows; :func:`frechet_distance_frames` does it per VGGish
  frame (rows reshaped to ``feature_shape`` [frames, 128]) as in the Frechet
  Audio Distance.
* :func:`classifier_two_sample_test` – cross-validated AUC of a classifier told
  to separate real from synthetic rows; 0.5 means indistinguishable. Data with
  too few distinct rows to cross-validate raises :class:`NotComputable`, which
  the scorecard reports as "n/a" with the reason instead of refusing.
* :func:`copy_check` – distance from each synthetic row to its nearest real
  training row against the real-to-real nearest-neighbour distances; rows
  closer than nearly all real pairs are flagged as near-copies.
* :func:`psnr` – peak signal-to-noise ratio of reconstructions (images).
* :func:`feature_agreement` – per feature, the synthetic spread over the real
  spread and the Wasserstein distance between the marginals (standardised by
  the real column), with the worst features by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from synth_core.errors import InputError
from synth_core.evaluation.classifiers import make_detector
from synth_core.features import FeatureSet
from synth_core.gaussians import centred_factor, trace_sqrt_product

# Rows nearer their closest real training row than this share of the training rows' own
# nearest-neighbour distance are called near-copies, by the scorecard's first lines and by
# training's check of the rows it would generate: SMOTE-style interpolation lands at
# 0.24-0.6, real held-out rows at about 1 and above (docs/quality.md).
COPY_RATIO_WARNING = 0.7


@dataclass(frozen=True)
class PRDC:
    """Precision, recall, density and coverage (Naeem et al. 2020)."""

    precision: float
    recall: float
    density: float
    coverage: float
    k: int
    n_real: int
    n_fake: int


class NotComputable(InputError):
    """A metric the data cannot support (e.g. too few distinct rows to cross-validate).

    Called directly, the metric refuses like any bad input; the scorecard catches
    it, shows the metric as "n/a" and puts the message in its notes.
    """


@dataclass(frozen=True)
class Detection:
    """Classifier two-sample test: pooled out-of-fold AUC and the per-fold AUCs."""

    auc: float
    fold_aucs: list[float]
    detector: str
    n_real: int
    n_fake: int
    # Distinct rows among the n compared on each side: identical rows share a fold, so
    # there can be no more folds than the fewer of the two.
    n_distinct_real: int = 0
    n_distinct_fake: int = 0

    @property
    def n_folds(self) -> int:
        """Folds actually used: fewer than asked when the rows hold few distinct values."""
        return len(self.fold_aucs)


@dataclass
class CopyCheck:
    """Nearest-training-row distances of a set against real-to-real distances.

    Real-to-real distances skip identical rows: a training row's distance is to its
    nearest *different* training row, so tables that repeat rows (a zoo's animals, a
    survey's answers) still have a scale. What the training rows themselves read when
    their repeats count (``real_self_ratio``, ``real_self_fraction_flagged``) is the
    yardstick where no held-out real rows are at hand: 1 and about ``quantile`` without
    repeated rows, lower and higher when the data repeat rows.
    """

    median_distance: float        # synthetic row -> nearest training row
    real_median_distance: float   # training row -> nearest different training row
    threshold: float              # flag rows at or below this distance
    quantile: float               # threshold = this quantile of the real-to-real distances
    n_flagged: int
    fraction_flagged: float
    flagged_rows: list[int]       # first rows flagged (row numbers in the set)
    nearest_train_rows: list[int]  # their nearest training rows
    real_repeats: float = 0.0     # share of training rows identical to another training row
    real_self_ratio: float = 1.0  # training rows' own distance_ratio, repeats counted
    real_self_fraction_flagged: float = 0.0  # ... and their own fraction_flagged

    @property
    def distance_ratio(self) -> float:
        """NaN where the training rows are all one row (no real-to-real distance)."""
        if not self.real_median_distance > 0:
            return float("nan")
        return self.median_distance / self.real_median_distance


def _real_yardstick(check: CopyCheck, reference: CopyCheck | None
                    ) -> tuple[float, float, str]:
    """What real rows read on the copy check: (distance ratio, share at copy distance,
    whose); the real held-out rows (``reference``) where there are any, else the training
    rows themselves with their repeats counted."""
    if reference is not None:
        return reference.distance_ratio, reference.fraction_flagged, "real held-out rows"
    return (check.real_self_ratio, check.real_self_fraction_flagged,
            "the training rows themselves")


def _closer_than_real(check: CopyCheck, reference: CopyCheck | None) -> bool:
    """The median reading: a distance ratio below COPY_RATIO_WARNING of the real one (capped
    at 1, the ratio new rows reach)."""
    return bool(check.distance_ratio
                < COPY_RATIO_WARNING * min(1.0, _real_yardstick(check, reference)[0]))


def near_copies(check: CopyCheck, reference: CopyCheck | None = None) -> bool:
    """Do a set's rows copy training rows more than real rows do?

    Two readings, each against what real rows show (:func:`_real_yardstick`): the median
    distance ratio (:func:`_closer_than_real`), or the share of rows that are not at copy
    distance below :data:`COPY_RATIO_WARNING` of the real share. On data without repeated
    rows the first is the plain "below 0.7x"; on data that repeats rows, where real rows
    themselves sit at 0 from a training row, the second still tells a generator that
    copies more often.
    """
    if not np.isfinite(check.distance_ratio):
        return False
    real_flagged = _real_yardstick(check, reference)[1]
    return (_closer_than_real(check, reference)
            or 1.0 - check.fraction_flagged < COPY_RATIO_WARNING * (1.0 - real_flagged))


def copy_figures(check: CopyCheck, reference: CopyCheck | None = None, *,
                 rows: str = "its rows") -> str:
    """The copy check's figures for a warning, beside what real rows read (``reference``:
    real held-out rows; without it, the training rows themselves). Where the training rows
    repeat so often that the median ratio cannot tell (:func:`near_copies` judged by the
    share), the share of rows at copy distance is the figure given."""
    if check.real_repeats > 0 and not _closer_than_real(check, reference):
        # Real rows sit at 0 from a training row as often as not: the share tells.
        _, real_share, whose = _real_yardstick(check, reference)
        return (f"{rows} repeat training rows more often than real rows do: "
                f"{check.fraction_flagged:.0%} sit at copy distance from a training row "
                f"(closer than 99 % of pairs of different training rows) against "
                f"{real_share:.0%} of {whose}, as the data repeat rows "
                f"({check.real_repeats:.0%} of the training rows repeat another)")
    real = (f" (real held-out rows: {reference.distance_ratio:.2f}x, "
            f"{reference.fraction_flagged:.0%})" if reference is not None else
            f" (the training rows themselves, {check.real_repeats:.0%} of which repeat another: "
            f"{check.real_self_ratio:.2f}x, {check.real_self_fraction_flagged:.0%})"
            if check.real_repeats > 0 else "")
    return (f"{rows} sit {check.distance_ratio:.2f}x as far from their nearest training row as "
            f"training rows are from their nearest other one, and "
            f"{check.fraction_flagged:.0%} are closer than 99 % of those pairs{real}")


def copy_fixes(made: str = "", prior: str = "", *, latent_dim: int | None = None) -> list[str]:
    """What to change when a model's rows are near-copies, from how they were made: ``made``
    "interpolate" (on lines between two training codes of a class) or "class" (codes drawn
    per class from ``prior``: "mixture", "posterior", ...); "" where that is unknown. Fewer
    epochs come first and more rows last: a model learns its rows on few rows a class or
    over many epochs. Training's check and the scorecard's first lines both say these."""
    fixes = ["fewer epochs (--epochs)"]
    if made == "interpolate":
        fixes.append("rows by class from the codes' mixture rather than between two rows "
                     "(generate --per-class, By class on the Generate page)")
    elif prior == "mixture":  # the codes already come from the mixture
        if latent_dim is None or latent_dim > 2:
            fixes.append("a smaller latent size (--latent-dim)")
    elif prior:
        fixes.append(f"codes from the mixture (generate --prior-kind mixture; these came from "
                     f"the {prior})")
    else:
        fixes += ["a smaller latent size (--latent-dim)",
                  "codes from the mixture (generate --prior-kind mixture)"]
    return fixes + ["more rows"]


@dataclass(frozen=True)
class PSNRResult:
    mean_db: float
    median_db: float
    data_range: float
    n_rows: int


# --------------------------------------------------------------------------- k-NN metrics

def _as_rows(X: np.ndarray | FeatureSet, name: str) -> np.ndarray:
    if isinstance(X, FeatureSet):
        X = X.features
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError(f"{name}: expected a 2-D matrix [rows, features]; got shape {X.shape}")
    if not np.isfinite(X).all():
        raise InputError(f"{name}: contains NaN or infinite values; remove those rows first")
    return X


def _subsample(X: np.ndarray, n: int, random_state: int) -> np.ndarray:
    if len(X) <= n:
        return X
    rng = np.random.default_rng(random_state)
    return X[np.sort(rng.choice(len(X), size=n, replace=False))]


def _kth_neighbour_distance(X: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Distance from each row to its k-th nearest other row: [N].

    Computed with the same ``pairwise_distances`` as the real-to-synthetic
    distances in :func:`prdc`, so that a row's own neighbours compare equal to
    its radius (two different distance routines differ in the last bits).
    """
    from sklearn.metrics import pairwise_distances

    out = np.empty(len(X))
    for start in range(0, len(X), chunk):
        d = pairwise_distances(X[start:start + chunk], X)  # [c, N], the row itself included
        out[start:start + chunk] = np.partition(d, k, axis=1)[:, k]
    return out


def prdc(real: np.ndarray | FeatureSet, fake: np.ndarray | FeatureSet, *, k: int = 5,
         real_name: str = "real", fake_name: str = "synthetic", chunk: int = 2048) -> PRDC:
    """Precision, recall, density and coverage of ``fake`` against ``real``.

    Naeem et al. (2020): each real row gets a ball reaching its k-th nearest
    real neighbour (likewise for synthetic rows). Precision = share of
    synthetic rows inside some real ball; recall = share of real rows inside
    some synthetic ball; density = mean number of real balls holding a
    synthetic row, over k; coverage = share of real balls holding a synthetic
    row. The scores depend on the row counts: compare sets of equal size.
    """
    real = _as_rows(real, real_name)
    fake = _as_rows(fake, fake_name)
    _check_width(real, fake, real_name, fake_name)
    for X, name in ((fake, fake_name), (real, real_name)):
        if len(X) <= k:
            raise InputError(f"{name}: has {len(X)} rows; k-nearest-neighbour metrics with "
                             f"k={k} need at least {k + 1}; add rows or lower k")
    return _prdc(real, fake, k=k, real_radii=_kth_neighbour_distance(real, k), chunk=chunk)


def _prdc(real: np.ndarray, fake: np.ndarray, *, k: int, real_radii: np.ndarray,
          chunk: int = 2048) -> PRDC:
    """:func:`prdc` on checked float rows, with the real balls' radii [N] given (reusable)."""
    from sklearn.metrics import pairwise_distances

    fake_radii = _kth_neighbour_distance(fake, k)  # [M]
    balls_per_fake = np.zeros(len(fake), dtype=np.int64)
    covered = np.zeros(len(real), dtype=bool)
    recalled = np.zeros(len(real), dtype=bool)
    for start in range(0, len(real), chunk):
        stop = min(start + chunk, len(real))
        d = pairwise_distances(real[start:stop], fake)  # [c, M]
        inside_real = d < real_radii[start:stop, None]
        balls_per_fake += inside_real.sum(axis=0)
        covered[start:stop] = inside_real.any(axis=1)
        recalled[start:stop] = (d < fake_radii[None, :]).any(axis=1)
    return PRDC(precision=float(np.mean(balls_per_fake > 0)), recall=float(recalled.mean()),
                density=float(balls_per_fake.sum() / (k * len(fake))),
                coverage=float(covered.mean()), k=k, n_real=len(real), n_fake=len(fake))


class _RealBalls:
    """Real rows' k-NN radii, computed once per (rows, count) and reused for every set.

    The scorecard compares each set with a seeded subsample of the real rows of
    the same size; sets of equal size (or classes of equal count) meet the same
    subsample, so its N x N distances need computing only once.
    """

    def __init__(self, k: int, random_state: int) -> None:
        self.k = k
        self.random_state = random_state
        self._radii: dict[tuple[Any, int], np.ndarray] = {}

    def prdc(self, key: Any, real: np.ndarray, fake: np.ndarray, n: int) -> PRDC:
        """PRDC of ``n`` rows of ``fake`` against ``n`` rows of ``real`` (``key`` names real)."""
        real = _subsample(real, n, self.random_state)
        if (key, n) not in self._radii:
            self._radii[key, n] = _kth_neighbour_distance(real, self.k)  # [n]
        return _prdc(real, _subsample(fake, n, self.random_state + 1), k=self.k,
                     real_radii=self._radii[key, n])


# --------------------------------------------------------------------------- Frechet

@dataclass(frozen=True)
class _Gaussian:
    mean: np.ndarray    # [D]
    factor: np.ndarray  # [D, r], cov = factor @ factor.T (r <= rows - 1 on wide tables)
    trace: float        # Tr(cov)


def _gaussian(X: np.ndarray, name: str) -> _Gaussian:
    if len(X) < 2:
        raise InputError(f"{name}: has {len(X)} row(s); the Frechet distance needs at least 2 "
                         "to estimate a covariance; add rows")
    X = np.asarray(X, dtype=np.float64)
    factor = centred_factor(X)
    return _Gaussian(X.mean(axis=0), factor, float(np.sum(factor ** 2)))


def _frechet(a: _Gaussian, b: _Gaussian) -> float:
    value = float(np.sum((a.mean - b.mean) ** 2) + a.trace + b.trace
                  - 2.0 * trace_sqrt_product(a.factor, b.factor))
    return max(value, 0.0)


def frechet_distance(real: np.ndarray | FeatureSet, fake: np.ndarray | FeatureSet, *,
                     real_name: str = "real", fake_name: str = "synthetic") -> float:
    """Frechet distance ||mu_r - mu_f||^2 + Tr(C_r + C_f - 2 (C_r C_f)^1/2) on the rows."""
    real = _as_rows(real, real_name)
    fake = _as_rows(fake, fake_name)
    _check_width(real, fake, real_name, fake_name)
    return _frechet(_gaussian(real, real_name), _gaussian(fake, fake_name))


def frame_rows(X: np.ndarray, feature_shape: Sequence[int], name: str = "features", *,
               frames_last: bool = False) -> np.ndarray:
    """Rows [N, F*C] reshaped to one row per frame: [N*F, C] (feature_shape = [F, C]).

    ``frames_last``: the rows are [C, F] instead, as a spectrogram's [mels, frames]
    (feature_shape [C, F]); each frame (column) becomes a row of its C mel values.
    """
    shape = [int(s) for s in feature_shape]
    if frames_last and len(shape) == 2 and shape[0] * shape[1] == X.shape[1]:
        n_values, n_frames = shape
        return (X.reshape(X.shape[0], n_values, n_frames).transpose(0, 2, 1)
                .reshape(X.shape[0] * n_frames, n_values))          # [N, C, F] -> [N*F, C]
    if len(shape) != 2 or shape[0] * shape[1] != X.shape[1]:
        raise InputError(f"{name}: feature_shape {shape} does not split {X.shape[1]} features "
                         "into [frames, values per frame]; per-frame Frechet needs e.g. [4, 128] "
                         "for 512 VGGish features, or turn the per-frame option off")
    return X.reshape(X.shape[0] * shape[0], shape[1])  # [N, F*C] -> [N*F, C]


def frechet_distance_frames(real: np.ndarray | FeatureSet, fake: np.ndarray | FeatureSet,
                            feature_shape: Sequence[int], *, real_name: str = "real",
                            fake_name: str = "synthetic") -> float:
    """Frechet distance between single frames (Frechet Audio Distance style)."""
    real = _as_rows(real, real_name)
    fake = _as_rows(fake, fake_name)
    _check_width(real, fake, real_name, fake_name)
    return _frechet(_gaussian(frame_rows(real, feature_shape, real_name), real_name),
                    _gaussian(frame_rows(fake, feature_shape, fake_name), fake_name))


# --------------------------------------------------------------------------- detection

def classifier_two_sample_test(real: np.ndarray | FeatureSet, fake: np.ndarray | FeatureSet, *,
                               detector: str = "quadratic", n_folds: int = 5,
                               max_rows: int = 1000,
                               n_components: int = 64, random_state: int = 0,
                               real_name: str = "real", fake_name: str = "synthetic"
                               ) -> Detection:
    """Cross-validated AUC of ``detector`` separating real (0) from synthetic (1) rows.

    Both sides are subsampled to the same count (at most ``max_rows``) so that
    neither dominates; 0.5 means the classifier cannot tell them apart. Rows
    are standardised and reduced to ``n_components`` principal components
    inside each fold (speed; the leading components carry the differences a
    generator typically leaves, such as shrunken variance).
    """
    from sklearn.metrics import roc_auc_score

    real = _as_rows(real, real_name)
    fake = _as_rows(fake, fake_name)
    _check_width(real, fake, real_name, fake_name)
    n = min(len(real), len(fake), max_rows)
    needed = 2 * n_folds
    for X, name in ((real, real_name), (fake, fake_name)):
        if len(X) < needed:
            raise InputError(f"{name}: has {len(X)} rows; the real-vs-synthetic test with "
                             f"{n_folds}-fold cross-validation needs at least {needed}; add rows "
                             "or use fewer folds")
    X = np.vstack([_subsample(real, n, random_state), _subsample(fake, n, random_state + 1)])
    y = np.repeat([0, 1], n)
    # Identical rows (a synthetic row that copies a real one) share a fold: split apart, the
    # detector would learn "this point is real" from one copy and call the other real too,
    # pushing the AUC below 0.5. Copies are the copy check's business.
    groups = row_groups(X)
    splits = _group_splits(X, y, groups, n_folds, random_state=random_state,
                           real_name=real_name, fake_name=fake_name)
    scores = np.zeros(len(y))
    fold_aucs = []
    reduce_to = min(n_components, X.shape[1], int(len(y) * (1 - 1 / len(splits))) - 1)
    reduce_to = reduce_to if reduce_to < X.shape[1] else None
    for train_idx, test_idx in splits:
        model = make_detector(detector, n_components=reduce_to, random_state=random_state,
                              wide=len(train_idx) < X.shape[1])
        model.fit(X[train_idx], y[train_idx])
        scores[test_idx] = model.predict_proba(X[test_idx])[:, 1]
        fold_aucs.append(float(roc_auc_score(y[test_idx], scores[test_idx])))
    return Detection(auc=float(roc_auc_score(y, scores)), fold_aucs=fold_aucs,
                     detector=detector, n_real=n, n_fake=n,
                     n_distinct_real=len(np.unique(groups[y == 0])),
                     n_distinct_fake=len(np.unique(groups[y == 1])))


def row_groups(X: np.ndarray) -> np.ndarray:
    """One group number per row [N]; identical rows share one (0..distinct rows - 1)."""
    X = np.ascontiguousarray(X)
    _, groups = np.unique(X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))),
                          return_inverse=True)
    return groups.reshape(-1)


def _group_splits(X: np.ndarray, y: np.ndarray, groups: np.ndarray, n_folds: int, *,
                  random_state: int, real_name: str, fake_name: str
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds that keep identical rows together, ``n_folds`` or fewer.

    Each side (real 0, synthetic 1) must reach every training part and every test
    part, so there can be no more folds than either side has distinct rows (data
    with two binary features has at most 4). Fewer folds are tried until both
    sides land everywhere; below 2 the test cannot be made: :class:`NotComputable`.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    distinct = [len(np.unique(groups[y == side])) for side in (0, 1)]
    for k in range(min(n_folds, *distinct), 1, -1):
        folds = StratifiedGroupKFold(k, shuffle=True, random_state=random_state)
        splits = list(folds.split(X, y, groups))
        if all(len(np.unique(y[part])) == 2 for split in splits for part in split):
            return splits
    raise NotComputable(
        f"{fake_name} against {real_name}: the {len(y) // 2} rows compared on each side hold "
        f"only {distinct[0]} distinct real and {distinct[1]} distinct synthetic row(s) "
        "(repeated rows); the real-vs-synthetic test keeps identical rows in one fold, so it "
        "cannot make even 2 folds with rows of both sides in each, and its AUC is not "
        "computed; use data whose rows are not repeats of a few to get it")


# --------------------------------------------------------------------------- copying

class _TrainNeighbours:
    """Nearest training rows, fitted once and queried for every set.

    The index holds each distinct training row once; real-to-real distances are from a
    training row to its nearest different one (see :class:`CopyCheck`).
    """

    def __init__(self, train: np.ndarray, *, quantile: float, max_reference_rows: int,
                 random_state: int) -> None:
        from sklearn.neighbors import NearestNeighbors

        if len(train) < 2:
            raise InputError(f"real training set: has {len(train)} row(s); the copy check needs "
                             "at least 2 to measure real-to-real distances")
        groups = row_groups(train)
        first = np.unique(groups, return_index=True)[1]      # one row per distinct row
        counts = np.bincount(groups)
        self.distinct = first                                 # row number of each group
        self.index = NearestNeighbors(n_neighbors=min(2, len(first)),
                                      algorithm="brute").fit(train[first])
        rng = np.random.default_rng(random_state)
        query = (rng.choice(len(train), size=max_reference_rows, replace=False)
                 if len(train) > max_reference_rows else np.arange(len(train)))
        asked, back = np.unique(groups[query], return_inverse=True)
        if len(first) > 1:
            distances, _ = self.index.kneighbors(train[first[asked]], n_neighbors=2)
            self.real_distances = distances[:, 1][back]      # nearest different training row
        else:  # every row the same: no real-to-real scale, only exact copies are flagged
            self.real_distances = np.zeros(len(query))
        repeated = counts[groups[query]] > 1
        self.quantile = quantile
        self.threshold = float(np.quantile(self.real_distances, quantile))
        scale = float(np.median(self.real_distances))
        own = np.where(repeated, 0.0, self.real_distances)   # nearest other row, repeats counted
        self.real_repeats = float(repeated.mean())
        self.real_self_ratio = float(np.median(own)) / scale if scale > 0 else float("nan")
        self.real_self_flagged = float(np.mean(own <= self.threshold))

    def check(self, X: np.ndarray, *, max_listed: int = 100) -> CopyCheck:
        distances, nearest = self.index.kneighbors(X, n_neighbors=1)
        distances, nearest = distances[:, 0], self.distinct[nearest[:, 0]]
        flagged = np.flatnonzero(distances <= self.threshold)
        return CopyCheck(
            median_distance=float(np.median(distances)),
            real_median_distance=float(np.median(self.real_distances)),
            threshold=self.threshold, quantile=self.quantile, n_flagged=int(len(flagged)),
            fraction_flagged=float(len(flagged) / max(len(X), 1)),
            flagged_rows=flagged[:max_listed].tolist(),
            nearest_train_rows=nearest[flagged[:max_listed]].tolist(),
            real_repeats=self.real_repeats, real_self_ratio=self.real_self_ratio,
            real_self_fraction_flagged=self.real_self_flagged)


def copy_check(train: np.ndarray | FeatureSet, synthetic: np.ndarray | FeatureSet, *,
               quantile: float = 0.01, max_reference_rows: int = 2000,
               random_state: int = 0) -> CopyCheck:
    """Flag synthetic rows closer to a training row than ``quantile`` of real-to-real pairs.

    The real-to-real distances are from training rows to their nearest different
    training row (at most ``max_reference_rows`` of them, seeded); identical
    training rows are skipped, so tables that repeat rows keep a scale. A generator
    that makes new rows is flagged about as often as ``quantile``; one that
    copies its training rows is flagged far more often.
    """
    train = _as_rows(train, "real training set")
    synthetic = _as_rows(synthetic, "synthetic set")
    _check_width(train, synthetic, "real training set", "synthetic set")
    return _TrainNeighbours(train, quantile=quantile, max_reference_rows=max_reference_rows,
                            random_state=random_state).check(synthetic)


# --------------------------------------------------------------------------- images

def psnr(original: np.ndarray, reconstructed: np.ndarray, *,
         data_range: float | None = None) -> PSNRResult:
    """Per-row PSNR = 10 log10(range^2 / MSE), averaged; range defaults to the data's span."""
    original = _as_rows(original, "original")
    reconstructed = _as_rows(reconstructed, "reconstruction")
    if original.shape != reconstructed.shape:
        raise InputError(f"reconstruction has shape {reconstructed.shape} but the original has "
                         f"{original.shape}; reconstruct every row of the same data")
    span = float(data_range if data_range is not None else original.max() - original.min())
    if span <= 0:
        raise InputError(f"data_range must be positive; got {span}; pass the pixel range "
                         "(1.0 for images in [0, 1])")
    mse = np.maximum(np.mean((original - reconstructed) ** 2, axis=1), 1e-10)  # [N]
    per_row = 10.0 * np.log10(span ** 2 / mse)
    return PSNRResult(mean_db=float(per_row.mean()), median_db=float(np.median(per_row)),
                      data_range=span, n_rows=len(per_row))



def _check_width(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise InputError(f"{b_name}: has {b.shape[1]} features per row but {a_name} has "
                         f"{a.shape[1]}; compare sets made from the same features (same "
                         "extractor and frames)")



# --------------------------------------------------------------------------- per feature

@dataclass
class FeatureAgreement:
    """Per-feature spread and shape of a set against the real training rows.

    ``std_ratio[j]`` is the set's standard deviation of feature j over the real
    one (1 is right, well below 1 is the collapse a VAE decoding only its mean
    shows); with labels on both sides it is the pooled within-class standard
    deviation (``within_class``), since rows collapsed onto their class means
    keep the spread between classes; ``distance[j]`` is the Wasserstein-1 distance between the two
    marginals of feature j after dividing both by the real standard deviation
    (0 is identical; 1 is as far as shifting the whole column by one real
    standard deviation).
    """

    names: list[str]
    std_ratio: list[float]
    distance: list[float]
    median_std_ratio: float
    share_spread_within: float  # features with std_ratio in [1/SPREAD_BAND, SPREAD_BAND]
    mean_distance: float
    max_distance: float
    worst_spread: list[dict[str, Any]]  # [{"feature", "std_ratio"}], furthest from 1 first
    worst_shape: list[dict[str, Any]]   # [{"feature", "distance"}], largest first
    within_class: bool = False


SPREAD_BAND = 1.5  # a feature's spread "agrees" within a factor of 1.5 either way


def feature_names(data: FeatureSet) -> list[str]:
    """Column names: attrs["feature_names"] (a list, or its JSON) when it fits, else f0, f1, ..."""
    names: Any = data.attrs.get("feature_names")
    if isinstance(names, str):
        try:
            names = json.loads(names)
        except json.JSONDecodeError:
            names = None
    if isinstance(names, (list, tuple)) and len(names) == data.n_features:
        return [str(n) for n in names]
    return [f"f{i}" for i in range(data.n_features)]


def _spread(X: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """Per-feature standard deviation [D]; pooled within classes when ``labels`` are given."""
    if labels is None:
        return X.std(axis=0, ddof=1)
    classes, index, counts = np.unique(labels, return_inverse=True, return_counts=True)
    means = np.zeros((len(classes), X.shape[1]))
    np.add.at(means, index, X)
    means /= counts[:, None]                              # [K, D] class means
    dof = max(len(X) - len(classes), 1)
    return np.sqrt(((X - means[index]) ** 2).sum(axis=0) / dof)


def feature_agreement(real: np.ndarray | FeatureSet, fake: np.ndarray | FeatureSet, *,
                      names: Sequence[str] | None = None, n_worst: int = 5,
                      real_labels: np.ndarray | None = None,
                      fake_labels: np.ndarray | None = None,
                      real_name: str = "real", fake_name: str = "synthetic"
                      ) -> FeatureAgreement:
    """Spread ratio and standardised marginal distance for every feature of ``fake``.

    With ``real_labels`` and ``fake_labels`` (or labelled FeatureSets) the spread
    is measured within classes; the marginal distance is always on all rows.
    """
    if names is None and isinstance(real, FeatureSet):
        names = feature_names(real)
    for data, which in ((real, "real"), (fake, "fake")):
        if isinstance(data, FeatureSet) and data.is_labeled:
            if which == "real" and real_labels is None:
                real_labels = data.labels
            if which == "fake" and fake_labels is None:
                fake_labels = data.labels
    within = real_labels is not None and fake_labels is not None
    real = _as_rows(real, real_name)
    fake = _as_rows(fake, fake_name)
    _check_width(real, fake, real_name, fake_name)
    for X, name in ((real, real_name), (fake, fake_name)):
        if len(X) < 2:
            raise InputError(f"{name}: has {len(X)} row(s); a spread needs at least 2; add rows")
    names = list(names) if names is not None else [f"f{i}" for i in range(real.shape[1])]
    if len(names) != real.shape[1]:
        raise InputError(f"feature names: {len(names)} given for {real.shape[1]} features; "
                         "give one name per column")
    real_std = real.std(axis=0, ddof=1)  # [D], scales the marginal distances
    # Spread: within classes when both sides have labels (a set collapsed onto its class
    # means keeps the between-class spread, so the overall std would hide it).
    spread_real = _spread(real, np.asarray(real_labels) if within else None)  # [D]
    spread_fake = _spread(fake, np.asarray(fake_labels) if within else None)  # [D]
    # A constant real column would divide by zero: measure its spread against a floor far
    # below the typical spread, so any synthetic spread there counts as far too much; a
    # column constant on both sides (an image's empty border) agrees: ratio 1.
    floor = 1e-6 * (float(np.median(real_std)) or 1.0)
    flat = (spread_real <= floor) & (spread_fake <= floor)
    ratio = np.where(flat, 1.0, spread_fake / np.maximum(spread_real, floor))
    # Shapes are in real standard deviations; a column constant in the real rows has none,
    # so its distance is in the spread of both sides pooled (a held-out row that lights
    # one border pixel was 18,716 "standard deviations" away), and 0 when both are equal.
    mean = real.mean(axis=0)
    scale = real_std.copy()
    flat_real = real_std <= floor
    if flat_real.any():  # pooled only where needed: a wide table would copy every column
        pooled = np.concatenate([real[:, flat_real], fake[:, flat_real]]).std(axis=0, ddof=1)
        scale[flat_real] = np.where(pooled > floor, pooled, 1.0)
    distance = wasserstein_columns((real - mean) / scale, (fake - mean) / scale)
    off = np.abs(np.log(np.maximum(ratio, 1e-300)))  # distance from 1 on a log scale
    by_spread = np.argsort(-off, kind="stable")[:n_worst]
    by_shape = np.argsort(-distance, kind="stable")[:n_worst]
    return FeatureAgreement(
        names=names, std_ratio=ratio.tolist(), distance=distance.tolist(),
        median_std_ratio=float(np.median(ratio)),
        share_spread_within=float(np.mean((ratio >= 1 / SPREAD_BAND) & (ratio <= SPREAD_BAND))),
        mean_distance=float(distance.mean()), max_distance=float(distance.max()),
        worst_spread=[{"feature": names[j], "std_ratio": float(ratio[j])} for j in by_spread],
        worst_shape=[{"feature": names[j], "distance": float(distance[j])} for j in by_shape],
        within_class=bool(within))


def wasserstein_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Wasserstein-1 distance between the empirical marginals of each column: [D].

    W1 = integral over t in (0, 1) of |Q_a(t) - Q_b(t)|, with Q the quantile
    functions. Both are step functions that change only at i/n and j/m, the same
    points for every column, so one gather per side computes all columns at once
    (scipy.stats.wasserstein_distance gives the same numbers one column per call,
    40x slower for 512 columns).
    """
    n, m = len(a), len(b)
    steps = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)  # [K], ends at 1
    widths = np.diff(steps, prepend=0.0)                                 # [K]
    middle = steps - widths / 2  # inside each step: which sorted row holds the quantile
    rows_a = np.minimum((middle * n).astype(np.int64), n - 1)
    rows_b = np.minimum((middle * m).astype(np.int64), m - 1)
    sorted_a, sorted_b = np.sort(a, axis=0), np.sort(b, axis=0)          # [n, D], [m, D]
    return widths @ np.abs(sorted_a[rows_a] - sorted_b[rows_b])           # [K] @ [K, D] -> [D]
