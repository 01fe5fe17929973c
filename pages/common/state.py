"""Session state: every key the pages use is named once, here.

Session state holds ids, paths, references and configs only, never models or
arrays (those load through cached loaders). Results of long work are found
again from the workspace, so losing the session (a refresh) loses nothing.

Classroom mode (``SYNTH_CLASSROOM=1``): each browser session works in its own
folder ``users/<code>/`` of the server's workspace, and the short code is kept
in the URL (``?who=<code>``) so a refresh, a bookmark or another tab finds the
same things again. No passwords: the code only keeps sessions apart.
"""

from __future__ import annotations

import os

import streamlit as st

from synth_core.errors import InputError
from synth_core.workspace import (Workspace, check_owner_code, classroom_enabled, get_workspace,
                                  new_owner_code)

DATASET = "dataset_ref"            # str: the dataset the user works on (shared by all pages)
RUN = "run_dir"                    # str: the run picked on Train / Generate
SYNTHETIC = "synthetic_ref"        # str: a generated feature file picked on Generate / Explore
STUDY = "study_name"               # str: the Optuna study shown on Tune
GEN_PAIR = "generate_pair"         # tuple[int, int]: interpolation end points (row indices)
GEN_CONFIG = "generate_config"     # dict: run_dir + GenerateConfig of the batch shown on Generate
GEN_CLICK = "generate_click"       # str: which end point ("first"/"second") the next map click sets
GEN_BASELINE = "generate_baseline" # dict: dataset ref, baseline kind, per-class count, seed shown
OWNER = "owner_code"               # str: classroom code of this browser session
OWNER_NOTE = "owner_note"          # str: why the code in the URL was not used
OWNER_QUERY = "who"                # URL query parameter holding the classroom code
DEFAULT_DATASET = "builtin:digits"


@st.cache_resource
def _workspace(root: str | None) -> Workspace:
    return get_workspace(root)


@st.cache_resource
def _owner_workspace(root: str | None, code: str) -> Workspace:
    return _workspace(root).for_owner(code)


def workspace() -> Workspace:
    """The workspace for this session: the server's ($SYNTH_WORKSPACE or ./workspace), or in
    classroom mode this session's own folder inside it."""
    root = os.environ.get("SYNTH_WORKSPACE")
    if not classroom_enabled():
        return _workspace(root)
    return _owner_workspace(root, owner_code())


def owner_code() -> str:
    """This session's classroom code: from the URL, else remembered, else a new one.

    The code is written back into the URL on every run, so it survives a page
    switch, a refresh and a bookmark.
    """
    code = st.session_state.get(OWNER)
    asked = st.query_params.get(OWNER_QUERY)
    if asked and asked != code:
        try:
            code = check_owner_code(asked)
        except InputError as exc:
            st.session_state[OWNER_NOTE] = str(exc)
    if not code:
        code = new_owner_code()
    st.session_state[OWNER] = code
    if st.query_params.get(OWNER_QUERY) != code:
        st.query_params[OWNER_QUERY] = code
    return code


def switch_owner(code: str) -> None:
    """Work under another classroom code (e.g. the one typed on another device)."""
    checked = check_owner_code(code)
    st.session_state[OWNER] = checked
    st.query_params[OWNER_QUERY] = checked


def get(key: str, default=None):
    return st.session_state.get(key, default)


def put(key: str, value) -> None:
    st.session_state[key] = value


def current_dataset() -> str:
    return st.session_state.get(DATASET, DEFAULT_DATASET)
