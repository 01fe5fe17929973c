"""Small widgets shared by pages: intro text, errors, the dataset picker."""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

from pages.common import state
from synth_core.datasets import BUILTINS, BUILTIN_PREFIX, list_dataset_refs
from synth_core.errors import SynthError

T = TypeVar("T")


def page_header(title: str, intro: str, *, icon: str = "") -> None:
    """Page title and the two or three sentences on what the step does and why."""
    st.set_page_config(page_title=f"{title} · synth", page_icon=icon or None, layout="wide")
    st.title(title)
    st.caption(intro)


def show_error(exc: SynthError) -> None:
    """Show an expected error (bad input) as text; never as HTML."""
    st.error(str(exc), icon=":material/error:")


def attempt(fn: Callable[..., T], *args, **kwargs) -> T | None:
    """Call ``fn``; on a user error show it and return None (unexpected errors propagate)."""
    try:
        return fn(*args, **kwargs)
    except SynthError as exc:
        show_error(exc)
        return None


def dataset_label(ref: str) -> str:
    if ref.startswith(BUILTIN_PREFIX) and ref[len(BUILTIN_PREFIX):] in BUILTINS:
        return f"{BUILTINS[ref[len(BUILTIN_PREFIX):]].title}  ({ref})"
    return ref


def dataset_picker(label: str = "Dataset", *, key: str = "dataset_picker",
                   help: str | None = None, refs: list[str] | None = None) -> str:
    """Select box over embedded and workspace datasets; remembers the choice across pages."""
    refs = refs if refs is not None else list_dataset_refs(state.workspace())
    current = state.current_dataset()
    index = refs.index(current) if current in refs else 0
    choice = st.selectbox(label, refs, index=index, format_func=dataset_label, key=key,
                          help=help or "Embedded datasets need no download; your own appear "
                                       "here after the Data step.")
    state.put(state.DATASET, choice)
    return choice
