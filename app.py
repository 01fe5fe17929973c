"""The dashboard's entry point: ``streamlit run app.py``.

Streamlit's navigation owns the pages' titles, icons, sections and URLs
(pages/common/navigation.py lists them); each file under pages/ only draws.
All logic lives in synth_core.
"""

from __future__ import annotations

import streamlit as st

from pages.common.classroom_ui import classroom_sidebar
from pages.common.navigation import navigation

# No page_title here: each st.Page carries its own (a title set here would replace them all).
st.set_page_config(layout="wide")
classroom_sidebar()
navigation().run()
