"""Which metric a promotion gate uses, and what the gate form offers (metrics, starting metric and margin).

The promotion metric of a registered model is set by its first promotion and never switched silently
(:func:`gate_metric_for`). The metrics a gate may use are the task's (:data:`GATE_METRICS`), plus the
charter's ``business_cost`` when the project's charter sets costs (:func:`gate_metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import CompareError

if TYPE_CHECKING:  # pragma: no cover
    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

DEFAULT_MARGIN = 0.005
GATE_METRICS = {
    "classification": ("accuracy", "balanced_accuracy", "f1_macro", "precision_macro", "recall_macro",
                       "roc_auc", "log_loss"),
    "regression": ("r2", "rmse", "mse", "mae"),
}
DEFAULT_GATE_METRIC = {"classification": "accuracy", "regression": "rmse"}


def gate_metric_for(tracker: Tracker, mv: ModelVersionInfo, metric: str | None, *,
                    change_metric: bool = False) -> tuple[str, bool]:
    """The metric the gate of ``mv``'s registered model uses, and whether it is newly set.

    The registered model's promotion metric when one is set (a different ``metric`` is refused unless
    ``change_metric``); else ``metric``, else the charter's success metric, else the task's default.

    Raises:
        CompareError: a metric that does not fit the task, or a silent switch of the promotion metric.
    """
    from core.tracking.models import promotion_metric

    from core.compare.charter_rules import COST_METRIC, project_charter

    task = mv.tags.get("workbench.task", "") or "classification"
    stored = promotion_metric(tracker, mv.name)
    if stored and metric and metric != stored and not change_metric:
        raise CompareError(f"The promotion metric of {mv.name} is {stored!r} (set when it was first promoted); "
                           f"the gate does not switch to {metric!r} silently. Use --metric {stored}, or change it "
                           f"for good with --change-metric.")
    charter = project_charter(tracker, mv)
    allowed = gate_metrics(task, charter)
    charter_metric = charter.metric if charter is not None and charter.metric in allowed else ""
    chosen = metric or stored or charter_metric or DEFAULT_GATE_METRIC.get(task, "accuracy")
    if chosen == COST_METRIC and COST_METRIC not in allowed:
        raise CompareError(f"The gate metric {COST_METRIC!r} is the charter's cost per prediction, but the charter "
                           f"of this project sets no cost for {mv.tags.get('workbench.target', 'this target')!r}; "
                           "set the costs on the Plan page (or `python -m core charter set --cost-fp … --cost-fn …`) "
                           "or pick another metric.")
    if task in GATE_METRICS and chosen not in allowed:
        raise CompareError(f"The gate metric must be one of {', '.join(allowed)} for a {task} model. "
                           f"Got {chosen!r} instead.")
    return chosen, chosen != stored


def gate_metrics(task: str, charter: object | None = None) -> tuple[str, ...]:
    """The metrics a gate of a ``task`` model may use: the task's, plus ``business_cost`` when the charter sets costs."""
    from core.compare.charter_rules import COST_METRIC

    base = GATE_METRICS.get(task, GATE_METRICS["classification"])
    return (*base, COST_METRIC) if getattr(charter, "has_cost", False) else base


@dataclass(frozen=True)
class GateDefaults:
    """What the gate form offers for one registered model: its metrics, and the metric and margin it starts on."""

    metrics: tuple[str, ...]
    metric: str
    margin: float
    fixed: bool  # the promotion metric is set: the form shows it, the gate does not switch silently


def gate_defaults(tracker: Tracker, mv: ModelVersionInfo) -> GateDefaults:
    """The gate form's choices for ``mv``'s model: the task's metrics (+ ``business_cost`` when the charter sets
    costs), the promotion metric else the charter's else the task's default, the charter's margin else 0.005."""
    from core.compare.charter_rules import project_charter
    from core.tracking.models import promotion_metric

    charter = project_charter(tracker, mv)
    metrics = gate_metrics(mv.tags.get("workbench.task", "") or "classification", charter)
    try:
        metric = gate_metric_for(tracker, mv, None)[0]
    except CompareError:  # e.g. a promotion metric the charter no longer supports: the form shows the choices
        metric = metrics[0]
    margin = float(charter.margin) if charter is not None and charter.margin else DEFAULT_MARGIN
    return GateDefaults(metrics, metric if metric in metrics else metrics[0], margin,
                        bool(promotion_metric(tracker, mv.name)))
