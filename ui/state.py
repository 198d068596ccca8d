"""Session-state keys shared across pages, each with its initialiser."""

from __future__ import annotations

import streamlit as st

from ui.resources import settings

PROJECT = "wb_project"


def current_project() -> str:
    """The project chosen in the sidebar (default from the settings)."""
    if PROJECT not in st.session_state:
        st.session_state[PROJECT] = settings().project
    project = st.session_state[PROJECT]
    _repair_once(project)
    return project


def _repair_once(project: str) -> None:
    """Runs a killed process left RUNNING are repaired the first time this server process opens the project."""
    from core.errors import WorkbenchError
    from core.tracking.repair import repair_project
    from ui.resources import tracker

    try:
        repair_project(tracker(), project)  # once per process and project (a cheap no-op afterwards)
    except WorkbenchError:
        pass  # the store does not answer: the sidebar says so


def set_project(name: str) -> None:
    st.session_state[PROJECT] = name
