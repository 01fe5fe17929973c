"""Home page: what is in the workspace and the next step to take (drawn by app.py's navigation)."""

from __future__ import annotations

import streamlit as st

from pages.common import state
from pages.common.damaged_ui import damaged_datasets, show_damaged
from pages.common.home import next_steps, show_tour_result, workspace_summary
from pages.common.jobs_ui import job_panel, latest_job, start_job
from pages.common.navigation import page_link
from pages.common.ui import page_header

page_header(
    "Synthetic data with VAEs",
    "Make synthetic data with variational autoencoders and see whether it is any good. "
    "Bring data in (embedded digits and demo sounds need no download), train a VAE or a "
    "conditional VAE, tune it with Optuna, generate new samples, map them among the real ones "
    "with t-SNE, and score them. Every step also runs from the command line: "
    "`python -m synth_core --help`.",
    icon=":material/graphic_eq:")

ws = state.workspace()
summary = workspace_summary(ws)
# Unreadable dataset files: listed with the way out (run folders are checked where runs are
# listed: Train, Generate, Explore; home stays free of torch).
show_damaged(damaged_datasets(), key="home-damaged")

cols = st.columns(4)
cols[0].metric("Datasets", summary.n_datasets, help="Embedded datasets plus your feature files")
cols[1].metric("Trained models", summary.n_runs, help="Run folders under runs/")
cols[2].metric("Optuna studies", summary.n_studies, help="Studies in the workspace's optuna.db")
cols[3].metric("Jobs running", summary.n_active_jobs, help="Background jobs still running")

st.subheader("One-click tour")
st.write("Train a small VAE on the embedded 8x8 digits, decode the path from a typical 3 to a "
         "typical 8 in its latent space, and see the decoded digits as stars on a t-SNE map of "
         "the real ones. About half a minute; it runs in the background.")
tour = latest_job("tour")
if st.button("Take the tour", icon=":material/play_circle:", key="tour-start",
             disabled=bool(tour and tour.is_active),
             help="Starts a background job; you can switch pages and come back."):
    tour = start_job("tour", {}, title="Tour: digits 3 -> 8")
st.write("Or listen: train a small conditional VAE on the synthetic demo sounds' spectrograms "
         "and play the path from a siren to a car horn, one decoded sound per step (a few "
         "minutes on 2 CPU cores).")
if st.button("Take the audio tour", icon=":material/graphic_eq:", key="tour-audio-start",
             disabled=bool(tour and tour.is_active),
             help="Starts a background job; you can switch pages and come back."):
    tour = start_job("tour", {"variant": "audio"}, title="Tour: sounds, siren -> car horn")
if tour is not None:
    tour = job_panel(tour, key="tour")
    if tour.is_done:
        show_tour_result(tour.result)

st.subheader("Next step")
for step in next_steps(summary):
    page_link(step.page, label=step.label, icon=step.icon)
    st.caption(step.why)

if summary.recent_jobs:
    st.subheader("Recent jobs")
    st.dataframe(summary.recent_jobs, hide_index=True, width="stretch")

st.caption(f"Workspace: `{ws.root}` (set `SYNTH_WORKSPACE` to use another folder).")
