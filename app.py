"""The dashboard's entry point: ``streamlit run app.py``.

Streamlit's navigation owns the pages' titles, icons, sections and URLs
(pages/common/navigation.py lists them); each file under pages/ only draws.
All logic lives in synth_core.
"""

from __future__ import annotations

import os

import streamlit as st

from pages.common.classroom_ui import classroom_sidebar
from pages.common.navigation import navigation
from synth_core.job_queue import set_worker_threads

# What the server computes itself is small and per session (decode one row, invert one
# 1 s clip, place a few points): one torch/BLAS thread each, so that sessions moving a
# slider together do not fight over the cores (on 2 busy cores, Griffin-Lim on 2 threads
# took ~600 ms against ~130 ms on one). Long work runs in job workers, which the queue
# gives their own thread count. SYNTH_SERVER_THREADS overrides.
set_worker_threads(int(os.environ.get("SYNTH_SERVER_THREADS", "1")))

# No page_title here: each st.Page carries its own (a title set here would replace them all).
st.set_page_config(layout="wide")
classroom_sidebar()
navigation().run()
