"""Compare: runs side by side, evaluation on held-out data, the promotion gate, shadow and A/B."""

from __future__ import annotations

import streamlit as st

from core.tracking.models import model_versions
from ui import compare as ui
from ui import compare_tabs as tabs
from ui.feedback import user_errors
from ui.resources import tracker
from ui.state import current_project

project = current_project()
st.title("Compare")
st.caption(f"Project **{project}** — which model should serve? Evaluate versions on the same held-out rows, "
           "promote through the gate, replay a batch in shadow, analyse an A/B split. Every analysis is an "
           "MLflow run of stage `compare`.")

with user_errors():
    t = tracker()
    from ui.jobs import model_picker

    model_name = model_picker(t, project, key="cmp_model")
    # ONNX exports are Deploy's, not comparable here
    versions = model_versions(t, model_name, sklearn_only=True) if model_name else []
    from ui.jobs import version_label

    labels = {mv.version: version_label(t, mv) for mv in versions}
    # Only the open tab runs and is sent (on_change="rerun"): a first render draws the runs table alone, not
    # the gate's history, the pickers and forms of four more tabs; tests open another through ui.TAB.
    tab_runs, tab_side, tab_gate, tab_shadow, tab_ab = st.tabs(ui.TABS, key=ui.TAB, on_change="rerun")
    ui.keep_closed_choices()

    if tab_runs.open:
        with tab_runs, user_errors():
            tabs.runs_tab(t, project)

    if tab_side.open:
        with tab_side, user_errors():
            tabs.side_tab(t, project, model_name, versions, labels)

    if tab_gate.open:
        with tab_gate, user_errors():
            tabs.gate_tab(t, project, model_name, versions, labels)

    if tab_shadow.open:
        with tab_shadow, user_errors():
            tabs.shadow_tab(t, project, model_name, versions, labels)

    if tab_ab.open:
        with tab_ab, user_errors():
            tabs.ab_tab(t, project, model_name)
