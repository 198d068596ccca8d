"""Drift over time: a time-stamped table cut into periods, each checked against a reference.

The reference is the given table, or else the first period. Each later period
gets the fast drift check (and the model's quality when a model and labels are
there), giving one :class:`PeriodPoint` per period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import MonitorError
from core.monitor.drift import DriftOptions, DriftSummary, detect_drift

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.models import FeatureSpec

FREQS = {"month": "M", "quarter": "Q", "year": "Y"}


@dataclass(frozen=True)
class PeriodPoint:
    period: str
    rows: int
    drift_share: float
    n_drifted: int
    dataset_drift: bool
    drifted_columns: tuple[str, ...]
    quality: float | None = None


@dataclass(frozen=True)
class Timeline:
    time_column: str
    freq: str
    reference_label: str
    metric: str
    points: tuple[PeriodPoint, ...]
    summaries: tuple[DriftSummary, ...]

    def to_records(self) -> list[dict[str, Any]]:
        return [{"period": p.period, "rows": p.rows, "drift_share": p.drift_share, "n_drifted": p.n_drifted,
                 "dataset_drift": p.dataset_drift, "drifted_columns": ", ".join(p.drifted_columns),
                 "quality": p.quality} for p in self.points]


def time_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that hold dates (datetime dtype, or text that parses as dates)."""
    import pandas as pd

    out = []
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out.append(str(c))
        elif s.dtype == object and s.notna().any():
            sample = s.dropna().astype(str).head(50)
            if sample.str.match(r"^\d{4}-\d{1,2}-\d{1,2}").all():
                out.append(str(c))
    return out


def split_periods(frame: pd.DataFrame, time_column: str, freq: str) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows) per period, in time order; rows without a parseable time are dropped.

    Raises:
        MonitorError: unknown column or frequency, or no parseable time.
    """
    import pandas as pd

    if freq not in FREQS:
        raise MonitorError(f"The period must be one of {', '.join(FREQS)}. Got {freq!r} instead.")
    if time_column not in frame.columns:
        raise MonitorError(f"The time column {time_column!r} is not in the table.")
    times = pd.to_datetime(frame[time_column], errors="coerce")
    if times.notna().sum() == 0:
        raise MonitorError(f"Column {time_column!r} holds no dates; pick a time-stamped column.")
    periods = times.dt.to_period(FREQS[freq])
    out = []
    for period in sorted(periods.dropna().unique()):
        out.append((str(period), frame[(periods == period).to_numpy()]))
    return out


def drift_timeline(
    frame: pd.DataFrame,
    time_column: str,
    freq: str = "month",
    *,
    reference: pd.DataFrame | None = None,
    options: DriftOptions | None = None,
    columns: Sequence[str] | None = None,
    model: Any = None,
    spec: FeatureSpec | None = None,
    target: str | None = None,
    task: str | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> Timeline:
    """Drift share (and quality) per period of ``frame``.

    With no ``reference`` the first period is the reference and is not a point.
    """
    from core.monitor.quality import QUALITY_METRIC, predict, score_all

    parts = split_periods(frame, time_column, freq)
    ref_label = "reference table"
    if reference is None:
        if len(parts) < 2:
            raise MonitorError(f"The table spans one {freq} only; pick a shorter period or another reference.")
        ref_label, reference = parts[0]
        parts = parts[1:]
    cols = [c for c in (columns or reference.columns) if c != time_column]
    metric = QUALITY_METRIC.get(task or "", "")
    points, summaries = [], []
    for i, (label, part) in enumerate(parts, start=1):
        summary = detect_drift(reference, part, options, columns=[c for c in cols if c in part.columns])
        quality = None
        if model is not None and spec is not None and target and task and target in part and part[target].notna().any():
            labelled = part[part[target].notna()]
            quality = score_all(labelled[target], predict(model, labelled, spec), task)[metric]
        points.append(PeriodPoint(label, len(part), summary.drift_share, summary.n_drifted, summary.dataset_drift,
                                  tuple(c.name for c in summary.columns if c.drifted), quality))
        summaries.append(summary)
        if on_progress:
            on_progress(i, len(parts), label)
    return Timeline(time_column, freq, ref_label, metric, tuple(points), tuple(summaries))
