"""Widgets of the Tune page: storage and study pickers, the new-study form, results, actions.

Everything here reads widgets into core objects (``TuneConfig``, a storage URL)
or draws core records (trial rows, Optuna's figures); the logic is in
``synth_core.training.tuning`` (space, storage, study, records, plots) and ``synth_core.training.dashboard``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from pages.common import jobs_ui, state, ui
from pages.common.navigation import page_link
from synth_core.training import tuning
from synth_core.jobs import JobStatus
from synth_core.errors import InputError, SynthError
from synth_core.training.tuning.space import PARAMS, RANGE_PRESETS, SearchSpace, TuneConfig

STORAGES = {"db": "Workspace database (optuna.db)",
            "journal": "Workspace journal file (shared by several workers)",
            "url": "Another storage URL"}
_LR_FORMAT = "%.2e"


def storage_picker() -> str:
    """Where studies live; the same storage is used to start, browse and open the dashboard."""
    ws = state.workspace()
    left, right = st.columns([1, 2])
    kind = left.selectbox(
        "Study storage", list(STORAGES), format_func=STORAGES.get, key="tune-storage-kind",
        help="SQLite database for studies run by this dashboard; the journal file when several "
             "worker processes (`python -m synth_core tune ... --storage PATH.journal`) share "
             "one study; a PostgreSQL/MySQL URL to share a study between machines.")
    if kind == "db":
        url = ws.optuna_url
    elif kind == "journal":
        url = str(ws.optuna_journal)
    else:
        url = right.text_input("Storage URL", key="tune-storage-url",
                               placeholder="postgresql://user@host/db",
                               help="sqlite:///path.db, postgresql://..., mysql+pymysql://..., "
                                    "or a path ending .journal")
    if kind != "url":
        right.text_input("Location", tuning.storage_label(url), disabled=True,
                         key=f"tune-storage-show-{kind}",
                         help="optuna-dashboard and the CLI open this same storage.")
    return url


@st.cache_resource(max_entries=8, show_spinner=False)
def open_storage(url: str):
    """The storage behind ``url`` (StorageError with the reason when it cannot be opened).

    Cached per URL: each Optuna RDBStorage builds its own SQLAlchemy engine, and the page,
    its plots and the one-second job poll would otherwise open a new one every time.
    """
    return tuning.open_storage(url)


def study_picker(studies: list[tuning.StudyInfo]) -> str | None:
    """Select box over the storage's studies (newest first); remembers the choice."""
    if not studies:
        return None
    names = [s.name for s in studies]
    info = {s.name: s for s in studies}
    current = state.get(state.STUDY)
    index = names.index(current) if current in names else 0

    def label(name: str) -> str:
        s = info[name]
        best = f", best {s.best_value:.4g}" if s.best_value is not None else ""
        return f"{name}  ({s.model or '?'}, {s.n_trials} trials{best})"

    name = st.selectbox("Study", names, index=index, format_func=label, key="tune-study",
                        help="Every study in this storage, newest first: yours, the CLI's and "
                             "those of other workers.")
    state.put(state.STUDY, name)
    return name


def _range_inputs(name: str, default: tuple[float, float], key: str) -> tuple[float, float]:
    spec = PARAMS[name]
    left, right = st.columns(2)
    kwargs: dict[str, Any] = ({"step": 1, "min_value": int(spec.minimum)} if spec.integer else
                              {"format": _LR_FORMAT if spec.log else "%.3f",
                               "min_value": 0.0, "step": None if spec.log else 0.1})
    cast = int if spec.integer else float
    title = spec.label[:1].upper() + spec.label[1:]
    low = left.number_input(f"{title}: low", value=cast(default[0]), key=f"{key}-{name}-lo",
                            help=f"Smallest {spec.label} tried ({spec.help}).", **kwargs)
    high = right.number_input(f"{title}: high", value=cast(default[1]),
                              key=f"{key}-{name}-hi",
                              help=f"Largest {spec.label} tried ({spec.help}).", **kwargs)
    return low, high


def new_study_form(storage_url: str) -> tuple[str, TuneConfig] | None:
    """Widgets for a new study; returns (dataset, config) when Start is pressed and valid."""
    dataset = ui.dataset_picker(key="tune-dataset")
    left, right = st.columns(2)
    model = left.radio("Model", tuning.MODELS, horizontal=True, key="tune-model",
                       format_func=lambda m: {"vae": "VAE", "cvae": "CVAE (needs labels)"}[m],
                       help="VAE: MSE + KL loss. CVAE: BCE + KL, conditioned on the class.")
    preset = right.selectbox(
        "Range preset", tuning.presets_for(model), key=f"tune-preset-{model}",
        format_func=lambda p: f"{RANGE_PRESETS[p].title} - {RANGE_PRESETS[p].note}",
        help="The thesis's ranges: Exploration first, then the narrowed Exploitation ranges. "
             "Edit the bounds below; the latent size cannot exceed the data's width.")
    defaults = RANGE_PRESETS[preset].space.ranges()
    width = ui.attempt(_n_features, dataset)
    if width is not None and defaults["latent_dim"][1] > width:
        # The latent code must be narrower than the data: cap the preset's bound.
        defaults["latent_dim"] = tuning.fit_latent_range(defaults["latent_dim"], width)
        st.caption(f"Latent size capped at the dataset's {width} features.")
    key = f"tune-{model}-{preset}"  # new keys when the preset changes: its values show
    ranges = {name: _range_inputs(name, defaults[name], key if name != "latent_dim" else
                                  f"{key}-{defaults['latent_dim'][1]}")
              for name in tuning.REQUIRED_PARAMS}
    with st.expander("Also search batch size, KL weight or layer count"):
        for name, default in (("batch_size", (32, 256)), ("beta", (0.5, 2.0)),
                              ("n_layers", (1, 3))):
            if st.checkbox(f"Search {PARAMS[name].label}", key=f"{key}-use-{name}",
                           help=f"Add {PARAMS[name].label} ({PARAMS[name].help}) to the search."):
                ranges[name] = _range_inputs(name, default, key)
    with st.expander("Study settings"):
        c1, c2, c3 = st.columns(3)
        n_trials = c1.number_input("Trials", 1, 10_000, 100, key="tune-trials",
                                   help="Finished trials the study should hold; an existing "
                                        "study of that name continues up to this count.")
        n_jobs = c2.number_input("Parallel trials", 1, 64, 1, key="tune-jobs",
                                 help="Trials run at the same time in the job (threads).")
        timeout = c3.number_input("Time limit (s, 0 = none)", 0, 7 * 86400, 0, key="tune-timeout",
                                  help="Stop starting new trials after this many seconds.")
        warmup = c1.number_input("Pruner warm-up epochs", 0, 1000, 5, key="tune-warmup",
                                 help="MedianPruner n_warmup_steps: no trial is pruned before "
                                      "this epoch (thesis: 5).")
        interval = c2.number_input("Pruner interval", 1, 1000, 3, key="tune-interval",
                                   help="MedianPruner interval_steps: check every this many "
                                        "epochs (thesis: 3).")
        startup = c3.number_input("Pruner startup trials", 0, 1000, 5, key="tune-startup",
                                  help="Trials that always finish before pruning starts.")
        seed = c1.number_input("Seed", 0, 2**31 - 1, 0, key="tune-seed",
                               help="Seeds the TPE sampler and the training runs.")
        max_rows = c2.number_input("Rows used (0 = all)", 0, 10_000_000, 0, key="tune-max-rows",
                                   help="Tune on a random subsample for speed.")
        patience = c3.number_input("Early-stopping patience", 0, 1000, 10, key="tune-patience",
                                   help="Epochs without a better validation loss before a "
                                        "trial stops (0 = never).")
    study_name = st.text_input("Study name", value=f"{model}-{preset}", key=f"{key}-name",
                               help="An existing study of this name and ranges is continued; "
                                    "a new name starts a new study.")
    if not st.button("Start study", type="primary", icon=":material/play_arrow:",
                     key="tune-start", help="Runs in the background; leave or refresh freely."):
        return None
    return ui.attempt(_build_config, dataset, dict(
        model=model, study_name=study_name.strip(), storage=storage_url, n_trials=int(n_trials),
        n_jobs=int(n_jobs), timeout=float(timeout) or None, seed=int(seed),
        n_warmup_steps=int(warmup), interval_steps=int(interval), n_startup_trials=int(startup),
        max_rows=int(max_rows) or None, train={"patience": int(patience)}), ranges)


@st.cache_data(max_entries=64, show_spinner=False)
def _n_features_of(path: str, mtime: float) -> int:
    from synth_core.features import read_header

    return read_header(path).n_features


def _n_features(dataset: str) -> int:
    from synth_core.data.datasets import dataset_path

    path = dataset_path(dataset, state.workspace())
    return _n_features_of(str(path), path.stat().st_mtime)


def _build_config(dataset: str, fields: dict[str, Any], ranges: dict[str, Any]
                  ) -> tuple[str, TuneConfig]:
    space = SearchSpace.from_dict({k: list(v) for k, v in ranges.items()})
    config = TuneConfig(space=space, **fields).validate()
    check_study_data(dataset, config)
    return dataset, config


def check_study_data(dataset: str, config: TuneConfig) -> bool:
    """The data checks the study's job would make first (a CVAE on one class, a latent
    wider than the rows...), made before a job is started that could only fail; True
    when they pass (an InputError says why not)."""
    from synth_core.data.datasets import load_dataset

    tuning.fit_to_data(load_dataset(dataset, state.workspace()), config, name=dataset)
    return True


def start_study(dataset: str, config: TuneConfig) -> JobStatus:
    state.put(state.STUDY, config.study_name)
    return jobs_ui.start_job("tune", {"dataset": dataset, "config": config.to_dict()},
                             title=f"Study {config.study_name}")


def live_trials(job: JobStatus) -> None:
    """Inside the job's polling fragment: the study's trials as they finish."""
    config = job.params.get("config", {})
    try:
        storage = open_storage(config.get("storage") or state.workspace().optuna_url)
        study = tuning.load_study(config.get("study_name", ""), storage)
    except Exception:  # noqa: BLE001 - the study may not exist yet in the first second
        return
    summary_metrics(study)
    st.dataframe(tuning.trial_rows(study)[::-1], hide_index=True, width="stretch", height=260)
    workers_table(study)


def workers_table(study) -> None:
    """Who ran which trials: one row per worker process (several when machines share a study)."""
    rows = tuning.worker_rows(study)
    if len(rows) < 2:
        return
    st.caption(f"{len(rows)} worker processes ran trials of this study (`tune` / `tune-worker` on "
               "this or other machines); a worker that died shows its last trial as failed, "
               "and the trial was queued again for the others.")
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"best value": st.column_config.NumberColumn(format="%.5g")})


def summary_metrics(study) -> tuning.StudySummary:
    s = tuning.study_summary(study)
    cols = st.columns(4)
    cols[0].metric("Trials", s.n_trials, help="All trials, including running and failed ones")
    cols[1].metric("Complete", s.n_complete, help="Trials that trained to the end")
    cols[2].metric("Pruned", f"{s.share_pruned:.0%}", help=f"{s.n_pruned} trials stopped early "
                   "by the MedianPruner (share of finished trials)")
    cols[3].metric("Best value", f"{s.best_value:.5g}" if s.best_value is not None else "-",
                   help=f"Lowest validation loss, trial {s.best_number}")
    return s


@st.cache_data(max_entries=16, show_spinner="Drawing Optuna's plots...")
def _figures(url: str, name: str, n_finished: int) -> list[tuning.StudyPlot]:
    return tuning.study_figures(tuning.load_study(name, open_storage(url)))


def plots(url: str, study) -> None:
    """Optuna's own figures, one tab each (cached until another trial finishes)."""
    n_finished = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
    figures = _figures(url, study.study_name, n_finished)
    for tab, plot in zip(st.tabs([p.title for p in figures]), figures):
        with tab:
            if plot.figure is None:
                st.info(plot.note, icon=":material/info:")
            else:
                st.plotly_chart(plot.figure, width="stretch", key=f"tune-plot-{plot.key}")


def train_best(study) -> None:
    """One click: a 'train' job with the best trial's configuration (a normal run folder)."""
    config = ui.attempt(tuning.best_train_config, study)
    if config is None:
        return
    dataset = tuning.study_dataset(study) or state.current_dataset()
    st.caption(f"Best trial: latent {config.latent_dim}, hidden {list(config.hidden)}, "
               f"lr {config.lr:.3g}, {config.epochs} epochs, batch {config.batch_size}; "
               f"dataset {dataset}.")
    if st.button("Train the final model", icon=":material/model_training:", key="tune-train",
                 help="Trains the best trial's configuration on the study's dataset and saves "
                      "a run folder (Generate and Explore use it)."):
        jobs_ui.start_job("train", {"dataset": dataset, "config": config.to_dict(),
                                    "study": study.study_name},
                          title=f"Final model of {study.study_name}")
    job = jobs_ui.latest_job("train", match=lambda j: j.params.get("study") == study.study_name)
    if job is not None:
        jobs_ui.job_panel(job, key="tune-train-job")
        if job.is_done:
            page_link("pages/4_Generate.py", label="Generate with it",
                         icon=":material/auto_awesome:")


def narrow(url: str, study) -> None:
    """The exploration -> exploitation step: proposed ranges and a one-click next study."""
    space = tuning.study_space(study)
    if space is None:
        st.info("This study has no recorded ranges (not made here), so it cannot be narrowed.")
        return
    dataset = tuning.study_dataset(study) or state.current_dataset()
    try:
        width = (study.user_attrs.get(tuning.STUDY_ATTR, {}).get("n_features")
                 or _n_features(dataset))
    except (OSError, SynthError):  # the dataset is gone: propose without the data's width
        width = None
    try:
        proposal = tuning.narrow_ranges(study.get_trials(deepcopy=False), space,
                                        direction=study.direction.name.lower(),
                                        n_features=width)
    except InputError as exc:  # too few complete trials yet: a state of the study, no error
        st.info(f"Narrower ranges will be proposed here: {exc}.")
        return
    st.caption(f"From the best {proposal.n_best} of {proposal.n_complete} complete trials.")
    st.dataframe(proposal.rows(), hide_index=True, width="stretch")
    name = tuning.unused_study_name(open_storage(url), f"{study.study_name}-narrowed")
    if st.button(f"Start {name} with these ranges", icon=":material/filter_center_focus:",
                 key="tune-narrow", help="A new study with the proposed ranges and the same "
                                         "dataset, model, trial count and settings."):
        summary = tuning.study_summary(study)
        # The source study's settings (pruner, patience, rows, seed...), new ranges and name.
        settings = dict(study.user_attrs.get(tuning.STUDY_ATTR, {}).get("config") or {})
        settings.update(model=tuning.study_model(study), study_name=name, storage=url,
                        space=proposal.space, n_trials=max(summary.n_trials, 1))
        config = ui.attempt(TuneConfig.from_dict, settings)
        if config is not None and ui.attempt(check_study_data, dataset, config) is not None:
            start_study(dataset, config)
            st.rerun()


def dashboard_controls(url: str) -> None:
    """Start, open and stop optuna-dashboard on the same storage."""
    from synth_core.training import dashboard as dash

    ws = state.workspace()
    info = dash.dashboard_status(ws)
    if info is not None and info.storage == url:
        left, right = st.columns(2)
        left.link_button("Open optuna-dashboard", info.url, icon=":material/open_in_new:",
                         help=f"optuna-dashboard at {info.url} on this storage (new tab).")
        if right.button("Stop optuna-dashboard", icon=":material/stop:", key="tune-dash-stop",
                        help="Ends the optuna-dashboard process."):
            dash.stop_dashboard(ws)
            st.rerun()
        return
    if st.button("Start optuna-dashboard", icon=":material/dashboard:", key="tune-dash-start",
                 help="Optuna's own dashboard on 127.0.0.1 (a free port) over this storage: "
                      "every plot, trial details and notes."):
        with st.spinner("Starting optuna-dashboard..."):
            if ui.attempt(dash.start_dashboard, ws, url) is not None:
                st.rerun()
