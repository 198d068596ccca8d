"""The workbench frame: page config, shared sidebar, navigation. Run: ``streamlit run app.py``."""

from __future__ import annotations

import streamlit as st

from core.tracking.context import set_run_source
from ui.navigation import PAGES
from ui.sidebar import render_sidebar

st.set_page_config(page_title="MLOps workbench", page_icon=":material/science:", layout="wide")
nav = st.navigation([
    st.Page(p.file, title=p.title, url_path=p.url or None, icon=p.icon, default=(p.url == ""))
    for p in PAGES
    if p.exists
])
render_sidebar()
# every MLflow run this page starts names it as its source (mlflow.source.name), e.g. pages/monitor.py
set_run_source(next((p.file for p in PAGES if (p.url or "") == (nav.url_path or "")), "app.py"))
nav.run()
