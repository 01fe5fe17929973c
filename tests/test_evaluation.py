"""Evaluation metrics on cases with known answers, input checks, folds and the scorecard."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import numpy as np
import pytest
from scipy import linalg

from synth_core.errors import InputError
from synth_core.evaluation.classifiers import (FOREST_MAX_SAMPLES, classifier_utility,
                                               make_classifier)
from synth_core.numbers import parse_ints
from synth_core.evaluation.holdout import split_real, stratified_split
from synth_core.evaluation.metrics import (NotComputable, classifier_two_sample_test,
                                           copy_check, feature_agreement, feature_names,
                                           frechet_distance, frechet_distance_frames, prdc, psnr,
                                           wasserstein_columns)
from synth_core.evaluation.report import REFERENCE, Scorecard
from synth_core.evaluation.scorecard import EvaluateConfig, scorecard
from synth_core.features import FeatureSet, read_features, write_features
from tests.conftest import make_blobs

FAST = EvaluateConfig(classifiers=("logreg",), bootstrap=50, baseline=False)


def _real(n_per_class: int = 30, seed: int = 0, **kwargs) -> tuple[FeatureSet, FeatureSet]:
    """Real training and test rows from one distribution (alternate rows of one blob set)."""
    data = make_blobs(n_per_class=2 * n_per_class, seed=seed, **kwargs)
    index = np.arange(data.n_samples)
    return data.subset(index % 2 == 0), data.subset(index % 2 == 1)


def _synthetic(n_per_class: int = 30, seed: int = 0, noise_seed: int = 7, **kwargs) -> FeatureSet:
    """New rows from the same blobs as ``_real(seed=seed)`` (same centres, new noise)."""
    data = make_blobs(n_per_class=n_per_class, seed=seed, **kwargs)
    rng = np.random.default_rng(noise_seed)
    data.features = data.features + 0.03 * rng.standard_normal(data.features.shape)
    return data


def _gauss(n: int = 300, d: int = 8, seed: int = 0, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)) + shift


# --------------------------------------------------------------------------- PRDC

def test_prdc_identical_sets_score_one():
    X = _gauss()
    result = prdc(X, X.copy(), k=5)
    assert result.precision == 1.0 and result.recall == 1.0 and result.coverage == 1.0
    # Each row lies in its own ball and its k-1 nearest neighbours' balls: density 1 (up to
    # rows whose k-th neighbour sits on the ball's edge, where the last bits decide).
    assert result.density == pytest.approx(1.0, abs=0.01)


def test_prdc_disjoint_sets_score_zero():
    result = prdc(_gauss(), _gauss(seed=1, shift=100.0), k=5)
    assert (result.precision, result.recall, result.density, result.coverage) == (0, 0, 0, 0)


def test_prdc_mode_collapse_keeps_precision_but_loses_recall():
    real = _gauss(400, 2)
    collapsed = real[np.argsort(real[:, 0])[:100]]  # only the left tail of the real data
    result = prdc(real, collapsed, k=5)
    assert result.precision == 1.0
    assert result.recall < 0.5 and result.coverage < 0.5


def test_prdc_same_distribution_is_high():
    result = prdc(_gauss(400, seed=0), _gauss(400, seed=1), k=5)
    assert result.precision > 0.7 and result.recall > 0.7 and result.coverage > 0.8
    assert 0.6 < result.density < 1.4


def test_prdc_refuses_too_few_rows_for_k():
    with pytest.raises(InputError, match=r"synthetic: has 5 rows.*k=5 need at least 6"):
        prdc(_gauss(), _gauss(5), k=5)


def test_prdc_refuses_different_widths():
    with pytest.raises(InputError, match="has 4 features per row but real has 8"):
        prdc(_gauss(), _gauss(d=4), k=5)


# --------------------------------------------------------------------------- Frechet

def test_frechet_identical_is_zero_and_shift_is_squared_norm():
    X = _gauss(500, 6)
    assert frechet_distance(X, X) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([1.0, 2.0, 0.0, 0.0, 0.0, 2.0])
    # Same covariance, means apart by `shift`: distance ||shift||^2 = 9.
    assert frechet_distance(X, X + shift) == pytest.approx(9.0, rel=1e-6)


def test_frechet_matches_scipy_sqrtm_formula():
    a, b = _gauss(400, 5, seed=0), 0.5 * _gauss(300, 5, seed=1) + 0.3
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = (np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca) + np.trace(cb)
                - 2 * np.trace(linalg.sqrtm(ca @ cb).real))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    # Fewer rows than features (a wide table): the covariances are singular, and the
    # distance comes from the centred rows without any D x D matrix.
    a, b = _gauss(6, 20, seed=2), 0.5 * _gauss(9, 20, seed=3) + 0.3
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = (np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca) + np.trace(cb)
                - 2 * np.trace(linalg.sqrtm(ca @ cb).real))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-5)


def test_frechet_per_frame_uses_frames_as_rows():
    X = _gauss(100, 8)
    assert frechet_distance_frames(X, X, [2, 4]) == pytest.approx(0.0, abs=1e-8)
    expected = frechet_distance(X.reshape(200, 4), (X + 1.0).reshape(200, 4))
    assert frechet_distance_frames(X, X + 1.0, [2, 4]) == pytest.approx(expected)
    with pytest.raises(InputError, match=r"feature_shape \[3, 4\] does not split 8"):
        frechet_distance_frames(X, X, [3, 4])


def test_frechet_needs_two_rows():
    with pytest.raises(InputError, match="at least 2"):
        frechet_distance(_gauss(), _gauss(1))


# --------------------------------------------------------------------------- detection

def test_detection_identical_sets_near_half():
    X = _gauss(300, 8)
    result = classifier_two_sample_test(X, X.copy(), n_folds=5)
    assert abs(result.auc - 0.5) < 0.1
    assert len(result.fold_aucs) == 5


def test_detection_same_distribution_near_half_and_shift_near_one():
    assert abs(classifier_two_sample_test(_gauss(seed=0), _gauss(seed=1)).auc - 0.5) < 0.1
    assert classifier_two_sample_test(_gauss(seed=0), _gauss(seed=1, shift=2.0)).auc > 0.95


def test_detection_sees_shrunken_variance():
    # The typical VAE mark: right mean, too little spread. A linear detector would miss it.
    result = classifier_two_sample_test(_gauss(400, seed=0), 0.6 * _gauss(400, seed=1))
    assert result.auc > 0.8


def test_detection_refuses_too_few_rows_for_cross_validation():
    with pytest.raises(InputError, match=r"has 6 rows.*5-fold cross-validation needs at least 10"):
        classifier_two_sample_test(_gauss(), _gauss(6), n_folds=5)


# --------------------------------------------------------------------------- copying

def test_copy_check_flags_copies_and_not_new_rows():
    train = _gauss(400, 8)
    copies = copy_check(train, train[:50] + 1e-6)
    assert copies.fraction_flagged == 1.0 and copies.nearest_train_rows == list(range(50))
    assert copies.distance_ratio < 0.01
    fresh = copy_check(train, _gauss(200, 8, seed=5))
    assert fresh.fraction_flagged < 0.1
    assert 0.5 < fresh.distance_ratio < 2.0
    assert copy_check(train, _gauss(50, 8, seed=5, shift=50.0)).n_flagged == 0


# --------------------------------------------------------------------------- PSNR

def test_psnr_known_value():
    X = np.random.default_rng(0).uniform(0, 1, (10, 64))
    # MSE 1e-4 on a range of 1: 10 log10(1 / 1e-4) = 40 dB.
    assert psnr(X, X + 0.01, data_range=1.0).mean_db == pytest.approx(40.0)
    with pytest.raises(InputError, match="shape"):
        psnr(X, X[:5])


# --------------------------------------------------------------------------- utility

def test_classifier_utility_separable_blobs_and_random_labels():
    train, test = make_blobs(seed=0), make_blobs(seed=0)
    test.features = test.features + np.random.default_rng(1).normal(0, 0.01, test.features.shape)
    score = classifier_utility(train, test, classifier="logreg")
    assert score.accuracy == 1.0 and score.macro_f1 == 1.0
    assert score.accuracy_ci[0] <= score.accuracy <= score.accuracy_ci[1]
    assert np.trace(np.array(score.confusion)) == test.n_samples
    assert set(score.report) >= {"class_0", "class_1", "class_2", "macro avg", "accuracy"}
    shuffled = make_blobs(seed=0)
    shuffled.labels = np.random.default_rng(2).permutation(shuffled.labels)
    assert classifier_utility(shuffled, test, classifier="mlp").accuracy < 0.7


def test_classifier_utility_macro_f1_skips_a_class_with_no_test_row():
    """Test rows without class 2 (a tiny class kept whole for training): a classifier that
    gets classes 0 and 1 right and never predicts 2 has macro-F1 1, not 2/3, and its
    bootstrap interval agrees; a class it predicts wrongly still counts."""
    train, test = make_blobs(seed=0), make_blobs(seed=0)
    test = test.subset(test.labels < 2)
    score = classifier_utility(train, test, classifier="logreg", n_boot=50)
    assert score.accuracy == 1.0 and score.macro_f1 == 1.0
    assert score.macro_f1_ci[0] == 1.0
    wrong = make_blobs(seed=0)
    wrong.labels = np.where(wrong.labels == 1, 2, wrong.labels)  # learns class 1 as 2
    assert classifier_utility(wrong, test, classifier="logreg").macro_f1 < 0.7


def test_scorecard_notes_classes_without_test_rows():
    real, test = _real()
    card = scorecard(real, {"synth": _synthetic()}, test.subset(test.labels < 2), config=FAST)
    assert any("hold no row of class(es) 2 (class_2)" in note for note in card.notes)
    # Per class: no F1 for the class without test rows (scikit-learn's 0.0 read as a score).
    by_class = {r.class_index: r for r in card.per_class if r.set == "synth"}
    assert by_class[2].f1_synthetic is None and by_class[2].f1_real is None
    assert by_class[0].f1_synthetic > 0.5 and by_class[0].f1_real > 0.5


def test_scorecard_default_split_keeps_a_one_row_class_for_training():
    """A class of one real row used to refuse the whole report (by class number); it now
    stays with the training rows, and the note names it."""
    real = make_blobs(n_per_class=30)
    real = real.subset(np.flatnonzero((real.labels < 2) | (np.cumsum(real.labels == 2) == 1)))
    assert np.bincount(real.labels).tolist() == [30, 30, 1]
    card = scorecard(real, {"synth": _synthetic(n_per_class=10)}, config=FAST)
    assert card.real["n_test"] == 18
    assert any("Class(es) 2 (class_2) have a single real row" in n for n in card.notes)
    from synth_core.evaluation.holdout import stratified_split

    with pytest.raises(InputError, match=r"class\(es\) 2 \(class_2\) have a single row"):
        stratified_split(real, test_size=0.3, random_state=0)


def test_classifier_utility_is_seeded():
    train, test = _real()
    a = classifier_utility(train, test, classifier="mlp", random_state=1)
    b = classifier_utility(train, test, classifier="mlp", random_state=1)
    assert a.accuracy == b.accuracy and a.confusion == b.confusion


# --------------------------------------------------------------------------- folds

def _with_folds(data: FeatureSet, n_folds: int = 3) -> FeatureSet:
    data.folds = np.arange(data.n_samples) % n_folds + 1
    return data


def test_split_real_uses_last_fold_by_default_and_given_folds():
    data = _with_folds(make_blobs())
    split = split_real(data)
    assert set(split.test.folds) == {3} and set(split.train.folds) == {1, 2}
    assert "fold(s) [3]" in split.note
    split = split_real(data, test_folds=[1])
    assert set(split.test.folds) == {1}
    with pytest.raises(InputError, match=r"test folds \[7\] are not in the data"):
        split_real(data, test_folds=[7])
    with pytest.raises(InputError, match="has no folds"):
        split_real(make_blobs(), test_folds=[1])


def test_split_real_without_folds_is_stratified_70_30():
    split = split_real(make_blobs(n_per_class=20))
    assert split.test.n_samples == 18
    assert np.bincount(split.test.labels).tolist() == [6, 6, 6]
    assert "70%/30%" in split.note


def test_scorecard_refuses_synthetic_from_test_folds():
    real = _with_folds(make_blobs())
    synthetic = _synthetic()
    synthetic.attrs["train_folds"] = [1, 2, 3]  # generator saw every fold, test fold 3 included
    with pytest.raises(InputError, match=r"generated from fold\(s\) \[3\], which are test folds"):
        scorecard(real, {"leaky": synthetic}, config=FAST)
    synthetic.attrs["train_folds"] = [1, 2]
    card = scorecard(real, {"clean": synthetic}, config=FAST)
    assert card.real["n_test"] == 30 and any("fold(s) [3]" in n for n in card.notes)


def test_scorecard_refuses_train_and_test_sharing_folds():
    train = _with_folds(make_blobs(seed=0))
    test = _with_folds(make_blobs(seed=1))
    with pytest.raises(InputError, match=r"shares fold\(s\) \[1, 2, 3\]"):
        scorecard(train, {}, test, config=FAST)


# --------------------------------------------------------------------------- bad input

def test_scorecard_bad_inputs_have_clear_messages():
    real, test = _real()
    narrow = make_blobs(n_features=8, seed=2)
    with pytest.raises(InputError, match=r"synthetic set 'narrow': has 8 features.*has 16"):
        scorecard(real, {"narrow": narrow}, test, config=FAST)
    extra = make_blobs(n_classes=4, seed=2)
    with pytest.raises(InputError, match=r"class\(es\) \[3\].*label sets do not match"):
        scorecard(real, {"extra": extra}, test, config=FAST)
    renamed = _synthetic()
    renamed.class_names = ["dog", "siren", "drill"]
    with pytest.raises(InputError, match="class names.*do not match"):
        scorecard(real, {"renamed": renamed}, test, config=FAST)
    with pytest.raises(InputError, match=r"real test set: has class\(es\) 2 \(class_2\)"):
        scorecard(real.subset(real.labels < 2), {}, test, config=FAST)
    tiny = make_blobs(n_per_class=1, seed=2)
    # Only the constraint that fails (k=2 fits 3 rows), and a fix that works (no --k or
    # --cv-folds: 3 rows are below what any choice of them needs).
    with pytest.raises(InputError, match=r"synthetic set 'tiny': has 3 rows; the "
                                         r"real-vs-synthetic test with 2-fold cross-validation "
                                         r"needs at least 4; generate at least 4 rows for it$"):
        scorecard(real, {"tiny": tiny}, test, config=FAST)
    unlabeled = make_blobs(seed=0)
    unlabeled.labels[:5] = -1
    with pytest.raises(InputError, match="real training set: 5 of 90 rows have no label"):
        scorecard(unlabeled, {}, test, config=FAST)
    unlabeled.labels[:] = -1  # no labels at all can be scored, but not against labelled tests
    with pytest.raises(InputError, match="real test set: has class labels but the real "
                                         "training set has none"):
        scorecard(unlabeled, {}, test, config=FAST)
    with pytest.raises(InputError, match="same data as the real training set"):
        scorecard(real, {}, real.subset(np.arange(real.n_samples)), config=FAST)


def test_scorecard_on_unlabelled_rows_compares_the_rows_and_skips_classifiers():
    """Real rows without any class (an unlabelled CSV): the scorecard still scores
    fidelity, spread, detection and copies, says why the classifier metrics are missing,
    and a set of real-looking rows scores better than a collapsed one."""
    from synth_core.evaluation.holdout import UNLABELLED_NOTE

    rows = make_blobs(n_per_class=80, seed=0)
    rows.labels[:] = -1
    real, good = rows.subset(np.arange(0, 240, 2)), rows.subset(np.arange(1, 240, 2))
    collapsed = FeatureSet(features=np.repeat(real.features.mean(0, keepdims=True), 120, 0)
                           + 1e-3 * np.random.default_rng(0).standard_normal((120, 16)),
                           labels=np.full(120, -1))
    card = scorecard(real, {"good": good, "collapsed": collapsed}, config=FAST)
    assert UNLABELLED_NOTE in card.notes
    assert any("at random" in note for note in card.notes)
    assert not card.classifiers and not card.per_class
    value = {(r.set, r.metric): r.value for r in card.metrics}
    assert not any(m.startswith(("tstr", "trtr", "augmented")) for _, m in value)
    assert value[("good", "coverage")] > 0.5 > value[("collapsed", "coverage")]
    assert value[("good", "spread_ratio")] > 0.5 > value[("collapsed", "spread_ratio")]
    assert value[("collapsed", "detection_auc")] > value[("good", "detection_auc")]
    assert card.real["n_test"] > 0 and REFERENCE in card.sets


def test_scorecard_with_missing_synthetic_classes_notes_it():
    real, test = _real()
    partial = _synthetic()
    partial = partial.subset(partial.labels < 2)
    card = scorecard(real, {"partial": partial}, test, config=FAST)
    assert any("no rows of class(es) 2 (class_2)" in note for note in card.notes)


# --------------------------------------------------------------------------- scorecard

def test_scorecard_identical_copy_of_training_rows():
    real, test = _real(n_per_class=40)
    card = scorecard(real, {"copy": real.subset(np.arange(real.n_samples))}, test, config=FAST)
    assert card.sets == [REFERENCE, "copy"]
    assert card.metric("copy", "precision").value == 1.0
    assert card.metric("copy", "recall").value == 1.0
    assert card.metric("copy", "frechet").value == pytest.approx(0.0, abs=1e-6)
    assert abs(card.metric("copy", "detection_auc").value - 0.5) < 0.1
    assert card.metric("copy", "copy_fraction").value == 1.0  # every row is a training row
    assert card.metric(REFERENCE, "copy_fraction").value < 0.2
    tstr = card.metric("copy", "tstr_accuracy", "logreg")
    assert tstr.value == tstr.reference == card.metric(REFERENCE, "tstr_accuracy", "logreg").value


def test_scorecard_shifted_set_scores_badly():
    real, test = _real()
    shifted = _synthetic()
    shifted.features = shifted.features + 5.0
    card = scorecard(real, {"shifted": shifted}, test, config=FAST)
    assert card.metric("shifted", "precision").value == 0.0
    assert card.metric("shifted", "coverage").value == 0.0
    assert card.metric("shifted", "detection_auc").value > 0.95
    assert card.metric("shifted", "frechet").value > 100
    assert card.metric("shifted", "copy_fraction").value == 0.0


def test_scorecard_round_trips_json_and_csv():
    real, test = _real()
    events = []
    card = scorecard(real, {"a": _synthetic(), "b": _synthetic(noise_seed=8)}, test,
                     config=EvaluateConfig(classifiers=("logreg", "mlp"), bootstrap=20),
                     callback=events.append)
    assert events[-1].fraction == 1.0 and all(0 <= e.fraction <= 1 for e in events
                                              if hasattr(e, "fraction"))
    data = json.loads(json.dumps(card.to_dict()))
    again = Scorecard.from_dict(data)
    assert again.sets == card.sets and again.metric("a", "precision").value == \
        card.metric("a", "precision").value
    assert {c.mode for c in again.classifiers} == {"trtr", "tstr", "augmented"}
    rows = list(csv.DictReader(io.StringIO(card.to_csv())))
    assert {r["section"] for r in rows} == {"overall", "per_class"}
    per_class = [r for r in rows if r["section"] == "per_class" and r["set"] == "a"]
    assert {r["class"] for r in per_class} == {"class_0", "class_1", "class_2"}
    assert len(card.per_class) == 3 * 3  # reference, a, b x 3 classes
    table = card.table()
    assert all(set(card.sets) <= set(row) and row["meaning"] for row in table)


def test_scorecard_without_test_set_splits_and_says_so():
    card = scorecard(make_blobs(n_per_class=30), {"a": _synthetic()}, config=FAST)
    assert card.real["n_test"] == 27 and "70%/30%" in card.notes[0]


def test_scorecard_frame_frechet_auto_for_frame_features():
    (real, test), synthetic = _real(), _synthetic()
    real.attrs.update(frames=4, feature_shape=[4, 4])
    card = scorecard(real, {"s": synthetic}, test, config=FAST)
    assert card.metric("s", "frechet_frames") is not None
    real.attrs.pop("frames")
    assert scorecard(real, {"s": synthetic}, test,
                     config=FAST).metric("s", "frechet_frames") is None


def test_evaluate_config_refuses_unknown_options():
    with pytest.raises(InputError, match="unknown"):
        EvaluateConfig.from_dict({"kk": 3})
    with pytest.raises(InputError, match="classifier 'svm' is unknown"):
        EvaluateConfig(classifiers=("svm",))


# --------------------------------------------------------------------------- number lists

def test_parse_ints_lists_ranges_and_errors():
    assert parse_ints("9,10", name="--test-folds") == (9, 10)
    assert parse_ints(" 1, 3-5 ", name="seeds") == (1, 3, 4, 5)
    assert parse_ints("-1", name="seeds") == (-1,)
    assert parse_ints("", name="seeds") is None and parse_ints(None, name="seeds") is None
    assert parse_ints([2, 3], name="seeds") == (2, 3)
    with pytest.raises(InputError, match=r"--test-folds 'ten' is not a list of whole numbers"):
        parse_ints("ten", name="--test-folds")
    with pytest.raises(InputError, match="not a list of whole numbers"):
        parse_ints("5-2", name="seeds")


def test_stratified_split_is_the_split_of_split_real():
    data = make_blobs(n_per_class=20)
    train, test = stratified_split(data, test_size=0.3, random_state=4)
    split = split_real(data, test_size=0.3, random_state=4)
    assert split.train.ids == train.ids and split.test.ids == test.ids
    with pytest.raises(InputError, match=r"real data: class\(es\) 0 \(class_0\), 1 "
                                         r"\(class_1\), 2 \(class_2\) have a single "
                                         r"row.*or pass a real test set"):
        split_real(make_blobs(n_per_class=1))


# --------------------------------------------------------------------------- random forest

def test_classifier_utility_random_forest_is_seeded_and_accurate():
    train, test = _real()
    a = classifier_utility(train, test, classifier="forest", random_state=3)
    b = classifier_utility(train, test, classifier="forest", random_state=3)
    assert a.accuracy == 1.0 and a.confusion == b.confusion
    forest = make_classifier("forest", np.repeat([0, 1], 2000), random_state=0)[-1]
    assert forest.n_jobs == 1 and forest.max_features == "sqrt"
    assert forest.max_samples == FOREST_MAX_SAMPLES  # large sets: capped bootstrap draws


def test_mlp_fits_a_tiny_wide_table():
    """60 rows x 1,000 columns, 40 of them shifted by one std in class 1: the scorecard's MLP
    must learn it (the Adam MLP with ~100 full-batch steps reached 0.60-0.71 on such tables,
    logistic regression 0.94-0.96)."""
    rng = np.random.default_rng(0)

    def table(n: int) -> FeatureSet:
        y = np.arange(n) % 2
        x = rng.standard_normal((n, 1000))
        x[:, :40] += y[:, None]
        return FeatureSet(features=x, labels=y, class_names=["a", "b"])

    train, test = table(60), table(200)
    score = classifier_utility(train, test, classifier="mlp", random_state=0, n_boot=0)
    assert score.accuracy >= 0.9
    assert make_classifier("mlp", np.repeat([0, 1], 30))[-1].solver == "lbfgs"
    assert make_classifier("mlp", np.repeat([0, 1], 2000))[-1].solver == "adam"  # large sets


def test_mlp_on_a_wide_table_learns_on_the_rows_span_with_the_same_answers():
    """Fewer rows than features: the MLP fits on the rows' principal components (a rotation,
    nothing dropped), which weight decay makes the same model as on the raw features."""
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    y = np.arange(60) % 2
    x = rng.standard_normal((260, 1500))
    x[:, :60] += 0.7 * np.r_[y, np.arange(200) % 2][:, None]
    wide = make_classifier("mlp", y, random_state=0, n_features=1500)
    assert isinstance(wide[1], PCA) and wide[1].n_components is None
    assert not any(isinstance(step, PCA) for step in
                   make_classifier("mlp", np.arange(2000) % 2, n_features=1500))
    assert not any(isinstance(step, PCA) for step in
                   make_classifier("logreg", y, n_features=1500))
    wide.fit(x[:60], y)
    assert wide[1].n_components_ == 60  # every component of the 60 training rows
    full = make_pipeline(StandardScaler(), make_classifier("mlp", y, random_state=0)[-1])
    full.fit(x[:60], y)
    same = np.mean(wide.predict(x[60:]) == full.predict(x[60:]))
    assert same >= 0.95, same


# --------------------------------------------------------------------------- per feature

def test_wasserstein_columns_matches_scipy():
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((37, 4)), rng.exponential(size=(11, 4))
    expected = [wasserstein_distance(a[:, j], b[:, j]) for j in range(4)]
    assert wasserstein_columns(a, b) == pytest.approx(expected, abs=1e-12)


def test_feature_agreement_known_spread_and_shift_with_names():
    real = _gauss(2000, 4, seed=0)
    fake = real.copy()
    fake[:, 1] *= 0.5          # half the spread
    fake[:, 3] += 2.0          # shifted by two standard deviations
    data = FeatureSet(features=real, labels=np.zeros(len(real), dtype=int),
                      attrs={"feature_names": '["age", "height", "weight", "pulse"]'})
    result = feature_agreement(data, fake)
    assert result.std_ratio == pytest.approx([1.0, 0.5, 1.0, 1.0], rel=1e-6)
    assert result.worst_spread[0] == {"feature": "height", "std_ratio": pytest.approx(0.5)}
    # W1 of a pure shift is the shift, here 2 real standard deviations (up to the sample std).
    assert result.worst_shape[0]["feature"] == "pulse"
    assert result.distance[3] == pytest.approx(2.0 / real[:, 3].std(ddof=1), rel=1e-6)
    assert result.distance[0] == pytest.approx(0.0, abs=1e-6)  # float32 storage of real rows
    assert not result.within_class  # one class: the overall spread
    assert result.share_spread_within == 0.75
    assert feature_names(make_blobs())[:2] == ["f0", "f1"]  # no names stored


def test_feature_agreement_constant_columns_of_images():
    """Images: border pixels constant on both sides agree (ratio 1, distance 0); one held-out
    row lighting a pixel that the training rows never lit is a small distance, not 18,716
    standard deviations; synthetic spread where the real rows have none is still flagged."""
    rng = np.random.default_rng(0)
    real = np.zeros((300, 6))
    real[:, 2:] = rng.uniform(0, 1, size=(300, 4))  # f0, f1: always 0 (the border)
    held = np.zeros((100, 6))
    held[:, 2:] = rng.uniform(0, 1, size=(100, 4))
    held[0, 1] = 0.5  # one border pixel lit once
    result = feature_agreement(real, held)
    assert result.std_ratio[0] == 1.0 and result.distance[0] == 0.0
    assert 0 < result.distance[1] < 0.5  # in the pooled spread, not in a floor of 1e-6
    assert result.median_std_ratio == pytest.approx(1.0, abs=0.15)
    speckled = held.copy()
    speckled[:, 0] = rng.uniform(0, 0.3, size=100)  # noise on a border that is always 0
    result = feature_agreement(real, speckled)
    assert result.worst_spread[0] == {"feature": "f0", "std_ratio": pytest.approx(
        result.std_ratio[0])} and result.std_ratio[0] > 1e3
    assert result.worst_shape[0]["feature"] == "f0"


def test_scorecard_reports_spread_and_shape_per_feature():
    real, test = _real()
    narrow = _synthetic()
    centres = np.stack([narrow.features[narrow.labels == c].mean(0) for c in range(3)])
    narrow.features = centres[narrow.labels]  # every row its class mean: spread collapses
    card = scorecard(real, {"narrow": narrow}, test, config=FAST)
    # Within classes the rows have no spread left (overall, the class means still differ).
    assert card.features["narrow"].within_class
    assert card.metric("narrow", "spread_ratio").value == pytest.approx(0.0, abs=1e-3)
    assert card.metric(REFERENCE, "spread_ratio").value == pytest.approx(1.0, abs=0.2)
    worst = card.features["narrow"].worst_spread
    assert len(worst) == 5 and worst[0]["feature"].startswith("f")
    again = Scorecard.from_dict(json.loads(json.dumps(card.to_dict())))
    assert again.features["narrow"].worst_shape == card.features["narrow"].worst_shape


# --------------------------------------------------------------------------- baseline

def test_scorecard_headline_compares_with_the_gaussian_baseline():
    real, test = _real(n_per_class=40)
    copy = real.subset(np.arange(real.n_samples))
    shifted = _synthetic(n_per_class=40)
    shifted.features = shifted.features + 0.5
    card = scorecard(real, {"copy": copy, "shifted": shifted}, test,
                     config=EvaluateConfig(classifiers=("forest",), bootstrap=20,
                                           augmentation=False))
    verdicts = [line for line in card.headline if "baseline" in line]
    assert len(verdicts) == 2
    # A copy of the real rows cannot be told from them, nor can the Gaussian's rows of these
    # tight blobs (AUC 0.40, folds up to 0.50): a tie, said with both fold ranges.
    assert verdicts[0].startswith("Synthetic set 'copy' ") and \
        "ties with it on detection AUC (0.50, folds 0.50-0.50, vs 0." in verdicts[0]
    assert "random forest accuracy" in verdicts[0]
    assert "does NOT beat a per-class Gaussian baseline on TSTR" in verdicts[1]
    assert "does NOT beat it on detection AUC" in verdicts[1]  # shifted: told apart
    assert card.metric("shifted", "baseline_tstr_accuracy", "forest").value > 0.9
    assert abs(card.metric("copy", "baseline_detection_auc").value - 0.5) > \
        abs(card.metric("copy", "detection_auc").value - 0.5)
    assert scorecard(real, {"copy": copy}, test, config=FAST).metric(
        "copy", "baseline_detection_auc") is None  # baseline=False: not run


def test_scorecard_headline_names_near_copies_of_the_training_rows():
    real, test = _real(n_per_class=40)
    rng = np.random.default_rng(3)
    copies = real.subset(np.arange(real.n_samples))
    copies.features = copies.features + 0.01 * rng.standard_normal(copies.features.shape)
    fresh = test.subset(np.arange(test.n_samples))  # rows of the distribution, not trained on
    card = scorecard(real, {"copies": copies, "fresh": fresh}, test, config=FAST)
    lines = [line for line in card.headline if "near-copies" in line]
    assert len(lines) == 1 and lines[0].startswith("copies: its rows sit 0.")
    assert "(real held-out rows: " in lines[0]
    assert card.metric("copies", "nn_distance_ratio").value < 0.7
    assert card.metric("fresh", "nn_distance_ratio").value > 0.7


def _survey(n: int, seed: int) -> FeatureSet:
    """A table of coded answers that repeats rows: 5 columns of 0/1/2, mostly 0."""
    rng = np.random.default_rng(seed)
    features = rng.choice(3, size=(n, 5), p=[0.7, 0.2, 0.1]).astype(np.float64)
    return FeatureSet(features=features, labels=(features[:, 0] > 0).astype(np.int64),
                      class_names=["no", "yes"], ids=[f"s{seed}-{i}" for i in range(n)],
                      attrs={"modality": "tabular"})


def test_copy_check_on_a_table_that_repeats_rows_compares_with_real_rows():
    """Real rows repeat (most held-out rows equal a training row), so a set drawn from the
    same table sits at 0 from a training row as often as real rows do: no near-copy line (it
    read 0.00x and "memorised" beside real rows at 0.00x). Rows that all copy training rows
    (float noise of 1e-9 on the way) are still named, and counted as copies every one (a
    threshold of 0 counted 15 %), with the real rows' figures beside theirs."""
    real, test = _survey(400, 0), _survey(200, 1)
    like = _survey(400, 2)
    rng = np.random.default_rng(3)
    copies = real.subset(rng.integers(0, real.n_samples, 400))
    copies.features = copies.features + 1e-9 * rng.standard_normal(copies.features.shape)
    card = scorecard(real, {"like": like, "copies": copies}, test, config=FAST)
    said = {line.split(":", 1)[0]: line for line in card.headline
            if "near-copies of training rows, which score well" in line}
    assert set(said) == {"copies"}
    assert ("copies: its rows repeat training rows more often than real rows do: 100% sit at "
            "copy distance") in said["copies"] and "% of real held-out rows" in said["copies"]
    assert card.metric("copies", "copy_fraction").value == 1.0
    for name in ("like", "copies", REFERENCE):  # a finite scale: nearest *different* row
        assert 0 <= card.metric(name, "nn_distance_ratio").value < 2
    assert card.copies[REFERENCE].real_repeats > 0.5


def test_baseline_verdict_compares_macro_f1_where_test_classes_are_imbalanced():
    """Five test rows of class 0 to one of classes 1 and 2: accuracy rewards a classifier
    that predicts class 0 (on arrests a near majority-class set 'beat' the Gaussian on it).
    The verdict compares macro-F1 there and says why; balanced tests keep accuracy."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])

    def rows(counts, seed):
        r = np.random.default_rng(seed)
        labels = np.repeat(np.arange(3), counts)
        return FeatureSet(features=centres[labels] + r.normal(0, 0.6, (len(labels), 2)),
                          labels=labels, class_names=["big", "mid", "small"])

    real, test = rows([250, 50, 50], 1), rows([250, 50, 50], 2)
    majority = rows([296, 2, 2], 3)
    majority.features = majority.features + rng.normal(0, 0.01, majority.features.shape)
    card = scorecard(real, {"majority": majority}, test,
                     config=EvaluateConfig(classifiers=("forest",), bootstrap=20,
                                           augmentation=False))
    verdict = next(line for line in card.headline if line.startswith("Synthetic set"))
    ours = card.metric("majority", "tstr_macro_f1", "forest").value
    theirs = card.metric("majority", "baseline_tstr_macro_f1", "forest").value
    assert (f"a per-class Gaussian baseline on TSTR (random forest macro-F1 {ours:.2f} vs "
            f"{theirs:.2f}; macro-F1 as the real test classes are imbalanced, 250 to 50 rows"
            ) in verdict
    assert ours < 0.5 < card.metric("majority", "tstr_accuracy", "forest").value


def test_near_copy_advice_follows_how_the_set_was_made():
    real, test = _real(n_per_class=40)
    rng = np.random.default_rng(3)
    sets = {}
    for name, attrs in {"mixture": {"mode": "class", "prior": "mixture"},
                        "posterior": {"mode": "class", "prior": "posterior"},
                        "pairs": {"mode": "interpolate"},
                        "smote": {"mode": "baseline:smote", "baseline": "smote"},
                        "unknown": {}}.items():
        copies = real.subset(np.arange(real.n_samples))
        copies.features = copies.features + 0.01 * rng.standard_normal(copies.features.shape)
        copies.attrs = dict(attrs)
        sets[name] = copies
    card = scorecard(real, sets, test, config=FAST)
    said = {line.split(":", 1)[0]: line for line in card.headline if "near-copies" in line}
    assert set(said) == set(sets)
    # Codes already from the mixture: it must not be told to use the mixture.
    assert "--prior-kind mixture" not in said["mixture"] and "more rows" in said["mixture"]
    assert "--prior-kind mixture" in said["posterior"] and "from the posterior" in said["posterior"]
    assert "generate --per-class" in said["pairs"]
    assert "SMOTE-style interpolation" in said["smote"] and "epochs" not in said["smote"]
    assert "--prior-kind mixture" in said["unknown"]  # no provenance: every fix


def test_scorecard_distances_on_a_table_do_not_depend_on_column_units():
    real, test = _real(n_per_class=40)
    synthetic = _synthetic(n_per_class=40, noise_seed=11)
    synthetic.features = synthetic.features + 0.3
    card = scorecard(real, {"s": synthetic}, test, config=FAST)
    # One column in other units (grams instead of kilograms): k-NN figures must not move.
    scaled = [data.subset(np.arange(data.n_samples)) for data in (real, synthetic, test)]
    for data in scaled:
        data.features = data.features.copy()
        data.features[:, 0] *= 1000.0
    card_scaled = scorecard(scaled[0], {"s": scaled[1]}, scaled[2], config=FAST)
    for metric in ("precision", "recall", "density", "coverage", "nn_distance_ratio",
                   "frechet"):
        assert card_scaled.metric("s", metric).value == pytest.approx(
            card.metric("s", metric).value, rel=1e-6), metric
    # Images (and audio) share one unit: their pixels are measured as they are.
    image = [data.subset(np.arange(data.n_samples)) for data in scaled]
    for data in image:
        data.attrs["modality"] = "image"
    card_image = scorecard(image[0], {"s": image[1]}, image[2], config=FAST)
    assert card_image.metric("s", "nn_distance_ratio").value != pytest.approx(
        card.metric("s", "nn_distance_ratio").value, rel=1e-3)


# --------------------------------------------------------------------------- leakage

def _folded(n_folds: int = 10, n_per_class: int = 40) -> FeatureSet:
    data = make_blobs(n_per_class=n_per_class)
    data.folds = np.arange(data.n_samples) % n_folds + 1
    return data


def _stored(tmp_path, name: str, data: FeatureSet) -> FeatureSet:
    return read_features(write_features(tmp_path / f"{name}.h5", data))


def test_leakage_generator_trained_on_the_test_fold_is_refused(tmp_path):
    # The regression of #12: a generator trained on every fold, evaluated on fold 10.
    real = _stored(tmp_path, "real", _folded())
    config = EvaluateConfig(classifiers=("logreg",), bootstrap=20, test_folds=(10,),
                            baseline=False)
    saw_all = _synthetic(n_per_class=20)
    saw_all.attrs["held_out_folds"] = []
    saw_all = _stored(tmp_path, "saw-all", saw_all)
    with pytest.raises(InputError, match=r"synthetic set 'gen' \(exports/gen.h5\): its "
                                         r"generator held out fold\(s\) none but the real test "
                                         r"rows \(fold\(s\) \[10\] of real.h5\) include fold\(s\) "
                                         r"\[10\] \(12 rows\).*train --test-folds 10"):
        scorecard(real, {"gen": saw_all}, config=config, sources={"gen": "exports/gen.h5"},
                  test_source="real.h5")
    smote = _synthetic(n_per_class=20)
    smote.attrs.update(held_out_folds=[], baseline="smote")
    with pytest.raises(InputError, match=r"fit the baseline with those folds left out "
                                         r"\(generate --baseline smote --test-folds 10\)"):
        scorecard(real, {"gen": _stored(tmp_path, "smote", smote)}, config=config)
    held = _synthetic(n_per_class=20)
    held.attrs["held_out_folds"] = [10]
    card = scorecard(real, {"gen": _stored(tmp_path, "held", held)}, config=config)
    assert card.real["n_test"] == 12 and not card.headline


def test_folded_data_whose_generator_held_out_rows_not_folds_is_tested_on_those_rows(
        tmp_path):
    """UrbanSound8K-style folds, extracted without --test-folds: train held out 20 % of
    each class from every fold. Evaluate with no options used to test on the last fold,
    which the generator had seen, and refuse; it now tests on the rows it left out, and
    on whole folds when those are what it left out."""
    from synth_core.training.defaults import split_indices

    real = _stored(tmp_path, "real", _folded(n_folds=4))
    fitted, held = split_indices(real.labels, 0.2, seed=3)
    share = _synthetic(n_per_class=20)
    share.seen_ids = [real.ids[i] for i in fitted]
    share.attrs.update(held_out_folds=[], train_folds=[1, 2, 3, 4])
    card = scorecard(real, {"gen": _stored(tmp_path, "share", share)}, config=FAST)
    assert card.real["n_test"] == len(held) and not card.headline
    assert any("held out rows of every fold rather than whole folds" in n and
               "train with --test-folds 4." in n for n in card.notes)
    # Whole folds left out (fold 2, not the last): those folds are the test rows.
    fold2 = _synthetic(n_per_class=20)
    fold2.seen_ids = [i for i, f in zip(real.ids, real.folds) if f != 2]
    fold2.attrs.update(held_out_folds=[2], train_folds=[1, 3, 4])
    card = scorecard(real, {"gen": _stored(tmp_path, "fold2", fold2)}, config=FAST)
    assert card.real["n_test"] == int((real.folds == 2).sum()) and not card.headline
    assert any("predefined fold(s) [2]" in n for n in card.notes)
    # A generator that saw every row is still refused on the last fold.
    every = _synthetic(n_per_class=20)
    every.seen_ids = list(real.ids)
    with pytest.raises(InputError, match=r"trained on 30 of the 30 real test rows"):
        scorecard(real, {"gen": _stored(tmp_path, "every", every)}, config=FAST)


def test_leakage_by_row_ids_is_refused_whichever_way_rows_were_split(tmp_path):
    real = _stored(tmp_path, "real", make_blobs(n_per_class=40))
    seen_all = _synthetic(n_per_class=20)
    seen_all.seen_ids = list(real.ids)  # the generator was fitted on every real row
    seen_all = _stored(tmp_path, "seen-all", seen_all)
    with pytest.raises(InputError, match=r"its generator was trained on 36 of the 36 real "
                                         r"test rows \(the 30% test split\) \(matched "
                                         r"by row id.*train --test-fraction 0.2"):
        scorecard(real, {"gen": seen_all}, config=FAST)
    # A baseline's fix is the baseline's own hold-out, not train's; the page's picker named.
    seen_all = _synthetic(n_per_class=20)
    seen_all.seen_ids = list(real.ids)
    seen_all.attrs["baseline"] = "copula"
    with pytest.raises(InputError, match=r"fit the baseline with rows held out \(generate "
                                         r"--baseline copula --test-fraction 0.2\).*\(--real-test"
                                         r", or Real test data on the Evaluate page\)$"):
        scorecard(real, {"gen": _stored(tmp_path, "baseline", seen_all)}, config=FAST)
    split = split_real(real)
    clean = _synthetic(n_per_class=20)
    clean.seen_ids = list(split.train.ids)  # fitted on the training rows only
    card = scorecard(split.train, {"gen": _stored(tmp_path, "clean", clean)}, split.test,
                     config=FAST)
    assert not card.headline


def test_leakage_unknown_provenance_is_the_first_line(tmp_path):
    real, test = _real()
    card = scorecard(real, {"anon": _stored(tmp_path, "anon", _synthetic())}, test,
                     config=EvaluateConfig(classifiers=("logreg",), bootstrap=20,
                                           augmentation=False))
    assert card.headline[0].startswith("anon: has no record of the rows its generator")
    assert "leakage of test rows into the generator cannot be ruled out" in card.headline[0]
    assert "baseline" in card.headline[1]


def test_split_real_tests_on_the_rows_no_generator_saw(tmp_path):
    real = make_blobs(n_per_class=40)
    seen = {i for k, i in enumerate(real.ids) if k % 4 != 0}  # a quarter never fitted on
    split = split_real(real, seen_ids=seen)
    assert split.test.n_samples == 30 and not set(split.test.ids) & seen
    assert "not fitted on" in split.note
    synthetic = _synthetic(n_per_class=20)
    synthetic.seen_ids = sorted(seen)
    card = scorecard(real, {"gen": _stored(tmp_path, "gen", synthetic)}, config=FAST)
    assert card.real["n_test"] == 30 and not card.headline
    assert card.real["test_source"] == "the rows the generators were not fitted on"


# --------------------------------------------------------------------------- awkward data

def _binary(n: int = 200, seed: int = 0) -> FeatureSet:
    """Two binary features, so at most 4 distinct rows; the class is the first feature."""
    features = np.random.default_rng(seed).integers(0, 2, size=(n, 2)).astype(np.float64)
    return FeatureSet(features=features, labels=features[:, 0].astype(np.int64),
                      class_names=["off", "on"], ids=[f"row-{i}" for i in range(n)])


def test_detection_fits_its_folds_to_the_distinct_rows():
    # 4 distinct rows: 5 folds that keep identical rows together cannot be made (it used to
    # end in sklearn's "n_splits=5 greater than the number of groups: 4").
    result = classifier_two_sample_test(_binary().features, _binary(seed=1).features, n_folds=5)
    assert result.n_folds == 4 and (result.n_distinct_real, result.n_distinct_fake) == (4, 4)
    assert abs(result.auc - 0.5) < 0.1  # the same four rows on both sides
    # One distinct real row: no 2 folds hold real rows on both sides, so no AUC.
    with pytest.raises(NotComputable, match=r"synthetic against real: the 200 rows compared "
                                            r"on each side hold only 1 distinct real and 4 "
                                            r"distinct synthetic row\(s\).*not computed"):
        classifier_two_sample_test(np.ones((200, 2)), _binary().features, n_folds=5)


def test_scorecard_on_few_distinct_rows_scores_every_set():
    """Data with 2 binary features (4 distinct rows) gets a whole report, its detection
    test with 4 folds and a note saying why; with a single distinct real row the AUC is
    n/a with the reason, and the rest of the report still stands."""
    real, test, synthetic = _binary(), _binary(60, seed=2), _binary(seed=1)
    card = scorecard(real, {"gen": synthetic}, test,
                     config=EvaluateConfig(classifiers=("logreg",), bootstrap=20))
    assert card.metric("gen", "detection_auc").value is not None
    assert any("fewer than 5 folds" in n and "synthetic set 'gen': 4 folds" in n
               for n in card.notes)
    assert card.metric("gen", "baseline_detection_auc").value is not None
    flat = FeatureSet(features=np.ones((60, 2)), labels=np.full(60, -1))
    rows = FeatureSet(features=np.random.default_rng(0).random((60, 2)), labels=np.full(60, -1))
    card = scorecard(flat, {"gen": rows}, flat.subset(np.arange(20)), config=FAST)
    assert card.metric("gen", "detection_auc").value is None
    assert any(n.startswith("Real-vs-synthetic AUC shown as n/a: synthetic set 'gen' against "
                            "real training set: the 60 rows compared on each side hold only 1 "
                            "distinct real") for n in card.notes)
    assert card.metric("gen", "precision") is not None
    assert "n/a" in {row["gen"] for row in card.table()}


def test_scorecard_baseline_leaves_out_a_class_of_one_row():
    """A class with one real training row: every metric is scored and the Gaussian
    baseline is fitted on the other classes, with a note (it used to refuse the report)."""
    real, test = _real(n_per_class=40)
    real = real.subset((real.labels < 2) | (np.arange(real.n_samples) == 80))
    assert np.bincount(real.labels).tolist() == [40, 40, 1]
    synthetic = _synthetic(n_per_class=30)
    card = scorecard(real, {"gen": synthetic}, test,
                     config=EvaluateConfig(classifiers=("forest",), bootstrap=20,
                                           augmentation=False))
    assert any("Gaussian baseline is fitted without class(es) 2 (class_2), which have fewer "
               "than 2 real training rows" in n and "--no-baseline" in n for n in card.notes)
    assert any("beat" in line and "baseline" in line for line in card.headline)
    assert card.metric("gen", "baseline_tstr_accuracy", "forest").value is not None
    assert card.metric("gen", "tstr_accuracy", "forest").value is not None


def test_scorecard_on_one_class_scores_the_rows_and_skips_classifiers():
    """One class (labelled): like unlabelled rows, every metric but the classifier ones, a
    note naming why and the fix (it used to refuse: 'a classifier needs rows of at least
    two classes')."""
    real, test = _real()
    real, test = real.subset(real.labels == 0), test.subset(test.labels == 0)
    real.class_names = test.class_names = ["dog"]
    synthetic = _synthetic().subset(np.arange(30))
    synthetic.class_names = ["dog"]
    card = scorecard(real, {"gen": synthetic}, test,
                     config=EvaluateConfig(classifiers=("logreg",), bootstrap=20))
    note = next(n for n in card.notes if "single class (0 (dog))" in n)
    assert "at least two classes" in note and "--label-column" in note
    assert not card.classifiers and not card.per_class
    assert not any(r.metric.startswith(("tstr", "augmented", "baseline_tstr"))
                   for r in card.metrics)
    assert card.metric("gen", "coverage").value > 0.5
    assert card.metric("gen", "baseline_detection_auc") is not None  # needs no second class
    assert card.sets == [REFERENCE, "gen"]


def test_scorecard_skips_tstr_of_a_synthetic_set_of_one_class():
    real, test = _real()
    one = _synthetic().subset(np.arange(30))  # class 0 only
    card = scorecard(real, {"one": one}, test, config=FAST)
    assert any(n.startswith("one: holds rows of a single class (0 (class_0))") for n in
               card.notes)
    assert card.metric("one", "tstr_accuracy", "logreg") is None
    assert card.metric("one", "augmented_accuracy", "logreg") is not None


def test_scorecard_leaves_out_a_reference_too_small_to_score():
    """3 real test rows (a 12-row table trained with --test-fraction 0.2): the synthetic
    set is scored on them without the reference column, and a note says how to get it
    back (it used to refuse, naming fixes that could not work)."""
    real, test = _real(n_per_class=20)
    small = test.subset(np.isin(np.arange(test.n_samples), [0, 20, 40]))
    card = scorecard(real, {"gen": _synthetic()}, small, config=FAST)
    assert card.sets == ["gen"] and card.real["n_test"] == 3
    note = next(n for n in card.notes if n.startswith("The real test set has 3 rows"))
    assert "2-fold cross-validation needs at least 4" in note and "k=" not in note
    assert "at least 4 real rows" in note and "--test-fraction" in note
    assert card.metric("gen", "tstr_accuracy", "logreg").value is not None
    # Alone, the reference is the comparison: refused, with a fix that works.
    with pytest.raises(InputError, match=r"real test set: has 3 rows; the real-vs-synthetic "
                                         r"test with 2-fold cross-validation needs at least 4; "
                                         r"pass at least 4 real test rows \(--real-test\)"):
        scorecard(real, {}, small, config=FAST)
    # Folds asked for explicitly: the fix names the value that fits.
    with pytest.raises(InputError, match=r"synthetic set 'gen': has 9 rows; the "
                                         r"real-vs-synthetic test with 5-fold.*at least 10; "
                                         r"generate at least 10 rows for it, or lower the "
                                         r"folds to 4 \(--cv-folds 4\), or leave the folds "
                                         r"unset, which fits it to the smallest set$"):
        scorecard(real, {"gen": _synthetic(n_per_class=3)}, test,
                  config=dataclasses.replace(FAST, n_folds=5))
    with pytest.raises(InputError, match=r"synthetic set 'gen': has 9 rows; k-nearest-"
                                         r".*generate at least 10 rows for it, or lower k to 8 "
                                         r"\(--k 8\) and the folds to 4 \(--cv-folds 4\), or "
                                         r"leave k and the folds unset \(on the Evaluate page: "
                                         r"k neighbours empty\), which fits them to the smallest "
                                         r"set$"):
        scorecard(real, {"gen": _synthetic(n_per_class=3)}, test,
                  config=dataclasses.replace(FAST, n_folds=5, k=9))


def test_scorecard_warns_when_test_rows_repeat_training_rows():
    """Every row five times: the held-out rows are copies of training rows under other
    ids, which the id check cannot see; the first lines say so."""
    base = make_blobs(n_per_class=12)
    rows = base.subset(np.repeat(np.arange(base.n_samples), 5))
    rows.ids = [f"row-{i}" for i in range(rows.n_samples)]
    card = scorecard(rows, {"gen": _synthetic()}, config=FAST)
    warning = next(line for line in card.headline if "exact copies" in line)
    assert warning.startswith(f"real test set (the 30% test split): {card.real['n_test']} of "
                              f"{card.real['n_test']} rows (100%) are exact copies of real "
                              "training rows")
    assert "cannot be ruled out" in warning and "drop_duplicates" in warning
    # Where the copies are, and that genuinely identical samples (a blank class) stay.
    assert "most in class(es) " in warning and "class_" in warning
    assert "if they are genuinely the same sample" in warning and "keep them" in warning
    real, test = _real()
    clean = scorecard(real, {"gen": _synthetic()}, test, config=FAST)
    assert not any("exact copies" in line for line in clean.headline + clean.notes)
    # One repeated row of many (iris has one): said in the notes, not among the warnings.
    one = test.subset(np.arange(test.n_samples))
    one.features[0] = real.features[0]
    few = scorecard(real, {"gen": _synthetic()}, one, config=FAST)
    assert not any("exact copies" in line for line in few.headline)
    assert any(f"1 of {test.n_samples} rows" in line and "exact copies" in line
               for line in few.notes)


def test_stratified_split_with_more_classes_than_test_rows_names_the_share():
    """300 classes of 3 rows: a 30 % test share is 270 rows, fewer than the classes. The
    message says so and names a share that works (scikit-learn's own text was passed on)."""
    data = FeatureSet(features=np.random.default_rng(0).normal(size=(900, 4)),
                      labels=np.repeat(np.arange(300), 3))
    with pytest.raises(InputError, match=r"leaves 270 test rows for 300 classes.*at least 0\.34"):
        stratified_split(data, test_size=0.3, random_state=0)
    train, test = stratified_split(data, test_size=0.34, random_state=0)
    assert len(np.unique(test.labels)) == 300 and len(np.unique(train.labels)) == 300
    with pytest.raises(InputError, match=r"leaves 270 training rows.*at most 0\.66"):
        stratified_split(data, test_size=0.7, random_state=0)


def test_copy_figures_give_the_figure_that_judged():
    """Few repeats (chickwts: 7 % of rows): the median ratio judges and is given, with the
    training rows' own figures; most rows repeating (arrests): the share at copy distance."""
    from synth_core.evaluation.metrics import CopyCheck, copy_figures, near_copies

    few = CopyCheck(0.28, 1.0, 0.1, 0.01, 88, 0.88, [], [], real_repeats=0.07,
                    real_self_ratio=0.93, real_self_fraction_flagged=0.10)
    assert near_copies(few)
    assert copy_figures(few) == (
        "its rows sit 0.28x as far from their nearest training row as training rows are from "
        "their nearest other one, and 88% are closer than 99 % of those pairs (the training "
        "rows themselves, 7% of which repeat another: 0.93x, 10%)")
    most = CopyCheck(0.0, 1.0, 0.1, 0.01, 83, 0.83, [], [], real_repeats=0.65,
                     real_self_ratio=0.0, real_self_fraction_flagged=0.71)
    assert near_copies(most)  # 17 % new rows against 29 %: below 0.7 of it
    assert copy_figures(most).startswith(
        "its rows repeat training rows more often than real rows do: 83% sit at copy distance")
