"""What the project charter asks of a monitored batch: thresholds, data needs, freshness, fairness, cost.

The charter (:mod:`core.plan.charter`) sets Monitor's drift-share and quality-drop thresholds
(:func:`monitor_thresholds`), the data a batch must bring (expected columns, batch size, freshness:
:func:`charter_findings`), the protected column and the largest gap allowed between its groups
(:func:`group_fairness`), and the costs that turn predictions into a business KPI
(:func:`cost_per_row`). Everything here is pure: frames and the charter in, frozen results out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.plan.charter import Charter

DEFAULT_DRIFT_SHARE = 0.5
DEFAULT_QUALITY_DROP = 0.05
DAY_SECONDS = 86400.0
FAIRNESS_METRIC = {"classification": "accuracy", "regression": "mae"}


@dataclass(frozen=True)
class Thresholds:
    drift_share: float
    quality_drop: float
    source: str  # "the charter" or "the defaults"


def monitor_thresholds(charter: Charter | None) -> Thresholds:
    """The drift-share and quality-drop thresholds a check uses unless the person overrides them."""
    if charter is None:
        return Thresholds(DEFAULT_DRIFT_SHARE, DEFAULT_QUALITY_DROP, "the defaults")
    return Thresholds(float(charter.drift_share), float(charter.quality_drop), "the charter")


@dataclass(frozen=True)
class CharterFindings:
    """The batch against the charter's data needs; ``findings`` are the sentences shown."""

    findings: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    rows: int = 0
    batch_size: int | None = None
    age_days: float | None = None  # of the newest row (time column) or of the file
    freshness_days: float | None = None
    age_from: str = ""  # the time column's name, or "file time"

    @property
    def stale(self) -> bool | None:
        if self.age_days is None or self.freshness_days is None:
            return None
        return self.age_days > self.freshness_days

    def metrics(self) -> dict[str, float]:
        out = {"charter.missing_columns": float(len(self.missing_columns)),
               "charter.findings": float(len(self.findings))}
        if self.batch_size:
            out["charter.batch_rows_short"] = 1.0 if self.rows < self.batch_size else 0.0
        if self.age_days is not None:
            out["charter.batch_age_days"] = float(self.age_days)
        if self.stale is not None:
            out["charter.stale"] = 1.0 if self.stale else 0.0
        return out


def newest_time(frame: pd.DataFrame) -> tuple[float | None, str]:
    """Epoch seconds of the newest value of the batch's first time column, and that column's name."""
    import pandas as pd

    from core.monitor.timeline import time_columns

    for col in time_columns(frame):
        times = pd.to_datetime(frame[col], errors="coerce", utc=True).dropna()
        if not times.empty:
            return times.max().timestamp(), col
    return None, ""


def charter_findings(charter: Charter | None, frame: pd.DataFrame, *, file_time: float | None = None,
                     now: float | None = None) -> CharterFindings:
    """Expected columns, batch size (the charter's ``data_findings``) and freshness of ``frame``.

    Freshness: the newest value of the batch's time column, or ``file_time`` (epoch seconds) when it
    has none, older than the charter's ``freshness_days`` is a finding.
    """
    if charter is None:
        return CharterFindings(rows=len(frame))
    from core.plan.charter import data_findings

    found = list(data_findings(charter, [str(c) for c in frame.columns], len(frame)))
    missing = tuple(c for c in charter.expected_columns if c not in set(map(str, frame.columns)))
    age = None
    newest, source = newest_time(frame)
    if newest is None and file_time is not None:
        newest, source = float(file_time), "file time"
    now = time.time() if now is None else now
    if newest is not None:
        age = max(0.0, (now - newest) / DAY_SECONDS)
    if charter.freshness_days is not None:
        if age is None:
            found.append("The batch has no time column and no file time, so its freshness against the charter's "
                         f"{charter.freshness_days:g} days was not checked.")
        elif age > charter.freshness_days:
            where = f"its newest {source!r} value" if source != "file time" else "its file"
            found.append(f"The batch is stale: {where} is {age:.1f} days old, older than the charter's freshness "
                         f"of {charter.freshness_days:g} days.")
    return CharterFindings(tuple(found), missing, len(frame), charter.batch_size, age, charter.freshness_days,
                           source)


@dataclass(frozen=True)
class GroupFairness:
    """The model's metric per group of the protected column, and the largest gap between groups."""

    column: str
    metric: str
    by_group: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    gap: float = 0.0
    max_gap: float | None = None

    @property
    def exceeded(self) -> bool:
        return self.max_gap is not None and self.gap > self.max_gap


def group_fairness(charter: Charter, y_true: pd.Series, y_pred: pd.Series, groups: pd.Series,
                   task: str) -> GroupFairness:
    """Accuracy (classification) or mean absolute error (regression) per group; gap = max − min.

    Raises:
        MonitorError: no protected column in the charter, or fewer than two groups in the rows.
    """
    import numpy as np
    import pandas as pd

    from core.errors import MonitorError

    if not charter.protected_column:
        raise MonitorError("The charter names no protected column, so fairness over time is not checked.")
    metric = FAIRNESS_METRIC.get(task, "accuracy")
    frame = pd.DataFrame({"t": y_true.to_numpy(), "p": y_pred.to_numpy(),
                          "g": groups.astype(object).where(groups.notna(), "(missing)").astype(str).to_numpy()})
    if frame["g"].nunique() < 2:
        raise MonitorError(f"The protected column {charter.protected_column!r} has a single group in the labelled "
                           "rows, so there is no gap to measure.")
    by, rows = {}, {}
    for name, part in frame.groupby("g", sort=True):
        if metric == "accuracy":
            by[str(name)] = float((part["t"].astype(str) == part["p"].astype(str)).mean())
        else:
            by[str(name)] = float(np.mean(np.abs(part["t"].astype(float) - part["p"].astype(float))))
        rows[str(name)] = len(part)
    return GroupFairness(charter.protected_column, metric, by, rows, max(by.values()) - min(by.values()),
                         charter.max_gap)


def cost_per_row(charter: Charter, y_true: Sequence[Any], y_pred: Sequence[Any]) -> float | None:
    """The charter's business KPI on these rows (mean cost per prediction), None without costs."""
    from core.plan.charter import business_cost

    return business_cost(charter, list(y_true), list(y_pred))
