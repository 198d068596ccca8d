"""The charter's verdict for the champion on Home, read once per store write (core.plan.verdict does the work)."""

from __future__ import annotations

import streamlit as st

from core.plan.charter import Verdict
from ui import cache
from ui.resources import tracker

_ENTRY_TTL_S = 600  # memory bound only: a write changes the stamp long before this


@st.cache_data(ttl=_ENTRY_TTL_S, show_spinner=False, max_entries=32)
def _verdict(uri: str, project: str, stamp: tuple) -> Verdict | None:
    from core.plan.verdict import champion_verdict

    snap = cache.home_snapshot(project)  # the versions and runs Home already read: nothing searched twice
    return champion_verdict(tracker(), project, versions=snap.versions, runs=snap.runs)


def champion_verdict(project: str) -> Verdict | None:
    """The charter's verdict for ``project``'s champion (cached until the next write); None without either."""
    uri = tracker().settings.tracking_uri
    return _verdict(uri, project, cache.store_stamp(uri))


def show_champion_verdict(project: str) -> None:
    """One line: meets (success) or misses (warning) the charter, by how much; nothing without charter or champion."""
    verdict = champion_verdict(project)
    if verdict is not None:
        (st.success if verdict.meets else st.warning)(verdict.sentence, icon=":material/flag:")
