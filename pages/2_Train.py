"""Train: fit a VAE / CVAE (or AE / DAE) in the background, watch its losses, inspect the result."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages.common import damaged_ui, jobs_ui, state, ui
from pages.common import train_ui as tui
from synth_core.errors import SynthError
from synth_core.models import MODEL_TITLES, MODELS
from synth_core.training.trainer import check_training_data

ui.page_header(
    "Train",
    "Teach a variational autoencoder to squeeze each sample into a small latent code and "
    "rebuild it: a VAE (as in the thesis, for interpolating between samples) or a conditional "
    "VAE that also takes the class, so new samples of a chosen class can be drawn. Training runs "
    "in the background with early stopping; the run is saved for the Generate, Explore and "
    "Evaluate steps. Deterministic and denoising autoencoders (AE, DAE) are there as "
    "baselines, scored by PSNR on images.",
    icon=":material/model_training:")

ref = ui.dataset_picker(help="The data to learn from. Embedded datasets need no download; your "
                             "own appear here after the Data step.")
data = ui.attempt(tui.load_data, ref)
if data is None:
    st.stop()
st.caption(f"{ui.count(data.n_samples, 'row')} x {ui.count(data.n_features, 'feature')}, "
           + (ui.count(data.n_classes, "class", "classes") if data.is_labeled
              else "no labels")
           + f", {data.attrs.get('modality', 'tabular')} data.")

left, right = st.columns(2)
model = left.selectbox("Model", list(MODELS), format_func=MODEL_TITLES.get, key="train-model",
                       help="VAE: MSE + KL, for interpolation. CVAE: BCE + KL with the class as "
                            "input, for generating a chosen class. AE / DAE: deterministic "
                            "baselines without a KL term.")
presets = tui.preset_options(model)
preset = right.selectbox("Settings", presets, key=f"train-preset-{model}",
                         help=tui.preset_help())  # the first option: the defaults
config = ui.attempt(tui.settings_form, model, preset, data)
if config is not None:
    try:
        check_training_data(data, config, name=ref)
        jobs_ui.start_job("train", {"dataset": ref, "config": config.to_dict()},
                          title=f"Training a {model} on {ref}")
        state.put(state.RUN, None)
        st.session_state.pop("train-runs", None)  # forget a reopened run: show the new one
    except SynthError as exc:
        ui.show_error(exc)

job = jobs_ui.latest_job("train")
status = jobs_ui.job_panel(job, key="train", live=tui.live_curves) if job else None

damaged = damaged_ui.damaged_runs()
damaged_ui.show_damaged(damaged, key="train-damaged")
broken = {str(d.path) for d in damaged}
rows = [r for r in tui.runs_table() if r["run_dir"] not in broken]
shown = state.get(state.RUN)
if rows:
    with st.expander(f"Earlier runs ({len(rows)}): compare and reopen", expanded=False):
        picked = st.dataframe(
            rows, hide_index=True, width="stretch", key="train-runs", on_select="rerun",
            selection_mode="single-row", column_order=[k for k in rows[0] if k != "run_dir"],
            column_config={"lr": st.column_config.NumberColumn(format="%.2e"),
                           "best val loss": st.column_config.NumberColumn(format="%.4g"),
                           "s/epoch": st.column_config.NumberColumn(format="%.3f"),
                           "PSNR dB": st.column_config.NumberColumn(format="%.1f")})
        st.caption("Select a row to show that run below; it is also the run Generate starts with.")
        if picked.selection.rows:
            shown = rows[picked.selection.rows[0]]["run_dir"]
            state.put(state.RUN, shown)
if not shown and status is not None and status.is_done:
    shown = status.result.get("run_dir")
if not shown and rows:
    shown = rows[0]["run_dir"]
if not shown or not (Path(shown) / "config.json").is_file():
    st.info("No trained model yet: pick a dataset and press Train. A quick-vae on the embedded "
            "digits takes a few seconds.", icon=":material/info:")
    st.stop()

run = ui.attempt(tui.load_run, shown)
if run is None:
    st.stop()
st.subheader(f"Run {run.name}")
held = (f", holding out folds {', '.join(map(str, run.test_folds))}" if run.test_folds else "")
layers = (f"hidden {','.join(map(str, run.config.hidden))}" if run.config.hidden
          else f"{run.config.body} body, no hidden layers")
st.caption(f"A {run.config.model} with latent {run.latent_dim}, {layers}, {run.config.decoder} "
           "decoder on "
           f"{run.config.transform} features, trained on {run.dataset_ref or 'unknown data'}"
           f"{held} on {run.meta.get('trained_on', '?')}."
           + (f" Derived from the data: {', '.join(f'{k} {v}' for k, v in run.derived.items())}."
              if run.derived else ""))
m = run.metrics
cols = st.columns(4)
cols[0].metric("Epochs", f"{m.get('epochs_run', 0)} (best {m.get('best_epoch', 0)})",
               help="Epochs trained; early stopping keeps the weights of the best one.")
cols[1].metric("Best validation loss", f"{m.get('best_val_loss') or float('nan'):.4g}",
               help="Reconstruction + beta x KL per row on the held-out rows.")
cols[2].metric("Seconds per epoch", f"{m.get('seconds_per_epoch') or 0:.3f}",
               help="Mean wall time of one epoch, validation included.")
if m.get("psnr_held_out_db") is not None:
    cols[3].metric("PSNR (held-out)", f"{m['psnr_held_out_db']:.1f} dB",
                   help="Peak signal-to-noise ratio of reconstructions of the held-out test "
                        "rows, never trained or validated on (pixels in [0, 1]); higher is "
                        f"better. On the validation rows: {m.get('psnr_db', float('nan')):.1f} dB.")
elif m.get("psnr_db") is not None:
    cols[3].metric("PSNR", f"{m['psnr_db']:.1f} dB", help="Peak signal-to-noise ratio of "
                   "validation reconstructions (pixels in [0, 1]); higher is better.")
else:
    cols[3].metric("Validation MSE", f"{m.get('val_mse') or float('nan'):.4g}",
                   help="Mean squared error per value of validation reconstructions (scaled).")
if m.get("diverged"):
    st.warning("The loss became NaN during training; the run kept the last good weights. "
               "Train again with a lower learning rate.", icon=":material/warning:")
collapse_caption, collapse_warnings = tui.collapse_notes(m)
for warning in collapse_warnings:
    st.warning(warning, icon=":material/warning:")
if collapse_caption:
    st.caption(collapse_caption)
st.plotly_chart(tui.loss_figure(run.history), width="stretch", key="train-history")

source = data if run.dataset_ref == ref else ui.attempt(tui.load_data, run.dataset_ref)
if source is None or source.n_features != run.n_features:
    st.info(f"The dataset this run was trained on ({run.dataset_ref!r}) is not available, so "
            "reconstructions and the latent map cannot be drawn.", icon=":material/info:")
    st.stop()
recon_tab, latent_tab = st.tabs(["Reconstructions", "Latent space"])
with recon_tab:
    figure, caption = tui.reconstruction_figure(run, source)
    st.plotly_chart(figure, width="stretch", key="train-recon")
    st.caption(caption)
with latent_tab:
    figure, caption = tui.latent_figure(run, source)
    st.plotly_chart(figure, width="stretch", key="train-latent")
    st.caption(caption)
