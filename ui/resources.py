"""Process-wide resources, cached with ``st.cache_resource`` (never mutated).

Caches are keyed by the frozen :class:`Settings`, so a test (or a person) that
changes the environment gets a fresh tracker instead of a stale one.
"""

from __future__ import annotations

import streamlit as st

from core.config import Settings
from core.tracking import Tracker


def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource(show_spinner="Opening the MLflow store (first time: a few seconds)…")
def _tracker(s: Settings) -> Tracker:
    from ui.cache import count_writes

    t = Tracker.connect(s)
    t.client = count_writes(t.client)  # every write through it drops the cached reads of ui.cache
    return t


def tracker() -> Tracker:
    """The one Tracker of this server process for the current settings."""
    return _tracker(settings())
