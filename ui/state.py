"""Session-state keys shared across pages, each with its initialiser."""

from __future__ import annotations

import streamlit as st

from ui.resources import settings

PROJECT = "wb_project"


def current_project() -> str:
    """The project chosen in the sidebar (default from the settings)."""
    if PROJECT not in st.session_state:
        st.session_state[PROJECT] = settings().project
    return st.session_state[PROJECT]


def set_project(name: str) -> None:
    st.session_state[PROJECT] = name
