"""The shared sidebar: project switcher and tracking-store status."""

from __future__ import annotations

import streamlit as st

from core.errors import WorkbenchError, one_line
from core.scaleout.status import mask, storage_kind
from ui import cache
from ui.resources import settings, tracker
from ui.state import PROJECT, current_project, set_project

_PICKER = "wb_project_select"
_SHOWN = "wb_project_shown"  # the project the picker showed last run: a difference means it changed elsewhere


def render_sidebar() -> None:
    s = settings()
    with st.sidebar:
        st.markdown("### MLOps workbench")
        try:
            t = tracker()
            health = cache.store_health()  # probed every few seconds, not on every rerun of every session
        except WorkbenchError as err:
            st.error(f"MLflow store unavailable: {one_line(err)}")
            return
        if health.ok:
            st.caption(f":material/check_circle: {health.kind} · {health.latency_ms:.0f} ms")
        else:
            st.error(health.message)
        st.caption(f"`{mask(s.tracking_uri)}`", help="MLFLOW_TRACKING_URI; open the MLflow UI on the same store with "
                   "`mlflow ui --backend-store-uri <this URI>`.")
        # Scale-out: the second switch (OPTUNA_STORAGE); probed by `python -m core status`, not on every rerun.
        st.caption(f"Tuning storage: {storage_kind(s.optuna_storage)}", help=f"OPTUNA_STORAGE: `{mask(s.optuna_storage)}`")
        if not health.ok:
            return
        project = current_project()
        try:
            known = cache.projects()  # cached until the next write to the store
        except WorkbenchError as err:
            st.error(one_line(err))
            return
        options = sorted(set(known) | {project})
        # The picker follows the project whenever it changed elsewhere (New project, a page): a keyed
        # selectbox keeps its old value across reruns, which switched straight back. Set before the widget.
        if st.session_state.get(_SHOWN) != project or st.session_state.get(_PICKER) not in options:
            st.session_state[_PICKER] = project
        st.session_state[_SHOWN] = project
        choice = st.selectbox("Project", options, key=_PICKER, help="One MLflow experiment per project.")
        if choice != project:
            set_project(choice)
            st.rerun()
        with st.popover("New project", icon=":material/add:", width="stretch"):
            with st.form("wb_new_project", border=False):
                name = st.text_input("Name", max_chars=80, help="Letters, digits, '_', '.' or '-' (up to 80).")
                if st.form_submit_button("Create"):
                    try:
                        t.ensure_project(name)
                    except WorkbenchError as err:
                        st.error(one_line(err))
                    else:
                        set_project(name.strip())  # the picker follows on the rerun (see above)
                        st.rerun()
        st.caption(f"Workspace: `{s.home}`")
        _unread_alerts(s.home)
    st.session_state.setdefault(PROJECT, project)


def _unread_alerts(home) -> None:  # noqa: ANN001
    """Plan's alerts (failed run, drifted batch, promotion) until they are marked read."""
    from core.plan.notify import alerts, mark_read

    unread = alerts(home, unread_only=True)
    if not unread:
        return
    with st.expander(f":material/notifications: {len(unread)} unread alert{'s' if len(unread) != 1 else ''}",
                     expanded=True):
        for a in unread[:3]:
            st.caption(f"**{a.title}** — {a.message[:160]}")
        if st.button("Mark all read", key="wb_alerts_read"):
            mark_read(home)
            st.rerun()
