"""Train page helpers: the settings form, live loss curves, and the views of a finished run.

Compute lives in synth_core (training, runs); this module turns its records
into widgets and plotly figures. Runs and datasets load through cached
loaders keyed by path and modification time; session state holds paths only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from pages.common import state, ui
from synth_core.data.datasets import dataset_path, load_dataset
from synth_core.features import FeatureSet
from synth_core.jobs import JobStatus, read_events
from synth_core.data.scaling import TRANSFORM_KINDS, TRANSFORM_TITLES
from synth_core.errors import InputError
from synth_core.models import BODY_KINDS, DECODER_KINDS, DECODER_TITLES, MODELS
from synth_core.training.config import PRESET_DESCRIPTIONS, PRESETS, TrainConfig
from synth_core.training.defaults import TrainPlan, plan_training
from synth_core.training.runs import Run, latent_points, reconstruction_examples, run_summaries
from synth_core.training.trainer import run_warnings

DEFAULTS = "defaults"  # TrainConfig(model): every size derived from the data, as `train` with no flags
_CURVES = (("loss", "Total loss"), ("recon", "Reconstruction"), ("kl", "KL divergence"))


# ---------------------------------------------------------------- loading (cached)
@st.cache_data(show_spinner=False, max_entries=8)
def _dataset(ref: str, path: str, mtime: float) -> FeatureSet:
    return load_dataset(ref, state.workspace())


def load_data(ref: str) -> FeatureSet:
    path = dataset_path(ref, state.workspace())
    return _dataset(ref, str(path), path.stat().st_mtime)


@st.cache_resource(show_spinner=False, max_entries=4)
def _run(run_dir: str, mtime: float) -> Run:
    return Run.load(run_dir)


def load_run(run_dir: str) -> Run:
    return _run(run_dir, ui.run_mtime(run_dir))


# ---------------------------------------------------------------- settings form
def preset_options(model: str) -> list[str]:
    """The defaults first, so the page starts from them (what `train` does with no flags, the
    best setting measured by benchmarks/quality.py), then the named presets. The quick preset
    (a fixed 128-unit layer, at most 30 epochs) was the page's default; on the same seeds it
    was detected more easily on digits (AUC 0.87 / 0.82 against 0.77 / 0.73) and breast
    cancer (0.66 / 0.58 against 0.51 / 0.44), and its demo-sounds rows covered 0.44 / 0.16
    of the real ones against 0.89 / 0.74, for 1-2.5 s less training on those tables."""
    return [DEFAULTS] + [name for name, cfg in PRESETS.items() if cfg.model == model]


def base_config(model: str, preset: str) -> TrainConfig:
    return PRESETS[preset] if preset in PRESETS else TrainConfig(model=model)


def _auto(base_value: Any, shown: Any, derived: Any) -> Any:
    """None ("derive it") when the preset leaves it to the data and the user kept the derived
    value; otherwise what the form shows."""
    return None if base_value is None and shown == derived else shown


def settings_form(model: str, preset: str, data: FeatureSet) -> TrainConfig | None:
    """The form with every TrainConfig option; returns the config when Train is pressed.

    Options the preset leaves to the data start at their derived values
    (:func:`synth_core.training.defaults.plan_training`); kept unchanged they stay
    "derived" in the saved config, changed they are kept as given.
    """
    base = base_config(model, preset)
    try:
        plan, misfit = plan_training(data, base, name="this dataset"), ""
    except InputError as exc:  # a preset's explicit size does not fit: show ones that do
        plan = plan_training(data, base.replace(latent_dim=None, batch_size=None),
                             name="this dataset")
        misfit = f"The preset does not fit this data ({exc}); the form shows sizes that do. "
    full = plan.config
    k = f"train-{model}-{preset}"  # new preset -> fresh widgets showing its values
    image = bool(data.attrs.get("feature_shape")) and data.attrs.get("modality") == "image"
    with st.form(k, border=True):
        a, b, c, d = st.columns(4)
        latent = a.number_input("Latent size", 1, data.n_features, full.latent_dim,
                                key=f"{k}-latent",
                                help="Size of the code each row is squeezed into; at most the "
                                     "number of features. Derived: a quarter of the features "
                                     "(2 to 16); for a CVAE also at most a quarter of its "
                                     "smallest class's training rows. Thesis: 42 (VAE), "
                                     "8 (CVAE).")
        hidden = b.text_input("Hidden layers", ",".join(map(str, full.hidden)), key=f"{k}-hidden",
                              help="Units per hidden layer, comma-separated (e.g. 483 or 512,256); "
                                   "the decoder mirrors the encoder. Not used by the fcn body.")
        lr = c.number_input("Learning rate", 1e-6, 1.0, float(base.lr), format="%.2e",
                            key=f"{k}-lr", help="Adam's step size. Thesis: 2.78e-4 (VAE), "
                                                "6.79e-4 (CVAE). Too high and the loss diverges.")
        epochs = d.number_input("Epochs", 1, 5000, base.epochs, key=f"{k}-epochs",
                                help="Maximum passes over the training rows; early stopping may "
                                     "end sooner.")
        a, b, c, d = st.columns(4)
        batch = a.number_input("Batch size", 1, 4096, full.batch_size, key=f"{k}-batch",
                               help="Rows per optimisation step, at most the training rows. "
                                    "Derived: a power of two up to 128 that gives a few steps per "
                                    "epoch on small data; the thesis used 12.")
        patience = b.number_input("Patience", 0, 1000, base.patience, key=f"{k}-patience",
                                  help="Stop after this many epochs without a better validation "
                                       "loss and keep the best weights; 0 never stops early.")
        val = c.number_input("Validation share", 0.0, 0.5, float(full.val_fraction), 0.05,
                             key=f"{k}-val", help="Share of rows held out (per class) to watch "
                                                  "for overfitting and to stop early; derived "
                                                  "as 0 on tiny data.")
        seed = d.number_input("Seed", 0, 2**31 - 1, base.seed, key=f"{k}-seed",
                              help="Random seed: the same seed repeats a CPU run exactly.")
        a, b, c = st.columns(3)
        decoder = a.selectbox("Decoder", DECODER_KINDS, index=DECODER_KINDS.index(base.decoder),
                              format_func=DECODER_TITLES.get, key=f"{k}-decoder",
                              help="sigma: the decoder learns its variance, so the KL weight "
                                   "needs no tuning and rows can be sampled around the decoded "
                                   "mean. thesis: the thesis's losses (needs min-max scaling).")
        transform = b.selectbox("Feature transform", TRANSFORM_KINDS,
                                index=TRANSFORM_KINDS.index(base.transform),
                                format_func=TRANSFORM_TITLES.get, key=f"{k}-transform",
                                help="Fitted on the training rows and saved with the run. "
                                     "Quantile suits skewed or multi-modal columns.")
        folds = _fold_options(data)
        held = c.multiselect("Held-out test folds", folds, default=list(full.test_folds),
                             key=f"{k}-folds", disabled=not folds,
                             help="Rows of these folds are never trained or validated on, so "
                                  "Evaluate can test on them honestly. Default: the folds the "
                                  "dataset marks as its test folds." if folds else
                                  "This dataset records no folds.")
        with st.expander("More options"):
            a, b, c, d = st.columns(4)
            beta = a.number_input("KL weight (beta)", 0.0, 100.0, base.beta, key=f"{k}-beta",
                                  disabled=not MODELS[model].is_variational,
                                  help="Weight of the KL term (VAE, CVAE); >1 gives a smoother, "
                                       "blurrier latent space, <1 sharper reconstructions.")
            warmup = b.number_input("KL warm-up epochs", 0, 1000, base.kl_warmup_epochs,
                                    key=f"{k}-warmup", disabled=not MODELS[model].is_variational,
                                    help="Raise the KL weight linearly from 0 to beta over this "
                                         "many epochs (avoids an unused latent code).")
            noise = c.number_input("Input noise (DAE)", 0.0, 1.0, base.noise_std, key=f"{k}-noise",
                                   disabled=model != "dae",
                                   help="Std of the Gaussian noise added to the transformed "
                                        "input of the denoising autoencoder: about a standard "
                                        "deviation of each feature under quantile or standard, "
                                        "the [0, 1] range under minmax.")
            l1 = d.number_input("L1 on the code (AE)", 0.0, 10.0, base.l1, key=f"{k}-l1",
                                disabled=model != "ae",
                                help="Weight of an L1 penalty on the code: a sparse code.")
            a, b = st.columns(2)
            body = a.radio("Body", list(BODY_KINDS), horizontal=True, key=f"{k}-body",
                           index=0, disabled=not image,
                           help="mlp: fully connected layers. Image datasets only: conv = "
                                "strided convolutions, then dense layers to the code; fcn = "
                                "fully convolutional, the code is a grid of maps (sharpest "
                                "reconstructions; no hidden layers, latent in whole maps).")
            device = b.radio("Device", ["auto", "cpu", "cuda"], horizontal=True, key=f"{k}-dev",
                             help="auto uses the GPU when PyTorch sees one.")
        st.caption(misfit + plan_caption(plan))
        pressed = st.form_submit_button("Train", type="primary", icon=":material/play_arrow:",
                                        help="Start training in the background; you can leave "
                                             "the page and come back.")
    if not pressed:
        return None
    return TrainConfig(
        model=model, latent_dim=_auto(base.latent_dim, int(latent), full.latent_dim),
        # The fcn body has no dense layers: whatever the hidden field shows does not apply.
        hidden=(None if body == "fcn" else
                _auto(base.hidden, hidden.replace(" ", ""), ",".join(map(str, full.hidden)))),
        lr=float(lr), epochs=int(epochs),
        batch_size=_auto(base.batch_size, int(batch), full.batch_size), patience=int(patience),
        val_fraction=_auto(base.val_fraction, float(val), float(full.val_fraction)),
        seed=int(seed), device=device, beta=float(beta), kl_warmup_epochs=int(warmup),
        noise_std=float(noise), l1=float(l1), body=body, decoder=decoder, transform=transform,
        test_folds=_auto(base.test_folds, tuple(sorted(held)), tuple(full.test_folds)))


def _fold_options(data: FeatureSet) -> list[int]:
    return sorted(int(f) for f in np.unique(data.folds)) if data.folds is not None else []


def plan_caption(plan: TrainPlan) -> str:
    """What the form's defaults were derived from, and which rows are held out."""
    held = len(plan.held_out_index)
    which = (f"folds {', '.join(map(str, plan.test_folds))}" if plan.test_folds else
             f"{plan.config.test_fraction:.0%} of each class")
    rows = (f"Held out: {which} ({held} rows), never trained or validated on. " if held else "")
    return (f"{rows}{len(plan.train_index)} training and {len(plan.val_index)} validation rows. "
            f"{plan.caption()}")


def preset_help() -> str:
    return ("Start from a named setting, then change any value. defaults: what `python -m "
            "synth_core train` does with no flags, every size derived from the data (shown "
            "below), the calibrated decoder, up to 300 epochs with early stopping; the best "
            "setting measured. " + " ".join(f"{name}: {text}"
                                            for name, text in PRESET_DESCRIPTIONS.items()))


# ---------------------------------------------------------------- figures
def loss_figure(history: list[dict[str, Any]]) -> go.Figure:
    """Train and validation curves of total loss, reconstruction and KL, side by side."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=[t for _, t in _CURVES])
    epochs = [h["epoch"] for h in history]
    for col, (part, _) in enumerate(_CURVES, start=1):
        for split, color, dash in (("train", "#1f77b4", "solid"), ("val", "#ff7f0e", "dash")):
            values = [_num(h.get(f"{split}_{part}")) for h in history]
            fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines", name=split if split ==
                                     "train" else "validation", legendgroup=split,
                                     showlegend=col == 1, line={"color": color, "dash": dash}),
                          row=1, col=col)
    fig.update_xaxes(title_text="epoch", **({"dtick": 1} if len(epochs) <= 10 else {}))
    fig.update_layout(height=300, margin={"t": 40, "b": 10, "l": 10, "r": 10},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def _num(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def live_curves(job: JobStatus) -> None:
    """Live view for the job panel: loss curves from the job's EpochEnd events."""
    events = read_events(state.workspace(), job.id, event_type="EpochEnd")
    if events:
        st.plotly_chart(loss_figure(events), width="stretch", key=f"live-{job.id}")


def reconstruction_figure(run: Run, data: FeatureSet) -> tuple[Any, str]:
    """Originals over reconstructions: an image grid (image data) or two heatmaps."""
    rec = reconstruction_examples(run, data, n_samples=8)
    names = [data.class_names[c] if 0 <= c < data.n_classes else "?" for c in rec.labels]
    caption = (f"Top: validation rows ({', '.join(names)}); bottom: their reconstructions. "
               f"Mean squared error {rec.mse:.4g}.")
    shape = data.attrs.get("feature_shape")
    if data.attrs.get("modality") == "image" and shape and len(shape) == 2:
        lo, hi = float(data.features.min()), float(data.features.max())
        gap_row = np.full((1, shape[1]), np.nan)  # NaN draws as a blank gap between tiles
        tiles = [np.vstack([o.reshape(shape), gap_row, r.reshape(shape)])
                 for o, r in zip(rec.original, rec.reconstructed)]
        gap_col = np.full((tiles[0].shape[0], 1), np.nan) if tiles else None
        grid = np.hstack([part for tile in tiles for part in (tile, gap_col)][:-1])
        grid = np.clip((grid - lo) / max(hi - lo, 1e-12), 0, 1)
        fig = px.imshow(grid, color_continuous_scale="gray_r", zmin=0, zmax=1, aspect="equal")
        fig.update_layout(coloraxis_showscale=False, height=260,
                          margin={"t": 10, "b": 10, "l": 10, "r": 10})
        fig.update_xaxes(showticklabels=False, ticks="", showgrid=False)
        fig.update_yaxes(showticklabels=False, ticks="", showgrid=False)
        return fig, caption
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=["original", "reconstruction"])
    for row, values in ((1, rec.original), (2, rec.reconstructed)):
        fig.add_trace(go.Heatmap(z=values, y=[f"row {i}" for i in rec.index], coloraxis="coloraxis"),
                      row=row, col=1)
    fig.update_layout(height=420, coloraxis={"colorscale": "Viridis"},
                      margin={"t": 30, "b": 10, "l": 10, "r": 10})
    fig.update_xaxes(title_text="feature", row=2, col=1)
    return fig, caption.replace("Top", "Upper map").replace("bottom", "lower map")


def latent_figure(run: Run, data: FeatureSet) -> tuple[go.Figure, str]:
    points = latent_points(run, data, rows="train")
    names = np.array([data.class_names[c] if 0 <= c < data.n_classes else "unlabeled"
                      for c in points.labels])
    fig = px.scatter(x=points.xy[:, 0], y=points.xy[:, 1], color=names, opacity=0.7,
                     labels={"x": "dim 1" if points.method == "latent" else "PC 1",
                             "y": "dim 2" if points.method == "latent" else "PC 2",
                             "color": "class"},
                     category_orders={"color": [*data.class_names, "unlabeled"]},
                     hover_name=[f"row {i}" for i in points.index])
    fig.update_layout(height=420, margin={"t": 10, "b": 10, "l": 10, "r": 10})
    if points.method == "pca":
        share = sum(points.explained)
        caption = (f"Latent means of {len(points.index)} training rows, projected from "
                   f"{run.latent_dim} to 2 dimensions with PCA ({share:.0%} of the variance).")
    else:
        caption = f"Latent means of {len(points.index)} training rows ({run.latent_dim}-d code)."
    return fig, caption


def runs_table(dataset_ref: str | None = None) -> list[dict[str, Any]]:
    return [{**r.as_row(), "run_dir": r.run_dir}
            for r in run_summaries(state.workspace(), dataset_ref=dataset_ref)]


def collapse_notes(metrics: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(a caption with the collapse check's figures, its warnings) from a run's metrics; the
    warnings start with a jump of the training loss where there was one."""
    collapse = metrics.get("collapse") or {}
    if "active_units" not in collapse:
        return None, run_warnings(metrics)
    parts = [f"{collapse['active_units']} of {collapse.get('latent_dim', '?')} latent units "
             f"active (KL above {collapse.get('active_threshold', 0.01)} nats)"]
    if collapse.get("spread_ratio_generated") is not None:
        parts.append(f"rows made as Generate makes them spread "
                     f"{collapse['spread_ratio_generated']:.2f}x the real rows (median "
                     "per-feature std ratio)")
    if collapse.get("copy_ratio") is not None:
        parts.append(f"they sit {collapse['copy_ratio']:.2f}x as far from their nearest "
                     "training row as training rows are from their nearest other one (near 1: "
                     "new rows; below 0.7: near-copies)")
    if collapse.get("copy_real_repeats") is not None:
        parts.append(f"{collapse['copy_real_repeats']:.0%} of the training rows repeat "
                     f"another, so training rows themselves read "
                     f"{collapse['copy_ratio_real']:.2f}x with "
                     f"{collapse['copy_fraction_real']:.0%} at copy distance, against "
                     f"{collapse['copy_fraction']:.0%} of the made rows")
    if collapse.get("class_agreement") is not None:
        parts.append(f"a classifier of the training rows gives "
                     f"{collapse['class_agreement']:.0%} of them their class (training rows: "
                     f"{collapse['class_agreement_real']:.0%})")
    if collapse.get("spread_ratio") is not None:
        parts.append(f"rows decoded from the prior spread {collapse['spread_ratio']:.2f}x the "
                     "real rows (median per-feature std ratio)")
    if collapse.get("spread_ratio_sampled") is not None:
        parts.append(f"{collapse['spread_ratio_sampled']:.2f}x when sampling the decoder")
    return "Collapse check: " + "; ".join(parts) + ".", run_warnings(metrics)
