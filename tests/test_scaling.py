"""Feature transforms: min-max, standardisation, quantile-to-normal; inverse, JSON, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from synth_core.errors import InputError
from synth_core.data.scaling import (MinMaxScaling, QuantileNormal, Standardisation,
                                     load_transform, make_transform, transform_from_dict)


def test_scaling_range_and_inverse(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(5, 3, size=(50, 4))
    X[:, 2] = 7.0  # constant column
    scaler = MinMaxScaling().fit(X)
    Z = scaler.transform(X)
    assert Z.min() >= 0 and Z.max() <= 1
    np.testing.assert_allclose(Z[:, 2], 0.0)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X, rtol=1e-5, atol=1e-5)
    scaler.save(tmp_path / "s.json")
    again = MinMaxScaling.load(tmp_path / "s.json")
    np.testing.assert_allclose(again.transform(X), Z)


def test_scaling_refuses_nan_and_width():
    with pytest.raises(InputError, match="NaN"):
        MinMaxScaling().fit(np.array([[np.nan, 1.0]]))
    scaler = MinMaxScaling().fit(np.zeros((3, 2)))
    with pytest.raises(InputError, match="3 features but the minmax transform was fitted on 2"):
        scaler.transform(np.zeros((1, 3)))


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 6)),
              elements=st.floats(-1e6, 1e6, allow_nan=False)))
def test_scaling_inverse_property(X):
    scaler = MinMaxScaling().fit(X)
    Z = scaler.transform(X)
    assert np.all(Z >= -1e-5) and np.all(Z <= 1 + 1e-5)
    span = np.maximum(X.max(0) - X.min(0), 1.0)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X, atol=1e-5 * span.max() + 1e-3)


def _skewed(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.exponential(2.0, n), rng.normal(10, 3, n),
                         np.r_[rng.normal(-5, 1, n // 2), rng.normal(5, 1, n - n // 2)],
                         np.full(n, 4.0)])  # skewed, normal, bimodal, constant
    return X


@pytest.mark.parametrize("kind", ["minmax", "standard", "quantile", "quantile-hazen"])
def test_transforms_invert_and_survive_json(kind, tmp_path):
    import json

    X = _skewed()
    transform = make_transform(kind).fit(X)
    Z = transform.transform(X)
    np.testing.assert_allclose(transform.inverse_transform(Z), X, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(Z[:, 3], 0.0, atol=1e-6)  # constant column -> 0
    restored = transform_from_dict(json.loads(json.dumps(transform.to_dict())))
    assert type(restored) is type(transform)
    np.testing.assert_allclose(restored.transform(X), Z, atol=1e-6)
    transform.save(tmp_path / "t.json")
    np.testing.assert_allclose(load_transform(tmp_path / "t.json").inverse_transform(Z),
                               transform.inverse_transform(Z), atol=1e-6)


def test_standardisation_gives_zero_mean_unit_std():
    Z = Standardisation().fit(_skewed()).transform(_skewed())
    np.testing.assert_allclose(Z[:, :3].mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Z[:, :3].std(0), 1.0, atol=1e-5)


def test_quantile_normal_makes_skewed_columns_gaussian():
    from scipy import stats

    X = _skewed()
    Z = QuantileNormal().fit(X).transform(X)
    assert abs(stats.skew(X[:, 0])) > 1.5          # exponential: skewed
    assert abs(stats.skew(Z[:, 0])) < 0.1 and abs(np.median(Z[:, 2])) < 0.1
    assert np.abs(Z[:, 0]).max() < 6               # bounded normal scores, no infinities


def test_transform_files_without_kind_are_minmax_and_unknown_kinds_refused():
    old = {"data_min": [0.0, 1.0], "data_max": [2.0, 3.0]}  # scaler.json before transforms
    assert isinstance(transform_from_dict(old), MinMaxScaling)
    with pytest.raises(InputError, match="unknown feature transform 'log'"):
        transform_from_dict({"kind": "log"})
    with pytest.raises(InputError, match="transform: unknown feature transform"):
        make_transform("robust")


@pytest.mark.parametrize("kind", ["minmax", "standard", "quantile", "quantile-hazen"])
def test_fit_domain_rounds_whole_number_columns_and_survives_json(kind):
    from synth_core.data.scaling import make_transform, transform_from_dict

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 17, 200),          # pixel-like 0..16
                         rng.normal(size=200),              # continuous: left alone
                         rng.integers(0, 2, 200),           # a 0/1 flag
                         np.full(200, 3.0)])                # constant: nothing to round
    t = make_transform(kind).fit(X).fit_domain(X)
    assert t.integer_columns_.tolist() == [0, 2]
    Z = t.transform(X) + 0.3 * rng.standard_normal(X.shape)  # generated = real + noise
    for fitted in (t, transform_from_dict(json.loads(json.dumps(t.to_dict())))):
        back = fitted.inverse_transform(Z)
        assert np.array_equal(back[:, [0, 2]], np.round(back[:, [0, 2]]))
        assert back[:, 0].min() >= 0 and back[:, 0].max() <= 16
        assert set(np.unique(back[:, 2])) <= {0.0, 1.0}
        assert not np.array_equal(back[:, 1], np.round(back[:, 1]))
    # Without fit_domain (feature files' /scaler, older runs) nothing is rounded.
    plain = make_transform(kind).fit(X)
    assert "integer_columns" not in plain.to_dict()
    col = plain.inverse_transform(Z)[:, 0]
    assert not np.array_equal(col, np.round(col))


def test_quantile_transform_matches_scikit_learn_column_by_column():
    from sklearn.preprocessing import QuantileTransformer

    from synth_core.data.scaling import QuantileNormal

    rng = np.random.default_rng(1)
    X = np.column_stack([rng.exponential(size=300), rng.integers(0, 5, 300),  # skewed; repeats
                         rng.normal(size=300), np.full(300, 2.0)])
    ours = QuantileNormal().fit(X)
    sk = QuantileTransformer(n_quantiles=300, output_distribution="normal", subsample=None).fit(X)
    probe = np.vstack([X, X.min(0) - 1, X.max(0) + 1])                       # past both ends
    expect = sk.transform(probe)
    expect[:, 3] = 0.0                                                       # constant column
    np.testing.assert_allclose(ours.transform(probe), expect, atol=1e-5)
    Z = rng.normal(size=(50, 4)) * 3
    back = sk.inverse_transform(Z)
    back[:, 3] = 2.0
    np.testing.assert_allclose(ours.inverse_transform(Z), back, rtol=1e-5, atol=1e-5)


def test_quantile_hazen_puts_training_rows_at_plotting_positions():
    from scipy.stats import norm

    from synth_core.data.scaling import QuantileNormalHazen

    X = np.array([[3.0], [1.0], [4.0], [2.0]])
    t = make_transform("quantile-hazen").fit(X)
    assert isinstance(t, QuantileNormalHazen)
    ends = norm.ppf([0.125, 0.875])
    np.testing.assert_allclose(t.transform(np.array([[1.0], [2.0], [3.0], [4.0]]))[:, 0],
                               norm.ppf([0.125, 0.375, 0.625, 0.875]), atol=1e-6)
    # Past the training range: the end positions on the way in, min / max on the way back.
    np.testing.assert_allclose(t.transform(np.array([[-7.0], [40.0]]))[:, 0], ends, atol=1e-6)
    np.testing.assert_allclose(t.inverse_transform(np.array([[-9.0], [9.0], [0.0]]))[:, 0],
                               [1.0, 4.0, 2.5], atol=1e-5)
    np.testing.assert_allclose(t.inverse_transform(t.transform(X)), X, atol=1e-5)
    # Ties take the middle of their positions: 0 in rows 1-2 of 4 -> (0.125 + 0.375) / 2.
    tied = make_transform("quantile-hazen").fit(np.array([[0.0], [0.0], [5.0], [7.0]]))
    np.testing.assert_allclose(tied.transform(np.array([[0.0]]))[0, 0], norm.ppf(0.25),
                               atol=1e-6)


def test_quantile_hazen_tails_shrink_with_rows_and_survive_json():
    from scipy.stats import norm

    from synth_core.data.scaling import MAX_QUANTILES

    rng = np.random.default_rng(0)
    small = rng.normal(size=(50, 3))
    Z = make_transform("quantile-hazen").fit(small).transform(small)
    np.testing.assert_allclose(np.abs(Z).max(axis=0), norm.ppf(1 - 0.5 / 50), atol=1e-5)
    assert np.all(np.abs(Z.std(axis=0) - 1) < 0.05)  # scikit-learn's bounds give 1.38
    assert np.abs(make_transform("quantile").fit(small).transform(small)).max() > 5
    big = rng.exponential(size=(3 * MAX_QUANTILES, 2))  # more rows than quantiles kept
    t = make_transform("quantile-hazen").fit(big)
    assert t.quantiles_.shape == (MAX_QUANTILES, 2)
    Zb = t.transform(big)
    np.testing.assert_allclose([Zb.min(), Zb.max()], norm.ppf([0.5 / 3000, 1 - 0.5 / 3000]),
                               atol=1e-5)
    restored = transform_from_dict(json.loads(json.dumps(t.to_dict())))
    assert restored.kind == "quantile-hazen"
    np.testing.assert_array_equal(restored.transform(big), Zb)


def test_quantile_transform_saved_by_older_versions_loads_identically():
    # scaler.json of a run written before quantile-hazen existed (fitted on 5 rows with ties),
    # and what that version's transform / inverse_transform gave for these probes.
    state = {"kind": "quantile",
             "quantiles": [[0.0, 10.0], [1.0, 10.0], [1.0, 20.0], [4.0, 30.0], [9.0, 50.0]],
             "references": [0.0, 0.25, 0.5, 0.75, 1.0]}
    probe = np.array([[0.0, 10.0], [1.0, 20.0], [2.5, 35.0], [9.0, 50.0], [-1.0, 60.0]])
    b, m = 5.199337482452393, 0.3186393678188324
    expect = [[-b, -b], [-m, 0.0], [m, 0.887146532535553], [b, b], [-b, b]]
    Z = np.array([[-6.0, 0.0], [-0.5, 0.3], [0.2, 1.0], [6.0, -1.0]])
    expect_back = [[0.0, 20.0], [1.0, 24.71645736694336], [1.9511165618896484, 37.30757904052734],
                   [9.0, 10.0]]
    t = transform_from_dict(state)
    assert type(t) is QuantileNormal
    np.testing.assert_allclose(t.transform(probe), expect, atol=1e-6)
    np.testing.assert_allclose(t.inverse_transform(Z), expect_back, rtol=1e-6)
    assert t.to_dict() == state
