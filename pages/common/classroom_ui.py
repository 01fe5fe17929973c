"""The classroom box in the sidebar: this session's code, and switching to another one.

Drawn once per run by ``app.py`` when ``SYNTH_CLASSROOM=1``; in the default
one-user mode it draws nothing.
"""

from __future__ import annotations

import streamlit as st

from pages.common import state
from synth_core.errors import InputError
from synth_core.workspace import classroom_enabled

_SWITCH = "classroom-switch"


def _switch() -> None:
    typed = st.session_state.get(_SWITCH, "")
    try:
        state.switch_owner(typed)
    except InputError as exc:
        st.session_state[state.OWNER_NOTE] = str(exc)
    st.session_state[_SWITCH] = ""


def classroom_sidebar() -> None:
    """Show the session's code (kept in the URL) and a box to continue under another code."""
    if not classroom_enabled():
        return
    code = state.owner_code()
    with st.sidebar:
        st.markdown("**Classroom**")
        st.caption("Your runs, studies, generated sets and jobs are kept under this code; "
                   "bookmark the page or type the code on another device to find them again. "
                   "The teacher's datasets are shared and read-only.")
        # Markdown, not st.code: st.code's copy button pulls in Streamlit's 1.5 MB syntax
        # highlighter, which every student's browser fetched (and the server sent) on its
        # first page, a third of the page's 4.4 MB (benchmarks/classroom.py). The code is
        # check_owner_code's letters, digits and dashes, so it cannot carry markup.
        st.markdown(f"Your code: **`{code}`**")
        st.text_input("Continue with another code", key=_SWITCH, on_change=_switch,
                      placeholder="e.g. fox-42", help="No password: the code only keeps "
                      "sessions apart, so share it with nobody you do not work with.")
        note = st.session_state.pop(state.OWNER_NOTE, None)
        if note:
            st.warning(note, icon=":material/warning:")
