"""The dashboard's pages: file, title, icon, section and URL, in one table.

``app.py`` turns the table into ``st.navigation``; :func:`page_link` lets a
page link to another by its file whether the page runs inside the navigation
(the served app) or on its own (an AppTest of one page file).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageSpec:
    path: str          # relative to the repository root
    title: str
    icon: str
    url_path: str      # "" = the default page at "/"; others keep the old /Data, /Train URLs


SECTIONS: dict[str, tuple[PageSpec, ...]] = {
    "Start": (PageSpec("pages/home.py", "Home", ":material/home:", ""),),
    "Data": (PageSpec("pages/1_Data.py", "Data", ":material/dataset:", "Data"),),
    "Model": (PageSpec("pages/2_Train.py", "Train", ":material/model_training:", "Train"),
              PageSpec("pages/3_Tune.py", "Tune", ":material/tune:", "Tune")),
    "Results": (PageSpec("pages/4_Generate.py", "Generate", ":material/auto_awesome:", "Generate"),
                PageSpec("pages/5_Explore.py", "Explore", ":material/scatter_plot:", "Explore"),
                PageSpec("pages/6_Evaluate.py", "Evaluate", ":material/fact_check:", "Evaluate")),
}
PAGES: tuple[PageSpec, ...] = tuple(spec for specs in SECTIONS.values() for spec in specs)


def _st_pages() -> dict[str, "st.Page"]:
    return {spec.path: st.Page(spec.path, title=spec.title, icon=spec.icon,
                               url_path=spec.url_path or None, default=not spec.url_path)
            for spec in PAGES}


def setup() -> None:
    """What app.py does for every page before the navigation runs it.

    Wide layout, the classroom code in the sidebar (each session's own folder), and
    one torch/BLAS thread for what the server computes itself: per-session work is
    small (decode one row, invert one 1 s clip, place a few points), so sessions moving
    a slider together do not fight over the cores (on 2 busy cores Griffin-Lim took
    ~600 ms on 2 threads against ~130 ms on one). Long work runs in job workers, which
    the queue gives their own thread count. SYNTH_SERVER_THREADS overrides.
    """
    import os

    from pages.common.classroom_ui import classroom_sidebar
    from synth_core.job_queue import set_worker_threads

    # No page_title here: each st.Page carries its own (a title set here would replace them).
    st.set_page_config(layout="wide")
    set_worker_threads(int(os.environ.get("SYNTH_SERVER_THREADS", "1")))
    classroom_sidebar()


# Whether app.py's navigation has run in this server process (see ui.leave_pages_folder_mode).
_declared = False


def declared() -> bool:
    return _declared


def navigation():
    """``st.navigation`` over :data:`SECTIONS` (sidebar sections Start, Data, Model, Results)."""
    global _declared
    _declared = True
    pages = _st_pages()
    return st.navigation({section: [pages[spec.path] for spec in specs]
                          for section, specs in SECTIONS.items()})


def page_link(path: str, *, label: str, icon: str | None = None) -> None:
    """A link to the page in file *path*; nothing when the page runs outside the navigation."""
    try:
        st.page_link(path, label=label, icon=icon)
    except st.errors.StreamlitAPIException:
        # An AppTest of a single page file has no navigation to link into.
        st.caption(f"{label}: open it from the sidebar.")
