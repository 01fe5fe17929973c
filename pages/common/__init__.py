"""Streamlit-only helpers shared by the pages: session state, job panels, widgets.

This is the one place besides app.py and the page files that imports streamlit.
"""
