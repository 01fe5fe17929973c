"""Min-max scaling: [0, 1] range, exact inverse, constant columns, persistence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from synth_core.errors import InputError
from synth_core.data.scaling import MinMaxScaling


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
    with pytest.raises(InputError, match="3 features but the scaler was fitted on 2"):
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
