"""The project charter: what problem, which metric and threshold, which data, which models — the bar.

A :class:`Charter` is frozen and validated on construction (one sentence per problem). Each change is
saved as a ``plan`` stage run (params + ``plan/charter.json``) and the current run's id is the
experiment tag ``workbench.charter_run``, so the history is the project's ``plan`` runs in MLflow.

Functions other stages read (the lead wires them into Tune / gate / Monitor / Compare / Home):

* :func:`load_charter` — the current charter or None;
* :meth:`Charter.tune_metric`, :meth:`Charter.gate_metric`, :attr:`Charter.margin` — defaults;
* :meth:`Charter.retrain_policy` — Monitor's drift / quality thresholds as a ``RetrainPolicy``;
* :func:`business_cost` — the KPI column (mean cost per prediction) from ``y_true`` / ``y_pred``;
* :func:`charter_verdict` — meets / misses the threshold, by how much, in one sentence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from core.plan import PlanError

if TYPE_CHECKING:  # pragma: no cover
    from core.monitor.retrain import RetrainPolicy
    from core.tracking import RunSummary, Tracker

CHARTER_TAG = "workbench.charter_run"
CHARTER_JSON = "plan/charter.json"
TASKS = ("classification", "regression")
# Metrics in [0, 1]; the others are ≥ 0 (losses, errors) except r2, which is ≤ 1.
_UNIT_METRICS = {"accuracy", "balanced_accuracy", "f1_macro", "precision_macro", "recall_macro", "roc_auc"}
_NONNEGATIVE = {"log_loss", "rmse", "mse", "mae", "business_cost"}
COST_METRIC = "business_cost"  # the charter's KPI (mean cost per prediction), lower is better


def metrics_for_task(task: str) -> tuple[str, ...]:
    """Every metric name a charter may use for ``task``: Tune's metrics and the gate's, in that order."""
    from core.compare.gate import GATE_METRICS
    from core.tune.metrics import metrics_for

    names = [*metrics_for(task), *GATE_METRICS.get(task, ()), COST_METRIC]
    return tuple(dict.fromkeys(names))


def higher_is_better(metric: str) -> bool:
    """Direction of a charter metric (the Compare stage's rule)."""
    from core.compare.measures import higher_is_better as rule

    return rule(metric)


def _number(value: Any, what: str, *, low: float | None = None, high: float | None = None,
            optional: bool = False) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise PlanError(f"The charter's {what} is required.")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise PlanError(f"The charter's {what} must be a number. Got {value!r} instead.") from None
    if not math.isfinite(x) or (low is not None and x < low) or (high is not None and x > high):
        span = f"in [{low:g}, {high:g}]" if low is not None and high is not None else (
            f"≥ {low:g}" if low is not None else f"≤ {high:g}")
        raise PlanError(f"The charter's {what} must be a number {span}. Got {value!r} instead.")
    return x


@dataclass(frozen=True)
class Charter:
    """The plan of one project; see the module docstring for who reads which field."""

    problem: str
    target: str
    task: str
    metric: str
    threshold: float
    margin: float = 0.0
    # business KPI: cost per false positive / false negative (classification) or per unit of error (regression)
    cost_fp: float | None = None
    cost_fn: float | None = None
    positive_class: str = ""
    cost_per_unit: float | None = None
    # data needed
    expected_columns: tuple[str, ...] = ()
    batch_size: int | None = None
    freshness_days: float | None = None
    families: tuple[str, ...] = ()
    # fairness
    protected_column: str = ""
    max_gap: float | None = None
    # monitoring thresholds
    drift_share: float = 0.5
    quality_drop: float = 0.05
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from core.models import FAMILIES

        problem, target = str(self.problem or "").strip(), str(self.target or "").strip()
        if not problem:
            raise PlanError("The charter's problem statement must not be blank; say in one sentence what the model "
                            "is for.")
        if not target:
            raise PlanError("The charter's prediction target must name a column.")
        if self.task not in TASKS:
            raise PlanError(f"The charter's task must be classification or regression. Got {self.task!r} instead.")
        allowed = metrics_for_task(self.task)
        if self.metric not in allowed:
            raise PlanError(f"The success metric {self.metric!r} does not fit a {self.task} task; use one of "
                            f"{', '.join(allowed)}.")
        if self.metric == COST_METRIC and self.cost_fp is None and self.cost_fn is None and self.cost_per_unit is None:
            raise PlanError("The success metric business_cost needs the charter's costs: a cost per false positive / "
                            "negative (classification) or per unit of error (regression).")
        if self.metric in _UNIT_METRICS:
            threshold = _number(self.threshold, f"threshold for {self.metric}", low=0.0, high=1.0)
        elif self.metric in _NONNEGATIVE:
            threshold = _number(self.threshold, f"threshold for {self.metric}", low=0.0)
        else:  # r2
            threshold = _number(self.threshold, f"threshold for {self.metric}", high=1.0)
        margin = _number(self.margin, "promotion margin", low=0.0)
        cost_fp = _number(self.cost_fp, "cost per false positive", low=0.0, optional=True)
        cost_fn = _number(self.cost_fn, "cost per false negative", low=0.0, optional=True)
        cost_unit = _number(self.cost_per_unit, "cost per unit of error", low=0.0, optional=True)
        if self.task == "regression" and (cost_fp is not None or cost_fn is not None):
            raise PlanError("Costs per false positive / negative apply to classification; a regression charter "
                            "takes a cost per unit of error.")
        if self.task == "classification" and cost_unit is not None:
            raise PlanError("A cost per unit of error applies to regression; a classification charter takes costs "
                            "per false positive and false negative.")
        batch = _number(self.batch_size, "batch size", low=1, optional=True)
        if batch is not None and batch != int(batch):
            raise PlanError(f"The charter's batch size must be a whole number of rows. Got {self.batch_size!r} "
                            "instead.")
        fresh = _number(self.freshness_days, "freshness (days)", low=0.0, optional=True)
        families = tuple(dict.fromkeys(str(f).strip() for f in self.families if str(f).strip()))
        bad = [f for f in families if f not in FAMILIES]
        if bad:
            raise PlanError(f"The model family {bad[0]!r} is not known; allowed families are {', '.join(FAMILIES)}.")
        gap = _number(self.max_gap, "largest fairness gap", low=0.0, high=1.0, optional=True)
        protected = str(self.protected_column or "").strip()
        if gap is not None and not protected:
            raise PlanError("A fairness gap needs the protected column it is measured across.")
        if protected and protected == target:
            raise PlanError(f"The protected column {protected!r} cannot be the prediction target.")
        drift = _number(self.drift_share, "drift-share threshold", low=0.0, high=1.0)
        if drift == 0:
            raise PlanError("The charter's drift-share threshold must be in (0, 1]. Got 0 instead.")
        drop = _number(self.quality_drop, "quality-drop threshold", low=0.0)
        columns = tuple(dict.fromkeys(str(c).strip() for c in self.expected_columns if str(c).strip()))
        for name, value in (("problem", problem), ("target", target), ("threshold", threshold), ("margin", margin),
                            ("cost_fp", cost_fp), ("cost_fn", cost_fn), ("cost_per_unit", cost_unit),
                            ("batch_size", None if batch is None else int(batch)), ("freshness_days", fresh),
                            ("families", families), ("max_gap", gap), ("protected_column", protected),
                            ("drift_share", drift), ("quality_drop", drop), ("expected_columns", columns),
                            ("positive_class", str(self.positive_class or "").strip()),
                            ("extra", dict(self.extra or {}))):
            object.__setattr__(self, name, value)

    # -- for the other stages -------------------------------------------------
    @property
    def higher_is_better(self) -> bool:
        return higher_is_better(self.metric)

    @property
    def has_cost(self) -> bool:
        return self.cost_fp is not None or self.cost_fn is not None or self.cost_per_unit is not None

    def tune_metric(self) -> str:
        """Tune's default metric: the success metric when Tune knows it, else the task's default."""
        from core.tune.metrics import DEFAULT_METRIC, metrics_for

        return self.metric if self.metric in metrics_for(self.task) else DEFAULT_METRIC[self.task]

    def gate_metric(self) -> str:
        """The promotion gate's metric: the success metric when the gate knows it, else the task's first."""
        from core.compare.gate import GATE_METRICS

        if self.metric == COST_METRIC:
            return COST_METRIC
        return self.metric if self.metric in GATE_METRICS[self.task] else GATE_METRICS[self.task][0]

    def retrain_policy(self, n_trials: int = 5, interval_days: float | None = None) -> RetrainPolicy:
        """Monitor's thresholds and the gate's metric / margin as the retraining policy."""
        from core.monitor.retrain import RetrainPolicy

        return RetrainPolicy(interval_days=interval_days, max_drift_share=self.drift_share,
                             max_quality_drop=self.quality_drop, gate_metric=self.gate_metric(),
                             gate_margin=self.margin, n_trials=n_trials)

    # -- serialisation ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["expected_columns"] = list(self.expected_columns)
        out["families"] = list(self.families)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def params(self) -> dict[str, str]:
        """Flat MLflow params (lists joined by commas, unset values as '-')."""
        out: dict[str, str] = {}
        for key, value in self.to_dict().items():
            if key == "extra":
                continue
            if isinstance(value, list):
                value = ",".join(map(str, value))
            out[key] = "-" if value in (None, "") else str(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Charter:
        """Build from a mapping (unknown keys refused, so a typo is not silently dropped)."""
        if not isinstance(data, Mapping):
            raise PlanError(f"A charter must be a JSON object. Got {type(data).__name__} instead.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PlanError(f"The charter has no field {unknown[0]!r}; known fields are {', '.join(sorted(known))}.")
        missing = [k for k in ("problem", "target", "task", "metric", "threshold") if k not in data]
        if missing:
            raise PlanError(f"The charter lacks the field {missing[0]!r}.")
        values = dict(data)
        for key in ("expected_columns", "families"):
            if isinstance(values.get(key), str):
                values[key] = [v for v in values[key].split(",")]
            values[key] = tuple(values.get(key) or ())
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Charter:
        try:
            data = json.loads(text)
        except ValueError as err:
            raise PlanError(f"The charter file is not valid JSON: {err}.") from None
        return cls.from_dict(data)

    def updated(self, **changes: Any) -> Charter:
        """A copy with ``changes`` applied and validated."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Verdict:
    meets: bool
    by: float  # distance from the threshold in the metric's good direction (positive = better than the bar)
    sentence: str


def charter_verdict(charter: Charter, champion_score: float | None) -> Verdict:
    """Whether a champion's score on the success metric reaches the charter's threshold, and by how much."""
    name = f"{charter.metric} {'≥' if charter.higher_is_better else '≤'} {charter.threshold:g}"
    if champion_score is None or not math.isfinite(float(champion_score)):
        return Verdict(False, math.nan, f"There is no champion score on {charter.metric} yet, so the charter's bar "
                                        f"({name}) is not met.")
    score = float(champion_score)
    by = score - charter.threshold if charter.higher_is_better else charter.threshold - score
    if by >= -1e-12:
        return Verdict(True, by, f"The champion meets the charter: {charter.metric} {score:.4f} against the bar "
                                 f"{name}, {abs(by):.4f} to spare.")
    return Verdict(False, by, f"The champion misses the charter: {charter.metric} {score:.4f} against the bar "
                              f"{name}, short by {abs(by):.4f}.")


def business_cost(charter: Charter, y_true: Sequence[Any], y_pred: Sequence[Any]) -> float | None:
    """The charter's KPI: mean cost per prediction (None when the charter sets no cost).

    Classification: ``(cost_fp · FP + cost_fn · FN) / n`` with the charter's positive class (default:
    the largest label in ``y_true``; with more than two classes every miss of the positive class is a FN
    and every wrong prediction of it a FP). Regression: ``cost_per_unit · mean |y_true − y_pred|``.
    """
    costs = row_costs(charter, y_true, y_pred)
    return None if costs is None else float(costs.mean())


def row_costs(charter: Charter, y_true: Sequence[Any], y_pred: Sequence[Any],
              positive: str | None = None) -> Any:
    """The cost of each prediction (a per-row loss; its mean is :func:`business_cost`), None without costs.

    ``positive`` overrides the default positive class (used when resampling, so every resample keeps the
    positive class of the full sample).
    """
    import numpy as np

    if not charter.has_cost:
        return None
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or t.size == 0:
        raise PlanError(f"The cost metric needs as many predictions as true values (got {p.size} and {t.size}).")
    if charter.task == "regression":
        return (charter.cost_per_unit or 0.0) * np.abs(t.astype(float) - p.astype(float))
    ts, ps = t.astype(str), p.astype(str)
    positive = positive or positive_label(charter, ts)
    fp = (ps == positive) & (ts != positive)
    fn = (ts == positive) & (ps != positive)
    return (charter.cost_fp or 0.0) * fp + (charter.cost_fn or 0.0) * fn


def positive_label(charter: Charter, y_true: Sequence[Any]) -> str:
    """The class the costs are about: the charter's positive class, else the largest label in ``y_true``."""
    return charter.positive_class or max(str(v) for v in y_true)


def data_findings(charter: Charter, columns: Sequence[str], rows: int) -> list[str]:
    """What a batch lacks against the charter's data needs (expected columns, batch size), as sentences."""
    out = []
    missing = [c for c in charter.expected_columns if c not in set(columns)]
    if missing:
        out.append(f"The batch lacks the charter's expected column(s) {', '.join(missing[:6])}.")
    if charter.batch_size and rows < charter.batch_size:
        out.append(f"The batch has {rows} rows, fewer than the charter's batch size of {charter.batch_size}.")
    return out


# -- MLflow ---------------------------------------------------------------------------
def save_charter(tracker: Tracker, project: str, charter: Charter, *, note: str = "") -> str:
    """Record ``charter`` as a new ``plan`` run and make it the project's current charter; return the run id."""
    from core.tracking.monitor import set_project_tag

    previous = current_charter_run(tracker, project)
    with tracker.stage_run(project, "plan", name=f"charter: {charter.metric} ≥ {charter.threshold:g}"
                           if charter.higher_is_better else f"charter: {charter.metric} ≤ {charter.threshold:g}",
                           inputs=[previous] if previous else [], params=charter.params(),
                           tags={"workbench.plan.kind": "charter", "workbench.plan.note": note[:500]}) as run_id:
        tracker.log_text(run_id, charter.to_json(), CHARTER_JSON)
    set_project_tag(tracker, project, CHARTER_TAG, run_id)
    return run_id


def current_charter_run(tracker: Tracker, project: str) -> str:
    from core.tracking.monitor import project_tags

    return project_tags(tracker, project).get(CHARTER_TAG, "")


def load_charter(tracker: Tracker, project: str) -> Charter | None:
    """The project's current charter, or None when none was written."""
    run_id = current_charter_run(tracker, project)
    return charter_of_run(tracker, run_id) if run_id else None


_BY_RUN: dict[tuple[str, str], Charter] = {}  # (store, run id) -> charter: a plan run's charter never changes


def charter_of_run(tracker: Tracker, run_id: str) -> Charter:
    """The charter stored in ``plan`` run ``run_id`` (read once per process and store)."""
    key = (str(tracker.settings.tracking_uri), run_id)
    if key not in _BY_RUN:
        _BY_RUN[key] = Charter.from_json(json.dumps(tracker.load_json(run_id, CHARTER_JSON)))
    return _BY_RUN[key]


def charter_history(tracker: Tracker, project: str) -> list[RunSummary]:
    """Every charter change of the project, newest first (``plan`` runs)."""
    return [r for r in tracker.runs(project, stage="plan") if r.tags.get("workbench.plan.kind") == "charter"]
