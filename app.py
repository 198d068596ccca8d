"""The workbench frame: page config, shared sidebar, navigation. Run: ``streamlit run app.py``."""

from __future__ import annotations

import streamlit as st

from ui.navigation import PAGES
from ui.sidebar import render_sidebar

st.set_page_config(page_title="MLOps workbench", page_icon=":material/science:", layout="wide")
nav = st.navigation([
    st.Page(p.file, title=p.title, url_path=p.url or None, icon=p.icon, default=(p.url == ""))
    for p in PAGES
    if p.exists
])
render_sidebar()
nav.run()
