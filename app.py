"""The dashboard's entry point: ``streamlit run app.py``.

Streamlit's navigation owns the pages' titles, icons, sections and URLs
(pages/common/navigation.py lists them); each file under pages/ only draws.
All logic lives in synth_core.
"""

from __future__ import annotations

import streamlit as st

from pages.common.classroom_ui import classroom_sidebar
from pages.common.navigation import navigation

st.set_page_config(page_title="synth", page_icon=":material/graphic_eq:", layout="wide")
classroom_sidebar()
navigation().run()
