"""The queue of the Label page: one row at a time, instant clicks, the learner refitted in the background.

A click only appends its event to the durable log and moves to the next row of the batch
already drawn: no fit on the request path. Once per batch, a *round* (refit, rank the
next rows, one learning-curve point; :mod:`core.label.rounds`) runs on a thread of a
process-wide executor; the ranking reaches ``RESERVE`` batches ahead, so the queue keeps
going on the previous ranking until the new one is ready, and then swaps it in, saying so.

Keys: ``1``–``9`` give the classes in the order shown (the most frequent first when there are
more than nine; the rest in a searchable picker), ``0`` or space skips, ``u`` undoes, ``←``/``→``
move through the batch, through one page-level key listener (:data:`KEYS_SCRIPT`) that clicks the visible button.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from core.errors import LabelError
from core.label.history import undo_last
from core.label.labellog import LabelEvent, LabelLog
from core.label.rounds import Ranking, curve_point, rank_rows
from core.label.session import LabelState, Pool
from ui import label as ul

BATCH = ul.BATCH        # the current Ranking and what this tab did with it
ROUND = "label_round"   # the pending background round: {"key", "future"}
CURSOR = "label_cursor"  # the row on screen
ORDER = "label_order"    # the class order shown (fixed for a batch, so keys do not move under the fingers)
NOTE = "label_queue_note"
NONCE = "label_click_nonce"  # bumped by each applied click: a replayed trigger of an old drawing is ignored
UNDONE = "label_undone"  # rows this tab undid: shown again first, even when outside the current ranking
OPEN = "label_open_rows"  # the open rows of the batch, in order (the keys move through them)
HOTKEYS = 9
MAX_BUTTONS = 20


@st.cache_resource
def _executor() -> ThreadPoolExecutor:
    # One worker per server process: rounds of all tabs take turns on the 2 cores instead of piling up.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="label-round")


@dataclass(frozen=True)
class QueueView:
    """What the queue panel draws."""

    ranking: Ranking
    open_rows: tuple[int, ...]
    answered: int        # rows of this ranking labelled or skipped
    pending: bool        # a background round is running
    note: str = ""


def _one_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` with BLAS / OpenMP at one thread each.

    A round's fits and k-means are tiny (tens of labels, ≤ 500 candidates): their thread pools only
    spin against the clicks on 2 cores. Measured on a 10k × 20 pool at load 18: a round's CPU went
    from ~690 ms to ~60 ms (rank 162 → 24 ms, 5-fold curve point 524 → 33 ms).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return fn(*args, **kwargs)


def _round_job(pool: Pool, state: LabelState, setup: ul.Setup, log: LabelLog, seed: int, session: str,
               owner: str, client: str, with_point: bool = True) -> Ranking:
    """Runs on the executor's thread: no Streamlit calls here, only core and the reservation file."""
    return _one_thread(_round, pool, state, setup, log, seed, session, owner, client, with_point)


def _round(pool: Pool, state: LabelState, setup: ul.Setup, log: LabelLog, seed: int, session: str,
           owner: str, client: str, with_point: bool = True) -> Ranking:
    drawn: list[Ranking] = []

    def choose(held: set[int]) -> list[int]:  # under the reservation lock
        drawn.append(rank_rows(pool, state, strategy=setup.strategy, learner=setup.learner,
                               committee_measure=setup.committee_measure, batch=setup.batch_size, seed=seed,
                               held=held))
        return list(drawn[0].rows)

    ul.reservations(log).draw(session, choose, owner=owner, client=client, server=ul.SERVER,
                              is_dead=ul.session_gone)
    if not with_point:  # the session's first batch: nothing was learned in it yet
        return drawn[0]
    point = curve_point(pool, state, log, learner=setup.learner, strategy=setup.strategy, session=session)
    return replace(drawn[0], point=point)


def _submit(pool: Pool, state: LabelState, setup: ul.Setup, log: LabelLog, session_key: tuple,
            with_point: bool = True) -> Future:
    from ui.identity import identity

    args = (pool, state, setup, log, ul.query_seed(len(state.labels)), ul.tab_id(), identity().key, ul.client_id(),
            with_point)
    future = _executor().submit(_round_job, *args)
    st.session_state[ROUND] = {"key": session_key, "future": future}
    return future


def _adopt(ranking: Ranking, session_key: tuple, note: str) -> None:
    st.session_state[BATCH] = {"key": session_key, "ranking": ranking}
    st.session_state[NOTE] = note
    st.session_state.pop(CURSOR, None)
    st.session_state.pop(ORDER, None)


def queue_view(pool: Pool, state: LabelState, setup: ul.Setup, log: LabelLog, session_key: tuple) -> QueueView:
    """The batch to show now; starts a background round when a batch is finished, adopts it when done."""
    pending = st.session_state.get(ROUND)
    if pending and pending["key"] != session_key:
        st.session_state.pop(ROUND, None)
        pending = None
    batch = st.session_state.get(BATCH)
    if not batch or batch.get("key") != session_key or "ranking" not in batch:
        # the first batch of a session: drawn here (a cold start clusters a 2,000-row sample: quick)
        _adopt(_submit(pool, state, setup, log, session_key, with_point=False).result(), session_key, "")
        st.session_state.pop(ROUND, None)
        batch, pending = st.session_state[BATCH], None
    ranking: Ranking = batch["ranking"]
    open_rows = tuple(r for r in ranking.rows if r not in state.labels and r not in state.skipped)
    undone = tuple(r for r in st.session_state.get(UNDONE, ()) if r not in state.labels and r not in state.skipped
                   and r not in open_rows)
    st.session_state[UNDONE] = undone
    open_rows = undone + open_rows
    answered = len(ranking.rows) - len(open_rows)
    if pending and (pending["future"].done() or not open_rows):
        st.session_state.pop(ROUND, None)  # a failed round is reported once, not on every rerun
        if not open_rows:  # labelled faster than the round ran: wait for it (the only wait in the queue)
            with st.spinner("Ranking the next rows…"):
                pending["future"].result()
        new = pending["future"].result()
        _adopt(new, session_key, f"New ranking swapped in: the model trained on {new.trained_on} labels chose "
                                 "these rows.")
        return queue_view(pool, state, setup, log, session_key)
    if not pending and (answered >= ranking.batch or not open_rows) and len(state.unlabelled(pool)):
        _submit(pool, state, setup, log, session_key)
        pending = st.session_state[ROUND]
        if not open_rows:
            return queue_view(pool, state, setup, log, session_key)
    ul.keep_batch(log)
    return QueueView(ranking, open_rows, answered, pending is not None, st.session_state.get(NOTE, ""))


def model_of(view: QueueView) -> Any | None:
    """The learner of the ranking on screen (fitted in the background round)."""
    return view.ranking.model


# --- the row on screen and its keys -------------------------------------------------------
def cursor_row(view: QueueView) -> int:
    """The row on screen (kept in the session: the keys act on it, whatever row they were drawn with)."""
    row = st.session_state.get(CURSOR)
    row = row if row in view.open_rows else view.open_rows[0]
    st.session_state[CURSOR] = row
    st.session_state[OPEN] = view.open_rows
    return row


def _fresh(nonce: int) -> bool:
    """True once per drawing of the keys (see :func:`_click`); then the next drawing's number is current."""
    if nonce != st.session_state.get(NONCE, 0):
        return False
    st.session_state[NONCE] = nonce + 1
    return True


def _move(step: int, nonce: int = -1) -> None:
    if not _fresh(nonce):
        return
    rows: tuple[int, ...] = st.session_state.get(OPEN, ())
    row = st.session_state.get(CURSOR)
    if rows:
        i = rows.index(row) if row in rows else 0
        st.session_state[CURSOR] = rows[(i + step) % len(rows)]


def class_order(classes: tuple[str, ...], state: LabelState) -> tuple[str, ...]:
    """Classes in the order shown: as set up when ≤ 9, else the most frequent first (fixed per batch)."""
    order = st.session_state.get(ORDER)
    if order and set(order) == set(classes):
        return order
    if len(classes) > HOTKEYS:
        counts = state.counts(classes)
        order = tuple(sorted(classes, key=lambda c: (-counts.get(c, 0), classes.index(c))))
    else:
        order = tuple(classes)
    st.session_state[ORDER] = order
    return order


def _click(log: LabelLog, label: str | None, nonce: int = -1) -> None:
    """A class or skip key: write the event for the row on screen durably, then show the next row.

    The buttons keep one key each whatever the row (not one per row), and each drawing of them
    carries a number: a click is applied only if it was made on the latest drawing. A trigger that
    reaches the server twice (a fragment run interrupted by another rerun replays it) labels once.
    """
    if not _fresh(nonce):
        return
    row = st.session_state.get(CURSOR)
    rows: tuple[int, ...] = st.session_state.get(OPEN, ())
    if row is None:
        return
    st.session_state.pop(NOTE, None)  # "Undid …" / "New ranking swapped in" spoke of the row before this one
    ul.append_event(log, LabelEvent(row, label, 0.0, ul.tab_id(), "queue" if label is not None else "skip"))
    if row in rows:
        i = rows.index(row)
        rest = [r for r in (*rows[i + 1:], *rows[:i]) if r != row]
        if rest:
            st.session_state[CURSOR] = rest[0]


def _undo(log: LabelLog, nonce: int = -1) -> None:
    if not _fresh(nonce):
        return
    try:
        target = undo_last(log, ul.tab_id())
    except LabelError as err:
        st.session_state[NOTE] = str(err)
        return
    if target is None:
        st.session_state[NOTE] = "Nothing to undo: this tab has not labelled anything yet."
        return
    what = "skip" if target.label is None else f"label {target.label!r}"
    st.session_state[NOTE] = f"Undid the {what} of row {target.row}."
    st.session_state[CURSOR] = target.row
    st.session_state[UNDONE] = (target.row, *st.session_state.get(UNDONE, ()))


def _pick(log: LabelLog) -> None:
    name = st.session_state.get("label_pick")
    if name:
        st.session_state["label_pick"] = None
        _click(log, name, st.session_state.get(NONCE, 0))


def label_keys(classes: tuple[str, ...], log: LabelLog) -> None:
    """Class buttons that wrap to their full names, with keys 1–9; a searchable picker past nine classes."""
    nonce = st.session_state.setdefault(NONCE, 0)
    with st.container(horizontal=True, key="label_classes", gap="small"):
        for i, name in enumerate(classes[:MAX_BUTTONS]):
            with st.container(key=f"label_k{i}", width="content"):
                st.button(f"{name}", key=f"label_btn_{name}", on_click=_click, args=(log, name, nonce), wrap=True,
                          help=f"Key {i + 1}" if i < HOTKEYS else None)
    if len(classes) > HOTKEYS:
        st.selectbox("Any class (type to search)", classes, index=None, key="label_pick",
                     placeholder=f"Search {len(classes)} classes…", on_change=_pick, args=(log,))
    many = len(st.session_state.get(OPEN, ())) > 1
    with st.container(horizontal=True, key="label_nav", gap="small"):
        with st.container(key="label_skip", width="content"):
            st.button("Skip", key="label_btn_skip", icon=":material/skip_next:", help="Key 0 or space",
                      on_click=_click, args=(log, None, nonce))
        with st.container(key="label_undo_box", width="content"):
            st.button("Undo", key="label_undo", icon=":material/undo:", help="Key u", on_click=_undo, args=(log, nonce))
        with st.container(key="label_prev_box", width="content"):
            st.button("Previous", key="label_prev", icon=":material/arrow_back:", help="Key ←",
                      on_click=_move, args=(-1, nonce), disabled=not many)
        with st.container(key="label_next_box", width="content"):
            st.button("Next", key="label_next", icon=":material/arrow_forward:", help="Key →",
                      on_click=_move, args=(1, nonce), disabled=not many)
    bind_keys(len(classes[:HOTKEYS]))


# One keydown listener on the page, bound once; it clicks the *visible* button of the key pressed.
# (Streamlit's own button shortcuts were tried first: while a fragment redraws, a stale copy of a
# button can be mounted beside the new one and one key press then clicked both — two labels.)
KEYS_SCRIPT = """<script>
const doc = window.parent.document;
doc.__labelKeys = %s;
if (!doc.__labelKeysBound) {
  doc.__labelKeysBound = true;
  doc.addEventListener("keydown", (e) => {
    if (e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName) || t.isContentEditable)) return;
    const sel = (doc.__labelKeys || {})[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (!sel) return;
    const b = [...doc.querySelectorAll(sel)].find((x) => x.offsetParent !== null && !x.disabled);
    if (!b) return;
    e.preventDefault();
    b.click();
  }, true);
}
</script>"""


def key_map(n_classes: int) -> dict[str, str]:
    """Key → CSS selector of the button it clicks."""
    keys = {str(i + 1): f".st-key-label_k{i} button" for i in range(min(n_classes, HOTKEYS))}
    keys.update({"0": ".st-key-label_skip button", " ": ".st-key-label_skip button",
                 "u": ".st-key-label_undo_box button", "ArrowLeft": ".st-key-label_prev_box button",
                 "ArrowRight": ".st-key-label_next_box button"})
    return keys


def bind_keys(n_classes: int) -> None:
    """The labelling keys (a script without any element; it re-runs only when the key map changes)."""
    import json

    st.html(KEYS_SCRIPT % json.dumps(key_map(n_classes)), unsafe_allow_javascript=True)


KEYS_HELP = ("**Keys:** `1`–`9` give the classes in the order shown · `0` or `space` skips · `u` undoes your last "
             "label · `←` / `→` move through the batch. Past nine classes, the most frequent get the keys and "
             "the picker finds the rest.")


def status_line(view: QueueView, two_classes: bool = False) -> str:
    """The batch's progress and how its rows were chosen (true whenever it is read: the page does not poll).

    ``two_classes``: at least two classes have labels now (a cold batch was drawn before they had).
    """
    if view.ranking.cold:
        how = ("rows spread over the features to start (the first model trains when this batch is done)"
               if two_classes else "rows spread over the features to start (the model needs two classes first)")
    else:
        how = ul.strategy_name(view.ranking.strategy)
    done = min(view.answered, view.ranking.batch)
    text = f"**Batch:** {done} of {view.ranking.batch} done · {how}"
    if view.pending:  # the round ends in the background; nothing reruns the page until the next answer
        text += " · the model is refitted in the background and its ranking comes in with your next answer"
    return text


def no_model_caption(two_classes: bool) -> str:
    return ("No model yet: the first one trains when this batch is done." if two_classes
            else "No model yet: it trains once two classes have labels.")


def curve_job(pool: Pool, state: LabelState, setup: ul.Setup, log: LabelLog) -> None:
    """A learning-curve point off the request path (after a lasso: the queue's rounds cover batches)."""
    job = st.session_state.get("label_curve_job")
    if job is not None and not job.done():
        return
    events = ul.log_events(log)
    if not events or events[-1].source not in ("lasso", "import"):
        return
    curve = log.curve()
    if curve and curve[-1].labels == len(state.labels):
        return
    st.session_state["label_curve_job"] = _executor().submit(
        _one_thread, curve_point, pool, state, log, learner=setup.learner, strategy=setup.strategy, session=ul.tab_id())


def wait_idle(timeout: float = 60.0) -> None:
    """Block until this tab's background work is finished (tests and the bench use it)."""
    deadline = time.time() + timeout
    for key in (ROUND, "label_curve_job"):
        job = st.session_state.get(key)
        future = job["future"] if isinstance(job, dict) else job
        if future is not None:
            future.result(timeout=max(0.0, deadline - time.time()))
