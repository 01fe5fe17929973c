"""Small widgets shared by pages: intro text, errors, the dataset picker."""

from __future__ import annotations

from pathlib import Path
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
    leave_pages_folder_mode()
    st.title(title)
    st.caption(intro)


def leave_pages_folder_mode() -> None:
    """Rerun through app.py when Streamlit ran this page straight from the pages/ folder.

    Streamlit starts a server in its old pages-folder mode whenever a pages/ folder
    exists, and leaves it only once some run calls st.navigation. If the first
    request after a start is a page's URL (a bookmark of /Generate), that page runs
    alone: the sidebar lists the raw files ("app", "home") and app.py never sets up
    the classroom folder or the server's threads, for every session until one opens
    "/". So when app.py's navigation has never run in this process, the page ends
    the folder mode and reruns: the same URL, now through app.py. (Streamlit 1.67's
    PagesManager flag. AppTest turns the flag back on before each run, after
    app.py's first: those runs are left alone, as they were.)
    """
    from streamlit.runtime.pages_manager import PagesManager

    from pages.common.navigation import declared

    if getattr(PagesManager, "uses_pages_directory", False) and not declared():
        PagesManager.uses_pages_directory = False
        st.rerun()


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


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, in the plural (``plural``, else noun + "s") unless ``n`` is 1:
    "1 feature", "12,000 rows", "3 classes"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


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


def run_mtime(run_dir: str | Path) -> float:
    """The modification time of a run's config.json (0 while there is none): a cache key for
    loaders of that run, so a run trained again into the same folder is loaded again."""
    config = Path(run_dir) / "config.json"
    return config.stat().st_mtime if config.is_file() else 0.0


def dataset_mtime(ref: str) -> float:
    """The modification time of dataset ``ref``'s file: a cache key for loaders keyed by content."""
    return dataset_path(ref, state.workspace()).stat().st_mtime
