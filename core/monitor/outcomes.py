"""Fairness and business cost of the model's predictions on a batch or a period (labelled, held-out rows only).

One call per batch (``run_check``) or per period (the timeline): the model scores the labelled rows it
was not trained on, then the charter's protected column gives the metric per group and its gap, and
the charter's costs give the cost per row. What cannot be computed becomes a sentence, not an error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from core.errors import WorkbenchError
from core.monitor.charter_checks import GroupFairness, cost_per_row, group_fairness

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.models import FeatureSpec
    from core.plan.charter import Charter


@dataclass(frozen=True)
class Outcomes:
    """Fairness across the protected column's groups and the business KPI, on ``n_rows`` labelled rows."""

    fairness: GroupFairness | None = None
    cost_per_row: float | None = None
    n_rows: int = 0
    notes: tuple[str, ...] = ()

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.fairness is not None:
            out["fairness.gap"] = self.fairness.gap
            out["fairness.exceeded"] = 1.0 if self.fairness.exceeded else 0.0
            for group, value in self.fairness.by_group.items():
                out[f"fairness.{self.fairness.metric}.{group}"] = value
        if self.cost_per_row is not None:
            out["kpi.cost_per_row"] = self.cost_per_row
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"fairness": asdict(self.fairness) | {"exceeded": self.fairness.exceeded} if self.fairness else None,
                "cost_per_row": self.cost_per_row, "n_rows": self.n_rows, "notes": list(self.notes)}


def score_outcomes(charter: Charter | None, model: Any, spec: FeatureSpec, target: str, task: str,
                   rows: pd.DataFrame, *, predictions: pd.Series | None = None) -> Outcomes | None:
    """Fairness and cost on ``rows`` (already held-out); None when the charter asks for neither."""
    if charter is None or not (charter.protected_column or charter.has_cost):
        return None
    from core.monitor.quality import predict

    if not target or target not in rows.columns or rows[target].notna().sum() == 0:
        return Outcomes(notes=(f"Fairness and the business KPI need labels in {target or charter.target!r}; this "
                               "batch has none, so they were not computed.",))
    labelled = rows[rows[target].notna()]
    notes: list[str] = []
    try:
        pred = predictions.loc[labelled.index] if predictions is not None else predict(model, labelled, spec)
    except WorkbenchError as err:
        return Outcomes(notes=(f"Fairness and the business KPI were not computed: {err}",))
    fairness = None
    if charter.protected_column:
        if charter.protected_column not in labelled.columns:
            notes.append(f"The batch has no protected column {charter.protected_column!r}, so fairness was not "
                         "checked; add the column to the batch or change the charter.")
        else:
            try:
                fairness = group_fairness(charter, labelled[target], pred, labelled[charter.protected_column], task)
            except WorkbenchError as err:
                notes.append(str(err))
            if fairness is not None and fairness.exceeded:
                notes.append(f"Fairness: the {fairness.metric} gap across {fairness.column!r} is {fairness.gap:.3f}, "
                             f"above the charter's largest gap of {fairness.max_gap:g}.")
    cost = None
    if charter.has_cost:
        try:
            cost = cost_per_row(charter, labelled[target].tolist(), pred.tolist())
        except WorkbenchError as err:
            notes.append(f"The business KPI was not computed: {err}")
    return Outcomes(fairness, cost, len(labelled), tuple(notes))
