"""Baseline generators: known answers for each model, errors, provenance."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from synth_core.errors import InputError
from synth_core.features import FeatureSet, read_features, write_features
from synth_core.generation.baselines import (BASELINES, CopulaBaseline, GaussianBaseline,
                                             baseline_feature_set, class_counts, fit_baseline,
                                             fit_rows, split_counts)


def _two_classes(rng: np.random.Generator, n: int = 40, d: int = 3):
    X = np.vstack([rng.normal(0.0, 1.0, (n, d)), rng.normal(5.0, 1.0, (n, d))])
    y = np.r_[np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)]
    return X, y


def test_gaussian_recovers_mean_and_covariance():
    rng = np.random.default_rng(0)
    mean = np.array([1.0, -2.0, 0.5])
    A = rng.normal(size=(3, 3))
    cov = A @ A.T + 0.5 * np.eye(3)
    X = rng.multivariate_normal(mean, cov, size=20_000)
    model = fit_baseline("gaussian", X)
    np.testing.assert_allclose(model.mean(-1), mean, atol=0.06)
    np.testing.assert_allclose(model.covariance(-1), cov, atol=0.12 * np.abs(cov).max())
    X_new, y_new = model.sample({-1: 20_000}, random_state=1)
    assert (y_new == -1).all()
    np.testing.assert_allclose(X_new.mean(axis=0), mean, atol=0.08)
    np.testing.assert_allclose(np.cov(X_new.T), cov, atol=0.15 * np.abs(cov).max())


def test_gaussian_singular_covariance_few_rows_many_features():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 50))
    X[:, 7] = 3.0  # constant features: must stay exactly constant, not gain noise
    X[:, 8] = 0.0
    X[:, 9] = 0.1
    y = np.r_[0, 0, 0, 1, 1, 1]
    X_new, y_new = fit_baseline("gaussian", X, y).sample({0: 30, 1: 20}, random_state=0)
    assert X_new.shape == (50, 50) and np.isfinite(X_new).all()
    assert np.bincount(y_new).tolist() == [30, 20]
    assert (X_new[:, 7] == 3.0).all() and (X_new[:, 8] == 0.0).all()
    assert (X_new[:, 9] == 0.1).all()
    # Rows vary (the ridge and the class spread), they are not copies of the mean.
    varying = ~np.isin(np.arange(50), [7, 8, 9])
    assert X_new[y_new == 0].std(axis=0).min(where=varying, initial=np.inf) > 0


def test_copula_keeps_marginal_quantiles_and_rank_correlation():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(2)
    n = 4000
    z = rng.multivariate_normal([0, 0], [[1.0, 0.8], [0.8, 1.0]], size=n)
    # Skewed and bimodal marginals with a strong monotone dependence.
    X = np.column_stack([np.exp(z[:, 0]), np.where(z[:, 1] > 0, 10 + z[:, 1], -10 + z[:, 1])])
    model = fit_baseline("copula", X)
    X_new, _ = model.sample(n, random_state=3)
    qs = [0.1, 0.25, 0.5, 0.75, 0.9]
    for j in range(2):
        real_q, new_q = np.quantile(X[:, j], qs), np.quantile(X_new[:, j], qs)
        spread = np.quantile(X[:, j], 0.95) - np.quantile(X[:, j], 0.05)
        np.testing.assert_allclose(new_q, real_q, atol=0.05 * spread)
        assert X[:, j].min() <= X_new[:, j].min() and X_new[:, j].max() <= X[:, j].max()
    rho_real = spearmanr(X[:, 0], X[:, 1]).statistic
    rho_new = spearmanr(X_new[:, 0], X_new[:, 1]).statistic
    assert abs(rho_new - rho_real) < 0.06
    # The shrinkage is what the parameter says: full shrinkage makes features independent.
    X_ind, _ = CopulaBaseline(shrinkage=1.0).fit(X).sample(n, random_state=3)
    assert abs(spearmanr(X_ind[:, 0], X_ind[:, 1]).statistic) < 0.06


def _distance_to_segment(x, a, b):
    d = b - a
    t = np.clip(np.dot(x - a, d) / max(np.dot(d, d), 1e-300), 0.0, 1.0)
    return np.linalg.norm(x - (a + t * d))


def test_smote_rows_lie_on_segments_between_same_class_rows():
    rng = np.random.default_rng(4)
    X, y = _two_classes(rng, n=6, d=3)
    X_new, y_new = fit_baseline("smote", X, y, k_neighbors=3).sample({0: 15, 1: 10},
                                                                      random_state=0)
    assert np.bincount(y_new).tolist() == [15, 10]
    for x, label in zip(X_new, y_new):
        best = min((_distance_to_segment(x, X[i], X[j]), y[i], y[j])
                   for i in range(len(X)) for j in range(len(X)) if i < j)
        assert best[0] < 1e-9 and best[1] == best[2] == label


def test_smote_two_rows_per_class_uses_the_one_segment():
    X = np.array([[0.0, 0.0], [1.0, 2.0], [5.0, 5.0], [6.0, 5.0]])
    y = np.array([0, 0, 1, 1])
    X_new, y_new = fit_baseline("smote", X, y).sample({0: 5}, random_state=0)
    assert (y_new == 0).all()
    np.testing.assert_allclose(X_new[:, 1], 2.0 * X_new[:, 0])
    assert ((X_new[:, 0] >= 0) & (X_new[:, 0] <= 1)).all()


@pytest.mark.parametrize("kind", sorted(BASELINES))
def test_baseline_sample_is_seeded(kind):
    X, y = _two_classes(np.random.default_rng(5), n=10)
    model = fit_baseline(kind, X, y)
    a, _ = model.sample({0: 4, 1: 4}, random_state=7)
    b, _ = model.sample({0: 4, 1: 4}, random_state=7)
    c, _ = model.sample({0: 4, 1: 4}, random_state=8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("kind", sorted(BASELINES))
def test_baseline_one_row_per_class_is_refused(kind):
    X = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    with pytest.raises(InputError, match=r"at least 2 rows per class.*class 1: 1 row"):
        fit_baseline(kind, X, [0, 0, 1])


def test_baseline_bad_inputs_name_the_problem():
    X, y = _two_classes(np.random.default_rng(6), n=5)
    with pytest.raises(InputError, match="baseline 'vae' is unknown"):
        fit_baseline("vae", X, y)
    with pytest.raises(InputError, match="not fitted yet"):
        GaussianBaseline().sample({0: 1})
    with pytest.raises(InputError, match="class 3"):
        fit_baseline("gaussian", X, y).sample({3: 2})
    with pytest.raises(InputError, match="count for class 0"):
        fit_baseline("gaussian", X, y).sample({0: -1})
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        fit_baseline("copula", bad, y)
    with pytest.raises(InputError, match="y has 3 labels"):
        fit_baseline("smote", X, [0, 1, 0])
    with pytest.raises(InputError, match="mixes"):
        fit_baseline("gaussian", X, np.r_[y[:-1], -1])
    with pytest.raises(InputError, match="random_state"):
        fit_baseline("gaussian", X, y, random_state=-1)
    with pytest.raises(InputError, match="ridge"):
        fit_baseline("gaussian", X, y, ridge=-0.1)
    with pytest.raises(InputError, match="k_neighbors"):
        fit_baseline("smote", X, y, k_neighbors=0)


def test_split_counts_follows_class_balance():
    assert split_counts(10, {0: 30, 1: 10}) == {0: 8, 1: 2}
    assert sum(split_counts(7, {0: 1, 1: 1, 2: 1}).values()) == 7
    X, y = _two_classes(np.random.default_rng(7), n=8)
    _, y_new = fit_baseline("gaussian", X, y).sample(6, random_state=0)
    assert np.bincount(y_new).tolist() == [3, 3]


def test_baseline_feature_set_provenance_and_train_rows(tmp_path):
    rng = np.random.default_rng(8)
    X, y = _two_classes(rng, n=10, d=2)
    folds = np.r_[np.arange(10) % 5 + 1, np.arange(10) % 5 + 1]
    X[folds == 5] += 100.0  # held-out fold far away: anything fitted on it would show
    data = FeatureSet(features=X, labels=y, class_names=["a", "b"],
                      ids=[f"clip{i}" for i in range(20)], folds=folds,
                      attrs={"dataset": "toy", "feature_shape": [2]})
    train = np.flatnonzero(folds != 5)
    out = baseline_feature_set(data, "smote", {0: 6, 1: 4}, train_rows=train, random_state=3)
    assert out.n_samples == 10 and out.class_names == ["a", "b"]
    assert np.abs(out.features).max() < 50  # nothing from the held-out fold
    assert out.attrs["mode"] == "baseline:smote" and out.attrs["seed"] == 3
    assert out.attrs["source_dataset"] == "toy" and out.attrs["held_out_folds"] == [5]
    assert out.attrs["n_train_rows"] == len(train) and out.attrs["feature_shape"] == [2]
    if "seen_ids" in {f.name for f in fields(FeatureSet)}:
        assert out.seen_ids == [f"clip{i}" for i in train]
    path = write_features(tmp_path / "g.h5", out)
    back = read_features(path)
    assert back.attrs["held_out_folds"] == [5] and back.attrs["mode"] == "baseline:smote"


def test_baseline_feature_set_unlabelled_and_errors():
    X = np.random.default_rng(9).normal(size=(12, 3))
    data = FeatureSet(features=X, labels=np.full(12, -1))
    out = baseline_feature_set(data, "copula", 5, random_state=0)
    assert out.n_samples == 5 and (out.labels == -1).all()
    assert out.attrs["held_out_folds"] == []
    with pytest.raises(InputError, match="train_rows holds row 40"):
        baseline_feature_set(data, "gaussian", 5, train_rows=[0, 1, 40])
    with pytest.raises(InputError, match="0 rows"):
        baseline_feature_set(data, "gaussian", 0)


def test_fit_rows_and_class_counts():
    data = FeatureSet(features=np.zeros((6, 2)), labels=[0, 0, 1, 1, 2, 2],
                      class_names=["a", "b", "c"], folds=[1, 2, 1, 2, 1, 2],
                      attrs={"test_folds": [2]})
    np.testing.assert_array_equal(fit_rows(data), [0, 2, 4])  # the recorded test folds
    np.testing.assert_array_equal(fit_rows(data, []), np.arange(6))  # 6 rows: none to spare
    with pytest.raises(InputError, match="hold every row"):
        fit_rows(data, [1, 2])
    with pytest.raises(InputError, match="either test folds or a test fraction"):
        fit_rows(data, [2], 0.2)
    assert class_counts(data, np.arange(6), 4) == {0: 4, 1: 4, 2: 4}
    assert class_counts(data, np.arange(6), 3, ["c", "0"]) == {2: 3, 0: 3}
    with pytest.raises(InputError, match="class 'z'"):
        class_counts(data, np.arange(6), 3, ["z"])


def test_fit_rows_leave_out_the_rows_train_holds_out():
    """Without test folds a baseline fits on the rows `train` learns from by default and
    leaves out the same never-seen rows, so Evaluate can test both on them."""
    from synth_core.training.config import TrainConfig
    from synth_core.training.defaults import plan_training

    labels = np.repeat([0, 1, 2], [40, 30, 4])
    data = FeatureSet(features=np.zeros((74, 2)), labels=labels, class_names=["a", "b", "c"])
    plan = plan_training(data, TrainConfig(model="vae"))
    rows = fit_rows(data)
    np.testing.assert_array_equal(rows, plan.seen_index)
    held = np.setdiff1d(np.arange(74), rows)
    assert np.bincount(labels[held], minlength=3).tolist() == [8, 6, 0]  # 20 %; class c whole
    np.testing.assert_array_equal(fit_rows(data, [], 0), np.arange(74))
    assert len(fit_rows(data, [], 0.5)) == 20 + 15 + 2
    with pytest.raises(InputError, match="share of the rows"):
        fit_rows(data, [], 1.0)


# --------------------------------------------------------------------------- CLI and page


def _cli(capsys, root, *args):
    import json

    from synth_core.cli import main

    code = main(["--workspace", str(root), "--json", "-q", "generate", *map(str, args)])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else {}), captured.err


def test_cli_generate_baseline_without_a_run(tmp_path, capsys):
    rng = np.random.default_rng(10)
    X, y = _two_classes(rng, n=12, d=4)
    folds = np.tile([1, 2, 3], 8)
    write_features(tmp_path / "real.h5", FeatureSet(features=X, labels=y, folds=folds,
                                                    class_names=["lo", "hi"]))
    code, summary, err = _cli(capsys, tmp_path / "ws", "--baseline", "gaussian", "--data",
                              tmp_path / "real.h5", "--out", tmp_path / "g.h5",
                              "--per-class", 5, "--classes", "hi", "--test-folds", 3,
                              "--seed", 2)
    assert code == 0, err
    assert summary["n_samples"] == 5 and summary["classes"] == [1]
    assert summary["mode"] == "baseline:gaussian" and summary["held_out_folds"] == [3]
    assert summary["n_train_rows"] == 8  # the rows of class hi outside fold 3: fitted on
    out = read_features(tmp_path / "g.h5")
    assert (out.labels == 1).all() and out.attrs["seed"] == 2 and out.class_names == ["lo", "hi"]


@pytest.mark.parametrize("args, message", [
    (["--baseline", "smote", "--per-class", 3], "needs the real rows"),
    (["--baseline", "smote", "--data", "builtin:digits", "--prior", 3], "--per-class N"),
    (["--baseline", "copula", "--data", "builtin:digits", "--per-class", 3,
      "--test-folds", 1], "has no folds"),
    (["--per-class", 3], "needs --run"),
])
def test_cli_generate_baseline_bad_input_exits_2(tmp_path, capsys, args, message):
    code, _, err = _cli(capsys, tmp_path / "ws", "--out", tmp_path / "bad.h5", *args)
    assert code == 2 and message in err
    assert not (tmp_path / "bad.h5").exists()


def test_page_generate_baseline_without_a_run(workspace):
    from tests.conftest import app_test

    at = app_test("pages/4_Generate.py").run()
    at.radio(key="gen-source").set_value("Baseline").run()
    assert not at.exception, [e.value for e in at.exception]
    at.radio(key="gen-baseline-kind").set_value("copula")
    at.number_input(key="gen-baseline-count").set_value(3)
    at.button(key="gen-baseline-go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "30 rows from the Gaussian copula per class baseline" in at.subheader[0].value
    # The embedded digits (1,797 rows): 20 % of each class left out, as train leaves them.
    fitted = [c.value for c in at.caption if c.value.startswith("Fitted on")]
    assert fitted and "left out for Evaluate" in fitted[0] and "of the 1,797" in fitted[0]
    at.button(key="gen-baseline-save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = sorted(workspace.exports_dir.glob("*.h5"))
    assert len(saved) == 1
    rows = read_features(saved[0])
    assert rows.n_samples == 30 and rows.attrs["mode"] == "baseline:copula"
    assert np.bincount(rows.labels).tolist() == [3] * 10


def test_cli_baseline_with_no_options_is_evaluated_on_rows_it_never_saw(tmp_path, capsys):
    """`generate --baseline` then `evaluate` with no options: the baseline left out the rows
    train holds out, so evaluate tests on those instead of refusing a generator that saw
    every real row."""
    import json

    from synth_core.cli import main

    rng = np.random.default_rng(3)
    X, y = _two_classes(rng, n=40, d=4)
    csv = tmp_path / "two.csv"
    csv.write_text("a,b,c,d,label\n" + "".join(
        ",".join(f"{v:.4f}" for v in row) + f",{c}\n" for row, c in zip(X, y)))
    base = ["--workspace", str(tmp_path / "ws"), "--json", "-q"]
    assert main([*base, "import", "--input", str(csv), "--out", "two"]) == 0
    capsys.readouterr()
    code, summary, err = _cli(capsys, tmp_path / "ws", "--baseline", "gaussian", "--data", "two",
                              "--per-class", 40, "--out", "g")
    assert code == 0, err
    assert summary["n_held_out_rows"] == 16 and summary["n_train_rows"] == 64
    code = main([*base, "evaluate", "--real-train", "two", "--synthetic", "g",
                 "--classifiers", "logreg"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    card = json.loads(captured.out.strip().splitlines()[-1])
    assert card["real_test_rows"] == 16


def test_fittable_counts_leaves_out_only_classes_too_small_and_never_all():
    from synth_core.generation.baselines import fittable_counts

    data = FeatureSet(features=np.zeros((5, 2)), labels=np.array([0, 0, 0, 1, 2]),
                      class_names=["a", "b", "c"])
    rows = np.arange(5)
    counts, warning = fittable_counts(data, rows, {0: 4, 1: 4, 2: 4}, "smote")
    assert counts == {0: 4} and warning.startswith("class(es) b (1 row(s)), c (1 row(s)) left")
    assert fittable_counts(data, rows, {0: 4}, "gaussian") == ({0: 4}, None)
    # Every class too small: nothing is left to draw, so the baseline's own refusal speaks.
    assert fittable_counts(data, np.array([0, 3]), {0: 1, 1: 1}, "copula") == ({0: 1, 1: 1},
                                                                                None)
