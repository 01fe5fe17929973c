"""Evaluate: numbers for synthetic data, next to what real data scores."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages.common import evaluate_ui, ui
from pages.common.jobs_ui import job_panel, latest_job, start_job

ui.page_header(
    "Evaluate",
    "Judge synthetic data by numbers, not only by eye: train a classifier on it and test on "
    "real rows, measure fidelity and diversity (precision, recall, density, coverage), the "
    "Frechet distance, whether a classifier can tell real from synthetic, and whether rows "
    "copy the training data. Every number sits next to the same score for held-out real rows.",
    icon=":material/fact_check:")

tab_score, tab_augment = st.tabs(["Scorecard", "Augmentation benchmark"])

with tab_score:
    cols = st.columns(2)
    with cols[0]:
        real = ui.dataset_picker(
            "Real training data", key="eval_real",
            help="The real rows the generator learned from (or a dataset of the same kind); "
                 "the synthetic sets are compared with them and classifiers trained on them.")
    with cols[1]:
        real_test = evaluate_ui.test_picker(key="eval_test")
    files = evaluate_ui.synthetic_files()
    synthetic = evaluate_ui.synthetic_picker(files, key="eval_synthetic")
    if not files:
        st.info(
            "No synthetic data in this workspace yet. To score generated samples, train a "
            "model on the Train page and make samples on the Generate page (or run `python -m "
            "synth_core generate`). Meanwhile, run the baseline now: it scores held-out real "
            f"rows of {real} against its training rows, which is what a perfect generator "
            "would get.", icon=":material/lightbulb:")
    options = evaluate_ui.options_form(key="eval_opts")

    params = {"real_train": real, "real_test": real_test, "synthetic": synthetic,
              "config": options}
    label = "Run evaluation" if synthetic else "Run the baseline (real held-out only)"
    if st.button(label, type="primary", icon=":material/play_arrow:", key="eval_start",
                 help="Runs in the background: it survives a page switch or a refresh. About "
                      "half a minute for 7000 real and 800 synthetic rows of 512 features.",
                 disabled=not evaluate_ui.check_options(options)):
        names = ", ".join(Path(p).stem for p in synthetic) or "baseline"
        if ui.attempt(start_job, "evaluate", params, title=f"Evaluate {names}") is not None:
            st.rerun()

    job = latest_job("evaluate")
    if job is None:
        st.caption("No evaluation yet: choose the data above and press the button.")
    else:
        status = job_panel(job, key="eval_job")
        card = evaluate_ui.report_of(status)
        if card is not None:
            st.subheader("Scorecard")
            evaluate_ui.show_scorecard(card, key="eval_card")
            images = [p for p in status.params.get("synthetic", []) if Path(p).is_file()]
            if card.real.get("modality") == "image" and images:
                with st.expander("Sample grids", icon=":material/grid_view:"):
                    for path in images:
                        st.caption(Path(path).name)
                        evaluate_ui.sample_grid(path)

with tab_augment:
    st.caption(
        "The protocol of the tabular VAE study: split the real rows 70/30 by class, train the "
        "generator on the 70 %, generate a training set of the same size, then train the same "
        "MLP on real and on synthetic rows and test both on the real 30 %. Several seeds give "
        "a mean and a spread (small test sets make single numbers noisy). Same as `python -m "
        "synth_core augment-benchmark --data REF --generator vae --seeds 0,1,2`; the generator can also be a baseline (gaussian, copula, smote) fitted on the same rows.")
    dataset = ui.dataset_picker(
        "Real data", key="aug_data",
        help="Labelled real rows; the benchmark splits them itself.")
    form = evaluate_ui.augment_form(key="aug")
    if st.button("Run benchmark", type="primary", icon=":material/play_arrow:", key="aug_start",
                 help="Trains one generator per seed in the background; the quick preset takes "
                      "seconds per seed on the embedded digits."):
        params = evaluate_ui.augment_params(dataset, form)
        if params is not None and ui.attempt(start_job, "augment", params,
                                             title=f"Augmentation benchmark on {dataset}"):
            st.rerun()
    aug_job = latest_job("augment")
    if aug_job is not None:
        aug_status = job_panel(aug_job, key="aug_job")
        if aug_status.state == "done":
            evaluate_ui.show_augment(aug_status)
