"""The label log: append-only JSONL, one line per label event, durable at once.

One log per (project, dataset version, label column) under ``settings.labels_dir``::

    <labels_dir>/<project>/<dataset run id>__<label column>.jsonl        label events
    <labels_dir>/<project>/<dataset run id>__<label column>.curve.jsonl  learning-curve points
    <labels_dir>/<project>/<dataset run id>__<label column>.session.json set-up (classes, features…)

Every append takes an exclusive ``fcntl`` lock, writes whole lines, then
``flush`` + ``os.fsync`` before releasing — so two tabs or two processes never
interleave or overwrite each other, and a label is on disk when the call returns.
A process killed mid-write leaves at most one partial last line: readers ignore
any line that is not complete JSON, and the next writer starts on a fresh line.
The state is the log replayed in file order (= lock order): each row's latest
label wins, ``undo`` takes back a row's latest change, ``remove`` clears a row
(see :mod:`core.label.history`, which also reads logs written before those kinds existed).

A queue click goes through :meth:`LabelLog.append_checked`: under the same lock it
looks at the row's latest label and refuses to replace one given by *another*
session unless the person has seen it and confirmed (the caller passes back the
:class:`Conflict` it was shown). So no acknowledged label is ever replaced silently;
the file format is unchanged.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.errors import LabelError

# what made the event: a label (queue click, lasso, table edit, relabel from the history, import),
# a skip, a removal (the row is unlabelled again) or an undo (the row's latest change is taken back)
SOURCES = ("queue", "lasso", "skip", "table", "relabel", "import", "remove", "undo")


@dataclass(frozen=True)
class LabelEvent:
    """One act of labelling. ``label`` is None for ``skip``, ``remove`` and ``undo``."""

    row: int
    label: str | None
    ts: float
    session: str
    source: str = "queue"

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LabelEvent:
        label = d.get("label")
        return cls(int(d["row"]), None if label is None else str(label), float(d.get("ts", 0.0)),
                   str(d.get("session", "")), str(d.get("source", "queue")))


@dataclass(frozen=True)
class Conflict:
    """A row that another session labelled: ``label`` is what the log holds now."""

    row: int
    label: str
    session: str
    ts: float


def _conflict(events: Iterable[LabelEvent], event: LabelEvent) -> Conflict | None:
    """The row's current label when it came from another session and differs from ``event``'s."""
    from core.label.history import replay

    return _conflict_with(replay(e for e in events if e.row == event.row).tops.get(event.row), event)


def _conflict_with(last: LabelEvent | None, event: LabelEvent) -> Conflict | None:
    """A conflict when ``last`` (the row's deciding event) is another session's different label."""
    if last is None or last.label is None or last.source in ("skip", "remove"):
        return None
    if last.session == event.session or last.label == event.label:
        return None
    return Conflict(last.row, last.label, last.session, last.ts)


@dataclass(frozen=True)
class CurvePoint:
    """Accuracy of the learner after a round, against the number of labels."""

    labels: int
    accuracy: float


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", part).strip("-.")[:80] or "x"


@dataclass(frozen=True)
class LabelLog:
    """Paths of one labelling log; all methods are safe across threads and processes."""

    path: Path

    @classmethod
    def for_version(cls, labels_dir: Path, project: str, dataset_run_id: str, label_column: str) -> LabelLog:
        return cls(Path(labels_dir) / _safe(project) / f"{_safe(dataset_run_id)}__{_safe(label_column)}.jsonl")

    @property
    def curve_path(self) -> Path:
        return self.path.with_suffix(".curve.jsonl")

    @property
    def session_path(self) -> Path:
        return self.path.with_suffix(".session.json")

    # --- writing -----------------------------------------------------------------------------
    def append(self, events: Iterable[LabelEvent]) -> int:
        """Append events durably (lock, write, fsync). Returns how many were written."""
        events = list(events)
        for e in events:
            if e.source not in SOURCES:
                raise LabelError(f"A label event source must be one of {', '.join(SOURCES)}. Got {e.source!r} instead.")
        return _append_lines(self.path, [e.to_json() for e in events])

    def append_checked(self, event: LabelEvent, accept: Conflict | None = None) -> Conflict | None:
        """Append one label unless another session labelled the row differently; then return that label.

        A skip never conflicts (it cannot erase a label). ``accept`` is the conflict the person was
        shown and chose to overwrite: the event is written only if the row still holds exactly that
        label, otherwise the newer conflict is returned and nothing is written.

        Returns:
            None when the event was written, else the :class:`Conflict` that stopped it.
        """
        if event.source not in SOURCES:
            raise LabelError(f"A label event source must be one of {', '.join(SOURCES)}. Got {event.source!r} instead.")

        found: list[Conflict | None] = [None]

        def guard() -> bool:  # runs under the log's lock: no other writer between this check and the write
            if event.label is None or event.source in ("skip", "remove", "undo"):
                return True
            found[0] = _conflict(self.row_events(event.row), event)
            return found[0] is None or found[0] == accept

        written = _append_lines(self.path, [event.to_json()], guard=guard)
        return None if written else found[0]

    def append_checked_many(self, events: Iterable[LabelEvent]) -> list[tuple[LabelEvent, Conflict]]:
        """Append every event that does not replace another session's different label (one lock).

        For a lasso or an import: the rows that would overwrite someone else's label are left out and
        returned with their conflict, so the person can confirm them one by one like a click.
        """
        events = list(events)
        for e in events:
            if e.source not in SOURCES:
                raise LabelError(f"A label event source must be one of {', '.join(SOURCES)}. Got {e.source!r} instead.")
        held: list[tuple[LabelEvent, Conflict]] = []
        keep: list[LabelEvent] = []

        def guard() -> bool:  # under the lock: nobody writes between this check and the append
            from core.label.history import replay

            tops = replay(self.events()).tops
            for e in events:
                c = None if e.label is None or e.source in ("skip", "remove", "undo") else \
                    _conflict_with(tops.get(e.row), e)
                if c is None:
                    keep.append(e)
                else:
                    held.append((e, c))
            return True

        _append_lines(self.path, [], guard=guard, lines_from=lambda: [e.to_json() for e in keep])
        return held

    def append_if(self, events: Iterable[LabelEvent], guard: Callable[[], bool]) -> int:
        """Append events only if ``guard()`` (run under the log's lock, so no writer in between) is true."""
        events = list(events)
        for e in events:
            if e.source not in SOURCES:
                raise LabelError(f"A label event source must be one of {', '.join(SOURCES)}. Got {e.source!r} instead.")
        return _append_lines(self.path, [e.to_json() for e in events], guard=guard)

    def append_curve(self, point: CurvePoint, **extra: Any) -> None:
        _append_lines(self.curve_path, [json.dumps({"labels": point.labels, "accuracy": point.accuracy,
                                                     "ts": time.time(), **extra})])

    def write_session(self, meta: Mapping[str, Any]) -> None:
        """Replace the session set-up atomically (write a temp file, fsync, rename)."""
        from core.atomic import write_atomic

        write_atomic(self.session_path, json.dumps(dict(meta), indent=1))

    # --- reading -----------------------------------------------------------------------------
    def events(self) -> list[LabelEvent]:
        """All complete events in file order (partial or corrupt lines are skipped)."""
        return _events(_read_lines(self.path))

    def row_events(self, row: int) -> list[LabelEvent]:
        """The events of one row, in file order (a byte search first: a click's check stays fast on long logs)."""
        needle = f'{{"row":{int(row)},'.encode()
        return [e for e in _events(_read_lines(self.path, needle)) if e.row == row]

    def read_from(self, offset: int) -> tuple[list[LabelEvent], int]:
        """Events whose lines start at or after byte ``offset``, and the offset to read from next time.

        Only complete lines are consumed, so a line being written is read whole on the next call.
        """
        try:
            with self.path.open("rb") as fh:
                fh.seek(offset)
                raw = fh.read()
        except FileNotFoundError:
            return [], 0
        end = raw.rfind(b"\n") + 1
        return _events(_parse(raw[:end])), offset + end

    def curve(self) -> list[CurvePoint]:
        pts = []
        for d in _read_lines(self.curve_path):
            try:
                pts.append(CurvePoint(int(d["labels"]), float(d["accuracy"])))
            except (KeyError, TypeError, ValueError):
                continue
        return pts

    def session(self) -> dict[str, Any]:
        try:
            return json.loads(self.session_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}


def known_label_columns(labels_dir: Path, project: str, dataset_run_id: str) -> list[str]:
    """Label columns that already have a session for this dataset version (newest first)."""
    folder = Path(labels_dir) / _safe(project)
    metas = []
    for path in folder.glob(f"{_safe(dataset_run_id)}__*.session.json"):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
            metas.append((path.stat().st_mtime, str(meta["label_column"])))
        except (OSError, ValueError, KeyError):
            continue
    return [c for _, c in sorted(metas, reverse=True)]


def _append_lines(path: Path, lines: list[str], guard: Callable[[], bool] | None = None,
                  lines_from: Callable[[], list[str]] | None = None) -> int:
    """Append whole lines under an exclusive lock; ``guard`` (run under the lock) may veto the write.

    ``lines_from`` gives the lines after the guard ran (when the guard decides which lines to write).
    """
    if not lines and lines_from is None:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if guard is not None and not guard():
                return 0
            if lines_from is not None:
                lines = lines_from()
                if not lines:
                    return 0
            size = os.fstat(fd).st_size
            prefix = b""
            if size:
                # A writer killed mid-line left no newline: start ours on a fresh line.
                os.lseek(fd, size - 1, os.SEEK_SET)
                if os.read(fd, 1) != b"\n":
                    prefix = b"\n"
            data = prefix + ("\n".join(lines) + "\n").encode("utf-8")
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return len(lines)


def _events(dicts: Iterable[Mapping[str, Any]]) -> list[LabelEvent]:
    out = []
    for d in dicts:
        try:
            out.append(LabelEvent.from_dict(d))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _read_lines(path: Path, needle: bytes = b"") -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    return _parse(raw, needle)


def _parse(raw: bytes, needle: bytes = b"") -> list[dict[str, Any]]:
    out = []
    for line in raw.split(b"\n"):
        if not line.strip() or (needle and needle not in line):
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue  # the partial last line of a killed writer
        if isinstance(d, dict):
            out.append(d)
    return out


def latest_labels(events: Iterable[LabelEvent]) -> tuple[dict[int, str], set[int]]:
    """(labels by row, skipped rows) from replaying the log (see :func:`core.label.history.replay`).

    A skip never erases a label: it only marks a still-unlabelled row as skipped
    (so the queue stops offering it); a later label clears the skip.
    """
    from core.label.history import replay

    r = replay(events)
    return dict(r.labels), set(r.skipped)


def _person_path(labels_dir: Path, project: str, person: str) -> Path:
    import hashlib

    return Path(labels_dir) / _safe(project) / "people" / f"{hashlib.sha256(person.encode()).hexdigest()[:24]}.json"


def remember_version(labels_dir: Path, project: str, person: str, dataset_run_id: str) -> None:
    """Note the dataset version ``person`` (an identity string) last gave a label on (atomic replace)."""
    from core.atomic import write_atomic

    write_atomic(_person_path(labels_dir, project, person),
                 json.dumps({"dataset_run_id": dataset_run_id, "ts": time.time()}))


def last_labelled_version(labels_dir: Path, project: str, person: str = "") -> str | None:
    """Run id of the dataset version labels were last given on (None: no label yet).

    The Label page opens it after a refresh or a restart instead of the newest version:
    *this person's* last version when ``person`` has labelled in this project, else the
    version of the project's newest label log.
    """
    if person:
        try:
            return str(json.loads(_person_path(labels_dir, project, person).read_text(encoding="utf-8"))
                       ["dataset_run_id"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    folder = Path(labels_dir) / _safe(project)
    logs = [p for p in folder.glob("*__*.jsonl") if not p.name.endswith(".curve.jsonl")]
    if not logs:
        return None
    newest = max(logs, key=lambda p: p.stat().st_mtime)
    return newest.name.split("__", 1)[0]
