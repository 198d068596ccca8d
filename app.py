"""The workbench frame: page config, shared sidebar, navigation. Run: ``streamlit run app.py``."""

from __future__ import annotations

import streamlit as st

from ui import warmup

# `python -m ui.serve` (make run) warms the store and the first pages' imports at start: a request that comes
# before it is done waits for it instead of importing the same modules on a second thread
warmup.wait()

from core.tracking.context import set_run_source  # noqa: E402
from ui.navigation import PAGES  # noqa: E402
from ui.sidebar import render_sidebar  # noqa: E402

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
