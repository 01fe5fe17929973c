"""AppTest of the Evaluate page."""

from __future__ import annotations

import numpy as np

from synth_core.data.datasets import load_dataset
from synth_core.features import write_features
from synth_core.jobs import cancel_job, list_jobs, submit_job, wait_for_job
from tests.conftest import app_test

PAGE = "pages/6_Evaluate.py"


def _generated(workspace, name: str = "generated-vae"):
    data = load_dataset("builtin:digits", workspace)
    rng = np.random.default_rng(0)
    data = data.subset(np.sort(rng.choice(data.n_samples, 200, replace=False)))
    data.features = np.clip(data.features + 0.05 * rng.standard_normal(data.features.shape), 0, 1)
    data.attrs.update(mode="interpolate", model_run="runs/vae-x", modality="image")
    return write_features(workspace.exports_dir / f"{name}.h5", data)


def test_evaluate_page_empty_workspace_offers_the_baseline(workspace):
    at = app_test(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Evaluate"
    assert any("No synthetic data in this workspace yet" in i.value for i in at.info)
    assert at.button(key="eval_start").label.startswith("Run the baseline")
    assert any("No evaluation yet" in c.value for c in at.caption)


def test_evaluate_page_starts_a_job_with_the_chosen_sets(workspace):
    path = _generated(workspace)
    at = app_test(PAGE).run()
    assert not at.exception
    assert at.multiselect(key="eval_synthetic").value == [str(path)]  # generated set preselected
    at.multiselect(key="eval_synthetic").set_value([])
    at.multiselect(key="eval_opts-clf").set_value(["logreg"])  # a light job: only its params
    at.button(key="eval_start").click().run()
    jobs = list_jobs(workspace, "evaluate")
    assert len(jobs) == 1 and jobs[0].params["synthetic"] == []
    assert jobs[0].params["real_train"] == "builtin:digits"
    assert jobs[0].params["config"]["baseline"] is True  # on unless unticked
    assert jobs[0].params["config"]["k"] is None  # empty: fitted to small sets, as the CLI's
    wait_for_job(workspace, jobs[0].id, timeout=240)
    at.number_input(key="eval_opts-k").set_value(3)
    at.button(key="eval_start").click().run()
    second = list_jobs(workspace, "evaluate")[0]
    assert second.params["config"]["k"] == 3
    wait_for_job(workspace, second.id, timeout=240)


def test_evaluate_page_shows_finished_scorecard(workspace):
    path = _generated(workspace)
    job = submit_job(workspace, "evaluate", {
        "real_train": "builtin:digits", "real_test": None, "synthetic": [str(path)],
        "config": {"classifiers": ["logreg"], "bootstrap": 20}}, title="Evaluate generated-vae")
    assert wait_for_job(workspace, job.id, timeout=240).state == "done"
    at = app_test(PAGE).run()
    assert not at.exception
    assert any("Scorecard" in s.value for s in at.subheader)
    table = at.table[0].value
    assert {"real held-out", "generated-vae", "range", "meaning"} <= set(table.columns)
    assert any("Precision" in m for m in table.index)
    assert any("70%/30%" in i.value for i in at.info)
    # First lines: no provenance in the file, and the verdict against the Gaussian baseline.
    assert "cannot be ruled out" in at.warning[0].value
    assert any("per-class Gaussian baseline" in m.value for m in [*at.warning, *at.success])
    at.selectbox(key="eval_card-class-set").set_value("generated-vae").run()
    assert not at.exception
    at.selectbox(key="eval_card-feat-set").set_value("generated-vae").run()
    assert not at.exception
    assert any("of features have a spread within" in c.value for c in at.caption)


def test_evaluate_page_bad_option_is_shown(workspace):
    at = app_test(PAGE).run()
    at.text_input(key="eval_opts-folds").set_value("ten").run()
    assert not at.exception
    assert any("Test folds 'ten' is not a list of whole numbers" in e.value for e in at.error)
    assert at.button(key="eval_start").disabled  # not run with "no test folds" instead
    at.text_input(key="eval_opts-folds").set_value("").run()
    assert not at.button(key="eval_start").disabled


def test_evaluate_page_augment_benchmark_with_a_baseline_generator(workspace):
    at = app_test(PAGE).run()
    at.selectbox(key="aug-model").set_value("gaussian").run()
    assert not at.exception
    assert not any(s.key == "aug-preset-gaussian" for s in at.selectbox)  # fitted, not trained
    at.text_input(key="aug-seeds").set_value(" , ").run()
    at.button(key="aug_start").click().run()
    assert any("Seeds ' , ' names no seed" in e.value for e in at.error)
    assert not list_jobs(workspace, "augment")
    at.text_input(key="aug-seeds").set_value("0").run()
    at.number_input(key="aug-rows").set_value(2).run()
    at.button(key="aug_start").click().run()
    jobs = list_jobs(workspace, "augment")
    assert len(jobs) == 1 and jobs[0].params["config"]["model"] == "gaussian"
    assert jobs[0].params["config"]["preset"] is None
    assert jobs[0].params["config"]["rows_per_real"] == 2
    assert wait_for_job(workspace, jobs[0].id, timeout=240).state == "done"
    at.run()
    assert any("2 synthetic rows per real training row" in c.value for c in at.caption)


def test_evaluate_page_augment_benchmark_trains_the_defaults_unless_a_preset_is_picked(workspace):
    at = app_test(PAGE).run()
    at.selectbox(key="aug-model").set_value("cvae").run()
    assert at.selectbox(key="aug-preset-cvae").value == "defaults"
    at.button(key="aug_start").click().run()
    at.selectbox(key="aug-preset-cvae").set_value("thesis-cvae").run()
    at.button(key="aug_start").click().run()
    assert not at.exception
    presets = [job.params["config"]["preset"] for job in list_jobs(workspace, "augment")]
    assert sorted(presets, key=str) == [None, "thesis-cvae"]
    for job in list_jobs(workspace, "augment"):
        cancel_job(workspace, job.id)


def test_evaluate_page_shows_a_scorecard_of_unlabelled_rows(workspace):
    """A dataset without classes: the scorecard has the row metrics, says why the
    classifier metrics are missing, and the page's per-class and feature views still work."""
    from synth_core.data.datasets import save_dataset
    from tests.conftest import make_blobs

    rows = make_blobs(n_per_class=60, n_features=8, seed=0)
    rows.labels[:] = -1
    rows.class_names = []
    save_dataset(rows.subset(np.arange(0, 180, 2)), "unlabelled", workspace)
    synthetic = rows.subset(np.arange(1, 180, 2))
    synthetic.attrs.update(mode="prior", model_run="runs/vae-x")
    path = write_features(workspace.exports_dir / "generated-prior.h5", synthetic)
    job = submit_job(workspace, "evaluate", {
        "real_train": "unlabelled", "real_test": None, "synthetic": [str(path)],
        "config": {"bootstrap": 20}}, title="Evaluate generated-prior")
    assert wait_for_job(workspace, job.id, timeout=240).state == "done"
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Scorecard" in s.value for s in at.subheader)
    table = at.table[0].value
    assert "generated-prior" in table.columns
    assert any("Precision" in m for m in table.index)
    assert not any("train on synthetic" in str(m).lower() for m in table.index)
    assert any("have no class labels" in m.value
               for m in [*at.info, *at.warning, *at.caption, *at.markdown])


def test_evaluate_page_shows_what_awkward_data_left_out(workspace):
    """One class and every row twice: the report comes back (it used to refuse), and the
    page shows why the classifier metrics are missing and that the test rows repeat
    training rows, in the scorecard's notes and first lines."""
    from synth_core.data.datasets import save_dataset
    from tests.conftest import make_blobs

    rows = make_blobs(n_per_class=40, n_features=6, n_classes=1)
    twice = rows.subset(np.repeat(np.arange(rows.n_samples), 2))
    twice.ids = [f"row-{i}" for i in range(twice.n_samples)]
    save_dataset(twice, "one-class", workspace)
    synthetic = make_blobs(n_per_class=60, n_features=6, n_classes=1, seed=0)
    synthetic.attrs.update(mode="prior", model_run="runs/vae-x")
    path = write_features(workspace.exports_dir / "generated-one.h5", synthetic)
    job = submit_job(workspace, "evaluate", {
        "real_train": "one-class", "real_test": None, "synthetic": [str(path)],
        "config": {"classifiers": ["logreg"], "bootstrap": 20}}, title="Evaluate one class")
    assert wait_for_job(workspace, job.id, timeout=240).state == "done"
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("single class" in i.value and "at least two classes" in i.value
               for i in at.info)
    assert any("exact copies of real training rows" in w.value for w in at.warning)
    assert "generated-one" in at.table[0].value.columns


def test_evaluate_page_per_class_table_says_n_a_where_a_class_is_too_small(workspace):
    """A class of 3 training rows and no test rows: its per-class cells are n/a with the
    reason under the table, and its F1 is not shown as a score of 0."""
    from synth_core.data.datasets import save_dataset
    from tests.conftest import make_blobs

    rows = make_blobs(n_per_class=80, n_features=6, n_classes=3, seed=0)
    two = np.flatnonzero(rows.labels < 2)
    train = rows.subset(np.sort(np.r_[two[::2], np.flatnonzero(rows.labels == 2)[:3]]))
    test = rows.subset(two[1::2])
    save_dataset(train, "small-class", workspace)
    save_dataset(test, "small-class-test", workspace)
    synthetic = make_blobs(n_per_class=40, n_features=6, n_classes=3, seed=0)
    synthetic.attrs.update(mode="prior", model_run="runs/vae-x")
    path = write_features(workspace.exports_dir / "generated-small.h5", synthetic)
    job = submit_job(workspace, "evaluate", {
        "real_train": "small-class", "real_test": "small-class-test", "synthetic": [str(path)],
        "config": {"classifiers": ["logreg"], "bootstrap": 20, "baseline": False}},
        title="Evaluate small class")
    assert wait_for_job(workspace, job.id, timeout=240).state == "done", job
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="eval_card-class-set").set_value("generated-small").run()
    assert not at.exception
    table = at.dataframe[0].value
    small = table[table["class_index"] == 2].iloc[0]
    assert small["n_real"] == 3 and np.isnan(small["precision"]) and np.isnan(small["f1_real"])
    assert table[table["class_index"] == 0].iloc[0]["f1_real"] > 0.5
    assert any(c.value.startswith("n/a: too few rows of the class") for c in at.caption)
