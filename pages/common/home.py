"""What the home page shows: counts from the workspace and the suggested next steps."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from synth_core.data.datasets import BUILTINS
from synth_core.jobs import list_jobs
from synth_core.workspace import Workspace


@dataclass(frozen=True)
class WorkspaceSummary:
    n_datasets: int
    n_runs: int
    n_studies: int
    n_active_jobs: int
    recent_jobs: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class NextStep:
    page: str
    label: str
    why: str
    icon: str


@st.cache_data(ttl=5, show_spinner=False)
def _study_count(db_path: str, mtime: float) -> int:
    import optuna

    return len(optuna.study.get_all_study_names(storage=f"sqlite:///{db_path}"))


def workspace_summary(ws: Workspace) -> WorkspaceSummary:
    n_studies = 0
    if ws.optuna_db.is_file():
        try:
            n_studies = _study_count(str(ws.optuna_db), ws.optuna_db.stat().st_mtime)
        except Exception:  # noqa: BLE001 - an unreadable db must not break the home page
            n_studies = 0
    jobs = list_jobs(ws, limit=50)
    return WorkspaceSummary(
        n_datasets=len(BUILTINS) + len(ws.list_datasets()),
        n_runs=len(ws.list_runs()), n_studies=n_studies,
        n_active_jobs=sum(j.is_active for j in jobs),
        recent_jobs=[{"job": j.title or j.kind, "state": j.state, "progress": f"{j.progress:.0%}",
                      "message": j.message, "started": j.created} for j in jobs[:8]])


def next_steps(summary: WorkspaceSummary) -> list[NextStep]:
    """The steps to offer, most useful first."""
    steps = []
    if summary.n_runs == 0:
        steps.append(NextStep("pages/2_Train.py", "Train a VAE on the embedded digits",
                              "Nothing trained yet: a small VAE on builtin:digits takes seconds.",
                              ":material/model_training:"))
        steps.append(NextStep("pages/1_Data.py", "Bring in your own data",
                              "Upload audio or a feature matrix, or extract VGGish features.",
                              ":material/upload_file:"))
    else:
        steps.append(NextStep("pages/4_Generate.py", "Generate new samples",
                              "Interpolate between two samples (VAE) or pick a class (CVAE).",
                              ":material/auto_awesome:"))
        steps.append(NextStep("pages/5_Explore.py", "Map real and generated data",
                              "t-SNE with generated points as stars over the real ones.",
                              ":material/scatter_plot:"))
        steps.append(NextStep("pages/6_Evaluate.py", "Score the synthetic data",
                              "Train-on-synthetic/test-on-real, precision/recall, Frechet distance.",
                              ":material/fact_check:"))
        steps.append(NextStep("pages/3_Tune.py", "Tune hyperparameters",
                              "Optuna studies with TPE and median pruning, as in the thesis.",
                              ":material/tune:"))
    return steps


def show_tour_result(result: dict) -> None:
    """The tour's outcome: the decoded 3 -> 8 path as images and the map with stars."""
    from pathlib import Path

    import numpy as np

    from pages.common.generate_ui import path_strip
    from synth_core.errors import SynthError
    from synth_core.features import read_features
    from synth_core.generation import MapData, map_figure

    try:
        path = read_features(result["generated"])
        map_data = MapData.load(result["map"])
    except (KeyError, SynthError) as exc:
        st.warning(f"The tour's files are gone ({exc}); take the tour again.")
        return
    t = np.asarray(path.attrs.get("t", np.linspace(0, 1, path.n_samples)), dtype=float)
    if result.get("audio"):
        # Class names are user-visible text from the dataset: shown with st.text.
        st.markdown("**Listen: the path between two classes, decoded by the conditional VAE:**")
        st.text(f"{result.get('from_class')} -> {result.get('to_class')}")
    else:
        st.markdown("**The path from a 3 to an 8, decoded from the VAE's latent space:**")
    path_strip(path.features, t, path, key="tour-strip")
    what = "sounds" if result.get("audio") else "digits"
    st.plotly_chart(map_figure(map_data, title=f"Real {what} (faded) and the decoded path (stars)",
                               height=520), key="tour-map", width="stretch")
    st.caption(f"Model: `{Path(result['run_dir']).name}` · generated file: "
               f"`{Path(result['generated']).name}`. Open them on the Generate and Explore pages.")
