"""The overwrite check: a label given by another session is never replaced without a confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import LabelError
from core.label.labellog import Conflict, LabelEvent, LabelLog, latest_labels


def _log(tmp_path: Path) -> LabelLog:
    return LabelLog.for_version(tmp_path, "proj", "a" * 32, "label")


def test_a_row_labelled_by_another_session_is_not_overwritten_silently(tmp_path: Path) -> None:
    log = _log(tmp_path)
    assert log.append_checked(LabelEvent(7, "cat", 1.0, "tab-a")) is None
    conflict = log.append_checked(LabelEvent(7, "dog", 2.0, "tab-b"))
    assert conflict == Conflict(7, "cat", "tab-a", 1.0)
    assert latest_labels(log.events())[0] == {7: "cat"} and len(log.events()) == 1  # nothing written

    # confirmed: the person saw 'cat' and chose to overwrite it
    assert log.append_checked(LabelEvent(7, "dog", 3.0, "tab-b"), accept=conflict) is None
    assert latest_labels(log.events())[0] == {7: "dog"}
    # every event is still in the log: the first label is replaced by a decision, not lost
    assert [(e.label, e.session) for e in log.events()] == [("cat", "tab-a"), ("dog", "tab-b")]


def test_a_confirmation_of_an_older_conflict_does_not_overwrite_a_newer_label(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append_checked(LabelEvent(1, "cat", 1.0, "tab-a"))
    seen = log.append_checked(LabelEvent(1, "dog", 2.0, "tab-b"))
    third = log.append_checked(LabelEvent(1, "bird", 2.5, "tab-c"))  # a third session also sees 'cat'…
    assert log.append_checked(LabelEvent(1, "bird", 3.0, "tab-c"), accept=third) is None  # …and overwrites first
    newer = log.append_checked(LabelEvent(1, "dog", 4.0, "tab-b"), accept=seen)
    assert newer == Conflict(1, "bird", "tab-c", 3.0)
    assert latest_labels(log.events())[0] == {1: "bird"}


def test_own_relabels_same_answers_and_skips_never_conflict(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append_checked(LabelEvent(1, "cat", 1.0, "tab-a"))
    assert log.append_checked(LabelEvent(1, "dog", 2.0, "tab-a")) is None  # my own label: mine to change
    assert log.append_checked(LabelEvent(1, "dog", 3.0, "tab-b")) is None  # the same answer: nothing is lost
    assert log.append_checked(LabelEvent(1, None, 4.0, "tab-c", "skip")) is None  # a skip never erases a label
    assert latest_labels(log.events()) == ({1: "dog"}, set())
    with pytest.raises(LabelError, match="source"):
        log.append_checked(LabelEvent(2, "cat", 5.0, "tab-a", "paste"))
