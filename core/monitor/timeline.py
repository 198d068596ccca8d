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
    from core.monitor.autoencoder import Autoencoder
    from core.plan.charter import Charter

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
    autoencoder_share: float | None = None
    autoencoder_p_value: float | None = None
    fairness_gap: float | None = None
    fairness_exceeded: bool | None = None
    fairness_by_group: tuple[tuple[str, float], ...] = ()
    cost_per_row: float | None = None
    scored_rows: int = 0  # labelled rows the model was not trained on (quality, fairness, cost)

    def extra_metrics(self) -> dict[str, float]:
        """The period's autoencoder, fairness and KPI values as metric keys (nothing for what did not run)."""
        out: dict[str, float] = {}
        if self.autoencoder_share is not None:
            out["autoencoder.share"] = self.autoencoder_share
            out["autoencoder.p_value"] = float(self.autoencoder_p_value)
        if self.fairness_gap is not None:
            out["fairness.gap"] = self.fairness_gap
            out.update({f"fairness.{g}": v for g, v in self.fairness_by_group})
        if self.cost_per_row is not None:
            out["kpi.cost_per_row"] = self.cost_per_row
        return out


@dataclass(frozen=True)
class Timeline:
    time_column: str
    freq: str
    reference_label: str
    metric: str
    points: tuple[PeriodPoint, ...]
    summaries: tuple[DriftSummary, ...]
    notes: tuple[str, ...] = ()  # checks that could not run, in one sentence each

    def to_records(self) -> list[dict[str, Any]]:
        return [{"period": p.period, "rows": p.rows, "drift_share": p.drift_share, "n_drifted": p.n_drifted,
                 "dataset_drift": p.dataset_drift, "drifted_columns": ", ".join(p.drifted_columns),
                 "quality": p.quality, "autoencoder_share": p.autoencoder_share,
                 "autoencoder_p_value": p.autoencoder_p_value, "fairness_gap": p.fairness_gap,
                 "fairness_exceeded": p.fairness_exceeded, "cost_per_row": p.cost_per_row,
                 "scored_rows": p.scored_rows} for p in self.points]


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
    scored_index: Any = None,
    charter: Charter | None = None,
    autoencoder: bool = False,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> Timeline:
    """Drift share (and quality, autoencoder share, fairness gap, cost per row) per period of ``frame``.

    With no ``reference`` the first period is the reference and is not a point. ``scored_index``: the
    index labels of ``frame``'s rows the model may be scored on (the rows it was not trained on; see
    :mod:`core.monitor.heldout`); None scores every labelled row. ``charter``: its protected column
    and costs give each period's fairness gap and cost per row. ``autoencoder``: fit one on the
    reference and give each period's share of rows above its threshold.
    """
    from core.monitor.quality import QUALITY_METRIC, predict, score_all

    parts = split_periods(frame, time_column, freq)
    ref_label = "reference table"
    if reference is None:
        if len(parts) < 2:
            raise MonitorError(f"The table spans one {freq} only; pick a shorter period or another reference.")
        ref_label, reference = parts[0]
        parts = parts[1:]
    # the target is not a drifting feature (one definition of the drift share, as in run_check)
    cols = [c for c in (columns or reference.columns) if c != time_column and not (target and c == target)]
    metric = QUALITY_METRIC.get(task or "", "")
    notes: list[str] = []
    ae = _fit_autoencoder(reference, cols, notes) if autoencoder else None
    points, summaries = [], []
    for i, (label, part) in enumerate(parts, start=1):
        summary = detect_drift(reference, part, options, columns=[c for c in cols if c in part.columns])
        quality = outcomes = None
        scored = part if scored_index is None else part[part.index.isin(scored_index)]
        n_scored = 0
        if model is not None and spec is not None and target and task and target in part and scored[target].notna().any():
            labelled = scored[scored[target].notna()]
            pred = predict(model, labelled, spec)
            quality, n_scored = score_all(labelled[target], pred, task)[metric], len(labelled)
            from core.monitor.outcomes import score_outcomes

            outcomes = score_outcomes(charter, model, spec, target, task, labelled, predictions=pred)
        ae_result = ae.check(part) if ae is not None and all(c in part.columns for c in ae.columns) else None
        fair = outcomes.fairness if outcomes else None
        points.append(PeriodPoint(label, len(part), summary.drift_share, summary.n_drifted, summary.dataset_drift,
                                  tuple(c.name for c in summary.columns if c.drifted), quality,
                                  ae_result.share if ae_result else None, ae_result.p_value if ae_result else None,
                                  fair.gap if fair else None, fair.exceeded if fair else None,
                                  tuple(fair.by_group.items()) if fair else (),
                                  outcomes.cost_per_row if outcomes else None, n_scored))
        summaries.append(summary)
        if on_progress:
            on_progress(i, len(parts), label)
    return Timeline(time_column, freq, ref_label, metric, tuple(points), tuple(summaries), tuple(notes))


def _fit_autoencoder(reference: pd.DataFrame, columns: Sequence[str], notes: list[str]) -> Autoencoder | None:
    """One autoencoder for every period; None (and a note) when the reference cannot carry one."""
    from core.errors import WorkbenchError
    from core.monitor.autoencoder import fit_autoencoder

    try:
        return fit_autoencoder(reference, columns)
    except (WorkbenchError, ValueError) as err:
        notes.append(f"The autoencoder check was not run: {str(err).splitlines()[0]}")
        return None
