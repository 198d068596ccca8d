"""History and exchange panels of the Label page: the labels table, relabel / remove, export / import.

The table is the label log replayed (:mod:`core.label.history`): every relabel, removal,
undo or import is one more event in the log, so the history is the log itself.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from core.errors import LabelError, one_line
from core.label import exchange as ex
from core.label.history import history_table, relabel_event, remove_event
from core.label.labellog import LabelLog
from core.label.session import Pool
from ui import label as ul

IMPORT = "label_import_preview"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "in the table"


NEW_CLASS = "label_hist_new_class"  # (row, class) of a relabel that waits for "add this class?"


def _relabel(log: LabelLog, pool: Pool, add: bool = False) -> None:
    """Relabel the chosen row; with ``add``, the row and new class that were asked about (then confirmed)."""
    row, label = st.session_state.get("label_hist_row"), st.session_state.get("label_hist_class")
    asked = st.session_state.pop(NEW_CLASS, None)
    if add and asked:
        row, label = asked
        ul.add_classes(log, [label])
    label = str(label).strip() if label is not None else None
    if label and label not in pool.classes and row is not None and not add:
        st.session_state[NEW_CLASS] = (int(row), label)  # a class typed that does not exist: ask first
        return
    classes = (*pool.classes, label) if add and label else pool.classes
    try:
        event = relabel_event(int(row), label, classes, ul.tab_id(), pool.rows)
    except (LabelError, TypeError, ValueError) as err:
        st.session_state["label_hist_note"] = one_line(err) if isinstance(err, LabelError) else \
            "Pick a row number and a class first."
        return
    ul.append_event(log, event)
    st.session_state["label_hist_note"] = f"Row {event.row} is now {event.label!r}."


def _remove(log: LabelLog, pool: Pool) -> None:
    row = st.session_state.get("label_hist_row")
    if row is None or not 0 <= int(row) < pool.rows:
        st.session_state["label_hist_note"] = f"Pick a row between 0 and {pool.rows - 1} first."
        return
    log.append([remove_event(int(row), ul.tab_id())])
    st.session_state["label_hist_note"] = f"Row {int(row)} is unlabelled again; the queue may ask for it."


def render_history(pool: Pool, log: LabelLog) -> None:
    """The labels table (filterable by class) with relabel and remove."""
    events = ul.log_events(log)
    chosen = st.multiselect("Classes", pool.classes, key="label_hist_filter", placeholder="All classes")
    entries = history_table(events, pool.table_labels, chosen)
    table = pd.DataFrame({"row": [e.row for e in entries], "label": [e.label for e in entries],
                          "when": [_when(e.ts) for e in entries],
                          "session": [e.session or "—" for e in entries],
                          "how": [e.source for e in entries]})
    st.caption(f"{len(entries):,} labelled row(s){' of the chosen classes' if chosen else ''}, newest first; "
               f"the log holds {len(events):,} event(s). Type `u` in the queue to undo your last label.")
    st.dataframe(table, hide_index=True, height=min(38 + 35 * max(len(table), 1), 320), key="label_hist_table",
                 width="stretch")
    c1, c2, c3, c4 = st.columns([2, 3, 2, 2], vertical_alignment="bottom")
    c1.number_input("Row", 0, max(pool.rows - 1, 0), value=entries[0].row if entries else 0, step=1,
                    key="label_hist_row")
    c2.selectbox("New class", pool.classes, key="label_hist_class", accept_new_options=True,
                 help="Pick a class, or type a new one: you are asked before it is added.")
    c3.button("Relabel", key="label_hist_relabel", icon=":material/edit:", on_click=_relabel, args=(log, pool),
              width="stretch")
    c4.button("Remove label", key="label_hist_remove", icon=":material/delete:", on_click=_remove,
              args=(log, pool), width="stretch")
    ask = st.session_state.get(NEW_CLASS)
    if ask:
        row, name = ask
        st.warning(f"There is no class **{name}** in this session yet (the classes are "
                   f"{', '.join(pool.classes)}). Add it and label row {row} as {name}?", icon=":material/add:")
        a1, a2 = st.columns(2)
        a1.button(f"Add class {name} and relabel", key="label_hist_add_class", type="primary", width="stretch",
                  on_click=_relabel, args=(log, pool, True))
        a2.button("Cancel", key="label_hist_add_cancel", width="stretch",
                  on_click=lambda: st.session_state.pop(NEW_CLASS, None))
    note = st.session_state.pop("label_hist_note", "")
    if note:
        st.info(note, icon=":material/history:")


def render_exchange(pool: Pool, frame: pd.DataFrame, log: LabelLog, state_labels: dict[int, str]) -> None:
    """Export the labels as CSV / Label Studio JSON; import one back after a preview and a confirmation."""
    entries = history_table(ul.log_events(log), pool.table_labels)
    stem = log.path.stem
    c1, c2 = st.columns(2)
    c1.download_button("Export CSV", ex.export_csv(entries), f"{stem}.labels.csv", "text/csv",
                       key="label_export_csv", icon=":material/download:", disabled=not entries)
    c2.download_button("Export Label Studio JSON", ex.export_labelstudio(entries, frame, pool.features),
                       f"{stem}.labelstudio.json", "application/json", key="label_export_ls",
                       icon=":material/download:", disabled=not entries)
    up = st.file_uploader("Import labels (CSV with row,label — or Label Studio JSON tasks)", type=["csv", "json"],
                          key="label_import_file")
    if up is None:
        st.session_state.pop(IMPORT, None)
        return
    fmt = "labelstudio" if up.name.lower().endswith(".json") else "csv"
    try:
        preview = ex.read_import(up.getvalue().decode("utf-8", errors="replace"), fmt, rows=pool.rows,
                                 classes=pool.classes, current=state_labels)
    except LabelError as err:
        st.error(one_line(err))
        return
    st.info(f"{up.name}: {preview.summary} Nothing is applied until you confirm.", icon=":material/upload:")
    if preview.unknown_classes:
        names = [str(c) for c in preview.unknown_classes]
        st.button(f"Add class{'es' if len(names) > 1 else ''} {', '.join(names[:5])}{'…' if len(names) > 5 else ''}"
                  " to this session", key="label_import_add_classes", icon=":material/add:",
                  on_click=ul.add_classes, args=(log, names),
                  help="Their rows are then matched too; still nothing is applied until you confirm.")
    if st.button(f"Apply {len(preview.matched):,} label(s)", key="label_import_apply", type="primary",
                 disabled=not preview.matched):
        n = ex.apply_import(log, preview, ul.tab_id())
        st.success(f"Imported {n:,} label(s) into the log ({len(preview.matched) - n:,} were already given).")
