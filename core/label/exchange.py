"""Label exchange: export and import labels as CSV or as Label Studio's JSON tasks.

CSV: one line per labelled row, ``row,label,labelled_at,session`` (``row`` = the row's position
in the dataset version, as everywhere in the Label stage).

Label Studio (the "JSON" export / import format of labelstud.io/guide/task_format): a list of
tasks, each ``{"id", "data": {"row": …, <columns>…}, "annotations": [{"result": [{"from_name":
"label", "to_name": "row", "type": "choices", "value": {"choices": [<class>]}}]}]}``.
A task's label is the first choice of its latest annotation that was not cancelled.

An import is two steps: :func:`read_import` only *reads* the file and says how many rows match
this version and its classes (nothing is written); :func:`apply_import` writes the matched
labels to the log as ``import`` events, once the person has confirmed.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from core.errors import LabelError
from core.label.history import HistoryEntry
from core.label.labellog import LabelEvent, LabelLog

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FORMATS = ("csv", "labelstudio")
MAX_DATA_COLUMNS = 50  # a Label Studio task carries the row's first columns for display, not a whole wide table


@dataclass(frozen=True)
class ImportPreview:
    """What an import would do; nothing is applied until :func:`apply_import`."""

    matched: tuple[tuple[int, str], ...]   # (row, label) pairs that fit this version and its classes
    unmatched_rows: int                    # entries whose row is missing or not in this version
    unknown_classes: Mapping[str, int]     # class name -> entries, for classes this session does not have
    unchanged: int                         # matched entries that already hold that label
    changed: int                           # matched entries that replace another label

    @property
    def summary(self) -> str:
        parts = [f"{len(self.matched):,} label(s) match this version ({self.changed:,} change an existing label, "
                 f"{self.unchanged:,} already given)", f"{self.unmatched_rows:,} entr(ies) match no row"]
        if self.unknown_classes:
            names = ", ".join(f"{k!r} ({v})" for k, v in list(self.unknown_classes.items())[:5])
            parts.append(f"{sum(self.unknown_classes.values()):,} have a class this session does not have: {names} "
                         "(add it under 'Extra class names' to import them)")
        return "; ".join(parts) + "."


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds") if ts else ""


def export_csv(entries: Iterable[HistoryEntry]) -> str:
    """The labels as CSV text (row order)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["row", "label", "labelled_at", "session"])
    for e in sorted(entries, key=lambda e: e.row):
        w.writerow([e.row, e.label, _iso(e.ts), e.session])
    return out.getvalue()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return None if f != f else (int(f) if f.is_integer() else f)


def export_labelstudio(entries: Iterable[HistoryEntry], frame: pd.DataFrame | None = None,
                       columns: Sequence[str] = ()) -> str:
    """The labels as Label Studio JSON tasks (``data`` holds the row and up to 50 of ``columns``)."""
    cols = [c for c in columns if frame is not None and c in frame.columns][:MAX_DATA_COLUMNS]
    tasks = []
    for e in sorted(entries, key=lambda e: e.row):
        data: dict[str, Any] = {"row": e.row}
        if frame is not None and cols and 0 <= e.row < len(frame):
            data.update({str(c): _jsonable(frame.iloc[e.row][c]) for c in cols if str(c) != "row"})
        result = [{"from_name": "label", "to_name": "row", "type": "choices", "value": {"choices": [e.label]}}]
        tasks.append({"id": e.row + 1, "data": data,
                      "annotations": [{"result": result, "was_cancelled": False, "created_at": _iso(e.ts),
                                       "completed_by": e.session or "table"}]})
    return json.dumps(tasks, indent=1, ensure_ascii=False)


def _parse_csv(text: str) -> list[tuple[Any, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "row" not in fields or "label" not in fields:
        raise LabelError(f"A label CSV needs the columns 'row' and 'label'; this one has "
                         f"{', '.join(map(repr, reader.fieldnames or [])) or 'none'}. Export one from the Label page "
                         "to see the format.")
    return [({k.strip().lower(): v for k, v in r.items() if k}.get("row"),
             {k.strip().lower(): v for k, v in r.items() if k}.get("label")) for r in reader]


def _parse_labelstudio(text: str) -> list[tuple[Any, Any]]:
    try:
        tasks = json.loads(text)
    except ValueError as err:
        raise LabelError(f"The file is not valid JSON ({err}); export Label Studio tasks as JSON.") from err
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise LabelError("A Label Studio file must hold a list of tasks; export the project as JSON.")
    out = []
    for t in tasks:
        data = t.get("data", {}) if isinstance(t, dict) else {}
        label = None
        for ann in reversed(t.get("annotations", []) if isinstance(t, dict) else []):
            if not isinstance(ann, dict) or ann.get("was_cancelled"):
                continue
            choices = [c for r in ann.get("result", []) if isinstance(r, dict)
                       for c in (r.get("value", {}) or {}).get("choices", [])]
            if choices:
                label = choices[0]
                break
        out.append((data.get("row") if isinstance(data, dict) else None, label))
    return out


def read_import(text: str, fmt: str, *, rows: int, classes: Sequence[str],
                current: Mapping[int, str]) -> ImportPreview:
    """Read an exported label file and match it to this version (``rows``) and its ``classes``.

    Raises:
        LabelError: unknown format, or a file that is not a label export.
    """
    if fmt not in FORMATS:
        raise LabelError(f"The import format must be one of {', '.join(FORMATS)}. Got {fmt!r} instead.")
    pairs = _parse_csv(text) if fmt == "csv" else _parse_labelstudio(text)
    known = {str(c) for c in classes}
    matched: dict[int, str] = {}
    unmatched, unknown = 0, {}
    for raw_row, raw_label in pairs:
        try:
            row = int(float(str(raw_row).strip()))
        except (TypeError, ValueError):
            unmatched += 1
            continue
        label = None if raw_label is None else str(raw_label).strip()
        if not 0 <= row < rows or not label:
            unmatched += 1
        elif label not in known:
            unknown[label] = unknown.get(label, 0) + 1
        else:
            matched[row] = label  # the file's last entry for a row wins, as in the log
    same = sum(1 for r, v in matched.items() if current.get(r) == v)
    changed = sum(1 for r, v in matched.items() if r in current and current[r] != v)
    return ImportPreview(tuple(sorted(matched.items())), unmatched, unknown, same, changed)


def apply_import(log: LabelLog, preview: ImportPreview, session: str, ts: float | None = None) -> int:
    """Write the matched labels that change something as ``import`` events. Returns how many were written."""
    when = time.time() if ts is None else ts
    current = log.events()
    from core.label.history import replay

    now = replay(current).labels
    events = [LabelEvent(r, v, when, session, "import") for r, v in preview.matched if now.get(r) != v]
    return log.append(events)
