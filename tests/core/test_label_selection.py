"""Lasso point indices → label events."""

from __future__ import annotations

import pytest

from core.errors import LabelError
from core.label.selection import assign_selection, preview_selection

ROW_KEYS = [10, 11, 12, 13, 14]  # plot point i shows table row ROW_KEYS[i]


def test_only_unlabelled_points_get_the_class() -> None:
    events = assign_selection([0, 1, 2, 2], ROW_KEYS, {11: "cat"}, "dog", session="tab1", ts=5.0)
    assert [(e.row, e.label, e.source, e.session, e.ts) for e in events] == [
        (10, "dog", "lasso", "tab1", 5.0), (12, "dog", "lasso", "tab1", 5.0)]


def test_overwrite_relabels_other_classes_but_not_the_same_class() -> None:
    labelled = {11: "cat", 12: "dog"}
    events = assign_selection([0, 1, 2], ROW_KEYS, labelled, "dog", overwrite=True)
    assert sorted(e.row for e in events) == [10, 11]
    p = preview_selection([0, 1, 2], ROW_KEYS, labelled, "dog", overwrite=True)
    assert (p.selected, p.overwritten, p.kept) == (3, 1, 1)


def test_preview_counts_without_overwrite() -> None:
    p = preview_selection([4, 3, 1], ROW_KEYS, {11: "cat", 13: "dog"}, "cat")
    assert (p.selected, p.to_label, p.kept, p.overwritten) == (3, (14,), 2, 0)


def test_bad_selection_is_one_sentence() -> None:
    with pytest.raises(LabelError, match="map has 5 points"):
        assign_selection([7], ROW_KEYS, {}, "dog")
    with pytest.raises(LabelError, match="Choose the class"):
        assign_selection([0], ROW_KEYS, {}, " ")
    assert assign_selection([], ROW_KEYS, {}, "dog") == []
