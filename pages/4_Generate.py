"""Generate: interpolate between two samples (VAE), generate by class (CVAE), sample the prior."""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from pages.common import generate_ui as gen
from pages.common import audio_ui, damaged_ui, jobs_ui, state, ui
from synth_core.generation.generator import LARGE_REQUEST, GenerateConfig, path_output
from synth_core.generation.interpolation import decode_path
from synth_core.training.runs import scan_runs

ui.page_header(
    "Generate",
    "A trained VAE maps every sample to a point of a small latent space; decoding the points on "
    "the path between two samples gives new samples that blend them, and a conditional VAE "
    "(CVAE) draws new samples of a chosen class. This is how the thesis made synthetic data: "
    "everything here is seeded and saved with its provenance (model, mode, seed, parents).",
    icon=":material/auto_awesome:")

source = st.radio("Generator", ["Trained model", "Baseline"], horizontal=True, key="gen-source",
                  help="A model from the Train page, or a simple baseline (per-class Gaussian, "
                       "Gaussian copula, SMOTE) fitted on a dataset to compare the models with.")
if source == "Baseline":
    gen.baseline_section()
    st.stop()

runs, damaged = scan_runs(state.workspace())  # one damaged folder never hides the others
damaged_ui.show_damaged(damaged, key="gen-damaged")
if not runs:
    st.info("No trained model yet. Train a VAE (or a CVAE, for generation by class) on the "
            "Train page; a small one on the embedded digits takes seconds. Then come back here.",
            icon=":material/model_training:")
    gen.train_link()
    st.stop()

run_dir = gen.run_picker(runs)
run = ui.attempt(gen.load_run, run_dir)
data = ui.attempt(gen.load_data, run_dir) if run is not None else None
if run is None or data is None:
    st.stop()
if (silent := audio_ui.why_silent(data)) is not None:
    st.info(f"No sound for these rows: {silent}", icon=":material/volume_off:")
method = gen.map_picker(data, key="gen-map-method",
                        help="How the real data is laid out in 2-D; generated points are placed "
                             "on it.")
modes = (["By class", "Interpolate"] if run.is_conditional
         else ["Interpolate", "By class"] if data.is_labeled else ["Interpolate"])
mode = st.segmented_control("What to generate", modes + ["Batch protocol", "Prior"],
                            default=modes[0], key="gen-mode", help="Interpolate: a slider between two samples. "
                            "By class: classes and counts (a CVAE decodes with the class; a VAE "
                            "draws each class's codes from its training codes). Batch protocol: "
                            "the thesis's 800 samples in one click. Prior: random codes.") \
    or modes[0]


@st.fragment
def listen_view(ends) -> None:
    """Sound needs the server (decoding and inverting one point), so audio data keeps a
    server-side slider beside the player; a move reruns only this fragment."""
    t = st.slider("Listen at t", 0.0, 1.0, 0.5, 0.05, key="gen-t",
                  help="0 is the first sample, 1 the second. Each move decodes this point of "
                       "the path and plays it (or the nearest real clips).")
    gen.show_sample(decode_path(run, ends, t)[0], data, caption=f"decoded at t = {t:.2f}",
                    key="gen-point")


if mode == "Interpolate":
    i, j = gen.pair_picker(data)
    left, right = st.columns(2)
    path = left.radio("Path in latent space", ["linear", "spherical"], horizontal=True,
                      help="linear: z1 + (z2 - z1) t. spherical: along the great circle, "
                           "keeping codes at a typical distance from the origin.")
    codes = right.radio("Codes of the two samples", ["mean", "sample"], horizontal=True,
                        help="mean: the encoder's posterior means (repeatable). sample: one "
                             "random draw from each posterior.")
    ends = ui.attempt(gen.endpoints, run_dir, i, j, path, codes)
    if ends is None:
        st.stop()
    st.caption(f"From row {i} ({gen.row_text(data, i)}) to row {j} ({gen.row_text(data, j)}). "
               "Move the slider under the map (drag it, or click it and use the arrow keys): the "
               "star walks the path and the panel beside the slider shows the sample decoded "
               "there.")
    gen.show_ends(data, ends)
    if method:
        gen.path_player_view(run_dir, method, ends)
    if gen.modality(data) == "audio":
        listen_view(ends)
    steps = st.slider("Points on the path", 3, 20, 12, help="The strip below decodes this many "
                      "evenly spaced points, both ends included (the thesis used 12).")
    t_all = np.linspace(0.0, 1.0, steps)
    # One decode serves both the strip and the file (an expander's body runs even when closed).
    rows = gen.path_rows(run_dir, i, j, path, codes, steps)
    gen.path_strip(rows.features, t_all, data, key="gen-strip")
    with st.expander("Save or download this path"):
        gen.save_and_download(run, rows, GenerateConfig(mode="pair", from_index=i, to_index=j,
                              steps=steps, path=path, codes=codes), key="gen-path")
    st.stop()

k = run.n_classes
seed = st.number_input("Seed", 0, 2**31 - 1, 0, help="Same seed, same samples.")
config = None
if mode == "By class":
    names = run.class_names
    chosen = st.multiselect("Classes", range(k), default=list(range(k)),
                            format_func=lambda c: names[c],
                            help="The classes to generate rows of (all of them to begin with, "
                                 "as generate --per-class does).")
    balance = st.toggle("Follow the real class balance", key="gen-balance",
                        help="Share a total out over the chosen classes in the proportions of "
                             "the model's training rows, instead of the same count for each.")
    count = st.number_input("Samples in total" if balance else "Samples per class", 1, 100_000,
                            800 if balance else 80, key=f"gen-count-{balance}",
                            help="The thesis made 10 per draw x 8 draws = 80 per class.")
    config = GenerateConfig(mode="class", classes=tuple(chosen), per_class=count,
                            balance=count if balance else 0, seed=seed,
                            **gen.sampling_options(run, by_class=True, key="gen-class"))
elif mode == "Batch protocol":
    cols = st.columns(3)
    pairs = cols[0].number_input("Pairs per class" if data.is_labeled else "Pairs", 1, 1000, 8,
                                 help="Random pairs drawn from each class (thesis: 8); from all "
                                 "rows when the data has no labels. For a CVAE: draws per class.")
    steps = cols[1].number_input("Points per pair", 3, 200, 12, help="Points from z1 to z2; both "
                                 "ends are real samples and dropped (thesis: 12 -> 10 new).")
    cross = cols[2].multiselect("Across two classes (optional)", range(k), max_selections=2,
                                format_func=lambda c: run.class_names[c], help="Pick two classes "
                                "to draw pairs from the first to the second (e.g. 3 -> 8).")
    if run.is_conditional and len(cross) != 2:
        config = GenerateConfig(mode="class", per_class=pairs * (steps - 2), seed=seed,
                                **gen.sampling_options(run, by_class=True, key="gen-protocol"))
    else:
        config = GenerateConfig(mode="protocol", pairs=pairs, steps=steps, seed=seed,
                                cross=tuple(cross) if len(cross) == 2 else None,
                                output=gen.output_option(
                                    run, key="gen-protocol",
                                    default=path_output(run, "protocol")))
else:
    count = st.number_input("Samples", 1, 1_000_000, 200, help="How many codes to draw.")
    config = GenerateConfig(mode="prior", n_prior=count, seed=seed,
                            **gen.sampling_options(run, by_class=False, key="gen-prior"))

n = config.n_requested(k)
if n > LARGE_REQUEST:
    st.warning(f"{n:,} samples requested: this can take a while on a slow machine, so it runs "
               "as a background job and is saved to exports/ when done.",
               icon=":material/hourglass:")
if st.button(f"Generate {n:,} samples", type="primary", icon=":material/auto_awesome:",
             help="Decode the samples; large requests run in the background."):
    if n > LARGE_REQUEST:
        jobs_ui.start_job("generate", {"run": run_dir, "config": config.to_dict()},
                          title=f"Generate {n:,} samples")
    else:
        state.put(state.GEN_CONFIG, {"run": run_dir, "config": config.to_dict()})

job = jobs_ui.latest_job("generate", match=lambda j: j.params.get("run") == run_dir)
if job is not None:
    jobs_ui.job_panel(job, key="gen-job")
shown = state.get(state.GEN_CONFIG)
if shown and shown["run"] == run_dir:
    shown_config = GenerateConfig.from_dict(shown["config"])
    config_json = json.dumps(shown["config"], sort_keys=True)
    rows = ui.attempt(gen.generated, run_dir, config_json)
    if rows is not None:
        st.subheader(f"{rows.n_samples:,} generated samples")
        spread_warning = gen.spread_warning(run_dir, config_json)
        for warning in [*gen.generation_warnings(run_dir, config_json), spread_warning]:
            if warning:
                st.warning(warning, icon=":material/warning:")
        if method:
            gen.result_map(run_dir, method, rows)
        else:
            gen.value_histogram(rows, data, key="gen-result-hist")
        audio_ui.class_samples(rows, data)
        gen.save_and_download(run, rows, shown_config, key="gen-batch")
