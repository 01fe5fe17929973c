"""The ``evaluate`` command and the ``evaluate`` background job."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from synth_core.cli import main
from synth_core.data.datasets import load_dataset, save_dataset
from synth_core.errors import InputError
from synth_core.evaluation.report import REFERENCE
from synth_core.evaluation.scorecard import EvaluateConfig, run_evaluation
from synth_core.features import write_features
from synth_core.jobs import submit_job, wait_for_job
from tests.conftest import make_blobs


def _noisy_digits(workspace, name: str, *, seed: int = 0, n: int = 300, width: int | None = None):
    """A stand-in for a generated set: digits rows plus noise, saved under exports/."""
    data = load_dataset("builtin:digits", workspace)
    rng = np.random.default_rng(seed)
    data = data.subset(np.sort(rng.choice(data.n_samples, n, replace=False)))
    data.features = np.clip(data.features + 0.05 * rng.standard_normal(data.features.shape), 0, 1)
    if width is not None:
        data.features = data.features[:, :width]
    data.attrs.update(mode="interpolate", model_run="runs/vae-test")
    return write_features(workspace.exports_dir / f"{name}.h5", data)


def _cli(workspace, *args: str) -> int:
    return main(["--workspace", str(workspace.root), "-q", *args])


def test_cli_evaluate_writes_json_and_csv(workspace, tmp_path, capsys):
    synthetic = _noisy_digits(workspace, "generated-vae")
    out = tmp_path / "report.json"
    code = _cli(workspace, "evaluate", "--json", "--real-train", "builtin:digits", "--synthetic",
                str(synthetic), "--out", str(out), "--classifiers", "logreg", "--no-baseline")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["ok"] and summary["sets"] == [REFERENCE, "generated-vae"]
    assert summary["real_test_rows"] == 540  # no --real-test: 30 % of 1797, by class
    assert any("70%/30%" in note for note in summary["notes"])
    assert 0.0 <= summary["scores"]["generated-vae"]["precision"] <= 1.0
    assert "tstr_accuracy[logreg]" in summary["scores"]["generated-vae"]
    report = json.loads(out.read_text())
    assert {m["metric"] for m in report["metrics"]} >= {"precision", "frechet", "detection_auc",
                                                       "copy_fraction", "tstr_macro_f1"}
    rows = list(csv.DictReader(out.with_suffix(".csv").open()))
    assert rows and set(rows[0]) >= {"set", "metric", "value", "meaning"}
    # Never overwrite a report silently.
    assert _cli(workspace, "evaluate", "--real-train", "builtin:digits", "--out", str(out)) == 2
    assert "already exists" in capsys.readouterr().err


def test_cli_evaluate_real_test_and_two_sets_of_one_name(workspace, tmp_path, capsys):
    data = load_dataset("builtin:digits", workspace)
    index = np.arange(data.n_samples)
    save_dataset(data.subset(index % 3 != 0), "digits-train", workspace)
    save_dataset(data.subset(index % 3 == 0), "digits-test", workspace)
    a = _noisy_digits(workspace, "gen", seed=1)
    (workspace.root / "other").mkdir()
    b = _noisy_digits(workspace, "gen2", seed=2).rename(workspace.root / "other" / "gen.h5")
    code = _cli(workspace, "evaluate", "--json", "--real-train", "digits-train", "--real-test",
                "digits-test", "--synthetic", str(a), "--synthetic", str(b),
                "--classifiers", "logreg", "--no-augmentation", "--no-baseline",
                "--out", str(tmp_path / "r.json"))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["sets"] == [REFERENCE, "gen", "gen-2"]
    assert summary["real_test_rows"] == 599


def test_cli_evaluate_bad_input_is_one_line(workspace, capsys):
    narrow = _noisy_digits(workspace, "narrow", width=32)
    code = _cli(workspace, "evaluate", "--real-train", "builtin:digits", "--synthetic",
                str(narrow))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "has 32 features per row but the real training set has 64" in err
    assert _cli(workspace, "evaluate", "--real-train", "builtin:digits", "--test-folds",
                "x") == 2
    assert "not a list of whole numbers" in capsys.readouterr().err
    assert _cli(workspace, "evaluate", "--real-train", "builtin:digits", "--test-folds",
                "1") == 2
    assert "has no folds" in capsys.readouterr().err


def test_generator_folds_from_its_run_are_never_test_folds(workspace):
    real = make_blobs(n_per_class=30)
    real.folds = np.arange(real.n_samples) % 3 + 1
    save_dataset(real, "folded", workspace)
    run_dir = workspace.runs_dir / "vae-folds"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"dataset_ref": "folded"}))
    (run_dir / "split.json").write_text(json.dumps({"train_index": list(range(90))}))
    synthetic = make_blobs(n_per_class=20, seed=0)
    synthetic.attrs["model_run"] = str(run_dir)
    path = write_features(workspace.exports_dir / "from-all-folds.h5", synthetic)
    with pytest.raises(InputError, match=r"generated from fold\(s\) \[3\], which are test folds"):
        run_evaluation(workspace, real_train="folded", synthetic=[str(path)],
                       config=EvaluateConfig(classifiers=("logreg",)))
    # Trained on folds 1 and 2 only: testing on fold 3 is fine.
    (run_dir / "split.json").write_text(json.dumps(
        {"train_index": [i for i in range(90) if i % 3 != 2]}))
    card = run_evaluation(workspace, real_train="folded", synthetic=[str(path)],
                          config=EvaluateConfig(classifiers=("logreg",)))
    assert card.real["n_test"] == 30


def test_evaluate_job_saves_report_in_workspace(workspace):
    synthetic = _noisy_digits(workspace, "generated-job")
    job = submit_job(workspace, "evaluate", {
        "real_train": "builtin:digits", "synthetic": [str(synthetic)],
        "config": {"classifiers": ["logreg"], "bootstrap": 20, "baseline": False}},
        title="Evaluate")
    status = wait_for_job(workspace, job.id, timeout=240)
    assert status.state == "done", status.error
    report = json.loads(open(status.result["report"]).read())
    assert report["sets"] == [REFERENCE, "generated-job"]
    assert status.result["csv"].endswith(".csv")
    assert "scored 2 set(s)" in status.message


def test_evaluate_job_reports_bad_input(workspace):
    job = submit_job(workspace, "evaluate", {"real_train": "builtin:digits",
                                             "config": {"k": 0}})
    status = wait_for_job(workspace, job.id, timeout=120)
    assert status.state == "failed" and "k must be at least 1" in status.error


def test_cli_evaluate_headline_baseline_and_worst_features(workspace, tmp_path, capsys):
    synthetic = _noisy_digits(workspace, "generated-cvae", n=200)
    code = _cli(workspace, "evaluate", "--json", "--real-train", "builtin:digits", "--synthetic",
                str(synthetic), "--out", str(tmp_path / "r.json"), "--classifiers", "forest",
                "--no-augmentation")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    # No provenance in the file: the first line says leakage cannot be ruled out, then the
    # verdict against the per-class Gaussian baseline (random forest TSTR, detection AUC).
    assert "cannot be ruled out" in summary["headline"][0]
    assert summary["headline"][1].startswith("Synthetic set 'generated-cvae' ")
    assert "random forest accuracy" in summary["headline"][1]
    # The rows are real digits plus a little noise: near-copies, said after the verdict.
    assert summary["headline"][2].startswith("generated-cvae: its rows sit 0.")
    assert "near-copies of training rows" in summary["headline"][2]
    scores = summary["scores"]["generated-cvae"]
    assert {"tstr_accuracy[forest]", "baseline_tstr_accuracy[forest]", "baseline_detection_auc",
            "spread_ratio", "marginal_distance"} <= set(scores)
    worst = summary["worst_features"]["generated-cvae"]
    assert len(worst["spread"]) == 5 and worst["shape"][0]["feature"].startswith("f")
    code = _cli(workspace, "evaluate", "--json", "--real-train", "builtin:digits", "--synthetic",
                str(synthetic), "--out", str(tmp_path / "r2.json"), "--classifiers", "logreg",
                "--no-augmentation", "--no-baseline")
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and "baseline_detection_auc" not in summary["scores"]["generated-cvae"]
    assert len(summary["headline"]) == 2 and "near-copies" in summary["headline"][1]


def test_cli_evaluate_refuses_generator_that_saw_the_test_fold(workspace, capsys):
    real = make_blobs(n_per_class=40)
    real.folds = np.arange(real.n_samples) % 10 + 1
    save_dataset(real, "us8k-like", workspace)
    synthetic = make_blobs(n_per_class=20, seed=0)
    synthetic.seen_ids = list(real.ids)  # trained with `train` on every fold, fold 10 included
    path = write_features(workspace.exports_dir / "leaky.h5", synthetic)
    code = _cli(workspace, "evaluate", "--real-train", "us8k-like", "--synthetic", str(path),
                "--test-folds", "10", "--classifiers", "logreg", "--no-baseline")
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"synthetic set 'leaky' ({path})" in err
    assert "trained on 12 of the 12 real test rows (fold(s) [10] of us8k-like)" in err
    assert "train --test-folds 10" in err


def _imported_and_generated(workspace, tmp_path, *, labelled: bool, model: str,
                            generate: tuple[str, ...], blobs=None):
    """A CSV of ``blobs`` (default 3 classes of 30 rows; with or without its label column)
    imported as workspace dataset "table", a 3-epoch ``model`` trained on it with no other
    flags, and ``generate`` rows saved: the file."""
    blobs = blobs if blobs is not None else make_blobs(n_per_class=30, n_features=6)
    table = tmp_path / "table.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"f{j}" for j in range(blobs.n_features)]
                        + (["label"] if labelled else []))
        for row, label in zip(blobs.features, blobs.labels):
            writer.writerow([f"{v:.5f}" for v in row]
                            + ([blobs.class_names[label]] if labelled else []))
    assert _cli(workspace, "import", "--input", str(table), "--out", "table") == 0
    run = tmp_path / "run"
    assert _cli(workspace, "train", "--data", "table", "--model", model, "--epochs", "3",
                "--out", str(run)) == 0
    generated = tmp_path / "generated.h5"
    assert _cli(workspace, "generate", "--run", str(run), *generate,
                "--out", str(generated)) == 0
    return generated


def _evaluate_table(workspace, capsys, generated, *extra: str) -> dict:
    """``evaluate --json`` of ``generated`` against workspace dataset "table" with no test
    set: the summary (the command must succeed)."""
    capsys.readouterr()
    code = _cli(workspace, "evaluate", "--json", "--real-train", "table", "--synthetic",
                str(generated), *extra)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_cli_evaluate_tests_an_imported_csv_on_the_rows_its_run_left_out(workspace, tmp_path,
                                                                          capsys):
    """import (a CSV without ids) -> train -> generate -> evaluate with no test set: the
    scorecard tests on the rows the run held out, and can say no test row leaked."""
    generated = _imported_and_generated(workspace, tmp_path, labelled=True, model="cvae",
                                        generate=("--balance", "60"))
    summary = _evaluate_table(workspace, capsys, generated, "--classifiers", "logreg",
                              "--no-baseline")
    seen = set(load_dataset(str(generated), workspace).seen_ids)
    assert len(seen) == 90 - summary["real_test_rows"]  # the run's own test share is the test set
    assert any("not fitted on" in note for note in summary["notes"])
    assert not any("cannot be ruled out" in line for line in summary["headline"])


def test_cli_evaluate_an_unlabelled_csv_compares_rows_without_classifiers(workspace, tmp_path,
                                                                         capsys):
    """import (a CSV with no label column) -> train a VAE -> generate from the prior ->
    evaluate: scored on the rows the run held out, without the classifier metrics, which
    the notes say need classes (it used to refuse: 'rows have no label')."""
    generated = _imported_and_generated(workspace, tmp_path, labelled=False, model="vae",
                                        generate=("--prior", "60"))
    summary = _evaluate_table(workspace, capsys, generated)
    assert any("have no class labels" in note and "--label-column" in note
               for note in summary["notes"])
    assert any("not fitted on" in note for note in summary["notes"])
    scores = summary["scores"]["generated"]
    assert {"precision", "coverage", "detection_auc", "nn_distance_ratio"} <= set(scores)
    assert not any(key.startswith(("tstr", "trtr")) for key in scores)


def test_cli_evaluate_an_imbalanced_table_with_no_flags(workspace, tmp_path, capsys):
    """150 + 150 rows and a class of 3: train holds out test rows of the two large classes
    (it held out none, and evaluate refused), so evaluate scores with no flags and notes
    the class its test rows lack."""
    blobs = make_blobs(n_per_class=150, n_features=6)
    blobs = blobs.subset(np.flatnonzero((blobs.labels < 2) | (np.arange(450) < 303)))
    assert np.bincount(blobs.labels).tolist() == [150, 150, 3]
    generated = _imported_and_generated(workspace, tmp_path, labelled=True, model="cvae",
                                        generate=("--balance", "300"), blobs=blobs)
    summary = _evaluate_table(workspace, capsys, generated, "--classifiers", "logreg",
                              "--no-baseline")
    assert summary["real_test_rows"] == 60
    assert any("hold no row of class(es) 2" in note for note in summary["notes"])


# --------------------------------------------------------------------------- awkward data
# The shapes of data a robustness sweep found evaluate crashing on or refusing: each now
# gets a report (exit 0) whose notes or first lines say what was left out and why.

def _awkward(workspace, real, synthetic, *, seen=None) -> str:
    """``real`` saved as workspace dataset "real"; ``synthetic`` (fitted on the real rows
    ``seen``: a count of first rows or a mask, when given) saved under exports/: its path."""
    save_dataset(real, "real", workspace)
    if seen is not None:
        rows = np.arange(real.n_samples)[:seen] if np.isscalar(seen) else np.flatnonzero(seen)
        synthetic.seen_ids = [real.ids[i] for i in rows]
    return str(write_features(workspace.exports_dir / "gen.h5", synthetic))


def _scored(workspace, capsys, generated: str, *extra: str) -> dict:
    capsys.readouterr()
    code = _cli(workspace, "evaluate", "--json", "--real-train", "real", "--synthetic",
                generated, "--classifiers", "logreg", *extra)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _binary_rows(n: int, seed: int):
    """Two binary features (4 distinct rows), the class the first; with ids."""
    from synth_core.features import FeatureSet

    X = np.random.default_rng(seed).integers(0, 2, size=(n, 2)).astype(np.float32)
    return FeatureSet(features=X, labels=X[:, 0].astype(np.int64), class_names=["a", "b"],
                      ids=[f"r{seed}-{i}" for i in range(n)])


def test_cli_evaluate_data_with_four_distinct_rows(workspace, capsys):
    # It used to end in a traceback: "n_splits=5 greater than the number of groups: 4".
    generated = _awkward(workspace, _binary_rows(200, 0), _binary_rows(100, 1), seen=160)
    summary = _scored(workspace, capsys, generated)
    assert summary["scores"]["gen"]["detection_auc"] is not None
    assert any("fewer than 5 folds" in note for note in summary["notes"])
    assert any("40 of 40 rows (100%) are exact copies of real training rows" in line
               for line in summary["headline"])


def test_cli_evaluate_a_class_of_one_row_keeps_the_report(workspace, capsys):
    real = make_blobs(n_per_class=60, n_features=6)
    real = real.subset((real.labels < 2) | (np.arange(real.n_samples) == 120))
    assert np.bincount(real.labels).tolist() == [60, 60, 1]
    # The run held out a fifth of the two large classes (as train does), not the single row.
    generated = _awkward(workspace, real, make_blobs(n_per_class=20, n_features=6, seed=3),
                         seen=(np.arange(real.n_samples) % 5 != 0) | (real.labels == 2))
    summary = _scored(workspace, capsys, generated)
    assert "tstr_accuracy[logreg]" in summary["scores"]["gen"]
    assert "baseline_detection_auc" in summary["scores"]["gen"]
    assert any("baseline is fitted without class(es) 2 (class_2)" in note
               for note in summary["notes"])


def test_cli_evaluate_one_class_scores_the_rows(workspace, capsys):
    real = make_blobs(n_per_class=50, n_features=6, n_classes=1)
    generated = _awkward(workspace, real, make_blobs(n_per_class=40, n_features=6,
                                                     n_classes=1, seed=0), seen=40)
    summary = _scored(workspace, capsys, generated)
    scores = summary["scores"]["gen"]
    assert {"precision", "coverage", "detection_auc", "copy_fraction"} <= set(scores)
    assert not any(key.startswith(("tstr", "augmented")) for key in scores)
    assert any("single class" in note and "at least two classes" in note
               for note in summary["notes"])


def test_cli_evaluate_tiny_table_without_a_reference(workspace, capsys):
    """12 rows, 3 held out by the run: scored on them without the reference column (it
    used to refuse, naming fixes that could not work); --no-reference still works."""
    real = make_blobs(n_per_class=4, n_features=5)
    generated = _awkward(workspace, real, make_blobs(n_per_class=20, n_features=5, seed=0),
                         seen=9)
    summary = _scored(workspace, capsys, generated)
    assert summary["sets"] == ["gen"] and summary["real_test_rows"] == 3
    assert any(note.startswith("The real test set has 3 rows, too few to score it as the "
                               "reference") for note in summary["notes"])
    assert _scored(workspace, capsys, generated, "--no-reference",
                   "--overwrite")["sets"] == ["gen"]
