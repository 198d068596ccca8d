"""Streamlit glue of the Label page: set-up widgets, cached loads, conflicts, the open tab.

The queue itself is :mod:`ui.label_queue` (one row at a time, rounds in the background), the row
card :mod:`ui.label_card`, the history and label exchange :mod:`ui.label_history`, the map
:mod:`ui.label_map`, the Progress tab :mod:`ui.label_progress`, the Save tab :mod:`ui.label_save`.

State that matters lives in the label log (core), never only in the session: every
panel re-reads the log, so a refresh, a second tab or a restart shows the same labels.
Session keys (all prefixed ``label_``) only hold the current batch, this tab's id and the
clicks that wait for a confirmation.

Concurrent sessions on one version: a batch is drawn through :mod:`core.label.reservations`
(rows in another live session's batch are not offered), the query seed mixes this tab's
id into the label count (two tabs never draw the same random batch), and a queue click
goes through :meth:`LabelLog.append_checked`, so a row someone else labelled since the
batch was drawn asks before its label is overwritten.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core.label import query as q
from core.label.labellog import Conflict, LabelEvent, LabelLog, known_label_columns, remember_version
from core.label.reservations import Reservation, Reservations
from core.label.session import LabelState, Pool, image_side, label_state, numeric_columns, parse_classes, \
    prepare_pool
from core.tracking.datasets import DatasetVersion, load_dataset
from ui.identity import identity
from ui.resources import settings, tracker

NEW_COLUMN = "+ New column…"  # plain text: emoji have no glyph in some browsers' fonts
TAB_ID = "label_tab_id"
BATCH = "label_batch"          # dict: key, ranking (core.label.rounds.Ranking); see ui.label_queue
CONFLICTS = "label_conflicts"  # row -> (the click's LabelEvent, the Conflict it ran into)
SERVER = f"{socket.gethostname()}:{os.getpid()}"
TAB = "label_tab"  # the open tab (st.tabs with on_change="rerun": only the open tab's content runs)
TABS = ("Queue", "History", "Map", "Progress", "Save")
# Widgets of tabs that are closed are not drawn, and Streamlit forgets an undrawn widget's value;
# these are re-stored on every run so the map, history and save choices survive a tab switch.
# (only widgets whose options never change: a kept value can never fall outside its options)
TAB_WIDGETS = ("label_map_method", "label_map_colour", "label_map_overwrite", "label_save_all")


@dataclass(frozen=True)
class Setup:
    """What the person chose in the set-up panel."""

    label_column: str
    classes: tuple[str, ...]
    features: tuple[str, ...]
    learner: str
    strategy: str
    committee_measure: str
    batch_size: int
    impute: bool
    as_image: bool

    @property
    def key(self) -> tuple:
        return (self.label_column, self.classes, self.features, self.impute)


def keep_tab_widgets() -> None:
    """Keep the values of the closed tabs' widgets (Streamlit's documented re-assignment idiom)."""
    for key in TAB_WIDGETS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def classes_key(log: LabelLog) -> str:
    """Session key of the set-up's class-names box for this log's dataset version (see render_setup)."""
    return f"label_{log.path.name.split('__', 1)[0][:8]}_classes"


def add_classes(log: LabelLog, names: list[str]) -> None:
    """Add class names to the set-up (a callback: the box shows them on the next run, the pool gets them)."""
    key = classes_key(log)
    typed = list(parse_classes(st.session_state.get(key, "")))
    st.session_state[key] = ", ".join([*typed, *(n for n in names if n not in typed)])


def tab_id() -> str:
    """This browser tab's id, written into every label event."""
    if TAB_ID not in st.session_state:
        st.session_state[TAB_ID] = uuid.uuid4().hex[:8]
    return st.session_state[TAB_ID]


@st.cache_data(show_spinner="Loading the table…", max_entries=8)
def load_frame(run_id: str) -> pd.DataFrame:
    return load_dataset(tracker(), run_id)


@st.cache_data(show_spinner=False, max_entries=16)
def load_pool(run_id: str, label_column: str, features: tuple[str, ...], classes: tuple[str, ...],
              impute: bool) -> Pool:
    return prepare_pool(load_frame(run_id), label_column, features, classes, impute=impute)


def _default_label_column(frame: pd.DataFrame, version: DatasetVersion, known: list[str]) -> str:
    if known:
        return known[0]
    for c in frame.columns:  # an empty or partly empty column of few values looks like labels to fill
        s = frame[c]
        if s.isna().all() or (s.isna().any() and s.nunique() <= 50 and not pd.api.types.is_float_dtype(s)):
            return c
    return version.target if version.target in frame.columns and frame[version.target].isna().any() else NEW_COLUMN


def render_setup(frame: pd.DataFrame, version: DatasetVersion, project: str) -> Setup:
    """The set-up widgets (their keys are scoped by dataset version)."""
    k = f"label_{version.run_id[:8]}"
    known = known_label_columns(settings().labels_dir, project, version.run_id)
    options = list(dict.fromkeys([*frame.columns, *known])) + [NEW_COLUMN]
    default = _default_label_column(frame, version, known)
    with st.expander("Session set-up", expanded=not known, icon=":material/settings:"):
        c1, c2 = st.columns(2)
        col = c1.selectbox("Label column", options, index=options.index(default), key=f"{k}_col",
                           help="Rows with an empty value in this column are the pool to label.")
        saved = LabelLog.for_version(settings().labels_dir, project, version.run_id, col).session()
        if col == NEW_COLUMN:
            col = c1.text_input("New column name", value="label", key=f"{k}_newcol").strip()
            saved = LabelLog.for_version(settings().labels_dir, project, version.run_id, col).session()
            typed = c2.text_area("Class names (comma or one per line)", value=", ".join(saved.get("classes", [])),
                                 key=f"{k}_classes", height=80, placeholder="cat, dog")
        else:
            extra = [c for c in saved.get("classes", []) if c not in set(map(str, frame[col].dropna().unique()))] \
                if col in frame.columns else saved.get("classes", [])
            typed = c2.text_input("Extra class names (optional)", value=", ".join(extra), key=f"{k}_classes",
                                  help="Classes that have no labelled row yet.")
        numeric = numeric_columns(frame, [col])
        from core.data.leakage import suggest_features

        # ids and columns that give the existing labels away are not features unless the person adds them
        labelled_rows = frame[frame[col].notna()] if col in frame.columns else frame
        advice = suggest_features(labelled_rows if len(labelled_rows) >= 30 else frame,
                                  col if col in frame.columns else None, candidates=numeric)
        default_feats = [f for f in saved.get("features", []) if f in numeric] or list(advice.features) or numeric
        if advice.note and not saved.get("features"):
            st.caption(advice.note)
        chosen = st.session_state.get(f"{k}_feats", default_feats)
        with st.popover(f"Feature columns: {len(chosen)} of {len(numeric)} numeric", icon=":material/view_column:"):
            feats = st.multiselect("Feature columns", numeric, default=default_feats, key=f"{k}_feats",
                                   help="Numeric columns only; encode categories in the Data stage.")
        c3, c4, c5, c6 = st.columns([3, 3, 3, 2])
        learner = c3.selectbox("Learner", list(q.LEARNERS), format_func=q.LEARNER_NAMES.get, key=f"{k}_learner")
        strategy = c4.selectbox("Query strategy", list(q.STRATEGIES), format_func=q.STRATEGY_NAMES.get,
                                key=f"{k}_strategy", help=q.STRATEGY_HELP)
        measure = c5.selectbox("Committee disagreement", list(q.COMMITTEE_MEASURES), key=f"{k}_measure",
                               format_func=lambda m: m.replace("_", " "), disabled=strategy != "committee")
        size = int(c6.number_input("Batch size", 1, 50, 10, key=f"{k}_batch"))
        has_nan = bool(feats) and bool(frame[feats].isna().to_numpy().any())
        impute = st.checkbox("Fill missing values with the median (for labelling only)", key=f"{k}_impute",
                             disabled=not has_nan, help="Or fix them in the Data stage and save a new version.")
        side = image_side(feats)
        square = bool(feats) and int(round(len(feats) ** 0.5)) ** 2 == len(feats) and len(feats) >= 16
        as_image = st.toggle("Show rows as images", value=side is not None, key=f"{k}_image", disabled=not square,
                             help="For pixel columns (a square number of them, row by row).")
    return Setup(col, parse_classes(typed), tuple(feats), learner, strategy, measure, size, impute,
                 as_image and square)


def reservations(log: LabelLog) -> Reservations:
    return Reservations.for_log(log.path)


def session_gone(r: Reservation) -> bool:
    """True when the reservation's session ran on this server and is no longer connected (a closed tab)."""
    if r.server != SERVER or not r.client:
        return False
    from streamlit.runtime import Runtime

    return Runtime.exists() and not Runtime.instance().is_active_session(r.client)


def client_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def query_seed(n_labels: int) -> int:
    """The query's random seed: this tab's id and the label count (the count alone gave two tabs one batch)."""
    return zlib.crc32(f"{tab_id()}:{n_labels}".encode())


def keep_batch(log: LabelLog) -> None:
    """Renew this tab's hold on its batch while it is open (cheap: writes only when half the hold is gone)."""
    reservations(log).renew(tab_id())


# --- rendering -----------------------------------------------------------------------------
def row_image(pool: Pool, row: int, scale: int = 12) -> np.ndarray:
    """A crisp, upscaled grey image of one row (ink dark on white)."""
    side = int(round(len(pool.features) ** 0.5))
    lo, hi = float(pool.X.min()), float(pool.X.max())
    img = (pool.X[row].reshape(side, side) - lo) / ((hi - lo) or 1.0)
    img = (255 * (1 - img)).clip(0, 255).astype(np.uint8)
    return np.kron(img, np.ones((scale, scale), dtype=np.uint8))


def show_row(pool: Pool, frame: pd.DataFrame, row: int, as_image: bool, where: Any = None,
             search_key: str | None = None) -> None:
    """The row as an image (pixel tables) or every feature in a two-column grid, plus its text columns."""
    from ui.label_card import render_card

    w = where or st
    if as_image:
        w.image(row_image(pool, row), caption=f"row {row}", width=96)
    else:
        render_card(frame, row, pool.features, label_column=pool.label_column, search_key=search_key, where=w)


def _cell(value: Any) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return "—"
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return str(value)


def row_table(frame: pd.DataFrame, row: int, features: tuple[str, ...]) -> pd.DataFrame:
    """One row as a vertical feature → value table: every feature readable however wide the table is."""
    values = frame.loc[row, list(features)]
    return pd.DataFrame({"value": [_cell(v) for v in values]}, index=pd.Index([str(f) for f in features],
                                                                              name=f"row {row}"))


def append_event(log: LabelLog, event: LabelEvent, accept: Conflict | None = None) -> None:
    """Write the click, unless another session labelled the row differently: then ask (see render_conflicts)."""
    stamped = LabelEvent(event.row, event.label, time.time(), event.session, event.source)
    conflict = log.append_checked(stamped, accept=accept)
    pending = st.session_state.setdefault(CONFLICTS, {})
    if conflict is None:
        pending.pop(event.row, None)
        _remember(log)
    else:
        pending[event.row] = (stamped, conflict)


def _remember(log: LabelLog) -> None:
    """Note, for this person, the version they label (a refresh reopens it); once per version and session."""
    run_id = log.path.name.split("__", 1)[0]
    if st.session_state.get("label_remembered") != (log.path, run_id):
        project = log.path.parent.name
        remember_version(settings().labels_dir, project, identity().key, run_id)
        st.session_state["label_remembered"] = (log.path, run_id)


def _keep(row: int) -> None:
    st.session_state.setdefault(CONFLICTS, {}).pop(row, None)


def render_conflicts(pool: Pool, frame: pd.DataFrame, log: LabelLog, as_image: bool) -> None:
    """Clicks on rows that another session labelled meanwhile: overwrite only on an explicit confirmation."""
    for row, (event, conflict) in list(st.session_state.get(CONFLICTS, {}).items()):
        with st.container(border=True, key=f"label_conflict_{row}"):
            st.warning(f"Row {row} is already labelled as **{conflict.label}** by another session. "
                       f"Replace it with your **{event.label}**?", icon=":material/group:")
            show_row(pool, frame, row, as_image)
            c1, c2 = st.columns(2)
            c1.button(f"Overwrite with {event.label}", key=f"label_overwrite_{row}", type="primary",
                      on_click=append_event, args=(log, event, conflict), width="stretch")
            c2.button(f"Keep {conflict.label}", key=f"label_keep_{row}", on_click=_keep, args=(row,),
                      width="stretch")


_EVENTS: dict[str, tuple[int, int, list[LabelEvent]]] = {}  # log path -> (inode, bytes read, events)
_EVENTS_LOCK = threading.Lock()


def log_events(log: LabelLog) -> list[LabelEvent]:
    """The log's events, reading only the bytes appended since the last call (the log only grows)."""
    key = str(log.path)
    try:
        st_ = log.path.stat()
    except FileNotFoundError:
        return []
    with _EVENTS_LOCK:
        inode, offset, events = _EVENTS.get(key, (st_.st_ino, 0, []))
        if inode != st_.st_ino or st_.st_size < offset:  # replaced or truncated: read it again
            offset, events = 0, []
        if st_.st_size > offset:
            new, offset = log.read_from(offset)
            events = [*events, *new]
        _EVENTS[key] = (st_.st_ino, offset, events)
        return list(events)


def rebuild_state(pool: Pool, log: LabelLog) -> LabelState:
    return label_state(pool, log_events(log))


def strategy_name(strategy: str) -> str:
    return q.STRATEGY_NAMES.get(strategy, strategy)


def append_lasso(log: LabelLog, events: list[LabelEvent]) -> int:
    """Write a lasso's labels; rows another session labelled differently wait for a confirmation
    (shown with the queue's conflicts) instead of being overwritten. Returns how many were written."""
    held = log.append_checked_many(events)
    pending = st.session_state.setdefault(CONFLICTS, {})
    for event, conflict in held:
        pending[event.row] = (event, conflict)
    if len(held) < len(events):
        _remember(log)
    return len(events) - len(held)
