"""Make a deep link open inside the app's frame.

Streamlit 1.67 decides once per server process whether it is in the old
``pages/``-folder mode (``PagesManager.uses_pages_directory``) and only leaves it
when ``app.py`` calls ``st.navigation``. If the very first request after a start
is a deep link such as ``/data``, the page runs alone — without the sidebar,
navigation or project switcher — and stays so until someone opens ``/``.

Every page calls :func:`ensure_frame` first: in that state it switches the
process to ``st.navigation`` mode and reruns, so ``app.py`` wraps the page.
(Private Streamlit API; covered by the deep-link e2e test.)
"""

from __future__ import annotations

import streamlit as st


def ensure_frame() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a future Streamlit without this class
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def expect_navigation() -> None:
    """Before the server starts, in a process that imports ``ui`` before any page runs (``ui.serve``, whose
    warm-up imports the pages' modules): :func:`ensure_frame` then ran at that import, outside any script run,
    and never runs again, so a deep link opened first ran its page alone. ``app.py`` always calls
    ``st.navigation``: say so up front."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a future Streamlit without this class
        return
    PagesManager.uses_pages_directory = False
