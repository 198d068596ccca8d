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
from ui import cache
from ui import data as ud
from ui.tables import show_table


def _save_form(t: Tracker, project: str, src: dict[str, Any], raw: pd.DataFrame, replayed: Any,
               on_change: Any = None) -> None:
    from core.data.prepare import SPLIT_METHODS, prepare_version
    from core.data.recipe.splitting import split_step_of

    cleaned = replayed.frame if replayed is not None else raw
    recipe = replayed.recipe if replayed is not None else Recipe()
    own_split = split_step_of(recipe)
    with st.form("data_save_form", enter_to_submit=False):
        st.markdown("#### Save a version")
        c1, c2 = st.columns(2)
        name = c1.text_input("Dataset name", value=src["name"], max_chars=80)
        cols = ["—", *map(str, cleaned.columns)]
        remembered = (own_split.params.get("target") if own_split else None) or st.session_state.get(ud.TARGET) or "—"
        target = c2.selectbox("Target column", cols, index=cols.index(remembered) if remembered in cols else 0,
                              help="What models of this version predict. It is never scaled, encoded or imputed "
                                   "unless a step names it, and never a feature. Later stages default to it.")
        if own_split is not None:
            p = own_split.params
            st.caption(f"Held-out part: the recipe's split step ({p.get('method', 'random')}, test share "
                       f"{p.get('test_size', 0.2):g}), decided on the raw rows before anything is learned.")
            method, share, time_col = "auto", 0.2, None
        else:
            s1, s2, s3 = st.columns([5, 3, 4])
            method = s1.selectbox("Held-out part", SPLIT_METHODS, key="data_save_split",
                                  format_func={"auto": "auto (stratified for classes, else random)",
                                               "stratified": "stratified on the target", "random": "random",
                                               "time": "latest rows by time"}.get,
                                  help="Every version keeps a test part that no model trains on; it is decided on "
                                       "the raw rows before any step learns anything.")
            share = s2.number_input("Test share", min_value=0.05, max_value=0.5, value=0.2, step=0.05,
                                    key="data_save_test_size")
            time_col = s3.selectbox("Time column (for a time split)", ["—", *map(str, raw.columns)],
                                    key="data_save_time")
            time_col = None if time_col == "—" else time_col
        note = st.text_input("Note (optional)", max_chars=500)
        go = st.form_submit_button("Save version", type="primary", icon=":material/save:")
    if not go:
        return
    target = "" if target == "—" else target
    st.session_state[ud.TARGET] = target
    with st.status("Saving the version to MLflow…", expanded=False) as status:
        try:
            from ui.data import profile

            prepared = prepare_version(raw, Recipe.from_dict(recipe.to_dict()), target=target, method=method,
                                       test_size=float(share), time_column=time_col)
            prof = profile(f"{src['digest']}:{prepared.recipe.to_json()}", prepared.frame)
            saved = save_version(t, project, name=name, raw=raw, cleaned=prepared.frame,
                                 recipe_json=prepared.recipe.to_dict(),
                                 recipe_code=ud.recipe_code(prepared.recipe, src),
                                 profile_json=prof.to_json(), split=prepared.split, target=target,
                                 source=f"{src['kind']}:{src['ref']}", description=note,
                                 feature_advice={"features": list(prepared.advice.features),
                                                 "excluded": dict(prepared.advice.excluded)})
        except WorkbenchError as err:
            status.update(label="Not saved", state="error")
            st.error(one_line(err))
            return
        status.update(label=f"Saved {saved.cleaned.label}", state="complete")
    if own_split is None:
        ud.set_recipe_json(prepared.recipe.to_dict())  # the recipe now carries the split it was saved with
        if on_change is not None:
            on_change()  # and so does the draft on disk
    counts = prepared.split.value_counts().to_dict()
    st.success(f"Saved **{saved.cleaned.label}** ({saved.cleaned.rows:,} rows: {counts.get('train', 0):,} train, "
               f"{counts.get('test', 0):,} held out) — raw table {'reused' if saved.raw_reused else 'saved'} as "
               f"{saved.raw.label}. Run id `{saved.cleaned.run_id}`.", icon=":material/check_circle:")
    for line in prepared.notes:
        st.info(line, icon=":material/info:")


def render_save_and_versions(t: Tracker, project: str, src: dict[str, Any], raw: pd.DataFrame, replayed: Any,
                             replay_error: str, on_change: Any = None) -> None:
    if replay_error:
        st.warning("Fix the recipe before saving: " + replay_error)
    else:
        _save_form(t, project, src, raw, replayed, on_change)
    st.markdown("#### Versions")
    try:
        versions = cache.dataset_versions(project, t=t)  # one search per write for every session
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
    show_table(table, key="data_versions_table")
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
            st.markdown("**Missing values per column** — the share of missing cells (0 = none, 1 = all), "
                        f"in {a.label} and in {b.label}")
            shares_of = [c for c in diff.missing_share.columns if c not in ("column", "change")]  # a, b
            names = dict(zip(shares_of, (f"missing in {a.label}", f"missing in {b.label}")))
            shares = diff.missing_share.rename(columns={**names, "change": "change (b − a)"})
            show_table(shares, key="data_cmp_missing", formats={c: "%.3f" for c in shares.columns if c != "column"},
                       help={f"missing in {a.label}": "Share of missing cells in this column of the first version.",
                             f"missing in {b.label}": "Share of missing cells in this column of the second version.",
                             "change (b − a)": "Second share minus first: positive means more missing cells."})
