"""What the project charter adds to Compare and the gate: the business-cost KPI and the fairness limit.

* :func:`with_business_cost` — when the charter sets costs, a ``business_cost`` row (mean cost per
  prediction, lower is better) in an :class:`~core.compare.evaluate.Evaluation`'s metrics, with each
  model's per-row costs kept for the gate's paired test. It only reads the evaluation's predictions,
  which were made on the held-out rows, so no cost comes from rows a model was trained on.
* :func:`fairness_limit` — the challenger's metric gap across the groups of the charter's protected
  column on the same held-out rows (Compare's :func:`~core.compare.evaluate.fairness`), against the
  charter's ``max_gap``: exceeded → the gate refuses; column absent → a caution, not a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from core.compare.evaluate import best_per_metric

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.compare.evaluate import Evaluation
    from core.plan.charter import Charter
    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

COST_METRIC = "business_cost"
FAIRNESS_METRICS = {"classification": ("accuracy", "f1_macro"), "regression": ("mae", "rmse")}


def project_charter(tracker: Tracker, mv: ModelVersionInfo) -> Charter | None:
    """The charter of ``mv``'s project when it is about the target ``mv`` predicts (None otherwise).

    An unreadable charter never blocks a comparison or a gate: it counts as none.
    """
    try:
        from core.plan.charter import load_charter
    except ImportError:  # pragma: no cover - the Plan stage is not part of this build
        return None
    project = mv.tags.get("workbench.project") or ""
    if not project:
        from core.tracking.models import registered_model_tags

        project = (registered_model_tags(tracker, mv.name) or {}).get("workbench.project", "")
    try:
        charter = load_charter(tracker, project) if project else None
    except Exception:  # noqa: BLE001 - an unreadable charter never blocks a gate
        return None
    if charter is None or charter.target != mv.tags.get("workbench.target"):
        return None
    return charter


def with_business_cost(evaluation: Evaluation, charter: Charter | None) -> Evaluation:
    """``evaluation`` with the charter's ``business_cost`` row and per-row costs (unchanged without costs)."""
    import pandas as pd

    from core.plan.charter import positive_label, row_costs

    if charter is None or not charter.has_cost or charter.task != evaluation.task or not evaluation.predictions:
        return evaluation
    positive = positive_label(charter, evaluation.y_true) if charter.task == "classification" else None
    costs = {m: row_costs(charter, evaluation.y_true, evaluation.predictions[m], positive)
             for m in evaluation.models}
    row = pd.DataFrame({m: [float(costs[m].mean())] for m in evaluation.models}, index=[COST_METRIC])
    metrics = pd.concat([evaluation.metrics.drop(index=COST_METRIC, errors="ignore"), row])
    if charter.task == "classification":
        note = (f"business_cost: the charter's mean cost per prediction on these held-out rows (positive class "
                f"{positive!r}; a false positive costs {charter.cost_fp or 0:g}, a false negative "
                f"{charter.cost_fn or 0:g}); lower is better.")
    else:
        note = (f"business_cost: the charter's mean cost per prediction on these held-out rows "
                f"({charter.cost_per_unit:g} per unit of absolute error); lower is better.")
    if charter.task == "classification" and positive not in {str(v) for v in evaluation.y_true}:
        note += (f" The positive class {positive!r} is not among the held-out labels, so no false negative can "
                 "occur; check the charter's positive class.")
    best = {**dict(evaluation.best), **best_per_metric(row)}
    return replace(evaluation, metrics=metrics, best=best, costs=costs, notes=(*evaluation.notes, note))


@dataclass(frozen=True)
class FairnessCheck:
    """The charter's fairness limit applied to one model on the held-out rows."""

    column: str
    limit: float
    metric: str
    checked: bool
    gap: float | None = None
    worst_group: str = ""
    sentence: str = ""

    @property
    def exceeded(self) -> bool:
        return self.checked and self.gap is not None and self.gap > self.limit + 1e-12


def fairness_metric(task: str, gate_metric: str, charter: Charter) -> str:
    """The metric the gap is measured on: the gate's, else the charter's, else the task's first fairness metric."""
    allowed = FAIRNESS_METRICS.get(task, FAIRNESS_METRICS["classification"])
    return next((m for m in (gate_metric, charter.metric) if m in allowed), allowed[0])


def fairness_limit(evaluation: Evaluation, frame: pd.DataFrame, charter: Charter | None, model: str,
                   gate_metric: str) -> FairnessCheck | None:
    """``model``'s gap across the charter's protected column on the evaluated rows (None: the charter sets none).

    Args:
        evaluation: the gate's evaluation (its ``index`` selects the held-out rows of ``frame``).
        frame: the held-out rows with every column (the protected column need not be a feature).
    """
    from core.compare.evaluate import fairness
    from core.errors import CompareError

    if charter is None or not charter.protected_column or charter.max_gap is None:
        return None
    column, limit = charter.protected_column, float(charter.max_gap)
    metric = fairness_metric(evaluation.task, gate_metric, charter)
    bar = f"gap ≤ {limit:g} in {metric} across {column!r}"
    if column not in frame.columns:
        return FairnessCheck(column, limit, metric, False, sentence=(
            f"The charter's fairness limit ({bar}) could not be checked: the held-out rows have no column "
            f"{column!r}; evaluate on a dataset version that keeps it."))
    try:
        result = fairness(evaluation, frame[column], metric)
    except CompareError as err:
        return FairnessCheck(column, limit, metric, False, sentence=(
            f"The charter's fairness limit ({bar}) could not be checked: {err}"))
    gap = float(result.gaps[model])
    table = result.table[model]
    from core.compare.measures import higher_is_better

    worst = str(table.idxmin() if higher_is_better(metric) else table.idxmax())
    if gap > limit + 1e-12:
        sentence = (f"{model} exceeds the charter's fairness limit: its {metric} differs by {gap:.4f} across the "
                    f"groups of {column!r} (worst group {worst}), above the largest gap allowed, {limit:g}.")
    else:
        sentence = (f"{model} is within the charter's fairness limit: its {metric} differs by {gap:.4f} across the "
                    f"groups of {column!r}, at most {limit:g}.")
    return FairnessCheck(column, limit, metric, True, gap, worst, sentence)
