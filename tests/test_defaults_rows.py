"""Derived training defaults that count the rows, not only the features (training/defaults.py).

A table with far more features than rows (the leukemia-like 50 x 7,129 of
``benchmarks/quality.py --augmentation``) gets no validation share when 10 % would
be under 10 rows, and a CVAE latent bounded by its smallest class; a table with
rows to spare keeps the feature-derived values, and explicit values or presets
are never changed.
"""

from __future__ import annotations

import numpy as np
import pytest

from synth_core.features import FeatureSet
from synth_core.training.config import PRESETS, TrainConfig
from synth_core.training.defaults import (
    MIN_VALIDATION_ROWS,
    ROWS_PER_CODE_UNIT,
    derive_latent_dim,
    derive_val_fraction,
    plan_training,
)


def _table(n_per_class: tuple[int, ...], n_features: int, seed: int = 0) -> FeatureSet:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(n_per_class)), n_per_class)
    features = rng.standard_normal((len(labels), n_features)) + labels[:, None]
    return FeatureSet(features=features, labels=labels,
                      class_names=[f"c{i}" for i in range(len(n_per_class))],
                      attrs={"modality": "tabular"})


@pytest.fixture
def wide() -> FeatureSet:
    """p >> n: 50 rows (33 + 17) x 600 features, like the 70 % a leukemia seed trains on."""
    return _table((33, 17), 600)


@pytest.fixture
def tall() -> FeatureSet:
    """Rows to spare: 300 rows (3 x 100) x 30 features."""
    return _table((100, 100, 100), 30)


def test_the_rules_take_the_rows():
    assert MIN_VALIDATION_ROWS == 10 and ROWS_PER_CODE_UNIT == 4
    # Validation only when 10 % is at least 10 rows (and every class has 10).
    assert [derive_val_fraction(n, 30) for n in (50, 90, 100, 1000)] == [0.0, 0.0, 0.1, 0.1]
    assert derive_val_fraction(1000, 9) == 0.0
    # The feature rule alone, as before; the smallest class caps it at rows // 4, not below 2.
    assert derive_latent_dim(7129) == 16 and derive_latent_dim(30) == 7
    assert [derive_latent_dim(7129, r) for r in (17, 12, 5, 1, 64, 10_000)] == \
        [4, 3, 2, 2, 16, 16]
    assert derive_latent_dim(30, 17) == 4 and derive_latent_dim(30, 100) == 7
    assert derive_latent_dim(1, 100) == 1  # never above the features


def test_wide_table_no_validation_and_a_cvae_latent_bounded_by_its_smallest_class(wide):
    cvae = plan_training(wide, TrainConfig(model="cvae", test_fraction=0.0))
    assert cvae.derived == {"test_folds": [], "val_fraction": 0.0, "batch_size": 8,
                            "latent_dim": 4, "hidden": [512]}
    assert cvae.val_index.size == 0 and cvae.train_index.size == 50
    assert "5 validation rows, too few to stop on" in cvae.notes["val_fraction"]
    assert "17 training rows in the smallest class" in cvae.notes["latent_dim"]
    assert "latent_dim 4 (17 training rows in the smallest class" in cvae.caption()
    # The VAE keeps the feature-derived latent: its code has to carry the class.
    vae = plan_training(wide, TrainConfig(model="vae", test_fraction=0.0))
    assert vae.derived["latent_dim"] == 16 and vae.derived["val_fraction"] == 0.0
    assert vae.notes["latent_dim"] == "600 features"
    # With the default 20 % test share, the bound follows the rows left (13 in the class).
    held = plan_training(wide, TrainConfig(model="cvae"))
    assert held.derived["test_fraction"] == 0.2 and held.derived["latent_dim"] == 3


def test_tall_table_keeps_the_feature_derived_values(tall):
    for model in ("vae", "cvae"):
        plan = plan_training(tall, TrainConfig(model=model))
        assert plan.derived == {"test_folds": [], "test_fraction": 0.2, "val_fraction": 0.1,
                                "batch_size": 32, "latent_dim": 7, "hidden": [256]}
        assert plan.val_index.size == 24
        assert plan.notes["latent_dim"] == "30 features"


def test_explicit_values_and_presets_are_kept_on_a_wide_table(wide):
    given = TrainConfig(model="cvae", latent_dim=16, hidden=(512,), val_fraction=0.1,
                        test_fraction=0.0)
    plan = plan_training(wide, given)
    assert (plan.config.latent_dim, plan.config.hidden, plan.config.val_fraction) == \
        (16, (512,), 0.1)
    assert not {"latent_dim", "hidden", "val_fraction"} & set(plan.derived)
    assert plan.val_index.size == 5
    for name, latent, hidden in (("thesis-cvae", 8, (490,)), ("thesis-vae", 42, (483,))):
        thesis = plan_training(wide, PRESETS[name].replace(test_fraction=0.0))
        assert (thesis.config.latent_dim, thesis.config.hidden, thesis.config.val_fraction) \
            == (latent, hidden, 0.1)
        assert thesis.val_index.size == 5 and "latent_dim" not in thesis.derived
