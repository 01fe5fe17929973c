"""Small widgets shared by pages: intro text, errors, the dataset picker."""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

from pages.common import state
from synth_core.data.datasets import BUILTINS, BUILTIN_PREFIX, dataset_path, list_dataset_refs
from synth_core.errors import SynthError

T = TypeVar("T")


def page_header(title: str, intro: str, *, icon: str = "") -> None:
    """Page heading and the two or three sentences on what the step does and why.

    The browser tab's title and the sidebar entry come from the navigation
    (pages/common/navigation.py), not from here.
    """
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


def _sync_dataset(key: str) -> None:
    state.put(state.DATASET, st.session_state[key])


def dataset_picker(label: str = "Dataset", *, key: str = "dataset_picker",
                   help: str | None = None, refs: list[str] | None = None) -> str:
    """Select box over embedded and workspace datasets; remembers the choice across pages.

    The shared choice (``state.DATASET``) is the source of truth: a button elsewhere
    that selects a dataset sets it, and the box is moved to it before it is drawn;
    the user's own pick is written back by ``on_change``.
    """
    refs = refs if refs is not None else list_dataset_refs(state.workspace())
    current = state.current_dataset()
    if current not in refs:
        current = refs[0]
    if st.session_state.get(key) != current:
        st.session_state[key] = current
    choice = st.selectbox(label, refs, format_func=dataset_label, key=key,
                          on_change=_sync_dataset, args=(key,),
                          help=help or "Embedded datasets need no download; your own appear "
                                       "here after the Data step.")
    state.put(state.DATASET, choice)
    from pages.common.damaged_ui import damaged_datasets, show_damaged  # imports this module

    show_damaged(damaged_datasets(), key=f"{key}-damaged")  # unreadable files: listed, not offered
    return choice


def dataset_mtime(ref: str) -> float:
    """The modification time of dataset ``ref``'s file: a cache key for loaders keyed by content."""
    return dataset_path(ref, state.workspace()).stat().st_mtime
