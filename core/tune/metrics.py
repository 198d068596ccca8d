"""Study metrics: name → task, direction and how to score a fitted pipeline on a fold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import TuneError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass(frozen=True)
class Metric:
    name: str
    task: str
    direction: str  # "maximize" | "minimize"
    label: str


METRICS = {
    m.name: m
    for m in (
        Metric("accuracy", "classification", "maximize", "Accuracy"),
        Metric("f1_macro", "classification", "maximize", "F1 macro"),
        Metric("roc_auc", "classification", "maximize", "ROC AUC (one-vs-rest when multiclass)"),
        Metric("log_loss", "classification", "minimize", "Log loss"),
        Metric("rmse", "regression", "minimize", "RMSE"),
        Metric("mae", "regression", "minimize", "MAE"),
        Metric("r2", "regression", "maximize", "R²"),
    )
}
DEFAULT_METRIC = {"classification": "accuracy", "regression": "rmse"}


def metrics_for(task: str) -> list[str]:
    return [m.name for m in METRICS.values() if m.task == task]


def get_metric(name: str, task: str) -> Metric:
    """The metric ``name``, checked against ``task``."""
    metric = METRICS.get(name)
    if metric is None:
        raise TuneError(f"The metric must be one of {', '.join(METRICS)}. Got {name!r} instead.")
    if metric.task != task:
        raise TuneError(f"The metric {name!r} is for {metric.task}, but this study is {task}; "
                        f"use one of {', '.join(metrics_for(task))}.")
    return metric


def score(name: str, model: Any, X: pd.DataFrame, y: pd.Series, classes: Any = None) -> float:
    """Score a fitted pipeline on (X, y). ``classes``: all class labels of the study (for log loss / AUC)."""
    import numpy as np
    from sklearn import metrics as skm

    if name in ("accuracy", "f1_macro"):
        pred = model.predict(X)
        return float(skm.accuracy_score(y, pred) if name == "accuracy" else skm.f1_score(y, pred, average="macro"))
    if name in ("roc_auc", "log_loss"):
        proba = model.predict_proba(X)
        labels = list(model.classes_)
        if name == "log_loss":
            return float(skm.log_loss(y, proba, labels=labels))
        if len(labels) == 2:
            return float(skm.roc_auc_score(y, proba[:, 1]))
        return float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=labels))
    pred = model.predict(X)
    if name == "rmse":
        return float(np.sqrt(skm.mean_squared_error(y, pred)))
    if name == "mae":
        return float(skm.mean_absolute_error(y, pred))
    if name == "r2":
        return float(skm.r2_score(y, pred))
    raise TuneError(f"Unknown metric {name!r}.")
