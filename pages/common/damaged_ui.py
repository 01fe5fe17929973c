"""Damaged workspace items on the pages: one warning each, with a Remove button.

Readers in synth_core list items they cannot read as
:class:`synth_core.workspace.Damaged` records beside the good ones; the pages
show each with ``st.warning`` (plain text, never HTML) so one bad run folder or
dataset file never takes a page down for the others. Nothing is deleted unless
the user presses that item's Remove button.
"""

from __future__ import annotations

import re

import streamlit as st

from pages.common import state
from pages.common.ui import attempt
from synth_core.workspace import Damaged, remove_damaged

_MARKDOWN = re.compile(r"([\\`*_\[\]{}()#+!|~$<>])")


def plain(text: str) -> str:
    """``text`` with Markdown/LaTeX characters escaped: paths and reasons shown as typed."""
    return _MARKDOWN.sub(r"\\\1", text)


def damaged_runs() -> list[Damaged]:
    from synth_core.training.runs import scan_runs

    return scan_runs(state.workspace())[1]


def damaged_datasets() -> list[Damaged]:
    from synth_core.data.datasets import scan_datasets

    return scan_datasets(state.workspace())[1]


def show_damaged(items: list[Damaged], *, key: str, removable: bool = True) -> None:
    """A warning per damaged item; with ``removable`` a Remove button that deletes it."""
    for i, item in enumerate(items):
        st.warning(plain(item.message()), icon=":material/report:")
        if removable and st.button(f"Remove {item.path.name}", key=f"{key}-remove-{i}",
                                   icon=":material/delete:",
                                   help=f"Delete the damaged {item.kind} {item.path} for good; "
                                        "nothing else is touched"):
            attempt(remove_damaged, item, state.workspace())
            st.rerun()
