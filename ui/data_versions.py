"""Save the cleaned table as a version; list, compare and reopen versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from core.data.recipe import Recipe
from core.data.versions import compare_versions, save_version
from core.errors import WorkbenchError, one_line
from core.tracking import Tracker
from core.tracking.datasets import dataset_versions
from ui import data as ud


def _save_form(t: Tracker, project: str, src: dict[str, Any], raw: pd.DataFrame, replayed: Any) -> None:
    cleaned = replayed.frame if replayed is not None else raw
    recipe = replayed.recipe if replayed is not None else Recipe()
    with st.form("data_save_form"):
        st.markdown("#### Save a version")
        c1, c2 = st.columns(2)
        name = c1.text_input("Dataset name", value=src["name"], max_chars=80)
        cols = ["—", *map(str, cleaned.columns)]
        remembered = st.session_state.get(ud.TARGET) or "—"
        target = c2.selectbox("Target column (optional)", cols, index=cols.index(remembered) if remembered in cols else 0,
                              help="Later stages (Label, Tune) default to it.")
        note = st.text_input("Note (optional)", max_chars=500)
        go = st.form_submit_button("Save version", type="primary", icon=":material/save:")
    if not go:
        return
    target = "" if target == "—" else target
    st.session_state[ud.TARGET] = target
    with st.status("Saving the version to MLflow…", expanded=False) as status:
        try:
            from ui.data import profile

            prof = profile(ud.cleaned_key(src), cleaned)
            saved = save_version(t, project, name=name, raw=raw, cleaned=cleaned, recipe_json=recipe.to_dict(),
                                 recipe_code=ud.recipe_code(recipe, src) if len(recipe) else None,
                                 profile_json=prof.to_json(), split=replayed.split if replayed is not None else None,
                                 target=target, source=f"{src['kind']}:{src['ref']}", description=note)
        except WorkbenchError as err:
            status.update(label="Not saved", state="error")
            st.error(one_line(err))
            return
        status.update(label=f"Saved {saved.cleaned.label}", state="complete")
    st.success(f"Saved **{saved.cleaned.label}** ({saved.cleaned.rows:,} rows) — raw table "
               f"{'reused' if saved.raw_reused else 'saved'} as {saved.raw.label}. Run id `{saved.cleaned.run_id}`.",
               icon=":material/check_circle:")


def render_save_and_versions(t: Tracker, project: str, src: dict[str, Any], raw: pd.DataFrame, replayed: Any,
                             replay_error: str) -> None:
    if replay_error:
        st.warning("Fix the recipe before saving: " + replay_error)
    else:
        _save_form(t, project, src, raw, replayed)
    st.markdown("#### Versions")
    try:
        versions = dataset_versions(t, project)
    except WorkbenchError as err:
        st.error(one_line(err))
        return
    if not versions:
        st.caption("No versions saved in this project yet.")
        return
    table = pd.DataFrame([{
        "version": v.label, "stage": v.stage, "rows": v.rows, "columns": v.columns, "split": v.has_split,
        "target": v.target or "", "saved": datetime.fromtimestamp(v.created / 1000).strftime("%Y-%m-%d %H:%M"),
        "run id": v.run_id,
    } for v in versions])
    st.dataframe(table, hide_index=True, key="data_versions_table")
    if len(versions) >= 2:
        c1, c2 = st.columns(2)
        a = c1.selectbox("Compare", versions, index=1, format_func=lambda v: v.label, key="data_cmp_a")
        b = c2.selectbox("with", versions, index=0, format_func=lambda v: v.label, key="data_cmp_b")
        if st.button("Compare versions", key="data_cmp_go"):
            try:
                diff = compare_versions(t, a, b)
            except WorkbenchError as err:
                st.error(one_line(err))
                return
            m = st.columns(4)
            m[0].metric("Rows", f"{diff.rows[1]:,}", delta=diff.rows[1] - diff.rows[0] or None)
            m[1].metric("Columns", diff.columns[1], delta=diff.columns[1] - diff.columns[0] or None)
            m[2].metric("Added columns", len(diff.added_columns))
            m[3].metric("Removed columns", len(diff.removed_columns))
            if diff.added_columns:
                st.caption("Added: " + ", ".join(diff.added_columns))
            if diff.removed_columns:
                st.caption("Removed: " + ", ".join(diff.removed_columns))
            if diff.retyped_columns:
                st.caption("Retyped: " + ", ".join(f"{c} ({x} → {y})" for c, x, y in diff.retyped_columns))
            st.dataframe(diff.missing_share, hide_index=True,
                         column_config={k: st.column_config.NumberColumn(format="%.3f")
                                        for k in diff.missing_share.columns if k != "column"})
