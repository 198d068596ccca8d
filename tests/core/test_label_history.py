"""The history is the log: undo, relabel and remove are events; replaying gives the current labels."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.errors import LabelError
from core.label.history import history_table, last_change, relabel_event, remove_event, replay, undo_last
from core.label.labellog import Conflict, LabelEvent, LabelLog, latest_labels
from core.label.session import label_state, prepare_pool


def _log(tmp_path: Path) -> LabelLog:
    return LabelLog.for_version(tmp_path, "proj", "a" * 32, "label")


def test_undo_takes_back_the_latest_change_of_this_session_one_at_a_time(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append([LabelEvent(1, "cat", 1, "me"), LabelEvent(2, "dog", 2, "me"), LabelEvent(2, "cat", 3, "me"),
                LabelEvent(3, None, 4, "me", "skip"), LabelEvent(4, "dog", 5, "other")])
    assert undo_last(log, "me") == LabelEvent(3, None, 4, "me", "skip")    # the skip: row 3 is asked again
    assert replay(log.events()).skipped == frozenset()
    assert undo_last(log, "me").row == 2                                    # the relabel of row 2 …
    assert latest_labels(log.events())[0] == {1: "cat", 2: "dog", 4: "dog"}  # … so its first label is back
    assert undo_last(log, "me") == LabelEvent(2, "dog", 2, "me")
    assert undo_last(log, "me").row == 1
    assert undo_last(log, "me") is None                                     # nothing of mine left
    assert latest_labels(log.events())[0] == {4: "dog"}                     # another session's label stays
    assert [e.source for e in log.events()].count("undo") == 4              # every undo is in the log


class _Racing(LabelLog):
    """A log where another session writes right after this session looked (between look and lock)."""

    def events(self) -> list[LabelEvent]:
        seen = super().events()
        if not any(e.session == "other" and e.row == 2 for e in seen):
            LabelLog(self.path).append([LabelEvent(2, "bird", 4, "other")])
        return seen


def test_undo_refuses_when_another_session_changed_the_row_since(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append([LabelEvent(1, "cat", 1, "me"), LabelEvent(1, "dog", 2, "other")])
    assert last_change(log.events(), "me") is None  # row 1 is decided by the other session now
    log.append([LabelEvent(2, "cat", 3, "me")])
    with pytest.raises(LabelError, match="Row 2 was changed by another session after your label"):
        undo_last(_Racing(log.path), "me")
    assert latest_labels(log.events())[0] == {1: "dog", 2: "bird"}  # nothing undone
    assert "undo" not in [e.source for e in log.events()]


def test_remove_hides_a_table_value_and_relabel_checks_row_and_class(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": range(6), "label": ["a", "b", None, None, None, None]})
    pool = prepare_pool(frame, "label", ["x"])
    log = _log(tmp_path)
    log.append([remove_event(0, "me", 1.0), relabel_event(3, "b", pool.classes, "me", pool.rows, 2.0)])
    state = label_state(pool, log.events())
    assert dict(state.labels) == {1: "b", 3: "b"} and 0 in state.unlabelled(pool)
    log.append([LabelEvent(0, None, 3.0, "me", "undo")])  # undoing the removal brings the table value back
    assert dict(label_state(pool, log.events()).labels) == {0: "a", 1: "b", 3: "b"}
    with pytest.raises(LabelError, match="The class 'zebra' does not exist"):
        relabel_event(2, "zebra", pool.classes, "me", pool.rows)
    with pytest.raises(LabelError, match="Row 9 is not in this dataset version"):
        relabel_event(9, "a", pool.classes, "me", pool.rows)


def test_a_relabel_of_another_sessions_label_asks_like_a_click(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append([LabelEvent(5, "cat", 1, "other")])
    conflict = log.append_checked(LabelEvent(5, "dog", 2, "me", "relabel"))
    assert conflict == Conflict(5, "cat", "other", 1)
    assert log.append_checked(LabelEvent(5, "dog", 3, "me", "relabel"), accept=conflict) is None
    assert latest_labels(log.events())[0] == {5: "dog"}


def test_a_lasso_holds_back_only_rows_another_session_labelled_differently(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append([LabelEvent(1, "cat", 1, "other"), LabelEvent(2, "dog", 1, "other"), LabelEvent(3, "cat", 1, "me")])
    held = log.append_checked_many([LabelEvent(r, "dog", 2, "me", "lasso") for r in (1, 2, 3, 4)])
    assert [(e.row, c.label) for e, c in held] == [(1, "cat")]
    assert latest_labels(log.events())[0] == {1: "cat", 2: "dog", 3: "dog", 4: "dog"}


def test_history_table_lists_current_labels_newest_first_filtered_by_class(tmp_path: Path) -> None:
    events = [LabelEvent(1, "cat", 1, "me"), LabelEvent(2, "dog", 2, "me"), LabelEvent(1, "dog", 3, "you", "relabel"),
              LabelEvent(7, None, 4, "me", "remove"), LabelEvent(8, None, 5, "me", "skip")]
    table = history_table(events, {6: "cat", 7: "cat"})
    assert [(h.row, h.label, h.session, h.source) for h in table] == [
        (1, "dog", "you", "relabel"), (2, "dog", "me", "queue"), (6, "cat", "", "table value")]
    assert [h.row for h in history_table(events, {6: "cat"}, ["cat"])] == [6]


def test_an_old_log_without_the_new_kinds_replays_as_before(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.path.parent.mkdir(parents=True)
    old = [{"row": 1, "label": "cat", "ts": 1.0, "session": "t"}, {"row": 2, "label": None, "ts": 2.0, "session": "t",
           "source": "skip"}, {"row": 1, "label": None, "ts": 3.0, "session": "u", "source": "skip"},
           {"row": 3, "label": "dog", "ts": 4.0, "session": "t", "source": "lasso"}]
    log.path.write_text("".join(json.dumps(d) + "\n" for d in old))
    assert latest_labels(log.events()) == ({1: "cat", 3: "dog"}, {2})


def test_reading_from_an_offset_returns_only_whole_new_lines(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append([LabelEvent(1, "cat", 1, "me")])
    first, offset = log.read_from(0)
    with log.path.open("ab") as fh:
        fh.write(b'{"row":2,"label":"d')  # a line being written
    more, offset2 = log.read_from(offset)
    assert [e.row for e in first] == [1] and more == [] and offset2 == offset
    log.append([LabelEvent(3, "dog", 2, "me")])  # starts a fresh line; the partial one is skipped
    more, _ = log.read_from(offset)
    assert [e.row for e in more] == [3]
    assert [e.row for e in log.row_events(3)] == [3] and log.row_events(2) == []
