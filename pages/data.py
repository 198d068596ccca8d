"""Data: open a table, profile it, clean it as a recipe with a preview of every step, save a version."""

from __future__ import annotations

import streamlit as st

from core.data.drafts import Draft, load_draft, save_draft, store_upload
from core.errors import WorkbenchError, one_line
from core.tracking.datasets import load_dataset
from ui import cache
from ui import data as ud
from ui.data_profile import render_profile
from ui.feedback import user_errors
from ui.identity import identity
from ui.resources import settings, tracker
from ui.state import current_project, keep_closed_tab_choices

project = current_project()
s = settings()
t = tracker()
st.title("Data")


def _persist() -> None:
    """Write the draft (open table + recipe) so a refresh, restart or crash loses nothing."""
    src = ud.source()
    if src is None:
        return
    save_draft(s.home, project, identity().key, Draft(src["name"], src["kind"], src["ref"], ud.recipe_json(),
                                                      st.session_state.get(ud.TARGET, "")))


def _open(kind: str, ref: str, name: str, recipe: dict | None = None) -> None:
    if kind == "bundled":
        loaded = ud.read_bundled(ref)
    elif kind == "upload":
        loaded = ud.read_file(ref, name)  # the file name as uploaded, so messages name it
        name = name.rsplit(".", 1)[0] if "." in name else name
    else:
        frame = load_dataset(t, ref)
        ud.set_source(frame, name, kind, ref)
        ud.set_recipe_json(recipe or {"version": 1, "steps": []})
        return
    ud.set_source(loaded.frame, name or loaded.name, kind, ref, loaded.notes, loaded.format,
                  loaded.delimiter, loaded.encoding)
    ud.set_recipe_json(recipe or {"version": 1, "steps": []})


# -- restore this person's draft of this project once per session (keyed by browser/user, not by project) ----
me = identity()  # on a browser's first session this also writes its id cookie
if ud.source() is None and st.session_state.get("data_draft_checked") not in (True, (project, me.key)):
    st.session_state["data_draft_checked"] = (project, me.key)
    draft = load_draft(s.home, project, me.key)
    if draft is not None:
        try:
            _open(draft.source_kind, draft.source_ref, draft.name, draft.recipe)
            st.session_state[ud.TARGET] = draft.target
            st.toast(f"Restored your draft: {draft.name} with {len(draft.recipe.get('steps', []))} step(s).")
        except WorkbenchError as err:
            st.warning(f"Your last draft could not be reopened: {one_line(err)}")

# -- open a table ---------------------------------------------------------------------------
src = ud.source()
with st.expander("Open a table" if src is None else f"Open another table (now: {src['name']})", expanded=src is None):
    choice = st.radio("Source", ["Bundled data set", "Upload a file", "Saved version"], horizontal=True,
                      key="data_source_kind", label_visibility="collapsed")
    with user_errors():
        if choice == "Bundled data set":
            from core.data.bundled import list_bundled

            sets = list_bundled()
            pick = st.selectbox("Bundled data set", sets, format_func=lambda b: f"{b.title} — {b.description}",
                                key="data_bundled")
            if st.button("Open", key="data_open_bundled", type="primary"):
                _open("bundled", pick.key, pick.key)
                _persist()
                st.rerun()
        elif choice == "Upload a file":
            up = st.file_uploader("CSV, TSV, Parquet or JSON Lines", key="data_upload",
                                  type=["csv", "tsv", "txt", "parquet", "pq", "jsonl", "ndjson", "json"])
            if up is not None and st.button("Open", key="data_open_upload", type="primary"):
                path = store_upload(s.home, up.getvalue(), up.name)
                _open("upload", str(path), up.name)
                _persist()
                st.rerun()
        else:
            versions = cache.dataset_versions(project, t=t)  # one search per write, shared by every session
            if not versions:
                st.info("No saved versions in this project yet.")
            else:
                v = st.selectbox("Version", versions, format_func=lambda v: f"{v.label} · {v.rows:,} rows", key="data_saved")
                c1, c2 = st.columns(2)
                if c1.button("Open as a new starting table", key="data_open_version"):
                    _open("version", v.run_id, v.name)
                    _persist()
                    st.rerun()
                found = cache.version_recipe(v.run_id, t)  # not two run reads and a download per rerun
                if found.raw_run_id and found.recipe and c2.button("Continue editing its recipe",
                                                                   key="data_edit_version"):
                    _open("version", found.raw_run_id, v.name, found.recipe)
                    _persist()
                    st.rerun()

src = ud.source()
if src is None:
    st.info("Pick a bundled data set (penguins is a good start) or upload a file to begin.", icon=":material/info:")
    st.stop()

raw = src["frame"]
st.subheader(src["name"])
st.caption(f"{raw.shape[0]:,} rows × {raw.shape[1]:,} columns" + (f" · {src['fmt']}" if src["fmt"] else "") +
           "".join(f" · {n}" for n in src["notes"]))

recipe_text = ud.recipe_text()
replayed = None
replay_error = ""
try:
    target = st.session_state.get(ud.TARGET) or ""
    replayed = ud.replay(src["digest"], recipe_text, raw, target if target in raw.columns else "")
except WorkbenchError as err:
    replay_error = one_line(err)
cleaned = replayed.frame if replayed is not None else raw

# Only the open tab runs and is sent: a browser draws one tab's tables, charts and forms, not three
# (opening a table drew all three in every session), and a rerun does a third of the work.
tab_profile, tab_clean, tab_versions = st.tabs(ud.TABS, key=ud.TAB, on_change="rerun")
keep_closed_tab_choices(ud.TAB, ud.TABS, ud.TAB_CHOICES)

if tab_profile.open:
    with tab_profile:
        which = st.radio("Profile of", ["cleaned table", "raw table"], horizontal=True, key="data_profile_which")
        frame = cleaned if which == "cleaned table" else raw
        key = ud.cleaned_key(src) if frame is cleaned else src["digest"]
        with user_errors():
            render_profile(ud.profile(key, frame), frame)

if tab_clean.open:
    with tab_clean:
        from ui.data_recipe import render_recipe_editor

        render_recipe_editor(raw, src, replayed, replay_error, on_change=_persist)

if tab_versions.open:
    with tab_versions:
        from ui.data_versions import render_save_and_versions

        render_save_and_versions(t, project, src, raw, replayed, replay_error, on_change=_persist)
