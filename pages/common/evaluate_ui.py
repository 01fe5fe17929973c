"""Widgets and views of the Evaluate page: set pickers, the scorecard, confusion matrices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.common import state, ui
from synth_core.data.datasets import list_dataset_refs, load_dataset
from synth_core.errors import SynthError
from synth_core.evaluation.augmentation import (BASELINE_GENERATORS, GENERATORS,
                                                MAX_ROWS_PER_REAL)
from synth_core.evaluation.classifiers import CLASSIFIER_LABELS, DETECTORS
from synth_core.numbers import parse_ints
from synth_core.evaluation.report import REFERENCE, Scorecard, load_report
from synth_core.evaluation.scorecard import EvaluateConfig
from synth_core.jobs import JobStatus

SPLIT = "(split the real training data)"


@st.cache_data(show_spinner=False, max_entries=256)
def _file_info(path: str, mtime: float) -> dict[str, Any]:
    """Rows, width and provenance attrs of a feature file, read without loading features."""
    try:
        with h5py.File(path, "r") as handle:
            shape = handle["features"].shape if "features" in handle else (0, 0)
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in handle.attrs.items()
                     if k in ("mode", "model_run", "model")}
    except OSError:
        return {"rows": 0, "width": 0, "generated": False, "label": "unreadable"}
    run = Path(str(attrs.get("model_run", ""))).name
    generated = bool(attrs.get("mode") or attrs.get("model_run"))
    label = f"{shape[0]} rows x {shape[1]}" + (f", {attrs.get('mode')} from {run}" if generated
                                               else "")
    return {"rows": int(shape[0]), "width": int(shape[1]), "generated": generated, "label": label}


def synthetic_files() -> dict[str, dict[str, Any]]:
    """Feature files of the workspace (datasets/ and exports/) -> their info, generated first."""
    ws = state.workspace()
    files = sorted(ws.datasets_dir.glob("*.h5")) + sorted(ws.exports_dir.glob("*.h5"))
    info = {str(p): _file_info(str(p), p.stat().st_mtime) for p in files}
    return {p: info[p] for p in sorted(info, key=lambda p: (not info[p]["generated"], p))}


def synthetic_picker(files: dict[str, dict[str, Any]], *, key: str) -> list[str]:
    """Multiselect over ``files`` (from :func:`synthetic_files`, read once per page run)."""
    options = list(files)
    remembered = state.get(state.SYNTHETIC)
    generated = [p for p in options if files[p]["generated"]]
    default = [remembered] if remembered in options else generated[:1]
    return st.multiselect(
        "Synthetic sets", options, default=default, key=key,
        format_func=lambda p: f"{Path(p).parent.name}/{Path(p).name}  ({files[p]['label']})",
        placeholder="none: score the real held-out rows only (the baseline)",
        help="Any feature file in the workspace's datasets/ and exports/ folders; generated "
             "files (from the Generate page) come first. Pick several to compare VAE, CVAE or "
             "different runs side by side. They must have the real data's width and classes.")


def test_picker(*, key: str) -> str | None:
    refs = [SPLIT] + list_dataset_refs(state.workspace())
    choice = st.selectbox(
        "Real test data", refs, key=key, format_func=lambda r: r if r == SPLIT else
        ui.dataset_label(r),
        help="Real rows the classifiers are tested on; never rows the generator was trained on. "
             "Left to split, the real data is divided by its predefined folds (the last fold "
             "tests; UrbanSound8K style) or 70/30 by class, and the report says which.")
    return None if choice == SPLIT else choice


def options_form(*, key: str) -> dict[str, Any] | None:
    """The EvaluateConfig fields a user may want to change (as a JSON-able dict).

    None when a field cannot be read (the error is shown): the Run button stays off
    rather than running with a different choice than the one typed.
    """
    with st.expander("Options", icon=":material/tune:"):
        cols = st.columns(3)
        k = cols[0].number_input("k neighbours", 1, 50, None, key=f"{key}-k",
                                 placeholder="auto: 5, fewer for small sets",
                                 help="Neighbours that define each row's ball for precision, "
                                      "recall, density and coverage (Naeem et al. use 5). "
                                      "Empty: 5, or fewer when a set has 5 rows or fewer (the "
                                      "report then says so), as the evaluate verb without --k.")
        classifiers = cols[1].multiselect(
            "Classifiers", list(CLASSIFIER_LABELS), default=list(CLASSIFIER_LABELS),
            key=f"{key}-clf", format_func=lambda c: CLASSIFIER_LABELS[c],
            help="Trained on each set and tested on real rows (seeded scikit-learn): an MLP "
                 "with early stopping, logistic regression and a random forest.")
        detector = cols[2].selectbox(
            "Real-vs-synthetic detector", list(DETECTORS), key=f"{key}-det",
            format_func=lambda d: f"{d}: {DETECTORS[d]}",
            help="The classifier of the two-sample test. 'quadratic' catches shifted means and "
                 "shrunken variances, the usual marks of a VAE, and is fast.")
        folds = cols[0].text_input("Test folds", "", key=f"{key}-folds",
                                   help="When no real test data is chosen and the data has "
                                        "predefined folds: the folds to test on, e.g. 10. Empty: "
                                        "the last fold.")
        frames = cols[1].selectbox("Frechet per frame", ["auto", "on", "off"], key=f"{key}-fr",
                                   help="Also the Frechet distance on single VGGish frames "
                                        "(feature_shape [4, 128]), as in the Frechet Audio "
                                        "Distance. auto: when the data has frames.")
        seed = cols[2].number_input("Seed", 0, 10_000, 0, key=f"{key}-seed",
                                    help="Seeds the split, the classifiers and the subsampling.")
        checks = st.columns(2)
        augmentation = checks[0].checkbox(
            "Also train on real + synthetic (augmentation)", True, key=f"{key}-aug",
            help="Does adding the synthetic rows to the real training rows help a classifier? "
                 "Costs one more fit per set.")
        baseline = checks[1].checkbox(
            "Compare with a per-class Gaussian baseline", True, key=f"{key}-base",
            help="Fits one multivariate Gaussian per class on the real training rows, draws as "
                 "many rows per class as each set has, and scores them the same way (random "
                 "forest TSTR, detection AUC). The report's first lines say whether each set "
                 "beats it.")
    try:
        test_folds = parse_ints(folds, name="Test folds", example="10 or 9,10")
    except SynthError as exc:
        ui.show_error(exc)
        return None  # unreadable folds: Run stays off rather than testing on other folds
    return {"k": None if k is None else int(k), "classifiers": classifiers or ["logreg"],
            "detector": detector,
            "test_folds": list(test_folds) if test_folds else None, "random_state": int(seed),
            "augmentation": augmentation, "baseline": baseline,
            "frechet_frames": {"auto": None, "on": True, "off": False}[frames]}


def check_options(options: dict[str, Any] | None) -> bool:
    return options is not None and ui.attempt(EvaluateConfig.from_dict, options) is not None


def report_of(job: JobStatus) -> Scorecard | None:
    path = job.result.get("report") if job.state == "done" else None
    return ui.attempt(load_report, path) if path else None


def show_scorecard(card: Scorecard, *, key: str) -> None:
    # The headline first: whether leakage could be ruled out, whether each set beats the
    # baseline. A shortfall is a warning, not an error: the numbers below still stand.
    for line in card.headline:
        bad = "NOT" in line or "cannot be ruled out" in line
        (st.warning if bad else st.success)(line, icon=":material/warning:" if bad
                                            else ":material/check_circle:")
    for note in card.notes:
        st.info(note, icon=":material/info:")
    real = card.real
    # The reference column is left out when the test rows are too few to score (a note says).
    reference = (f" '{REFERENCE}' scores real test rows the same way: what a perfect generator "
                 "would get." if REFERENCE in card.sets else "")
    st.caption(f"Real data: {real['n_train']} training and {real['n_test']} test rows, "
               f"{real['n_features']} features, {real['n_classes']} classes. Each cell: value "
               "(95 % interval where there is one)." + reference)
    # A static table: the one-line meanings wrap instead of being cut off.
    st.table(pd.DataFrame(card.table()).set_index("metric"))
    tab_class, tab_features, tab_confusion, tab_copies = st.tabs(
        ["Per class", "Per feature", "Confusion matrices", "Near-copies"])
    with tab_features:
        feature_view(card, key=key)
    with tab_class:
        chosen = st.selectbox("Set", card.sets, key=f"{key}-class-set",
                              help="Per-class precision, recall, density, coverage, Frechet "
                                   "distance and F1 of the first classifier (trained on this "
                                   "set vs on real rows).")
        rows = pd.DataFrame([{k: v for k, v in r.__dict__.items() if k != "set"}
                             for r in card.per_class if r.set == chosen])
        st.dataframe(rows.style.format(precision=3, na_rep="n/a"), hide_index=True,
                     width="stretch")
        if rows.isna().any(axis=None):
            st.caption(f"n/a: too few rows of the class to compute it. Precision, recall, "
                       f"density and coverage need more than k = {card.config.get('k', 5)} "
                       "real and synthetic rows of the class, the Frechet distance 2 of each, "
                       "and the F1 scores real test rows of the class.")
    with tab_confusion:
        confusion_view(card, key=key)
    with tab_copies:
        st.dataframe([{"set": name, "near-copies": c.n_flagged, "share": c.fraction_flagged,
                       "median distance to training": c.median_distance,
                       "real-to-real median": c.real_median_distance,
                       "training rows repeated": c.real_repeats,
                       "first flagged rows": ", ".join(map(str, c.flagged_rows[:10]))}
                      for name, c in card.copies.items()], hide_index=True, width="stretch")
        st.caption("A row is flagged when it is closer to a training row than 99 % of "
                   "training rows are to their nearest different one; about 1 % is expected "
                   "by chance, more where the data repeat rows (compare with the real "
                   "held-out rows).")
    data = card.to_dict()
    cols = st.columns(2)
    cols[0].download_button("Download JSON", json.dumps(data, indent=2, default=str),
                            "evaluation.json", "application/json", key=f"{key}-json",
                            icon=":material/download:", help="The whole report: every metric, "
                            "classification reports and confusion matrices.")
    cols[1].download_button("Download CSV", card.to_csv(), "evaluation.csv", "text/csv",
                            key=f"{key}-csv", icon=":material/table:",
                            help="One row per number (overall and per class), for a spreadsheet.")


def feature_view(card: Scorecard, *, key: str) -> None:
    """Worst features per set by spread and by shape, and the spread ratio of every feature."""
    if not card.features:
        st.caption("This report has no per-feature numbers (made by an older version).")
        return
    chosen = st.selectbox("Set", list(card.features), key=f"{key}-feat-set",
                          help="Per feature: the set's standard deviation over the real one "
                               "(spread ratio) and the Wasserstein distance between the real "
                               "and synthetic values, in real standard deviations (shape).")
    agreement = card.features[chosen]
    cols = st.columns(2)
    cols[0].markdown("**Spread furthest from real**")
    cols[0].dataframe(agreement.worst_spread, hide_index=True, width="stretch")
    cols[1].markdown("**Marginals furthest from real**")
    cols[1].dataframe(agreement.worst_shape, hide_index=True, width="stretch")
    fig = go.Figure(go.Scatter(
        x=agreement.std_ratio, y=agreement.distance, mode="markers", text=agreement.names,
        hovertemplate="%{text}: spread ratio %{x:.2f}, distance %{y:.2f}<extra></extra>"))
    fig.add_vline(x=1.0, line_dash="dot")
    fig.update_layout(xaxis_title="spread ratio (synthetic std / real std)",
                      yaxis_title="marginal distance (real std)", height=360,
                      xaxis={"type": "log"}, margin={"t": 20, "l": 10, "r": 10})
    st.plotly_chart(fig, width="stretch", key=f"{key}-feat-fig")
    st.caption(f"{agreement.share_spread_within:.0%} of features have a spread within a factor "
               f"of 1.5 of the real one (median ratio {agreement.median_std_ratio:.2f}); a "
               "ratio well below 1 on most features means the generator returns its mean "
               "instead of samples (collapse).")


def confusion_figure(confusion: list[list[int]], names: list[str], title: str) -> go.Figure:
    z = np.asarray(confusion, dtype=float)
    share = z / np.maximum(z.sum(axis=1, keepdims=True), 1)  # colour by row share
    fig = go.Figure(go.Heatmap(z=share, x=names, y=names, text=z.astype(int),
                               texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1,
                               colorbar={"title": "row share"},
                               hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="true", height=420,
                      xaxis={"type": "category"},  # class names like "0".."9" stay labels
                      yaxis={"type": "category", "autorange": "reversed"},
                      margin={"t": 50, "l": 10, "r": 10})
    return fig


def confusion_view(card: Scorecard, *, key: str) -> None:
    sets = [s for s in card.sets if any(c.set == s for c in card.classifiers)] or ["real"]
    cols = st.columns(2)
    chosen = cols[0].selectbox("Trained on", sets, key=f"{key}-cm-set",
                               help="The synthetic set whose classifier to show next to the "
                                    "one trained on real rows.")
    names = sorted({c.classifier for c in card.classifiers})
    clf = cols[1].selectbox("Classifier", names, key=f"{key}-cm-clf",
                            help="Which classifier's predictions on the real test rows.")
    real = next((c for c in card.classifiers if c.mode == "trtr" and c.classifier == clf), None)
    own = next((c for c in card.classifiers if c.set == chosen and c.mode == "tstr"
                and c.classifier == clf), None)
    figs = st.columns(2)
    for col, score, title in ((figs[0], real, "trained on real"),
                              (figs[1], own, f"trained on {chosen}")):
        if score is not None:
            col.plotly_chart(confusion_figure(score.confusion, score.class_names,
                                              f"{title}: accuracy {score.accuracy:.3f}"),
                             width="stretch", key=f"{key}-cm-{title}")


@st.cache_data(show_spinner=False, max_entries=32)
def _first_images(path: str, mtime: float, n: int) -> tuple[np.ndarray, list[str]] | None:
    """The first ``n`` rows of an image set as [n, H, W] with their captions; None otherwise.

    Cached by path and mtime: the expander's body runs on every rerun of the page.
    """
    data = load_dataset(path, state.workspace())
    shape = data.attrs.get("feature_shape") or []
    if data.attrs.get("modality") != "image" or len(shape) != 2:
        return None
    rows = data.features[:n].reshape(-1, *shape)  # [n, H*W] -> [n, H, W]
    captions = [data.class_names[y] if y >= 0 else "?" for y in data.labels[:n]]
    return rows, captions


def sample_grid(path: str, *, n: int = 16) -> None:
    """Image data: the first rows of a set drawn as pictures (feature_shape [H, W])."""
    found = ui.attempt(_first_images, path, Path(path).stat().st_mtime, n)
    if found is None:
        return
    rows, captions = found
    cols = st.columns(min(len(rows), 8))
    for i, (image, label) in enumerate(zip(rows, captions)):
        span = float(image.max() - image.min()) or 1.0
        cols[i % len(cols)].image((image - image.min()) / span, caption=label, clamp=True,
                                  width="stretch")


def augment_form(*, key: str) -> dict[str, Any]:
    """Settings of the augmentation benchmark as job params (config of AugmentConfig)."""
    cols = st.columns(4)
    model = cols[0].selectbox(
        "Generator", list(GENERATORS), key=f"{key}-model",
        help="VAE: new rows by interpolating between two rows of a class. CVAE: new rows "
             "sampled for a chosen class. gaussian, copula, smote: baselines fitted on the same "
             "rows (a Gaussian per class, a Gaussian copula per class, SMOTE interpolation "
             "between same-class neighbours), to read the VAE's figures against.")
    test_size = cols[1].slider("Test share", 0.1, 0.5, 0.3, 0.05, key=f"{key}-test",
                               help="Real rows held out for testing (the study used 30 %).")
    seeds = cols[2].text_input("Seeds", "0,1,2", key=f"{key}-seeds",
                               help="One run per seed (split, generator, classifiers); several "
                                    "give a mean and a spread, e.g. 0,1,2 or 0-4.")
    preset = None
    if model not in BASELINE_GENERATORS:
        choice = cols[3].selectbox("Training", ["defaults", f"quick-{model}", f"thesis-{model}"],
                                   key=f"{key}-preset-{model}",
                                   help="defaults: what Train uses with no changes (sizes "
                                        "derived from the data, calibrated decoder, early "
                                        "stopping). quick: small network, 30 epochs, seconds "
                                        "on small data. thesis: the thesis's tuned network "
                                        "(176-180 epochs, latent 42 / 8: tables of fewer "
                                        "features need the defaults).")
        preset = None if choice == "defaults" else choice
    rows_per_real = st.number_input(
        "Synthetic rows per real row", 1, MAX_ROWS_PER_REAL, 1, key=f"{key}-rows",
        help="1: a synthetic copy of the training rows' size and class balance, the study's "
             "protocol. More rows take away the classifier's own sampling noise: on a "
             "leukemia-like table (50 training rows, 7,129 genes) the default CVAE's rows "
             "trained the MLP to 0.86 with 1 and 0.92, as good as the real rows, with 5.")
    return {"model": model, "test_size": float(test_size), "seeds": seeds, "preset": preset,
            "rows_per_real": int(rows_per_real)}


def augment_params(dataset: str, form: dict[str, Any]) -> dict[str, Any] | None:
    from synth_core.evaluation.augmentation import AugmentConfig

    try:
        seeds = parse_ints(form["seeds"], name="Seeds")
    except SynthError as exc:
        ui.show_error(exc)
        return None
    if seeds is None:
        st.error(f"Seeds {form['seeds']!r} names no seed; write e.g. 0,1,2 or 0-4.")
        return None
    config = ui.attempt(AugmentConfig, model=form["model"], test_size=form["test_size"],
                        seeds=seeds, preset=form["preset"],
                        rows_per_real=form.get("rows_per_real", 1))
    return {"dataset": dataset, "config": config.to_dict()} if config else None


def show_augment(job: JobStatus) -> None:
    from synth_core.workspace import read_json

    report = read_json(job.result.get("report", ""), None) if job.result.get("report") else None
    if not report:
        return
    summary = report["summary"]
    cols = st.columns(4)
    for col, (side, metric) in zip(cols, [("real", "accuracy"), ("synthetic", "accuracy"),
                                          ("real", "macro_f1"), ("synthetic", "macro_f1")]):
        s = summary[f"{side}_{metric}"]
        col.metric(f"Trained on {side}: {metric.replace('_', '-')}", f"{s['mean']:.3f}",
                   help=f"Mean over seeds on the real test rows; spread (std) {s['std']:.3f}, "
                        f"range {s['min']:.3f} to {s['max']:.3f}.")
    st.dataframe(report["per_class"], hide_index=True, width="stretch")
    per_real = report["config"].get("rows_per_real", 1)
    st.caption(f"Dataset {report['dataset']}, generator {report['config']['model']}, seeds "
               f"{report['config']['seeds']}, "
               + (f"{per_real} synthetic rows per real training row"
                  if per_real > 1 else "a synthetic copy of the training rows' size")
               + ". Rows: precision, recall and F1 per class, seed means (std where there are "
               "several seeds).")
