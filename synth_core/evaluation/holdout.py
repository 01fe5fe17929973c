"""Held-out rows: real train/test splits and the checks that keep test rows out of generators.

A scorecard is only honest when the rows it tests on were never seen by the
generator of a synthetic set. :func:`split_real` divides real rows by their
predefined folds (UrbanSound8K style) or, through :func:`stratified_split`
(the one 70/30 split of the package, also the augmentation benchmark's), by
class. :func:`check_sets` refuses inputs that cannot be compared, and
:func:`check_leakage` refuses a synthetic set whose generator saw a test row:
by row ids (the set's ``seen_ids``) or by folds (its ``held_out_folds``
attribute, or the folds its run was trained on), and warns when a set carries
no provenance at all; :func:`repeated_test_rows` warns when test rows repeat
training rows (duplicated data), which ids cannot show.
:func:`synth_core.numbers.parse_ints` reads the fold and seed lists users type
("9,10", "0-4").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence

import numpy as np

from synth_core.errors import InputError
from synth_core.evaluation.classifiers import require_labels
from synth_core.evaluation.metrics import row_groups
from synth_core.features import FeatureSet, array_digest


def _default_names(names: Sequence[str]) -> bool:
    return all(str(n) == str(i) for i, n in enumerate(names))


UNLABELLED_NOTE = ("The real rows have no class labels: the scorecard compares the rows "
                   "themselves (precision/recall/density/coverage, Frechet distance, spread "
                   "and shape per feature, detection, copy check) and skips the classifier "
                   "metrics (train-on-synthetic/test-on-real, per class, the per-class "
                   "baseline), which need classes; import with --label-column to score them.")


def one_class_note(data: FeatureSet) -> str:
    """Why a scorecard of real rows with a single class has no classifier metrics."""
    only = int(np.unique(data.labels)[0])
    return (f"The real rows hold a single class ({class_list([only], data)}): the scorecard "
            "compares the rows themselves (precision/recall/density/coverage, Frechet distance, "
            "spread and shape per feature, detection, copy check) and skips the classifier "
            "metrics (train-on-synthetic/test-on-real, real + synthetic, per class, and the "
            "baseline's train-on-synthetic score), which need rows of at least two classes; "
            "evaluate data with two or more classes (or import with --label-column naming a "
            "column that has several) to score them.")


def n_classes_of(data: FeatureSet) -> int:
    """How many classes the labelled rows of ``data`` hold (0 when none is labelled)."""
    return len(np.unique(data.labels[data.labels >= 0]))


def require_labels_or_none(data: FeatureSet, name: str) -> bool:
    """True for rows that all have a class, False for rows that have none (the scorecard
    then skips its classifier metrics); partly labelled rows are refused."""
    if data.n_samples and (data.labels < 0).all():
        return False
    require_labels(data, name)
    return True


def check_sets(real_train: FeatureSet, synthetic_sets: dict[str, FeatureSet],
               real_test: FeatureSet) -> list[str]:
    """Raise on inputs that cannot be compared; return notes on ones that can, with caveats.

    Real rows without any label are compared without the classifier metrics (a note says
    so); real rows with some labels missing are refused.
    """
    notes = []
    labelled = [require_labels_or_none(real_train, "real training set"),
                require_labels_or_none(real_test, "real test set")]
    if labelled[0] != labelled[1]:
        raise InputError("real test set: " + ("has no class labels but the real training set "
                         "has" if labelled[0] else "has class labels but the real training "
                         "set has none") + "; use test rows labelled as the training rows are")
    if not labelled[0]:
        notes.append(UNLABELLED_NOTE)
    one_class = labelled[0] and n_classes_of(real_train) < 2
    if one_class:
        notes.append(one_class_note(real_train))
    real_train.check_finite("real training set")
    real_test.check_finite("real test set")
    if real_test.n_features != real_train.n_features:
        raise InputError(f"real test set: has {real_test.n_features} features per row but the "
                         f"real training set has {real_train.n_features}; use test rows made "
                         "with the same extractor")
    train_classes = set(np.unique(real_train.labels).tolist())
    untested = sorted(train_classes - set(np.unique(real_test.labels).tolist()))
    if labelled[0] and untested:
        notes.append(f"The real test rows hold no row of class(es) "
                     f"{class_list(untested, real_train)}, so the classifier scores say "
                     "nothing about them (train keeps every row of a class under 5 rows for "
                     "training); pass real test rows that have them (--real-test) to score "
                     "them.")
    missing = sorted(set(np.unique(real_test.labels).tolist()) - train_classes)
    if missing:
        raise InputError(f"real test set: has class(es) {class_list(missing, real_test)} that "
                         "the real training set lacks; a classifier cannot learn them; test on "
                         "the same classes or add training rows for them")
    if (real_train.class_names and real_test.class_names
            and not _default_names(real_test.class_names)
            and real_train.class_names[:len(real_test.class_names)] != real_test.class_names):
        raise InputError(f"real test set: class names {real_test.class_names} differ from the "
                         f"training set's {real_train.class_names}; label both with the same "
                         "classes in the same order")
    if (array_digest(real_train.features) == array_digest(real_test.features)):
        raise InputError("real test set: is the same data as the real training set; pass "
                         "held-out rows as the test set, or leave it out to split automatically")
    if (real_train.folds is not None and real_test.folds is not None
            and set(real_train.folds.tolist()) & set(real_test.folds.tolist())):
        shared = sorted(set(real_train.folds.tolist()) & set(real_test.folds.tolist()))
        raise InputError(f"real test set: shares fold(s) {shared} with the real training set; "
                         "rows of one fold come from the same recordings, so test on folds "
                         "the training set does not use")
    if not synthetic_sets:
        notes.append("No synthetic set given: only the reference (real held-out) is scored.")
    for name, data in synthetic_sets.items():
        label = f"synthetic set {name!r}"
        if data.n_samples == 0:
            raise InputError(f"{label}: has no rows; generate some first")
        data.check_finite(label)
        if data.n_features != real_train.n_features:
            raise InputError(f"{label}: has {data.n_features} features per row but the real "
                             f"training set has {real_train.n_features}; generate from a model "
                             "trained on this dataset (same extractor and frames)")
        if not labelled[0]:
            continue  # no classes to compare: the note above covers every set
        labeled = data.labels >= 0
        extra = sorted(set(np.unique(data.labels[labeled]).tolist()) - train_classes)
        if extra:
            raise InputError(f"{label}: has class(es) {extra} that the real training set lacks "
                             f"(it has {sorted(train_classes)}); the label sets do not match; "
                             "pick the synthetic set made from this dataset")
        if (data.class_names and not _default_names(data.class_names)
                and real_train.class_names
                and real_train.class_names[:len(data.class_names)] != data.class_names):
            raise InputError(f"{label}: class names {data.class_names} do not match the real "
                             f"training set's {real_train.class_names}; the label sets do not "
                             "match; pick the synthetic set made from this dataset")
        if not labeled.all():
            notes.append(f"{name}: {int((~labeled).sum())} rows have no class label, so the "
                         "classifier and per-class metrics skip this set.")
        elif not one_class and n_classes_of(data) < 2:
            notes.append(f"{name}: holds rows of a single class "
                         f"({class_list(np.unique(data.labels).tolist(), real_train)}), so "
                         "train-on-synthetic/test-on-real is skipped for it (a classifier needs "
                         "rows of at least two classes; real + synthetic is still scored); "
                         "generate rows of more classes to score it.")
        else:
            absent = sorted(train_classes - set(np.unique(data.labels).tolist()))
            if absent:
                notes.append(f"{name}: has no rows of class(es) "
                             f"{class_list(absent, real_train)}; a classifier trained on it "
                             "cannot predict them.")
    return notes


def _int_list(value: Any) -> list[int] | None:
    """An attribute holding whole numbers (a list, or its JSON text) as a list; None if absent."""
    if value is None:
        return None
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, (int, np.integer)):
        return [int(value)]
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError):
        return None


def check_leakage(name: str, synthetic: FeatureSet, real_test: FeatureSet, *,
                  source: str = "", test_source: str = "") -> str | None:
    """Refuse a synthetic set whose generator saw real test rows; a warning when unknowable.

    The rule, in order: when the test rows have ids and the set records the ids of
    the rows its generator saw (``seen_ids``), they must not meet; otherwise, when
    the test rows have folds and the set records the folds its generator left out
    (attrs ``held_out_folds``), every test fold must be among them. The folds a
    generator was trained on (attrs ``train_folds`` from its run's split, or the
    set's own ``/folds``) must never be test folds. Returns a warning line when
    none of these could be checked, None when the set passed.
    """
    where = f"synthetic set {name!r}" + (f" ({source})" if source else "")
    test_src = f" ({test_source})" if test_source else ""
    test_where = "the real test rows" + test_src
    test_folds = (sorted(set(real_test.folds.tolist())) if real_test.folds is not None
                  else None)
    baseline = synthetic.attrs.get("baseline")
    elsewhere = ("pass real test rows it did not see (--real-test, or Real test data on the "
                 "Evaluate page)")
    if test_folds:
        fix = ("train the generator with the test rows left out (train --test-folds "
               f"{','.join(str(f) for f in test_folds)}) and generate again, or " + elsewhere)
        if baseline:  # a baseline leaves out the dataset's test folds itself
            fix = (f"fit the baseline with those folds left out (generate --baseline "
                   f"{baseline} --test-folds {','.join(str(f) for f in test_folds)}), or "
                   + elsewhere)
    else:
        # Training holds out no rows by default on tiny tables (or with a class under 5
        # rows), so this is where a run made with no options ends up; name the one flag.
        fix = ("train the generator with rows held out (train --test-fraction 0.2) and "
               "generate again: evaluate then tests on the rows it did not see; or " + elsewhere)
        if baseline:
            fix = (f"fit the baseline with rows held out (generate --baseline {baseline} "
                   "--test-fraction 0.2) and evaluate again: it then tests on the rows the "
                   "baseline did not see; or " + elsewhere)
    checked = False
    seen = synthetic.seen_ids
    if seen is not None and real_test.ids is not None:
        checked = True
        overlap = set(real_test.ids) & set(str(i) for i in seen)
        if overlap:
            example = sorted(overlap)[0]
            raise InputError(
                f"{where}: its generator was trained on {len(overlap)} of the "
                f"{real_test.n_samples} real test rows{test_src} (matched by row id, e.g. "
                f"{example!r}); a score on rows the generator saw overstates its quality; "
                + fix)
    held_out = _int_list(synthetic.attrs.get("held_out_folds"))
    if not checked and held_out is not None and test_folds is not None:
        checked = True
        missing = sorted(set(test_folds) - set(held_out))
        if missing:
            n_rows = int(np.isin(real_test.folds, missing).sum())
            raise InputError(
                f"{where}: its generator held out fold(s) {sorted(held_out) or 'none'} but "
                f"{test_where} include fold(s) {missing} ({n_rows} rows), so it was trained on "
                "them; a score on rows the generator saw overstates its quality; " + fix)
    if test_folds is not None:
        used: set[int] = set()
        if synthetic.folds is not None:
            used |= set(synthetic.folds[synthetic.folds >= 0].tolist())
        for key in ("train_folds", "folds"):
            used |= set(_int_list(synthetic.attrs.get(key)) or [])
        checked = checked or bool(used)
        leaked = sorted(used & set(test_folds))
        if leaked:
            n_rows = int(np.isin(real_test.folds, leaked).sum())
            raise InputError(
                f"{where}: was generated from fold(s) {leaked}, which are test folds "
                f"({n_rows} rows of {test_where}); a score on rows the generator saw "
                "overstates its quality; " + fix)
    if checked:
        return None
    recorded = seen is not None or held_out is not None
    return (f"{name}: " + ("its record of the rows its generator saw does not match how the "
                           "test rows were chosen (no ids or folds to compare)"
                           if recorded else "has no record of the rows its generator was "
                           "trained on (no seen ids, held-out folds or run split)")
            + ", so leakage of test rows into the generator cannot be ruled out; generate it "
              "again from a run trained with the test rows left out to make this check.")


# Share of the real test rows repeating training rows from which the scorecard warns in
# its first lines; below it (a table with a duplicate or two) the fact is a note.
REPEATED_ROWS_WARNING = 0.05


class RepeatedRows(NamedTuple):
    text: str
    share: float  # of the real test rows


def repeated_test_rows(real_train: FeatureSet, real_test: FeatureSet, *,
                       test_source: str = "") -> RepeatedRows | None:
    """What to say when real test rows are exact copies of real training rows, else None.

    Data with repeated rows puts copies of a row on both sides of any split: the
    generator saw those test rows under other ids, which :func:`check_leakage`
    (by ids and folds) cannot see, and the reference's copy check flags them all.
    """
    if not real_test.n_samples or not real_train.n_samples:
        return None
    train = real_train.features.astype(np.float64)
    groups = row_groups(np.vstack([train, real_test.features.astype(np.float64)]))
    repeats = np.isin(groups[len(train):], groups[:len(train)])
    if not repeats.any():
        return None
    where = f" ({test_source})" if test_source else ""
    labels = real_test.labels[repeats]
    classes, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = np.argsort(-counts, kind="stable")[:3]
    in_classes = (f", most in class(es) {class_list([int(classes[i]) for i in order], real_test)}"
                  if len(classes) else "")
    return RepeatedRows(share=float(repeats.mean()), text=(
            f"real test set{where}: {int(repeats.sum())} of {real_test.n_samples} rows "
            f"({repeats.mean():.0%}) are exact copies of real training rows{in_classes} (the "
            "data repeats rows), so a generator trained on the training rows has seen them "
            "under other ids, which the id check cannot tell: leakage of those test rows into "
            "the generator cannot be ruled out, train-on-synthetic scores may be optimistic, and "
            "the near-copies of the reference (real held-out) count them as copies. If the "
            "repeated rows are copies made by mistake, remove them before importing (e.g. pandas "
            "drop_duplicates), then train and generate again; if they are genuinely the same "
            "sample (a class of blank images, a constant reading), keep them: removing them "
            "would remove that class."))


def class_list(labels: Sequence[int], data: FeatureSet) -> str:
    return ", ".join(f"{i} ({data.class_names[i]})" if 0 <= i < len(data.class_names) else str(i)
                     for i in labels)


# --------------------------------------------------------------------------- splitting

@dataclass
class RealSplit:
    train: FeatureSet
    test: FeatureSet
    note: str
    test_folds: list[int] = field(default_factory=list)
    where: str = ""  # which rows are the test rows, for messages: "fold(s) [10]", ...


def split_real(real: FeatureSet, *, test_folds: Sequence[int] | None = None,
               test_size: float = 0.3, random_state: int = 0,
               seen_ids: set[str] | None = None) -> RealSplit:
    """Split real rows into train and test: by predefined folds when the data has them
    (default: the last fold is the test fold), otherwise 70/30 stratified by class.

    Without folds, ``seen_ids`` (the rows the synthetic sets' generators were fitted
    on) choose the test rows instead when some rows were never seen: testing on
    exactly those is what keeps held-out rows held out. When every row was seen
    the 70/30 split stands and the leakage check refuses the sets.
    """
    labelled = require_labels_or_none(real, "real data")
    unseen = (np.array([i not in seen_ids for i in real.ids])
              if seen_ids and real.ids is not None else None)
    if unseen is not None and not (unseen.any() and not unseen.all()):
        unseen = None  # every row seen (the leakage check refuses), or none recorded
    present = sorted(set(real.folds.tolist())) if real.folds is not None else []
    if present and not test_folds and unseen is not None:
        # Folds, but the generators may have held out a share of rows instead of a fold
        # (train without test folds): the default last fold would be rows they saw. Test on
        # the folds they left out whole, else on the rows they left out.
        whole = [f for f in present if unseen[real.folds == f].all()]
        if present[-1] not in whole:
            if whole and np.array_equal(np.isin(real.folds, whole), unseen):
                test_folds = whole
            else:
                return _unseen_split(real, unseen, folds=True)
    if real.folds is not None:
        chosen = sorted(set(int(f) for f in test_folds)) if test_folds else [present[-1]]
        unknown = sorted(set(chosen) - set(present))
        if unknown:
            raise InputError(f"test folds {unknown} are not in the data (its folds are "
                             f"{present}); choose test folds from those")
        is_test = np.isin(real.folds, chosen)
        if is_test.all():
            raise InputError(f"test folds {chosen} are all the folds of the data; keep at least "
                             "one fold for training")
        note = (f"No real test set given: tested on predefined fold(s) {chosen} and trained on "
                f"the other folds {sorted(set(present) - set(chosen))}. Make sure the generator "
                "was not trained on the test folds.")
        return RealSplit(real.subset(~is_test), real.subset(is_test), note, chosen,
                         f"fold(s) {chosen}")
    if test_folds:
        raise InputError(f"test folds {list(test_folds)} were given but the real data has no "
                         "folds; leave test folds out to split 70/30, or use data with /folds")
    if unseen is not None:
        return _unseen_split(real, unseen)
    counts = np.bincount(real.labels[real.labels >= 0]) if labelled else np.zeros(0, int)
    single = [int(c) for c in np.flatnonzero(counts == 1)]
    train, test = stratified_split(real, test_size=test_size, random_state=random_state,
                                   name="real data", fix="or pass a real test set",
                                   single_rows="train")
    note = (f"No real test set given: split the real rows {1 - test_size:.0%}/{test_size:.0%} "
            f"{'by class' if labelled else 'at random'} (seed {random_state}). If the generator "
            "was trained on all real rows, "
            "train-on-synthetic scores are optimistic; pass a held-out test set when you can.")
    if single:
        note += (f" Class(es) {class_list(single, real)} have a single real row: it stays with "
                 "the training rows, so no test row scores them.")
    return RealSplit(train, test, note, where=f"the {test_size:.0%} test split")


def _unseen_split(real: FeatureSet, unseen: np.ndarray, *, folds: bool = False) -> RealSplit:
    """Test on the ``unseen`` rows (no generator was fitted on them), train on the others."""
    note = (f"No real test set given: tested on the {int(unseen.sum())} real rows the "
            "generators were not fitted on (their recorded training and validation rows "
            f"left out) and trained on the other {int((~unseen).sum())}.")
    if folds:
        note += (" The data has folds, but the generators held out rows of every fold rather "
                 "than whole folds (train without --test-folds), so their held-out rows are the "
                 f"test rows; to test on a fold (the thesis's protocol), train with "
                 f"--test-folds {int(real.folds.max())}.")
    train, test = real.subset(~unseen), real.subset(unseen)
    if folds:  # the split follows the rows' ids, not the folds: the id check judges leakage
        train.folds = test.folds = None
    return RealSplit(train, test, note, where="the rows the generators were not fitted on")


def stratified_split(data: FeatureSet, *, test_size: float, random_state: int,
                     name: str = "dataset", fix: str = "", min_train_rows: int = 1,
                     single_rows: str = "refuse") -> tuple[FeatureSet, FeatureSet]:
    """Train and test rows split by class (70/30 for test_size 0.3), seeded; rows keep order.

    ``min_train_rows``: a class the split leaves fewer training rows gets its test rows
    back in training, up to that many (a class of 2 rows splits 1/1; a generator that
    pairs rows of a class needs both), and is then tested on fewer rows or none.
    ``single_rows``: a class of one row is refused ("refuse"), or kept in training
    ("train": the caller says that no test row scores it).
    """
    from sklearn.model_selection import train_test_split

    hint = f" {fix}" if fix else ""
    counts = np.bincount(data.labels[data.labels >= 0])
    small = [i for i, c in enumerate(counts) if 0 < c < 2]
    alone = np.isin(data.labels, small)  # [N] rows of one-row classes: training only
    if small and (single_rows != "train" or alone.all()):
        raise InputError(f"{name}: class(es) {class_list(small, data)} have a single row; a "
                         "stratified train/test split needs at least 2 rows per class; remove "
                         f"them or add rows{hint}")
    index = np.flatnonzero(~alone)
    n, k = len(index), len(np.unique(data.labels[index]))
    n_test = int(np.ceil(test_size * n))
    if 0 < n_test < k or 0 < n - n_test < k:  # sklearn's words: "The test_size = 270 should..."
        side, need = (("test", np.ceil(100 * k / n) / 100) if n_test < k
                      else ("training", np.floor(100 * (n - k) / n) / 100))
        raise InputError(
            f"{name}: a {test_size:.0%} test share leaves {min(n_test, n - n_test)} {side} rows "
            f"for {k} classes, and a split by class needs one {side} row of each; use a test "
            f"share of {'at least' if side == 'test' else 'at most'} {need:.2f}, or add rows"
            f"{hint}")
    try:
        train, test = train_test_split(index, test_size=test_size,
                                       stratify=data.labels[index], random_state=random_state)
        train = np.r_[train, np.flatnonzero(alone)].astype(np.int64)
    except ValueError as exc:
        raise InputError(f"{name}: cannot split {data.n_samples} rows {1 - test_size:.0%}/"
                         f"{test_size:.0%} by class ({exc}); use a larger test share, add rows"
                         f"{hint}") from exc
    if min_train_rows > 1:
        back: list[int] = []
        for c in np.unique(data.labels[data.labels >= 0]):
            short = min_train_rows - int((data.labels[train] == c).sum())
            if short > 0:
                back += np.sort(test[data.labels[test] == c])[:short].tolist()
        train, test = np.r_[train, back].astype(np.int64), np.setdiff1d(test, back)
    return data.subset(np.sort(train)), data.subset(np.sort(test))

