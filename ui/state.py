"""Session-state keys shared across pages, each with its initialiser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


def keep_closed_tab_choices(tab_key: str, tabs: Sequence[str], choices: Mapping[str, Sequence[str]]) -> None:
    """Keep the choices made in the tabs of a lazy ``st.tabs`` (``on_change="rerun"``) closed in this run.

    Streamlit drops the state of a widget that a run does not draw, so a choice made under one tab would
    be back to its default after a look at another; writing the value back (Streamlit's own idiom) keeps
    it. ``choices`` maps each tab to its widget keys (a key ending in "_" is a prefix, for widgets keyed by
    their options or position). The open tab's widgets are left alone: they are drawn in this run.
    Call it right after ``st.tabs``.
    """
    state = st.session_state
    open_tab = state.get(tab_key, tabs[0])
    keys = [k for tab, ks in choices.items() if tab != open_tab for k in ks]
    for name in list(state.keys()):
        if any(name == k or (k.endswith("_") and name.startswith(k)) for k in keys):
            state[name] = state[name]
