"""Explore: maps of real and generated data, and of a trained model's latent space."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages.common import damaged_ui, explore_ui, state, ui
from synth_core.training.runs import scan_runs

ui.page_header(
    "Explore",
    "See where generated samples land among the real ones. A t-SNE map of the real data is "
    "fitted once and the generated rows are placed on it as stars in their class colour (or "
    "use the thesis's joint t-SNE, or a quick PCA). The second tab maps a trained model's "
    "latent space.",
    icon=":material/scatter_plot:")

dataset = ui.dataset_picker(
    "Real dataset", key="explore_dataset",
    help="The real rows drawn as faded circles. Pick the dataset the generating model was "
         "trained on, so the feature widths and classes match.")
synthetic = explore_ui.generated_picker(key="explore_synthetic")

tab_data, tab_latent = st.tabs(["Data space", "Latent space"])

with tab_data:
    method = explore_ui.method_picker(key="explore_method")
    params = {"dataset": dataset, "synthetic": synthetic, "method": method}
    data = explore_ui.map_section(params, key="data")
    if data is not None:
        explore_ui.show_map(data, key="data", params=params)
        explore_ui.selected_point(params, data, key="data")

with tab_latent:
    runs, damaged = scan_runs(state.workspace())  # damaged folders: warnings, not errors
    damaged_ui.show_damaged(damaged, key="explore-damaged")
    if not runs:
        st.info("No trained model yet. Train a VAE or CVAE on the Train page (or run "
                "`python -m synth_core train --data builtin:digits --model vae --out "
                "workspace/runs/vae-demo --epochs 20`), then come back to map its latent space.",
                icon=":material/model_training:")
        explore_ui.train_link()
    else:
        run_dir = st.selectbox(
            "Trained model", [str(r) for r in runs], format_func=lambda p: Path(p).name,
            key="explore_run",
            help="A run folder under runs/, newest first. The real rows are encoded to their "
                 "latent means; generated rows are encoded too, to show where the model puts "
                 "them.")
        latent_method = explore_ui.method_picker(key="explore_latent_method", latent=True)
        latent_params = {"dataset": dataset, "synthetic": synthetic, "method": latent_method,
                         "run": run_dir}
        latent = explore_ui.map_section(latent_params, key="latent")
        if latent is not None:
            explore_ui.show_map(latent, key="latent", params=latent_params)
            explore_ui.selected_point(latent_params, latent, key="latent", typed=False)
