"""Served traffic as a Monitor batch: the bundle server's prediction log, read back and joined to late labels.

The server (``serve_log.py`` in the bundle) writes ``predictions-*.parquet`` files; each carries its
feature list, task, model and export-time latency baseline in the ``workbench.log`` metadata.
:func:`read_served` returns the rows of a time window (features in raw units, as the model got
them, plus the prediction columns); :func:`join_labels` adds true values that arrived later (a
CSV of request id → value); :func:`served_batch` is what ``python -m core monitor --served`` and
the page call: the window as a :class:`~core.monitor.check.Table`, with its resource drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import MonitorError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.monitor.check import Table
    from core.monitor.served_resource import ResourceDrift

LOG_GLOB = "predictions-*.parquet"
META_KEY = b"workbench.log"
LOG_COLUMNS = ("request_id", "row", "request_rows", "served_at", "latency_ms", "prediction", "probability")


def _when(value: Any, what: str) -> pd.Timestamp | None:
    import pandas as pd

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise MonitorError(f"The '{what}' time must be an ISO date-time such as 2026-12-01T12:00 (UTC unless it "
                           f"says otherwise). Got {value!r} instead.") from None
    if pd.isna(ts):
        raise MonitorError(f"The '{what}' time must be an ISO date-time. Got {value!r} instead.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def log_files(folder: str | Path) -> list[Path]:
    """The prediction-log files of ``folder``, oldest first (their names start with the write time).

    Raises:
        MonitorError: the folder does not exist or holds no log file.
    """
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise MonitorError(f"There is no prediction-log folder {str(path)!r}; give the folder the model server "
                           "writes (serve.py --log-dir, default predictions/ beside serve.py).")
    files = sorted(path.glob(LOG_GLOB))
    if not files:
        raise MonitorError(f"The folder {str(path)!r} holds no prediction-log files ({LOG_GLOB}); has the server "
                           "scored any request yet? It writes a file every --log-flush-seconds and when it stops.")
    return files


def log_meta(path: str | Path) -> dict[str, Any]:
    """The ``workbench.log`` metadata of one log file ({} when it is not a prediction-log file)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[META_KEY]) if META_KEY in meta else {}
    except (OSError, ValueError, KeyError):
        return {}


def _written_at(path: Path) -> pd.Timestamp | None:
    import pandas as pd

    try:  # predictions-20261201T120000123456Z-<pid>-<n>.parquet: written after every row it holds
        return pd.Timestamp(datetime.strptime(path.name.split("-")[1], "%Y%m%dT%H%M%S%fZ"), tz="UTC")
    except (IndexError, ValueError):
        return None


def read_served(folder: str | Path, since: Any = None, until: Any = None) -> pd.DataFrame:
    """The logged rows served in ``[since, until)``: feature columns in raw units, then the log's columns.

    ``frame.attrs`` holds ``features``, ``task``, ``classes``, ``source_model``, ``sample`` and
    ``latency_baseline`` (from the newest file), ``files`` read and ``notes``.

    Raises:
        MonitorError: no folder, no log file, a bad time, or no row in the window (one sentence each).
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    start, end = _when(since, "since"), _when(until, "until")
    if start is not None and end is not None and end <= start:
        raise MonitorError(f"The window ends ({end.isoformat()}) before it starts ({start.isoformat()}); "
                           "swap --since and --until.")
    files = log_files(folder)
    meta = log_meta(files[-1])
    if not meta:
        raise MonitorError(f"{files[-1].name!r} is not a prediction-log file of the workbench's server "
                           "(no workbench.log metadata).")
    features = list(meta["features"])
    stored = dict(meta.get("stored") or {n: n for n in features})
    tables, skipped, notes = [], 0, []
    for f in files:
        written = _written_at(f)
        if start is not None and written is not None and written < start:
            continue  # every row of this file was served before the window
        m = log_meta(f)
        if list(m.get("features", [])) != features:
            skipped += 1
            continue
        try:
            tables.append(pq.read_table(f))
        except (OSError, pa.ArrowException) as err:
            notes.append(f"{f.name} could not be read ({str(err)[:80]}) and was left out.")
    if skipped:
        notes.append(f"{skipped} older log file(s) of a model with other columns were left out.")
    frame = pa.concat_tables(tables, promote_options="default").to_pandas() if tables else pd.DataFrame()
    if len(frame):
        served = frame["served_at"]
        keep = pd.Series(True, index=frame.index)
        if start is not None:
            keep &= served >= start
        if end is not None:
            keep &= served < end
        if not keep.all():
            first, last = served.min(), served.max()
            frame = frame[keep]
            if frame.empty:
                raise MonitorError(f"The prediction log in {str(folder)!r} has no rows served "
                                   f"{_window(start, end)}; it holds rows from {first:%Y-%m-%d %H:%M:%S} to "
                                   f"{last:%Y-%m-%d %H:%M:%S} UTC. Widen the window.")
    if frame.empty:
        raise MonitorError(f"The prediction log in {str(folder)!r} has no rows served {_window(start, end)}.")
    out = frame.rename(columns={v: k for k, v in stored.items() if v != k})
    logged = [c for c in LOG_COLUMNS if c in out.columns]
    out = out[features + logged].sort_values("served_at", kind="stable").reset_index(drop=True)
    out.attrs = {"features": features, "task": meta.get("task", ""), "classes": meta.get("classes", []),
                 "source_model": meta.get("source_model", ""), "sample": float(meta.get("sample", 1.0) or 1.0),
                 "latency_baseline": meta.get("latency_baseline"), "files": len(tables), "notes": notes,
                 "folder": str(folder)}
    return out


def _window(start: Any, end: Any) -> str:
    if start is None and end is None:
        return "at all"
    parts = [f"from {start:%Y-%m-%d %H:%M:%S}" if start is not None else "",
             f"until {end:%Y-%m-%d %H:%M:%S}" if end is not None else ""]
    return " ".join(p for p in parts if p) + " UTC"


@dataclass(frozen=True)
class LabelJoin:
    """The log with a true-value column joined by request id, and how many rows found their label."""

    frame: pd.DataFrame  # every log row; the label column is NaN where no label arrived
    target: str
    matched: int
    unmatched_rows: int  # log rows without a label
    unmatched_labels: int  # label rows whose request id is not in the log (window)
    on: tuple[str, ...]  # ("request_id",) or ("request_id", "row")

    @property
    def labelled(self) -> pd.DataFrame:
        return self.frame[self.frame[self.target].notna()].reset_index(drop=True)

    @property
    def summary(self) -> str:
        return (f"{self.matched:,} served rows matched a label ({self.target!r}, by {' + '.join(self.on)}); "
                f"{self.unmatched_rows:,} rows have none yet; {self.unmatched_labels:,} labels match no logged row.")


def join_labels(log: pd.DataFrame, labels_csv: str | Path, target: str | None = None) -> LabelJoin:
    """Join a CSV of ``request_id`` (and optionally ``row``) → true value onto :func:`read_served`'s rows.

    Without a ``row`` column a label is for a one-row request (rows of larger requests stay unmatched:
    one value cannot be the truth for several rows). ``target`` names the value column when the file
    has more than one besides the keys.

    Raises:
        MonitorError: the file cannot be read, lacks ``request_id`` or a value column, or matches nothing.
    """
    import pandas as pd

    path = Path(labels_csv).expanduser()
    try:
        labels = pd.read_csv(path, dtype={"request_id": str})
    except (OSError, ValueError) as err:
        raise MonitorError(f"Cannot read the label file {str(path)!r}: {str(err)[:120]}.") from None
    if "request_id" not in labels.columns:
        raise MonitorError(f"The label file {path.name!r} needs a 'request_id' column (the id each answer carried). "
                           f"Got columns {list(labels.columns)[:8]}.")
    on = ("request_id", "row") if "row" in labels.columns else ("request_id",)
    values = [c for c in labels.columns if c not in on]
    if target is None:
        if len(values) != 1:
            raise MonitorError(f"The label file {path.name!r} must have one value column besides "
                               f"{' and '.join(on)}; it has {values[:8]}. Name the target to use.")
        target = values[0]
    elif target not in values:
        raise MonitorError(f"The label file {path.name!r} has no column {target!r}; it has {values[:8]}.")
    if target in log.columns:
        raise MonitorError(f"The served rows already have a column {target!r}; rename the label column.")
    labels = labels[[*on, target]].dropna(subset=[target]).drop_duplicates(list(on), keep="last")
    left = log if len(on) == 2 else log.assign(_single=log["request_rows"] == 1)
    if len(on) == 2:
        labels["row"] = pd.to_numeric(labels["row"], errors="coerce")
        joined = left.merge(labels, how="left", on=list(on), validate="many_to_one")
    else:
        single = left[left["_single"]].merge(labels, how="left", on="request_id", validate="many_to_one")
        joined = pd.concat([single, left[~left["_single"]]], ignore_index=True).drop(columns="_single")
        joined = joined.sort_values("served_at", kind="stable").reset_index(drop=True)
    matched = int(joined[target].notna().sum())
    keys = set(map(tuple, log[list(on)].astype(str).to_numpy().tolist()))
    lab_keys = [tuple(map(str, k)) for k in labels[list(on)].to_numpy().tolist()]
    if len(on) == 2:
        lab_keys = [(a, str(int(float(b)))) if b not in ("nan", "None") else (a, b) for a, b in lab_keys]
    unmatched_labels = sum(1 for k in lab_keys if k not in keys)
    if matched == 0:
        raise MonitorError(f"None of the {len(labels):,} request ids in {path.name!r} matches a logged row "
                           f"({len(log):,} rows in the window); check the window and that the ids are the "
                           "answers' request_id (or the X-Request-ID the client sent).")
    joined.attrs = dict(log.attrs)
    return LabelJoin(joined, target, matched, len(joined) - matched, unmatched_labels, on)


@dataclass(frozen=True)
class ServedBatch:
    """A served-traffic window ready for a check: features (plus a joined label), and its resource drift."""

    table: Table
    log: pd.DataFrame
    resource: ResourceDrift
    labels: LabelJoin | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def with_charter(self, tracker: Any, project: str) -> ServedBatch:
        """The same batch with its latency finding re-judged by the project's charter threshold (when it sets one)."""
        import dataclasses

        from core.monitor.served_resource import CHARTER_KEY, p99_rise_from, resource_drift
        from core.plan.charter import load_charter

        charter = load_charter(tracker, project)
        if charter is None or CHARTER_KEY not in dict(charter.extra or {}):
            return self
        return dataclasses.replace(self, resource=resource_drift(self.log, p99_rise=p99_rise_from(charter)))


def served_batch(folder: str | Path, since: Any = None, until: Any = None, *, labels: str | Path | None = None,
                 target: str | None = None, p99_rise: float | None = None) -> ServedBatch:
    """The served rows of a window as the current batch of a check (features only; the label when joined).

    Raises:
        MonitorError: see :func:`read_served` and :func:`join_labels`.
    """
    from core.monitor.check import Table
    from core.monitor.served_resource import resource_drift

    log = read_served(folder, since, until)
    notes = list(log.attrs.get("notes", []))
    join = join_labels(log, labels, target) if labels else None
    rows = join.labelled if join else log
    columns = list(log.attrs["features"]) + ([join.target] if join else [])
    frame = rows[columns].reset_index(drop=True)
    if join:
        notes.append(join.summary + " The check uses the labelled rows.")
    first, last = log["served_at"].min(), log["served_at"].max()
    label = f"served traffic {Path(folder).name or folder} ({len(frame):,} rows, {first:%Y-%m-%d %H:%M} → {last:%H:%M} UTC)"
    return ServedBatch(Table(frame, label, "", join.target if join else ""), log,
                       resource_drift(log, p99_rise=p99_rise), join, tuple(notes))



def served_features(path: str | Path, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` read from ``path``; for a prediction-log file, only its feature columns (by their own names).

    A pipeline watching the server's log folder reads each file as a batch: the log's own columns
    (request id, latency, prediction …) are not features of the model and must not be checked as such.
    """
    meta = log_meta(path) if Path(path).suffix.lower() in (".parquet", ".pq") else {}
    if not meta:
        return frame
    stored = dict(meta.get("stored") or {})
    features = [f for f in meta.get("features", []) if stored.get(f, f) in frame.columns]
    return frame[[stored.get(f, f) for f in features]].set_axis(features, axis=1)
