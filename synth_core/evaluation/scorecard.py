"""The scorecard: every metric for each synthetic set, next to real held-out rows.

:func:`scorecard` runs the metrics of :mod:`.metrics` and the classifiers of
:mod:`.classifiers` for one real training set, one real test set (or a split
of the real rows, :mod:`.holdout`) and any number of synthetic sets, next to a
reference set ("real held-out": real test rows scored the same way, i.e. what
a perfect generator would get) and, by default, a per-class Gaussian baseline
(:mod:`synth_core.generation.baselines`) fitted on the real training rows. The
result is a :class:`~.report.Scorecard` whose headline says first whether
leakage of test rows could be ruled out and whether each set beats the
baseline. :func:`run_evaluation` loads the inputs by reference and
:func:`evaluate_job` is the background-job entry point (``jobs.JOB_KINDS``).
"""

from __future__ import annotations

import dataclasses

import datetime as _dt
import logging
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from synth_core.errors import InputError
from synth_core.evaluation.classifiers import (CLASSIFIER_LABELS, CLASSIFIERS, DETECTORS,
                                               ClassifierScore, classifier_utility)
from synth_core.evaluation.holdout import (REPEATED_ROWS_WARNING, check_leakage, check_sets,
                                           class_list, n_classes_of, repeated_test_rows,
                                           split_real)
from synth_core.evaluation.metrics import (CopyCheck, Detection, FeatureAgreement,
                                           NotComputable, _Gaussian, _RealBalls,
                                           _TrainNeighbours, _frechet, _gaussian,
                                           classifier_two_sample_test, copy_figures,
                                           copy_fixes, feature_agreement, feature_names,
                                           frame_rows, near_copies, psnr)
from synth_core.evaluation.report import (REFERENCE, ClassRow, MetricRow, Scorecard,
                                          reports_dir, save_report, set_names)
from synth_core.events import Callback, Log, Progress, emit
from synth_core.features import FeatureSet
from synth_core.workspace import read_json, safe_name

logger = logging.getLogger(__name__)

BASELINE_KIND = "gaussian"  # the baseline every scorecard compares against


DEFAULT_K = 5       # neighbours for precision/recall/density/coverage
DEFAULT_FOLDS = 5   # cross-validation folds of the detection test


@dataclass(frozen=True)
class EvaluateConfig:
    """Options of :func:`scorecard`; the CLI and the page build one."""

    k: int | None = None        # None: 5, fewer when the smallest set has few rows
    classifiers: tuple[str, ...] = ("mlp", "logreg", "forest")
    detector: str = "quadratic"
    n_folds: int | None = None  # None: 5, fewer when the smallest set has few rows
    test_size: float = 0.3
    test_folds: tuple[int, ...] | None = None
    random_state: int = 0
    frechet_frames: bool | None = None  # None: when the data has a 2-D feature_shape and frames
    augmentation: bool = True
    per_class: bool = True
    reference: bool = True
    copy_quantile: float = 0.01
    max_rows: int = 5000  # cap for the k-NN and detection metrics (subsampled, seeded)
    bootstrap: int = 200
    # BLAS threads while scoring: the classifiers multiply small batches, where threads
    # mostly wait on each other (7x slower on a busy 2-core machine); None = library default.
    blas_threads: int | None = 1
    # Fit a per-class Gaussian on the real training rows and say whether each set beats it.
    baseline: bool = True

    def __post_init__(self) -> None:
        if self.k is not None and self.k < 1:
            raise InputError(f"k must be at least 1; got {self.k}; 5 is the usual choice")
        for name in self.classifiers:
            if name not in CLASSIFIERS:
                raise InputError(f"classifier {name!r} is unknown; choose from "
                                 + ", ".join(CLASSIFIERS))
        if self.detector not in DETECTORS:
            raise InputError(f"detector {self.detector!r} is unknown; choose from "
                             + ", ".join(DETECTORS))
        if self.n_folds is not None and self.n_folds < 2:
            raise InputError(f"n_folds must be at least 2 for cross-validation; got {self.n_folds}")
        if not 0.0 < self.test_size < 1.0:
            raise InputError(f"test_size must be between 0 and 1; got {self.test_size}; "
                             "0.3 keeps 30 % of the rows for testing")
        if not 0.0 < self.copy_quantile < 0.5:
            raise InputError(f"copy_quantile must be between 0 and 0.5; got {self.copy_quantile}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "EvaluateConfig":
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"evaluation options: unknown {sorted(unknown)}; known options are "
                             + ", ".join(sorted(known)))
        for key in ("classifiers", "test_folds"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)


# --------------------------------------------------------------------------- scorecard

Reconstructor = Callable[[np.ndarray, np.ndarray], np.ndarray]


def scorecard(real_train: FeatureSet, synthetic_sets: dict[str, FeatureSet],
              real_test: FeatureSet | None = None, *, config: EvaluateConfig | None = None,
              reconstructors: dict[str, Reconstructor] | None = None,
              sources: dict[str, str] | None = None, test_source: str = "",
              callback: Callback | None = None) -> Scorecard:
    """Every metric for each synthetic set, next to the real held-out reference.

    ``real_test`` None splits ``real_train`` (by folds, else 70/30 by class) and
    says so in the notes. ``reconstructors`` maps a set name to a function
    ``(X, labels) -> X_hat`` (a run's ``reconstruct``) for the PSNR row.
    ``sources`` (set name -> file) and ``test_source`` name the inputs in the
    messages of the leakage check, which refuses a set whose generator saw a
    real test row (:func:`.holdout.check_leakage`).
    """
    from threadpoolctl import threadpool_limits

    config = config or EvaluateConfig()
    with threadpool_limits(limits=config.blas_threads):
        return _scorecard(real_train, synthetic_sets, real_test, config=config,
                          reconstructors=reconstructors, sources=sources or {},
                          test_source=test_source, callback=callback)


def _scorecard(real_train: FeatureSet, synthetic_sets: dict[str, FeatureSet],
               real_test: FeatureSet | None, *, config: EvaluateConfig,
               reconstructors: dict[str, Reconstructor] | None, sources: dict[str, str],
               test_source: str, callback: Callback | None) -> Scorecard:
    started = time.perf_counter()
    notes: list[str] = []
    split_note = "real test set given"
    if real_test is None:
        seen = {i for data in synthetic_sets.values() for i in (data.seen_ids or [])}
        split = split_real(real_train, test_folds=config.test_folds, test_size=config.test_size,
                           random_state=config.random_state, seen_ids=seen)
        real_train, real_test, split_note = split.train, split.test, split.note
        notes.append(split.note)
        test_source = f"{split.where} of {test_source}" if test_source else split.where
    notes += check_sets(real_train, synthetic_sets, real_test)
    # Held-out rows stay held out: refuse a set whose generator saw a test row, before any
    # slow work; a set that cannot be checked gets the first line of the report.
    headline = [warning for name, data in synthetic_sets.items()
                if (warning := check_leakage(name, data, real_test, source=sources.get(name, ""),
                                             test_source=test_source)) is not None]
    # Real test rows that repeat real training rows were seen by the generator whatever
    # their ids say (data with duplicated rows): the id check above cannot catch that.
    repeated = repeated_test_rows(real_train, real_test, test_source=test_source)
    if repeated:  # a warning where it can move the scores; a few repeats (iris has one): a note
        (headline if repeated.share >= REPEATED_ROWS_WARNING else notes).append(repeated.text)
    given = config
    config, fitted = _fit_to_sizes(real_train, synthetic_sets, real_test, config)
    notes += fitted
    _check_sizes(real_train, synthetic_sets, real_test, config, given)
    seed = config.random_state
    train_X = real_train.features.astype(np.float64)

    sets: dict[str, FeatureSet] = {}
    if config.reference:
        sets[REFERENCE] = real_test
    sets.update(synthetic_sets)
    n_classes = len(real_train.class_names)
    frame_shape = _frame_shape(real_train, config.frechet_frames)
    names = feature_names(real_train)
    # Real rows without classes (check_sets allows none at all), or with a single class (a
    # classifier needs two; check_sets notes it): no classifier metrics.
    utility = real_train.is_labeled and n_classes_of(real_train) >= 2
    classifiers = list(config.classifiers) if utility else []
    # The baseline's detection comparison needs only labels to fit per class; its TSTR needs
    # utility too (_baseline_rows).
    with_baseline = [name for name, data in synthetic_sets.items()
                     if config.baseline and real_train.is_labeled and data.is_labeled]

    steps = max(1, len(sets) * (5 + len(classifiers) * (1 + config.augmentation))
                + 2 * len(with_baseline) + 2)
    done = 0

    def step(message: str) -> None:
        nonlocal done
        done += 1
        emit(callback, Progress(min(done / steps, 0.99), message, stage="evaluate"))

    metrics: list[MetricRow] = []
    scores: list[ClassifierScore] = []
    copies: dict[str, CopyCheck] = {}
    features: dict[str, FeatureAgreement] = {}
    per_class: list[ClassRow] = []
    class_gaussians: dict[int, _Gaussian] = {}  # real training rows per class, fitted once
    balls = _RealBalls(config.k, seed)  # real k-NN radii, shared by sets of equal size

    # Utility: train on real once per classifier (TRTR), then each set (TSTR, augmented).
    trtr: dict[str, ClassifierScore] = {}
    for name in classifiers:
        trtr[name] = classifier_utility(real_train, real_test, classifier=name,
                                        random_state=seed, set_name="real", mode="trtr",
                                        n_boot=config.bootstrap)
        scores.append(trtr[name])
        step(f"train on real, test on real ({name})")
    unit = distance_unit(real_train, train_X)
    near_X = train_X / unit  # the rows distances are measured on (distance_unit)
    real_gauss = _gaussian(near_X, "real training set")
    columns = bool(real_train.attrs.get("spectrogram"))  # spectrogram frames are its columns
    real_frames = (_gaussian(frame_rows(train_X, frame_shape, "real training set",
                                        frames_last=columns),
                             "real training set frames") if frame_shape else None)
    neighbours = _TrainNeighbours(near_X, quantile=config.copy_quantile,
                                  max_reference_rows=min(config.max_rows, 2000),
                                  random_state=seed)
    step("real-to-real distances")

    fewer_folds: dict[str, Detection] = {}  # detection tests that had to use fewer folds

    def detect(X: np.ndarray, label: str) -> Detection | None:
        """The detection test, None (with a note) when the rows hold too few distinct values."""
        try:
            result = classifier_two_sample_test(train_X, X, detector=config.detector,
                                                n_folds=config.n_folds,
                                                max_rows=min(config.max_rows, 1000),
                                                random_state=seed,
                                                real_name="real training set", fake_name=label)
        except NotComputable as exc:
            notes.append(f"Real-vs-synthetic AUC shown as n/a: {exc}.")
            return None
        if result.n_folds < config.n_folds:
            fewer_folds[label] = result
        return result

    for name, data in sets.items():
        is_ref = name == REFERENCE
        label = "real test set" if is_ref else f"synthetic set {name!r}"
        X = data.features.astype(np.float64)
        labeled = utility and data.is_labeled
        # A set of one class cannot train a classifier alone (check_sets notes it); it can
        # still be added to the real rows.
        tstr = labeled and (is_ref or n_classes_of(data) >= 2)
        if labeled:
            for clf in classifiers:
                if is_ref:
                    score = trtr[clf]
                elif not tstr:
                    score = None
                else:
                    score = classifier_utility(data, real_test, classifier=clf, random_state=seed,
                                               set_name=name, mode="tstr",
                                               n_boot=config.bootstrap)
                    scores.append(score)
                    step(f"{name}: train on synthetic, test on real ({clf})")
                if score is not None:
                    metrics += _utility_rows(name, "tstr", score)
                if config.augmentation and not is_ref:
                    both = _concat(real_train, data)
                    aug = classifier_utility(both, real_test, classifier=clf, random_state=seed,
                                             set_name=name, mode="augmented",
                                             n_boot=config.bootstrap)
                    scores.append(aug)
                    metrics += _utility_rows(name, "augmented", aug)
                    step(f"{name}: real + synthetic, test on real ({clf})")
        # Fidelity and diversity: k-NN balls on equal-size sets (Naeem et al. compare n to n).
        near = X / unit  # this set in the units distances are measured in
        result = balls.prdc("all", near_X, near, min(len(X), len(train_X), config.max_rows))
        metrics += [MetricRow(name, key, getattr(result, key))
                    for key in ("precision", "recall", "density", "coverage")]
        step(f"{name}: precision, recall, density, coverage")
        metrics.append(MetricRow(name, "frechet", _frechet(real_gauss, _gaussian(near, label))))
        if frame_shape:
            metrics.append(MetricRow(name, "frechet_frames", _frechet(
                real_frames, _gaussian(frame_rows(X, frame_shape, label, frames_last=columns),
                                       label))))
        step(f"{name}: Frechet distance")
        features[name] = feature_agreement(
            train_X, X, names=names, real_labels=real_train.labels,
            fake_labels=data.labels if labeled else None,
            real_name="real training set", fake_name=label)
        metrics += [MetricRow(name, "spread_ratio", features[name].median_std_ratio),
                    MetricRow(name, "spread_agreement", features[name].share_spread_within),
                    MetricRow(name, "marginal_distance", features[name].mean_distance)]
        step(f"{name}: spread and shape per feature")
        detection = detect(X, label)
        metrics.append(MetricRow(name, "detection_auc", None) if detection is None else
                       MetricRow(name, "detection_auc", detection.auc,
                                 low=min(detection.fold_aucs), high=max(detection.fold_aucs)))
        step(f"{name}: real-vs-synthetic detection")
        copies[name] = neighbours.check(near)
        metrics.append(MetricRow(name, "copy_fraction", copies[name].fraction_flagged))
        ratio = copies[name].distance_ratio  # NaN: every training row the same, no scale
        metrics.append(MetricRow(name, "nn_distance_ratio",
                                 ratio if np.isfinite(ratio) else None))
        step(f"{name}: copy check")
        if reconstructors and name in reconstructors:
            reconstructed = reconstructors[name](real_test.features, real_test.labels)
            value = psnr(real_test.features, reconstructed,
                         data_range=float(train_X.max() - train_X.min()) or 1.0)
            metrics.append(MetricRow(name, "psnr", value.mean_db))
        if config.per_class and labeled:
            first = classifiers[0] if classifiers else None
            base = trtr.get(first) if first else None
            own = base if is_ref else next((s for s in scores if s.set == name
                                            and s.mode == "tstr" and s.classifier == first), None)
            per_class += _per_class_rows(name, real_train, data, config, base, own,
                                         class_gaussians, balls, unit)
        emit(callback, Log(f"evaluated {name}"))

    if with_baseline:
        rows, verdicts, baseline_notes = _baseline_rows(
            {n: synthetic_sets[n] for n in with_baseline}, real_train, real_test, metrics,
            config, detect, step, utility=utility)
        metrics += rows
        headline += verdicts
        notes += baseline_notes
    headline += [copying_warning(name, copies[name], copies.get(REFERENCE),
                                 synthetic_sets[name].attrs)
                 for name in synthetic_sets
                 if name in copies and near_copies(copies[name], copies.get(REFERENCE))]
    if fewer_folds:
        notes.append(_fewer_folds_note(fewer_folds, config.n_folds))
    if config.reference:
        ref_values = {(r.metric, r.detail): r.value for r in metrics if r.set == REFERENCE}
        for row in metrics:
            if row.metric.startswith("augmented_"):
                base = trtr.get(row.detail)
                row.reference = (base.accuracy if row.metric.endswith("accuracy")
                                 else base.macro_f1) if base else None
            else:
                row.reference = ref_values.get((row.metric, row.detail))
    real_info = {"n_train": real_train.n_samples, "n_test": real_test.n_samples,
                 "n_features": real_train.n_features, "n_classes": n_classes,
                 "class_names": list(real_train.class_names), "split": split_note,
                 "frame_shape": list(frame_shape) if frame_shape else None,
                 "modality": real_train.attrs.get("modality", ""),
                 "feature_shape": real_train.attrs.get("feature_shape"),
                 "test_source": test_source}
    emit(callback, Progress(1.0, "scorecard ready", stage="evaluate"))
    return Scorecard(sets=list(sets), metrics=metrics, per_class=per_class, classifiers=scores,
                     copies=copies, notes=notes, real=real_info, config=config.to_dict(),
                     seconds=time.perf_counter() - started,
                     created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                     headline=headline, features=features)


def _baseline_rows(sets: dict[str, FeatureSet], real_train: FeatureSet, real_test: FeatureSet,
                   metrics: list[MetricRow], config: EvaluateConfig,
                   detect: Callable[[np.ndarray, str], Detection | None],
                   step: Callable[[str], None], *, utility: bool = True
                   ) -> tuple[list[MetricRow], list[str], list[str]]:
    """The per-class Gaussian baseline beside each set: its TSTR and detection AUC, verdicts.

    Fitted once on the real training rows (never the test rows) and sampled with
    each set's class counts, so the comparison is at equal size and balance; sets
    with the same counts share one sample. TSTR uses the random forest when the
    scorecard has it (the classifier the issue's measurements use), else the first
    classifier; without ``utility`` (one real class) only detection is compared.
    The baseline is a yardstick, not the point: classes with too few rows to fit
    are left out of it, and a baseline that cannot be fitted at all is skipped,
    each with a note (the third list) rather than refusing the report.
    """
    from synth_core.generation.baselines import BASELINES, fit_baseline

    seed = config.random_state
    min_rows = getattr(BASELINES.get(BASELINE_KIND), "min_rows", 2)
    classes, sizes = np.unique(real_train.labels, return_counts=True)
    fitted = classes[sizes >= min_rows]
    small = [int(c) for c, n in zip(classes, sizes) if n < min_rows]
    notes: list[str] = []
    if not len(fitted):
        notes.append(f"No per-class Gaussian baseline: every class of the real training set has "
                     f"fewer than {min_rows} rows, too few to fit a Gaussian to; the other "
                     "metrics do not need it. Add real rows to compare with it.")
        return [], [], notes
    if small:
        notes.append(f"The per-class Gaussian baseline is fitted without class(es) "
                     f"{class_list(small, real_train)}, which have fewer than {min_rows} real "
                     "training rows (too few to fit a Gaussian to), so it draws no rows of them "
                     "(a slight handicap on those classes); add real rows to them for the full "
                     "baseline, or leave it out (--no-baseline).")
    keep = np.isin(real_train.labels, fitted)
    try:
        model = fit_baseline(BASELINE_KIND, real_train.features[keep].astype(np.float64),
                             real_train.labels[keep], random_state=seed)
    except InputError as exc:
        notes.append(f"No per-class Gaussian baseline: fitting it on the real training set "
                     f"failed ({exc}); the other metrics do not use it.")
        return [], [], notes
    clf = None
    if utility:
        clf = ("forest" if "forest" in config.classifiers
               else config.classifiers[0] if config.classifiers else None)
    drawn: dict[tuple, tuple[Any, Any]] = {}  # class counts -> (TSTR score, detection)
    test_counts = np.unique(real_test.labels[real_test.labels >= 0], return_counts=True)[1]
    rows: list[MetricRow] = []
    verdicts: list[str] = []
    for name, data in sets.items():
        labels, counts = np.unique(data.labels, return_counts=True)
        key = tuple((c, n) for c, n in zip(labels.tolist(), counts.tolist()) if c in fitted)
        if key not in drawn:
            X, y = model.sample(dict(key), random_state=seed)
            baseline = FeatureSet(features=X, labels=y, class_names=real_train.class_names)
            score = (classifier_utility(baseline, real_test, classifier=clf, random_state=seed,
                                        set_name=f"{BASELINE_KIND} baseline", mode="tstr",
                                        n_boot=0)
                     if clf and n_classes_of(baseline) >= 2 else None)
            step(f"{name}: per-class Gaussian baseline, train on it, test on real")
            if len(X) >= 2 * config.n_folds:
                detection = detect(X.astype(np.float64), "Gaussian baseline")
            else:
                detection = None
                notes.append(f"{name}: the per-class Gaussian baseline drew {len(X)} rows for "
                             f"it (only classes it could fit), fewer than the {2 * config.n_folds} "
                             "its real-vs-synthetic test needs; that comparison is skipped.")
            drawn[key] = (score, detection)
            step(f"{name}: per-class Gaussian baseline, real-vs-synthetic detection")
        score, detection = drawn[key]
        if score is not None:
            rows.append(MetricRow(name, "baseline_tstr_accuracy", score.accuracy, clf))
            rows.append(MetricRow(name, "baseline_tstr_macro_f1", score.macro_f1, clf))
        if detection is not None:
            rows.append(MetricRow(name, "baseline_detection_auc", detection.auc,
                                  low=min(detection.fold_aucs), high=max(detection.fold_aucs)))
        verdict = _verdict(name, metrics, clf, score, detection, test_counts=test_counts)
        if verdict:
            verdicts.append(verdict)
    return rows, verdicts, notes


def _fewer_folds_note(fewer: dict[str, Detection], n_folds: int) -> str:
    """One note for every detection test that used fewer folds than asked, and why."""
    each = "; ".join(f"{label}: {d.n_folds} folds ({d.n_distinct_real} distinct real and "
                     f"{d.n_distinct_fake} distinct synthetic rows among {d.n_real} each)"
                     for label, d in fewer.items())
    return (f"Real-vs-synthetic test with fewer than {n_folds} folds for {each}: identical rows "
            "stay in one fold and every fold needs rows of both sides, so there can be no more "
            "folds than either side has distinct rows (repeated rows, binary features); these "
            "AUCs are rough.")


# Real test classes whose largest holds this many times the rows of the smallest are called
# imbalanced: the TSTR verdict then compares macro-F1, since accuracy rewards a classifier
# that predicts the largest class (arrests: 83 % of one class).
IMBALANCED_CLASSES = 1.5


def _verdict(name: str, metrics: list[MetricRow], clf: str | None,
             baseline: ClassifierScore | None, baseline_detection: Detection | None, *,
             test_counts: np.ndarray | None = None) -> str | None:
    """One line: does set ``name`` beat the baseline on TSTR and on detection AUC?

    TSTR compares accuracy, or macro-F1 where the real test classes are imbalanced
    (``test_counts``). Detection AUCs whose fold ranges overlap are a tie: on small
    tables both often sit below 0.5, where which is nearer to 0.5 is noise.
    None when neither could be compared (no scores on one side).
    """
    own = {(r.metric, r.detail): r for r in metrics if r.set == name}
    parts = []
    imbalanced = (test_counts is not None and len(test_counts) > 1
                  and test_counts.max() > IMBALANCED_CLASSES * test_counts.min())
    measure, label = (("tstr_macro_f1", "macro-F1") if imbalanced
                      else ("tstr_accuracy", "accuracy"))
    if baseline is not None and own.get((measure, clf)) is not None:
        ours = own[(measure, clf)].value
        theirs = baseline.macro_f1 if imbalanced else baseline.accuracy
        why = (f"; macro-F1 as the real test classes are imbalanced, {int(test_counts.max())} "
               f"to {int(test_counts.min())} rows, where accuracy rewards predicting the "
               "largest class" if imbalanced else "")
        parts.append(f"{'beats' if ours > theirs else 'does NOT beat'} a per-class Gaussian "
                     f"baseline on TSTR ({CLASSIFIER_LABELS[clf].split(' (')[0]} {label} "
                     f"{ours:.2f} vs {theirs:.2f}{why})")
    row = own.get(("detection_auc", ""))
    if row is not None and row.value is not None and baseline_detection is not None:
        auc, theirs = row.value, baseline_detection.auc
        low, high = min(baseline_detection.fold_aucs), max(baseline_detection.fold_aucs)
        what = "it" if parts else "a per-class Gaussian baseline"
        folds = row.low is not None and row.high is not None
        ranges = (f"{auc:.2f}" + (f", folds {row.low:.2f}-{row.high:.2f}" if folds else "")
                  + f", vs {theirs:.2f}, folds {low:.2f}-{high:.2f}")
        if folds and row.low <= high and low <= row.high:
            parts.append(f"ties with {what} on detection AUC ({ranges}: the fold ranges "
                         "overlap, so neither is told from real rows better than the other)")
        else:
            # Closer to 0.5 is better: cross-validated AUCs of sets a detector cannot separate
            # scatter on both sides of 0.5, and 0.3 is as separable as 0.7.
            beats = abs(auc - 0.5) < abs(theirs - 0.5)
            parts.append(f"{'beats' if beats else 'does NOT beat'} {what} on detection AUC "
                         f"({ranges}; closer to 0.5 is better)")
    return f"Synthetic set {name!r} " + " and ".join(parts) + "." if parts else None


def _fit_to_sizes(real_train: FeatureSet, synthetic_sets: dict[str, FeatureSet],
                  real_test: FeatureSet, config: EvaluateConfig
                  ) -> tuple[EvaluateConfig, list[str]]:
    """Fill in k and the cross-validation folds left unset, fitted to the smallest set.

    5 and 5, or fewer on small data (a 36-clip demo whose model left 6 clips
    unseen still gets a scorecard): k at most rows - 1, folds at most rows / 2,
    with a note saying so. Values given explicitly are kept (and checked by
    :func:`_check_sizes`). The reference (real test rows scored as a set) is
    optional beside synthetic sets: when it is too small even so (3 held-out
    rows of a 12-row table), it is left out with a note instead of refusing the
    report, and k and the folds are fitted to the other sets; the synthetic sets
    are still tested on those rows.
    """
    sizes = [real_train.n_samples, *(d.n_samples for d in synthetic_sets.values())]
    if not config.reference:
        return _fitted(config, sizes)
    fitted, notes = _fitted(config, [*sizes, real_test.n_samples])
    short = _shortfall(real_test.n_samples, fitted)
    if not short or not synthetic_sets:
        return fitted, notes  # alone, the reference is the comparison: _check_sizes refuses it
    # The fewest test rows the reference would be scored with: k and folds left unset are
    # fitted down to k=1 and 2 folds (4 rows); values given are kept.
    enough = max(2 if config.k is None else config.k + 1,
                 4 if config.n_folds is None else 2 * config.n_folds)
    fitted, notes = _fitted(config, sizes)
    notes.insert(0, f"The real test set has {real_test.n_samples} rows, too few to score it as "
                    f"the reference ({REFERENCE!r}): {short}. The reference column is left out "
                    "(the synthetic sets are still tested on these rows, so their numbers are "
                    f"rough). For a reference, hold out at least {enough} real rows: "
                    "train with a larger --test-fraction (it rounds per class, so small classes "
                    "may need 0.4 or more) and generate again, or pass more rows with "
                    "--real-test.")
    return dataclasses.replace(fitted, reference=False), notes


def _fitted(config: EvaluateConfig, sizes: list[int]) -> tuple[EvaluateConfig, list[str]]:
    """``config`` with k and the folds left unset fitted to the smallest of ``sizes``."""
    smallest = min(sizes)
    k = config.k if config.k is not None else max(1, min(DEFAULT_K, smallest - 1))
    n_folds = (config.n_folds if config.n_folds is not None
               else max(2, min(DEFAULT_FOLDS, smallest // 2)))
    lowered = []
    if config.k is None and k < DEFAULT_K:
        lowered.append(f"k={k}")
    if config.n_folds is None and n_folds < DEFAULT_FOLDS:
        lowered.append(f"{n_folds}-fold cross-validation for the detection test")
    notes = ([f"The smallest set has {smallest} rows, so the scorecard uses "
              + " and ".join(lowered) + f" (instead of {DEFAULT_K} and {DEFAULT_FOLDS}); with "
              "so few rows every number here is rough."] if lowered else [])
    return dataclasses.replace(config, k=k, n_folds=n_folds), notes


def _rows_for(config: EvaluateConfig) -> int:
    """The fewest rows a set needs under ``config`` (k + 1 neighbours, 2 rows a fold)."""
    return max(config.k + 1, 2 * config.n_folds)


def _shortfall(n_rows: int, config: EvaluateConfig) -> str:
    """What a set of ``n_rows`` rows is too small for under ``config``; "" when nothing."""
    short = []
    if n_rows < config.k + 1:
        short.append(f"k-nearest-neighbour metrics with k={config.k} need at least "
                     f"{config.k + 1} rows")
    if n_rows < 2 * config.n_folds:
        short.append(f"the real-vs-synthetic test with {config.n_folds}-fold cross-validation "
                     f"needs at least {2 * config.n_folds}")
    return " and ".join(short)


def _check_sizes(real_train: FeatureSet, synthetic_sets: dict[str, FeatureSet],
                 real_test: FeatureSet, config: EvaluateConfig,
                 given: EvaluateConfig | None = None) -> None:
    """Refuse, before any slow work, sets too small for k neighbours or cross-validation.

    Only the sets the report cannot do without: :func:`_fit_to_sizes` has already
    left out a reference too small to score. ``given`` (the options as the user set
    them) decides which fixes to name: lowering k or the folds only helps where the
    user raised them and the set has the 4 rows that k=1 and 2 folds need.
    """
    given = given or config
    needed = _rows_for(config)
    least = 4  # the fewest rows any k and folds work with: k=1 needs 2, 2 folds 4
    named = [("real training set", real_train,
              f"use a real training set of at least {needed} rows")]
    named += [("real test set", real_test,
               f"pass at least {needed} real test rows (--real-test) or test on a larger share "
               "(--test-size)")] if config.reference else []
    named += [(f"synthetic set {name!r}", data, f"generate at least {needed} rows for it")
              for name, data in synthetic_sets.items()]
    for label, data, fix in named:
        n_rows = data.n_samples
        short = _shortfall(n_rows, config)
        if not short:
            continue
        lower, unset = [], []
        if n_rows >= least and given.k is not None and n_rows < config.k + 1:
            lower.append(f"k to {n_rows - 1} (--k {n_rows - 1})")
            unset.append("k")
        if n_rows >= least and given.n_folds is not None and n_rows < 2 * config.n_folds:
            lower.append(f"the folds to {n_rows // 2} (--cv-folds {n_rows // 2})")
            unset.append("the folds")
        if lower:
            page = " (on the Evaluate page: k neighbours empty)" if "k" in unset else ""
            fix += (", or lower " + " and ".join(lower) + ", or leave " + " and ".join(unset)
                    + f" unset{page}, which fits " + ("them" if len(unset) > 1 else "it")
                    + " to the smallest set")
        raise InputError(f"{label}: has {n_rows} rows; {short}; {fix}")


def _utility_rows(name: str, mode: str, score: ClassifierScore) -> list[MetricRow]:
    return [MetricRow(name, f"{mode}_accuracy", score.accuracy, score.classifier,
                      *score.accuracy_ci),
            MetricRow(name, f"{mode}_macro_f1", score.macro_f1, score.classifier,
                      *score.macro_f1_ci)]


def _concat(real: FeatureSet, synthetic: FeatureSet) -> FeatureSet:
    return FeatureSet(features=np.vstack([real.features, synthetic.features]),
                      labels=np.concatenate([real.labels, synthetic.labels]),
                      class_names=real.class_names)


def _frame_shape(data: FeatureSet, wanted: bool | None) -> tuple[int, int] | None:
    shape = data.attrs.get("feature_shape")
    usable = (isinstance(shape, (list, tuple)) and len(shape) == 2
              and int(shape[0]) * int(shape[1]) == data.n_features and int(shape[0]) > 1)
    if wanted is None:
        # Automatic only for frame-based audio features (attrs frames) and spectrograms (attr
        # spectrogram: [mels, frames], frames are columns), not for images.
        frame_based = data.attrs.get("frames") or data.attrs.get("spectrogram")
        return (int(shape[0]), int(shape[1])) if usable and frame_based else None
    if not wanted:
        return None
    if not usable:
        raise InputError(f"real training set: per-frame Frechet needs a feature_shape attribute "
                         f"[frames, values] that splits its {data.n_features} features; it has "
                         f"{shape!r}; turn the per-frame option off")
    return int(shape[0]), int(shape[1])


def copying_warning(name: str, check: CopyCheck, reference: CopyCheck | None,
                    provenance: dict[str, Any] | None = None) -> str:
    """The headline for a set of near-copies of the real training rows; its advice follows
    how the set was made where its ``provenance`` (the generated file's attrs) says."""
    return (f"{name}: {copy_figures(check, reference)}: many are near-copies of training "
            "rows, which score well on utility and detection without being new data. "
            f"{_copying_advice(provenance or {})}")


def _copying_advice(attrs: dict[str, Any]) -> str:
    """What to change, from how the set was made (attrs ``mode``, ``prior``, ``baseline``)."""
    mode, prior = str(attrs.get("mode") or ""), str(attrs.get("prior") or "")
    if mode.startswith("baseline:"):
        kind = attrs.get("baseline") or mode.split(":", 1)[1]
        if kind == "smote":
            return ("SMOTE-style interpolation between neighbouring rows lands here by design: "
                    "read it as the near-copy end of the scale, not as new data")
        return (f"a {kind} baseline fitted on few rows a class lands near them; add rows, or "
                "compare with a model's rows")
    fixes = copy_fixes("interpolate" if mode == "interpolate" else mode, prior)
    advice = ("A model that does this has learnt its training rows, as it does on few rows a "
              f"class or over many epochs: try {', '.join(fixes[:-1])} or {fixes[-1]}")
    if not mode and not prior:
        advice += "; interpolation between neighbours (SMOTE) lands here by design"
    return advice


# Modalities whose features share one unit (pixels, dB, an embedding's coordinates).
SHARED_UNIT_MODALITIES = ("audio", "image")


def distance_unit(real_train: FeatureSet, train_X: np.ndarray) -> np.ndarray:
    """What each feature is divided by before distances between rows and sets (precision,
    recall, density, coverage, the copy check and the Frechet distance) [D].

    A table's columns come in their own units: on wine, proline (hundreds) would be the whole
    distance and hue (about 1) nothing, so a table's columns are measured in the real training
    rows' standard deviations (a constant column keeps its own unit). Images and audio
    features share one unit, where a near-constant border pixel must not weigh as much as a
    stroke: they stay as they are (all ones).
    """
    if real_train.attrs.get("modality") in SHARED_UNIT_MODALITIES:
        return np.ones(train_X.shape[1])
    spread = train_X.std(axis=0)
    return np.where(spread > 0, spread, 1.0)


def _per_class_rows(name: str, real_train: FeatureSet, data: FeatureSet, config: EvaluateConfig,
                    trtr: ClassifierScore | None, tstr: ClassifierScore | None,
                    real_gaussians: dict[int, _Gaussian], balls: _RealBalls,
                    unit: np.ndarray) -> list[ClassRow]:
    rows = []
    for index, class_name in enumerate(real_train.class_names):
        real = real_train.features[real_train.labels == index].astype(np.float64)
        fake = data.features[data.labels == index].astype(np.float64)
        row = ClassRow(name, index, class_name, len(real), len(fake))
        n = min(len(real), len(fake), config.max_rows)
        if n > config.k:
            result = balls.prdc(index, real / unit, fake / unit, n)
            row.precision, row.recall = result.precision, result.recall
            row.density, row.coverage = result.density, result.coverage
        if len(real) >= 2 and len(fake) >= 2:
            if index not in real_gaussians:
                real_gaussians[index] = _gaussian(real / unit, f"real class {class_name}")
            row.frechet = _frechet(real_gaussians[index],
                                   _gaussian(fake / unit, f"{name} class {class_name}"))
        for score, attr in ((tstr, "f1_synthetic"), (trtr, "f1_real")):
            # A class with no test rows gets no F1 (scikit-learn reports 0.0, read as a score).
            report = score.report.get(class_name) if score is not None else None
            if report is not None and report.get("support", 0) > 0:
                setattr(row, attr, float(report["f1-score"]))
        rows.append(row)
    return rows



# --------------------------------------------------------------------------- loading and jobs

def run_evaluation(workspace, *, real_train: str, synthetic: Sequence[str],
                   real_test: str | None = None, config: EvaluateConfig | None = None,
                   callback: Callback | None = None) -> Scorecard:
    """Load the references (builtin:NAME, workspace names, paths) and build the scorecard."""
    from synth_core.data.datasets import load_dataset

    emit(callback, Progress(0.0, "loading data", stage="load"))
    train = load_dataset(real_train, workspace)
    test = load_dataset(real_test, workspace) if real_test else None
    named = dict(zip(set_names(synthetic), synthetic))
    sets = {name: load_dataset(ref, workspace) for name, ref in named.items()}
    source_folds: dict[str, np.ndarray | None] = {}  # generators' datasets, each read once
    for name, data in sets.items():
        folds = _generator_folds(data, workspace, source_folds)
        if folds is not None and "train_folds" not in data.attrs:
            data.attrs["train_folds"] = folds
            emit(callback, Log(f"{name}: its generator was trained on fold(s) {folds}"))
    reconstructors = _reconstructors(sets, train, workspace, callback)
    return scorecard(train, sets, test, config=config, reconstructors=reconstructors,
                     sources={name: str(ref) for name, ref in named.items()},
                     test_source=str(real_test or real_train), callback=callback)


def _run_path(data: FeatureSet, workspace) -> Path | None:
    """The folder of the run that generated ``data`` (attrs model_run), if it names one."""
    run_dir = data.attrs.get("model_run")
    if not run_dir:
        return None
    path = Path(str(run_dir))
    return path if path.is_absolute() else workspace.root / path


def _generator_folds(data: FeatureSet, workspace,
                     source_folds: dict[str, np.ndarray | None]) -> list[int] | None:
    """Folds of the rows the set's generator was trained on (from its run's split), if known.

    ``source_folds`` caches the folds of each generator's dataset by reference, so
    sets from runs on the same dataset read it once. Only JSON is read from the run
    (``Run.load`` would load the weights too).
    """
    from synth_core.data.datasets import load_dataset
    from synth_core.errors import SynthError

    path = _run_path(data, workspace)
    try:
        meta = read_json(path / "config.json") if path is not None and path.is_dir() else None
    except ValueError:  # a damaged run folder (config.json cut short): its folds are unknown
        return None
    if not isinstance(meta, dict) or not meta.get("dataset_ref"):
        return None
    ref = meta["dataset_ref"]
    if ref not in source_folds:
        try:
            source_folds[ref] = load_dataset(ref, workspace).folds
        except SynthError:
            source_folds[ref] = None
    folds = source_folds[ref]
    if folds is None:
        return None
    split = read_json(path / "split.json", {}) or {}
    rows = [int(i) for key in ("train_index", "val_index", "train", "val")
            for i in split.get(key, [])]
    rows = [i for i in rows if 0 <= i < len(folds)] or list(range(len(folds)))
    return sorted(set(folds[rows].tolist()))


def _reconstructors(sets: dict[str, FeatureSet], real: FeatureSet, workspace,
                    callback: Callback | None) -> dict[str, Reconstructor]:
    """Image data: each set's model (attrs model_run) reconstructs real test rows for PSNR."""
    if real.attrs.get("modality") != "image":
        return {}
    out: dict[str, Reconstructor] = {}
    for name, data in sets.items():
        path = _run_path(data, workspace)
        if path is None:
            continue
        try:
            from synth_core.training.runs import Run

            run = Run.load(path)
        except (ImportError, OSError, ValueError) as exc:
            emit(callback, Log(f"{name}: no PSNR, its model {data.attrs['model_run']} could "
                               f"not be loaded ({exc})", level="warning"))
            continue
        if run.n_features != real.n_features:
            continue
        conditional = bool(getattr(run, "is_conditional", False))
        out[name] = (lambda X, y, run=run, conditional=conditional:
                     run.reconstruct(X, y if conditional else None))
    return out


def evaluate_job(params: dict[str, Any], ctx) -> dict[str, Any]:
    """Background job: params {real_train, synthetic: [refs], real_test?, config?, name?}."""
    workspace = ctx.workspace
    config = EvaluateConfig.from_dict(params.get("config"))
    card = run_evaluation(workspace, real_train=params["real_train"],
                          synthetic=list(params.get("synthetic") or []),
                          real_test=params.get("real_test") or None, config=config,
                          callback=ctx)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = safe_name(params.get("name") or f"evaluate-{stamp}-{ctx.job_id[-6:]}")
    paths = save_report(card, reports_dir(workspace) / f"{name}.json")
    return {"report": str(paths["json"]), "csv": str(paths["csv"]), "sets": card.sets,
            "seconds": round(card.seconds, 2),
            "message": f"scored {len(card.sets)} set(s) in {card.seconds:.1f} s"}
