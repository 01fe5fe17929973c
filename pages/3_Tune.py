"""Tune: Optuna studies over the VAE/CVAE hyperparameters, their trials and plots."""

from __future__ import annotations

import streamlit as st

from pages.common import jobs_ui, ui
from pages.common import tune_ui as tune

ui.page_header(
    "Tune",
    "A study trains many models with different latent sizes, hidden units, learning rates and "
    "epoch counts, and Optuna's TPE sampler proposes each next try from the results so far; "
    "the median pruner stops trials that are already worse than the others. Start with the "
    "thesis's wide Exploration ranges, narrow them around the best trials, run again, then "
    "train the final model from the best trial.",
    icon=":material/tune:")

url = tune.storage_picker()
storage = ui.attempt(tune.open_storage, url) if url else None
if storage is None:
    if not url:
        st.info("Enter a storage URL to continue.", icon=":material/info:")
    st.stop()

job = jobs_ui.latest_job("tune")
studies, damaged = tune.tuning.scan_studies(storage)
for item in damaged:
    st.warning(item.message(), icon=":material/broken_image:")
with st.expander("New study", expanded=job is None and not studies, icon=":material/add:"):
    started = tune.new_study_form(url)
    if started is not None:
        job = tune.start_study(*started)
        st.rerun()

if job is not None:
    st.subheader("Study job")
    jobs_ui.job_panel(job, key="tune-job", live=tune.live_trials)

st.subheader("Results")
name = tune.study_picker(studies)
if name is None:
    st.info("No study in this storage yet: start one above, or run "
            "`python -m synth_core tune --data builtin:digits --study demo --trials 20`.",
            icon=":material/info:")
    st.stop()
study = ui.attempt(tune.tuning.load_study, name, storage)
if study is None:
    st.stop()
summary = tune.summary_metrics(study)
st.dataframe(tune.tuning.trial_rows(study)[::-1], hide_index=True, width="stretch", height=300,
             column_config={"value": st.column_config.NumberColumn(format="%.5g"),
                            "lr": st.column_config.NumberColumn(format="%.2e")})
tune.workers_table(study)
tune.plots(url, study)

train_tab, narrow_tab, dash_tab = st.tabs(["Final model", "Narrow the ranges",
                                           "optuna-dashboard"])
with train_tab:
    tune.train_best(study)
with narrow_tab:
    tune.narrow(url, study)
with dash_tab:
    tune.dashboard_controls(url)
