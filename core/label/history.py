"""The labelling history is the label log: replay it, undo, relabel and remove through new events.

Nothing is ever rewritten. Each row has a stack of changes, built by replaying the log in
file order:

* a label (``queue``, ``lasso``, ``table``, ``relabel``, ``import``) is pushed;
* a ``skip`` is pushed only while the row has no label (a skip never erases a label);
* a ``remove`` is pushed: the row is unlabelled again, even when the table had a value;
* an ``undo`` pops the row's latest change, so the row is back where it was before it.

The top of each stack is the row's state. Logs written before ``undo`` / ``remove`` /
``relabel`` existed hold only labels and skips and replay exactly as they always did.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.errors import LabelError
from core.label.labellog import LabelEvent, LabelLog

LABEL_SOURCES = frozenset({"queue", "lasso", "table", "relabel", "import"})


@dataclass(frozen=True)
class Replay:
    """The log replayed: each row's deciding event (``tops``) and what it means."""

    labels: Mapping[int, str]
    skipped: frozenset[int]
    removed: frozenset[int]          # rows explicitly made unlabelled (this hides a table value too)
    tops: Mapping[int, LabelEvent]   # the event that decides each row's state
    top_index: Mapping[int, int]     # that event's position in the log (for "undo the latest")


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the labels table: the row's current label and the event that gave it."""

    row: int
    label: str
    ts: float
    session: str
    source: str


def _is_label(e: LabelEvent) -> bool:
    return e.label is not None and e.source not in ("skip", "remove", "undo")


def replay(events: Iterable[LabelEvent]) -> Replay:
    """Replay events in order into each row's current state (see the module docstring)."""
    stacks: dict[int, list[tuple[int, LabelEvent]]] = {}
    for i, e in enumerate(events):
        stack = stacks.setdefault(e.row, [])
        if e.source == "undo":
            if stack:
                stack.pop()
        elif e.source == "skip" or e.label is None and e.source != "remove":
            if not stack or not _is_label(stack[-1][1]):
                stack.append((i, e))
        else:
            stack.append((i, e))
    labels: dict[int, str] = {}
    skipped, removed = set(), set()
    tops: dict[int, LabelEvent] = {}
    index: dict[int, int] = {}
    for row, stack in stacks.items():
        if not stack:
            continue
        i, top = stack[-1]
        tops[row], index[row] = top, i
        if top.source == "remove":
            removed.add(row)
        elif _is_label(top):
            labels[row] = str(top.label)
        else:
            skipped.add(row)
    return Replay(labels, frozenset(skipped), frozenset(removed), tops, index)


def last_change(events: Iterable[LabelEvent], session: str) -> LabelEvent | None:
    """This session's latest change that still decides its row (what ``undo`` takes back), or None."""
    r = replay(events)
    mine = [(i, r.tops[row]) for row, i in r.top_index.items() if r.tops[row].session == session]
    return max(mine, key=lambda t: t[0])[1] if mine else None


def undo_last(log: LabelLog, session: str, ts: float | None = None) -> LabelEvent | None:
    """Take back this session's latest change (one ``undo`` event); None when there is nothing to undo.

    Under the log's lock the row must still be decided by that change: when another session
    changed the row since, nothing is written and :class:`LabelError` says so.
    """
    target = last_change(log.events(), session)
    if target is None:
        return None

    def still_mine() -> bool:
        return replay(log.row_events(target.row)).tops.get(target.row) == target

    undo = LabelEvent(target.row, None, time.time() if ts is None else ts, session, "undo")
    if not log.append_if([undo], still_mine):
        raise LabelError(f"Row {target.row} was changed by another session after your label; "
                         "change it from the history instead.")
    return target


def relabel_event(row: int, label: str, classes: Iterable[str], session: str, rows: int,
                  ts: float | None = None) -> LabelEvent:
    """The event that gives ``row`` the class ``label`` from the history table.

    Raises:
        LabelError: the row is not in the table, or the class does not exist (add it in the set-up).
    """
    classes = [str(c) for c in classes]
    if not 0 <= int(row) < rows:
        raise LabelError(f"Row {row} is not in this dataset version (rows 0 to {rows - 1}); pick a row from the "
                         "labels table.")
    if str(label) not in classes:
        raise LabelError(f"The class {label!r} does not exist; the classes are {', '.join(map(repr, classes[:12]))}. "
                         "Type it as the new class in the History tab to be asked to add it, or add it under 'Extra class names' "
                         "in the session set-up.")
    return LabelEvent(int(row), str(label), time.time() if ts is None else ts, session, "relabel")


def remove_event(row: int, session: str, ts: float | None = None) -> LabelEvent:
    """The event that makes ``row`` unlabelled again (the queue may offer it again)."""
    return LabelEvent(int(row), None, time.time() if ts is None else ts, session, "remove")


def history_table(events: Iterable[LabelEvent], table_labels: Mapping[int, str] | None = None,
                  classes: Iterable[str] = ()) -> list[HistoryEntry]:
    """Current labels, newest first, each with the event that gave it (table values last, session '').

    ``classes`` keeps only rows of those classes (empty: every class).
    """
    r = replay(events)
    keep = set(map(str, classes))
    out = [HistoryEntry(row, r.labels[row], r.tops[row].ts, r.tops[row].session, r.tops[row].source)
           for row in sorted(r.labels, key=lambda k: -r.top_index[k])]
    for row, label in sorted((table_labels or {}).items()):
        if row not in r.labels and row not in r.removed:
            out.append(HistoryEntry(row, label, 0.0, "", "table value"))
    return [h for h in out if not keep or h.label in keep]
