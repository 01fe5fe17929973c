"""The augmentation benchmark: the protocol on a small embedded dataset, and its command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synth_core.evaluation.augmentation import AugmentConfig, augment_benchmark
from synth_core.numbers import parse_ints
from synth_core.evaluation.holdout import stratified_split
from synth_core.cli import main
from synth_core.data.datasets import load_digits_features
from synth_core.errors import InputError
from tests.conftest import make_blobs

QUICK = {"epochs": 3, "device": "cpu", "batch_size": 32}


@pytest.fixture(scope="module")
def digits():
    """300 rows of builtin:digits (30 per class): seconds per generator."""
    data = load_digits_features()
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.choice(np.flatnonzero(data.labels == c), 30, replace=False)
                           for c in range(10)])
    return data.subset(np.sort(rows))


def test_augment_benchmark_vae_two_seeds(digits):
    config = AugmentConfig(model="vae", seeds=(0, 1), preset="quick-vae", train=QUICK)
    events = []
    result = augment_benchmark(digits, config, dataset_ref="digits-300", callback=events.append)
    assert [r.seed for r in result.runs] == [0, 1]
    for run in result.runs:
        assert run.n_test == 90 and run.n_train == 210
        assert run.n_synthetic == run.n_train  # same size as the real training split
        assert run.real.n_test == run.synthetic.n_test == 90
    summary = result.summary()
    assert 0.6 < summary["real_accuracy"]["mean"] <= 1.0  # an MLP on 210 digits
    assert summary["real_accuracy"]["std"] >= 0.0
    assert 0.0 <= summary["synthetic_accuracy"]["mean"] <= 1.0
    text = result.report_text()
    assert "REAL (train on real)" in text and "SYNTHETIC (train on synthetic)" in text
    assert "+-" in text and "accuracy" in text and "macro avg" in text
    assert events[-1].fraction == 1.0
    fractions = [e.fraction for e in events if hasattr(e, "fraction")]
    assert fractions == sorted(fractions)  # progress never goes back across seeds
    assert json.loads(json.dumps(result.to_dict(), default=str))["summary"]


def test_augment_benchmark_cvae_generates_class_balanced_set(digits):
    result = augment_benchmark(digits, AugmentConfig(model="cvae", preset="quick-cvae",
                                                     train=QUICK))
    run = result.runs[0]
    assert run.n_synthetic == run.n_train
    assert run.synthetic.n_train == run.n_train
    assert len(result.class_table()) == 12  # 10 classes + macro and weighted averages


def test_augment_split_is_stratified_and_seeded():
    data = make_blobs(n_per_class=20)
    train, test = stratified_split(data, test_size=0.3, random_state=0)
    assert np.bincount(test.labels).tolist() == [6, 6, 6]
    again, _ = stratified_split(data, test_size=0.3, random_state=0)
    assert train.ids == again.ids
    lonely = make_blobs(n_per_class=1)
    with pytest.raises(InputError, match="single row"):
        stratified_split(lonely, test_size=0.3, random_state=0)


def test_augment_split_keeps_two_training_rows_of_a_tiny_class():
    """A class of 2 rows splits 1/1 70/30; with min_train_rows=2 both train, the others
    split as before."""
    data = make_blobs(n_per_class=20)
    tiny = data.subset(np.r_[np.flatnonzero(data.labels != 2),
                             np.flatnonzero(data.labels == 2)[:2]])
    plain_train, plain_test = stratified_split(tiny, test_size=0.3, random_state=0)
    assert np.bincount(plain_train.labels, minlength=3)[2] == 1
    train, test = stratified_split(tiny, test_size=0.3, random_state=0, min_train_rows=2)
    assert np.bincount(train.labels, minlength=3).tolist() == [14, 14, 2]
    assert np.bincount(test.labels, minlength=3).tolist() == [6, 6, 0]
    assert set(train.ids).isdisjoint(test.ids) and len(train.ids) + len(test.ids) == 42
    assert [i for i in plain_test.ids if i in test.ids] == [i for i in test.ids]


@pytest.mark.parametrize("model", ["vae", "gaussian"])
def test_augment_benchmark_runs_with_a_class_of_two_rows(model):
    """A class of 2 rows used to fail after training (1 training row; a VAE pairs rows of a
    class, a baseline fits its spread): both rows now train, and a warning says the test
    split has none of that class."""
    data = make_blobs(n_per_class=20)
    data = data.subset(np.r_[np.flatnonzero(data.labels != 2),
                             np.flatnonzero(data.labels == 2)[:2]])
    seen = []
    config = AugmentConfig(model=model, seeds=(0,),
                           **({"train": {"epochs": 3, "device": "cpu"}} if model == "vae" else {}))
    result = augment_benchmark(data, config, callback=seen.append)
    assert len(result.runs) == 1 and result.runs[0].n_test == 12
    warnings = [e.message for e in seen if getattr(e, "level", "") == "warning"]
    assert any("'class_2'" in w and "none of them" in w for w in warnings), warnings


def test_augment_config_checks():
    with pytest.raises(InputError, match="vae, cvae, gaussian, copula, smote"):
        AugmentConfig(model="gan")
    with pytest.raises(InputError, match="repeat a seed"):
        AugmentConfig(seeds=(0, 0))
    for bad in (0, 21, 1.5, True):
        with pytest.raises(InputError, match="rows per real row must be a whole number from 1"):
            AugmentConfig(rows_per_real=bad)
    assert AugmentConfig.from_dict({"model": "vae"}).rows_per_real == 1  # reports saved before
    with pytest.raises(InputError, match="preset 'nope' is unknown"):
        AugmentConfig(preset="nope").train_config(0)
    with pytest.raises(InputError, match="trains a cvae, not a vae"):
        AugmentConfig(model="vae", preset="quick-cvae").train_config(0)
    assert AugmentConfig(model="cvae").train_config(3).seed == 3
    assert parse_ints("0,1,2", name="seeds") == (0, 1, 2)
    assert parse_ints("0-3", name="seeds") == (0, 1, 2, 3)
    with pytest.raises(InputError, match="seeds 'a,b' is not a list of whole numbers"):
        parse_ints("a,b", name="seeds")


def test_augment_benchmark_refuses_unlabeled_data():
    data = make_blobs()
    data.labels[:] = -1
    with pytest.raises(InputError, match=r"no label.*stratified split.*--label-column NAME"):
        augment_benchmark(data, AugmentConfig(preset="quick-vae", train=QUICK))


def test_augment_benchmark_refuses_one_class_data_before_training(monkeypatch):
    """One class cannot train the protocol's classifiers; it used to be found only after
    every seed's generator had trained."""
    from synth_core.training import trainer

    def no_training(*args, **kwargs):
        raise AssertionError("a generator was trained")

    monkeypatch.setattr(trainer, "train_model", no_training)
    data = make_blobs()
    data.labels[:] = np.where(data.labels >= 0, 1, -1)  # one class, named
    with pytest.raises(InputError, match=r"dataset: every labelled row is of one class \(" +
                       data.class_names[1] + r"\).*at least two classes.*--label-column NAME"):
        augment_benchmark(data, AugmentConfig(preset="quick-vae", train=QUICK))


def test_augment_benchmark_preset_latent_wider_than_the_table_names_the_flags():
    # The thesis presets' latent (42, 8) exceeds iris-sized tables; training's own refusal
    # said to leave out the latent size, which the user had.
    data = make_blobs(n_per_class=10, n_features=6)
    with pytest.raises(InputError, match=r"blobs: has 6 features, fewer than the latent size "
                                         r"42 of the generator preset 'thesis-vae'.*"
                                         r"--latent-dim 2.*leave out the preset"):
        augment_benchmark(data, AugmentConfig(model="vae", preset="thesis-vae"),
                          dataset_ref="blobs")
    with pytest.raises(InputError, match=r"latent size 8 of the generator preset 'thesis-cvae'"):
        augment_benchmark(data, AugmentConfig(model="cvae", preset="thesis-cvae"),
                          dataset_ref="blobs")


def test_augment_benchmark_defaults_are_the_no_flag_training_not_the_thesis():
    """With no preset the generator trains as `train` does with no flags (sizes derived from
    the data, calibrated decoder); the thesis preset was the default and refused every
    table of fewer than 42 (VAE) or 8 (CVAE) features."""
    from synth_core.training.config import TrainConfig

    config = AugmentConfig(model="cvae").train_config(1)
    no_flags = TrainConfig.from_dict({"model": "cvae", "test_fraction": 0.0, "seed": 1})
    assert config == no_flags and config.latent_dim is None and config.decoder != "thesis"
    assert AugmentConfig(model="vae", preset="thesis-vae").train_config(0).latent_dim == 42
    data = make_blobs(n_per_class=12, n_features=6)
    result = augment_benchmark(data, AugmentConfig(model="cvae", train={"epochs": 3}),
                               dataset_ref="blobs")
    assert result.runs[0].n_synthetic == result.runs[0].n_train


def test_cli_augment_benchmark_prints_reports_side_by_side(workspace, digits, capsys, tmp_path):
    from synth_core.data.datasets import save_dataset

    save_dataset(digits, "digits300", workspace)
    out = tmp_path / "augment.json"
    code = main(["--workspace", str(workspace.root), "-q", "augment-benchmark", "--data",
                 "digits300", "--model", "vae", "--test-size", "0.3", "--seeds", "0,1",
                 "--preset", "quick-vae", "--epochs", "2", "--device", "cpu",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "REAL (train on real)" in captured.out and "SYNTHETIC" in captured.out
    assert "real_accuracy:" in captured.out
    saved = json.loads(out.read_text())
    assert len(saved["runs"]) == 2 and saved["config"]["seeds"] == [0, 1]
    assert not list(workspace.runs_dir.iterdir())  # generators were temporary


def test_cli_augment_benchmark_json_and_bad_input(workspace, capsys):
    code = main(["--workspace", str(workspace.root), "-q", "augment-benchmark", "--json",
                 "--data", "builtin:digits", "--seeds", "1,1"])
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out.strip().splitlines()[-1])["ok"] is False
    assert "repeat a seed" in captured.err


def test_augment_benchmark_with_a_baseline_generator(digits):
    result = augment_benchmark(digits, AugmentConfig(model="gaussian", seeds=(0, 1)))
    assert [r.generator_epochs for r in result.runs] == [0, 0]
    run = result.runs[0]
    assert run.n_synthetic == run.n_train == 210
    assert result.summary()["synthetic_accuracy"]["mean"] > 0.5  # digits: a fair Gaussian
    # Three synthetic rows per real one, class by class.
    tripled = augment_benchmark(digits, AugmentConfig(model="gaussian", rows_per_real=3))
    assert tripled.runs[0].n_synthetic == 3 * tripled.runs[0].n_train == 630
    assert tripled.config["rows_per_real"] == 3
    with pytest.raises(InputError, match="fitted, not trained"):
        AugmentConfig(model="smote", preset="quick-vae").train_config(0)


def test_augment_benchmark_refuses_a_generator_that_saw_test_rows(digits, monkeypatch):
    from synth_core.evaluation import augmentation

    fitted = augmentation._baseline

    def leaky(kind, train, seed, rows_per_real=1):
        out = fitted(kind, train, seed, rows_per_real)
        out.seen_ids = list(digits.ids)  # as if fitted on every row, the test rows included
        return out

    monkeypatch.setattr(augmentation, "_baseline", leaky)
    with pytest.raises(InputError, match=r"seed 0 \(copula\).*trained on 90 of the 90 real "
                                         r"test rows \(the 30% test split of digits"):
        augment_benchmark(digits, AugmentConfig(model="copula"), dataset_ref="digits-300")


def test_cli_augment_benchmark_generator_flag(workspace, digits, capsys):
    from synth_core.data.datasets import save_dataset

    save_dataset(digits, "digits300", workspace)
    code = main(["--workspace", str(workspace.root), "-q", "augment-benchmark", "--json",
                 "--data", "digits300", "--generator", "smote", "--seeds", "0"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["model"] == "smote" and summary["synthetic_rows"] == 210
    code = main(["--workspace", str(workspace.root), "-q", "augment-benchmark", "--json",
                 "--data", "digits300", "--generator", "smote", "--seeds", "0",
                 "--rows-per-real", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["synthetic_rows"] == 420
