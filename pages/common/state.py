"""Session state: every key the pages use is named once, here.

Session state holds ids, paths, references and configs only, never models or
arrays (those load through cached loaders). Results of long work are found
again from the workspace, so losing the session (a refresh) loses nothing.
"""

from __future__ import annotations

import os

import streamlit as st

from synth_core.workspace import Workspace, get_workspace

DATASET = "dataset_ref"            # str: the dataset the user works on (shared by all pages)
RUN = "run_dir"                    # str: the run picked on Train / Generate
SYNTHETIC = "synthetic_ref"        # str: a generated feature file picked on Generate / Explore
STUDY = "study_name"               # str: the Optuna study shown on Tune
GEN_PAIR = "generate_pair"         # tuple[int, int]: interpolation end points (row indices)
GEN_CONFIG = "generate_config"     # dict: run_dir + GenerateConfig of the batch shown on Generate
GEN_CLICK = "generate_click"       # str: which end point ("first"/"second") the next map click sets
DEFAULT_DATASET = "builtin:digits"


@st.cache_resource
def _workspace(root: str | None) -> Workspace:
    return get_workspace(root)


def workspace() -> Workspace:
    """The workspace for this server ($SYNTH_WORKSPACE or ./workspace)."""
    return _workspace(os.environ.get("SYNTH_WORKSPACE"))


def get(key: str, default=None):
    return st.session_state.get(key, default)


def put(key: str, value) -> None:
    st.session_state[key] = value


def current_dataset() -> str:
    return st.session_state.get(DATASET, DEFAULT_DATASET)
