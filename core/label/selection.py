"""Lasso / box selection on the map → label events (pure; tested without a browser)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.errors import LabelError
from core.label.labellog import LabelEvent


@dataclass(frozen=True)
class SelectionPreview:
    """What a selection would do, shown before the person confirms."""

    selected: int
    to_label: tuple[int, ...]   # row keys that will get the class
    kept: int                   # already labelled rows left as they are
    overwritten: int            # already labelled rows that will change class


def preview_selection(point_indices: Iterable[int], row_keys: Sequence[int], labelled: Mapping[int, str],
                      class_name: str, *, overwrite: bool = False) -> SelectionPreview:
    """Which rows a selection would label. ``point_indices`` index ``row_keys`` (the plot's point order)."""
    seen: dict[int, None] = {}
    for i in point_indices:
        i = int(i)
        if not 0 <= i < len(row_keys):
            raise LabelError(f"The selection refers to point {i}, but the map has {len(row_keys)} points; "
                             "redraw the map and select again.")
        seen.setdefault(int(row_keys[i]), None)
    rows = list(seen)
    already = [r for r in rows if r in labelled]
    changed = [r for r in already if labelled[r] != class_name]
    if overwrite:
        targets = [r for r in rows if r not in labelled or labelled[r] != class_name]
        return SelectionPreview(len(rows), tuple(targets), len(already) - len(changed), len(changed))
    return SelectionPreview(len(rows), tuple(r for r in rows if r not in labelled), len(already), 0)


def assign_selection(point_indices: Iterable[int], row_keys: Sequence[int], labelled: Mapping[int, str],
                     class_name: str, *, overwrite: bool = False, session: str = "",
                     ts: float | None = None) -> list[LabelEvent]:
    """Label events giving ``class_name`` to the selected points.

    Only unlabelled points get the class unless ``overwrite`` is set (then labelled points of
    another class change too). Duplicate indices count once.

    Raises:
        LabelError: empty class name, or an index outside the map.
    """
    if not class_name or not str(class_name).strip():
        raise LabelError("Choose the class to give the selected points.")
    preview = preview_selection(point_indices, row_keys, labelled, str(class_name).strip(), overwrite=overwrite)
    when = time.time() if ts is None else ts
    return [LabelEvent(r, str(class_name).strip(), when, session, "lasso") for r in preview.to_label]
