"""benchmarks/peers.py, the optional outside generators of quality.py (SDV's TVAE): never in
the default set, a clear install line when SDV is missing, and the class filling used when
conditional sampling fails. None of these needs SDV."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.bench_scripts import load_benchmark

quality = load_benchmark("quality")
peers = load_benchmark("peers")


def test_tvae_is_run_only_when_named():
    assert "tvae" not in {g.name for g in quality.all_generators()}
    assert "tvae" not in quality.FOLD_GENERATORS
    named = {g.name: g for g in quality.all_generators(peers=True)}
    assert named["tvae"].peer == "tvae" and not named["tvae"].model


def test_missing_sdv_says_how_to_install_it(monkeypatch):
    for name in [m for m in sys.modules if m == "sdv" or m.startswith("sdv.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sdv", None)  # import sdv -> ImportError
    with pytest.raises(SystemExit, match="pip install sdv"):
        peers.require_sdv()
    with pytest.raises(SystemExit, match="pip install sdv"):
        quality._peers().require_sdv()


def test_fill_classes_takes_each_class_from_unconditional_batches():
    rng = np.random.default_rng(0)
    calls = []

    def draw(n):  # class 2 is rare: about 5 % of the rows
        calls.append(n)
        y = rng.choice(3, size=n, p=[0.6, 0.35, 0.05])
        return np.c_[y, rng.standard_normal(n)].astype(float), y

    counts = {0: 30, 1: 20, 2: 10}
    X, y = peers.fill_classes(draw, counts, batch=60)
    assert np.bincount(y).tolist() == [30, 20, 10]
    np.testing.assert_array_equal(X[:, 0], y)  # every row kept with its own class
    assert len(calls) > 1  # the rare class needed more than one batch
    with pytest.raises(RuntimeError, match="short"):
        peers.fill_classes(lambda n: (np.zeros((n, 1)), np.zeros(n, dtype=int)), {0: 1, 1: 1},
                           batch=10, max_batches=3)
