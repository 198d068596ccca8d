"""Turning core errors into one clear sentence on the page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from core.errors import WorkbenchError, one_line


@contextlib.contextmanager
def user_errors(where: st.delta_generator.DeltaGenerator | None = None) -> Iterator[None]:
    """Show a WorkbenchError as one ``st.error`` line and stop the block; other errors propagate."""
    try:
        yield
    except WorkbenchError as err:
        (where or st).error(one_line(err), icon=":material/error:")


def page_link(page: str, label: str, icon: str = ":material/arrow_forward:") -> None:
    """``st.page_link`` that degrades to nothing when the page is not in the navigation
    (a page run alone, e.g. by AppTest, has no ``st.navigation`` around it)."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.page_link(page, label=label, icon=icon)
    except (StreamlitAPIException, KeyError):
        pass


def empty_state(text: str, page: str | None = None, label: str | None = None) -> None:
    """An empty state that says what to do next, with an optional link."""
    st.info(text, icon=":material/info:")
    if page:
        page_link(page, label or "Go there")
