"""The dashboard's entry point: ``streamlit run app.py``.

Streamlit's navigation owns the pages' titles, icons, sections and URLs
(pages/common/navigation.py lists them); each file under pages/ only draws.
All logic lives in synth_core.
"""

from __future__ import annotations

import streamlit as st  # noqa: F401  (the entry point streamlit runs)

from pages.common.navigation import navigation, setup

setup()
navigation().run()
