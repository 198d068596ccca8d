"""The workbench frame: page config, shared sidebar, navigation. Run: ``streamlit run app.py``."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.sidebar import render_sidebar

ROOT = Path(__file__).parent
# (file, title, url path, icon) in the order of the loop.
PAGES = [
    ("pages/home.py", "Home", "", ":material/home:"),
    ("pages/data.py", "Data", "data", ":material/table:"),
    ("pages/label.py", "Label", "label", ":material/label:"),
    ("pages/tune.py", "Tune", "tune", ":material/tune:"),
    ("pages/compare.py", "Compare", "compare", ":material/compare:"),
    ("pages/deploy.py", "Deploy", "deploy", ":material/rocket_launch:"),
    ("pages/monitor.py", "Monitor", "monitor", ":material/monitoring:"),
]

st.set_page_config(page_title="MLOps workbench", page_icon=":material/science:", layout="wide")
pages = [
    st.Page(file, title=title, url_path=url or None, icon=icon, default=(url == ""))
    for file, title, url, icon in PAGES
    if (ROOT / file).exists()
]
nav = st.navigation(pages)
render_sidebar()
nav.run()
