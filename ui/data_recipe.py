"""The recipe editor of the Data page: ordered steps, preview before apply, undo, edit, reorder."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from core.data.recipe import STEPS, Recipe, Step, preview_step, replay, suggest_missing_tokens
from core.data.recipe.engine import FitContext
from core.data.recipe.splitting import recipe_target
from core.data.recipe.steps_text import suggest_decimal_comma
from core.errors import WorkbenchError, one_line
from ui import data as ud
from ui.recipe_form import step_params_form
from ui.tables import show_table, table_height


def _before(raw: pd.DataFrame, recipe: Recipe, position: int) -> tuple[pd.DataFrame, FitContext]:
    """The table just before step ``position`` (0-based), and what a step there may learn from: the training
    rows of the *whole* recipe's split (decided on the raw rows first) and its target."""
    done = replay(raw, recipe, mode="fit", upto=position)
    train = done.split.index[done.split == "train"] if done.split is not None else None
    return done.frame, FitContext(train, recipe_target(recipe, _chosen_target(raw)))


def _chosen_target(frame: pd.DataFrame) -> str | None:
    """The target picked on the page, if it is a column of this table (not one left from another table)."""
    target = st.session_state.get(ud.TARGET) or None
    return target if target is not None and target in frame.columns else None


def _commit(recipe: Recipe, raw: pd.DataFrame, on_change: Callable[[], None]) -> None:
    """Refit the whole recipe on the raw table (later steps see the edited earlier ones) and keep it."""
    fitted = replay(raw, recipe.unfitted(), mode="fit").recipe if len(recipe) else recipe
    ud.set_recipe_json(fitted.to_dict())
    on_change()


def _step_list(recipe: Recipe, raw: pd.DataFrame, replayed: Any, on_change: Callable[[], None]) -> None:
    if not len(recipe):
        st.caption("No steps yet. Add the first one below — every step is previewed before it is applied.")
        return
    summaries = [r.summary for r in replayed.results] if replayed is not None else []
    for i, step in enumerate(recipe.steps):
        spec = STEPS.get(step.kind)
        with st.container(border=True):
            c1, c2, c3, c4, c5 = st.columns([12, 1, 1, 1, 1], vertical_alignment="center")
            summary = summaries[i] if i < len(summaries) else ""
            c1.markdown(f"**{i + 1}\\. {spec.title if spec else step.kind}** — {summary}")
            if c2.button("", icon=":material/arrow_upward:", key=f"data_up_{i}", disabled=i == 0, help="Move up"):
                _safe(lambda: _commit(recipe.move(i, i - 1), raw, on_change))
            if c3.button("", icon=":material/arrow_downward:", key=f"data_down_{i}",
                         disabled=i == len(recipe) - 1, help="Move down"):
                _safe(lambda: _commit(recipe.move(i, i + 1), raw, on_change))
            if c4.button("", icon=":material/edit:", key=f"data_edit_{i}", help="Edit this step"):
                st.session_state[ud.EDIT] = i
                st.session_state.pop(ud.PREVIEW, None)
                st.rerun()
            if c5.button("", icon=":material/delete:", key=f"data_del_{i}", help="Undo (remove) this step"):
                _safe(lambda: _commit(recipe.without(i), raw, on_change))


def _safe(action: Callable[[], None]) -> None:
    try:
        action()
    except WorkbenchError as err:
        st.error(f"That change would break the recipe: {one_line(err)} Nothing was changed.")
        return
    st.rerun()


def _editor(raw: pd.DataFrame, recipe: Recipe, replayed: Any, on_change: Callable[[], None]) -> Any:
    """The add / edit form; returns the pending preview whose Before / After tables should be shown."""
    editing = st.session_state.get(ud.EDIT)
    if editing is not None and editing >= len(recipe):
        editing = None
    position = editing if editing is not None else len(recipe)
    current = recipe.steps[editing] if editing is not None else None
    st.markdown(f"#### {'Edit step ' + str(editing + 1) if editing is not None else 'Add a step'}")
    kinds = list(STEPS)
    kind = st.selectbox("Step", kinds, index=kinds.index(current.kind) if current else 0,
                        format_func=lambda k: STEPS[k].title,  # the description below: it never fits the box
                        key=f"data_kind_{editing}", disabled=current is not None)
    spec = STEPS[kind]
    st.caption(spec.description)
    try:
        if editing is None and replayed is not None:  # a new step: the page's (cached) replay is the table before it
            split = replayed.split
            before = replayed.frame
            context = FitContext(split.index[split == "train"] if split is not None else None,
                                 recipe_target(recipe, _chosen_target(before)))
        else:
            before, context = _before(raw, recipe, position)
    except WorkbenchError as err:
        st.error(one_line(err))
        return
    tokens = suggest_missing_tokens(before) if kind == "missing_tokens" else {}
    if kind == "missing_tokens" and not tokens:
        st.caption("No missing-value tokens found in this table.")
    proposal: dict[str, Any] = {}
    if kind == "missing_tokens":
        proposal = {"tokens": list(tokens)}
    elif kind == "fix_types" and (commas := suggest_decimal_comma(before)):
        proposal = {"columns": commas, "to": "numeric", "decimal": ","}
        st.caption(f"Proposed: {', '.join(map(repr, commas[:6]))} hold numbers with a decimal comma (e.g. 3,14).")
    if context.target and spec.learns:
        st.caption(f"The target {context.target!r} is left out of this step's default columns.")
    # Widget keys carry the step's position, kind and the table's shape: each new step starts from its own
    # defaults instead of the previous step's choices (a 'to datetime' step must not inherit 'income'), and
    # another table (or a reopened one) starts from its own proposals.
    table = zlib.crc32(repr((list(map(str, before.columns)), sorted(tokens.items()), proposal)).encode())
    with st.form(f"data_step_form_{kind}_{position}_{editing}", border=True, enter_to_submit=False):
        params = step_params_form(spec, [str(c) for c in before.columns], (current.params if current else {}) or
                                  proposal, f"data_p_{position}_{editing}_{table:x}", tokens)
        submitted = st.form_submit_button("Preview", icon=":material/visibility:", type="primary")
    if submitted:
        try:
            preview = preview_step(before, Step(kind, params), n=20, context=context)
        except WorkbenchError as err:
            st.session_state.pop(ud.PREVIEW, None)
            st.error(one_line(err))
        else:
            st.session_state[ud.PREVIEW] = {"position": position, "editing": editing, "step": preview.result.step,
                                            "preview": preview}
    pending = st.session_state.get(ud.PREVIEW)
    if pending and pending["position"] == position and pending["step"].kind == kind:
        res = pending["preview"].result
        st.success(res.summary, icon=":material/preview:")
        c = st.columns(3)
        c[0].metric("Rows", f"{res.rows_after:,}", delta=res.rows_after - res.rows_before or None)
        c[1].metric("Changed cells", f"{res.changed_cells:,}")
        c[2].metric("Changed rows", f"{res.changed_rows:,}")
        if res.added_columns or res.removed_columns:
            st.caption(" · ".join(part for part in (
                f"Adds {len(res.added_columns)} column(s): {', '.join(map(str, res.added_columns[:8]))}"
                if res.added_columns else "",
                f"Removes {len(res.removed_columns)} column(s): {', '.join(map(str, res.removed_columns[:8]))}"
                if res.removed_columns else "") if part))
        shown = pending["preview"] if len(pending["preview"].before) or len(pending["preview"].after) else None
        c1, c2, _ = st.columns([3, 3, 4])  # narrower columns cut "Apply step" to "Apply…" at 1280 px
        if c1.button("Apply step" if editing is None else "Save changes", type="primary", key="data_apply"):
            step = pending["step"]
            new = recipe.with_step(step) if editing is None else recipe.replace(editing, step)
            st.session_state.pop(ud.EDIT, None)
            _safe(lambda: _commit(new, raw, on_change))
        if c2.button("Discard", key="data_discard"):
            st.session_state.pop(ud.PREVIEW, None)
            st.session_state.pop(ud.EDIT, None)
            st.rerun()
        return shown
    if editing is not None and st.button("Cancel editing", key="data_cancel_edit"):
        st.session_state.pop(ud.EDIT, None)
        st.rerun()
    return None


def changed_first(before: pd.DataFrame, after: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """Column orders for the Before / After previews: what the step changed first (removed or added columns,
    then columns with a different cell on a shared row), then the rest; and the changed names."""
    common = [c for c in after.columns if c in before.columns]
    if before.index.is_unique and after.index.is_unique:
        rows = before.index.intersection(after.index)
        b, a = before.loc[rows], after.loc[rows]
    elif len(before) == len(after):
        b, a = before, after
    else:  # rows dropped and labels repeated: nothing to line up, keep the table's order
        b = a = before.iloc[:0]
    changed = [c for c in common if (b[c].astype(str).to_numpy() != a[c].astype(str).to_numpy()).any()]
    added = [c for c in after.columns if c not in before.columns]
    removed = [c for c in before.columns if c not in after.columns]
    rest = [c for c in common if c not in changed]
    return removed + changed + rest, added + changed + rest, removed + added + changed


def _preview_tables(preview: Any) -> None:
    """Before above After, each the page's full width, the changed columns first (a narrow half-width pair
    showed about one and a half columns, and rarely the one that changed)."""
    before, after = preview.before, preview.after
    order_before, order_after, changed = changed_first(before, after)
    names = ", ".join(map(str, changed[:8])) + (" …" if len(changed) > 8 else "")
    st.markdown("#### Preview of the step" + (f" — changed: {names}" if names else ""))
    st.caption("Before (changed rows)")
    show_table(before[order_before], key="data_preview_before", height=table_height(len(before), 260), scroll=True)
    st.caption("After")
    show_table(after[order_after], key="data_preview_after", height=table_height(len(after), 260), scroll=True)


def render_recipe_editor(raw: pd.DataFrame, src: dict[str, Any], replayed: Any, replay_error: str,
                         on_change: Callable[[], None]) -> None:
    recipe = Recipe.from_dict(ud.recipe_json())
    if replay_error:
        st.error(f"The recipe no longer applies to this table: {replay_error} Edit or remove that step.")
    cleaned = replayed.frame if replayed is not None else raw
    left, right = st.columns([5, 4], gap="large")
    with left:
        st.markdown("#### Recipe")
        _step_list(recipe, raw, replayed, on_change)
        preview = _editor(raw, recipe, replayed, on_change)
    with right:
        st.markdown("#### Result")
        st.caption(f"{cleaned.shape[0]:,} rows × {cleaned.shape[1]:,} columns"
                   + (f" · split: {replayed.split.value_counts().to_dict()}" if replayed is not None
                      and replayed.split is not None else ""))
        show_table(cleaned.head(200), key="data_result", height=360, scroll=True)
        if len(recipe):
            d1, d2 = st.columns(2)
            d1.download_button("Recipe (JSON)", recipe.to_json(), file_name=f"{src['name']}-recipe.json",
                               mime="application/json", icon=":material/download:")
            d2.download_button("Recipe as Python", ud.recipe_code(recipe, src),
                               file_name=f"clean_{src['name']}.py", mime="text/x-python", icon=":material/code:")
    if preview is not None:
        _preview_tables(preview)
