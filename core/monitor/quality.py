"""Prediction drift and model quality (concept drift) of the champion on a batch.

* Prediction drift: the champion's predictions on reference and on current,
  tested with the same (Evidently-equivalent) drift test as a column.
* Quality: when the current batch carries the target, the champion's metric
  on it next to its metric on the reference; a drop beyond ``max_drop``
  (absolute, default 0.05; for errors, a relative rise) is concept drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import MonitorError
from core.monitor.drift import ColumnDrift, DriftOptions, infer_kind, test_column

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.models import FeatureSpec

QUALITY_METRIC = {"classification": "accuracy", "regression": "rmse"}
HIGHER_IS_BETTER = {"accuracy": True, "f1_macro": True, "r2": True, "rmse": False, "mae": False}


@dataclass(frozen=True)
class QualityResult:
    metric: str
    reference: float
    current: float
    drop: float  # positive = worse (relative for error metrics)
    max_drop: float
    concept_drift: bool
    all_metrics: dict[str, float]
    n_rows: int
    note: str = ""
    n_reference: int = 0  # labelled reference rows the baseline was scored on (held-out rows only)


def predict(model: Any, frame: pd.DataFrame, spec: FeatureSpec) -> pd.Series:
    """The model's predictions for ``frame`` (missing feature columns are an error)."""
    import pandas as pd

    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise MonitorError(f"The model reads columns the batch does not have: {', '.join(missing[:5])}.")
    X = frame[spec.columns].copy()
    for c in spec.categorical:
        X[c] = X[c].astype("object").where(X[c].notna(), None).map(lambda v: v if v is None else str(v))
    try:
        return pd.Series(model.predict(X), index=frame.index, name="prediction")
    except Exception as err:  # noqa: BLE001 - a model that cannot read the batch is bad input
        raise MonitorError(f"The model cannot score this batch: {str(err).splitlines()[0][:200]}") from err


def prediction_drift(model: Any, spec: FeatureSpec, reference: pd.DataFrame, current: pd.DataFrame,
                     options: DriftOptions | None = None) -> ColumnDrift:
    """Drift of the model's output between reference and current."""
    ref_pred, cur_pred = predict(model, reference, spec), predict(model, current, spec)
    options = options or DriftOptions()
    return test_column("prediction", ref_pred, cur_pred, infer_kind(cur_pred),
                       method=options.per_column_method.get("prediction"),
                       threshold=options.per_column_threshold.get("prediction"))


def score_all(y_true: pd.Series, y_pred: pd.Series, task: str) -> dict[str, float]:
    import numpy as np
    from sklearn import metrics

    if task == "classification":
        yt, yp = y_true.astype(str), y_pred.astype(str)
        return {"accuracy": float(metrics.accuracy_score(yt, yp)),
                "f1_macro": float(metrics.f1_score(yt, yp, average="macro", zero_division=0))}
    yt, yp = y_true.astype(float), y_pred.astype(float)
    out = {"rmse": float(np.sqrt(metrics.mean_squared_error(yt, yp))), "mae": float(metrics.mean_absolute_error(yt, yp))}
    out["r2"] = float(metrics.r2_score(yt, yp)) if len(yt) > 1 else float("nan")
    return out


def model_quality(model: Any, spec: FeatureSpec, target: str, task: str, reference: pd.DataFrame,
                  current: pd.DataFrame, *, max_drop: float = 0.05, metric: str | None = None) -> QualityResult:
    """The model's quality on reference vs current (current must carry ``target``).

    Raises:
        MonitorError: the current batch has no labelled row.
    """
    metric = metric or QUALITY_METRIC[task]
    if target not in current.columns or current[target].notna().sum() == 0:
        raise MonitorError(f"The current batch has no values in the target column {target!r}; label it to check quality.")
    ref = reference[reference[target].notna()]
    cur = current[current[target].notna()]
    if ref.empty:
        raise MonitorError(f"The reference has no labelled rows in {target!r} to score the baseline on.")
    ref_scores = score_all(ref[target], predict(model, ref, spec), task)
    cur_scores = score_all(cur[target], predict(model, cur, spec), task)
    if metric not in ref_scores:
        raise MonitorError(f"The quality metric must be one of {', '.join(ref_scores)}. Got {metric!r} instead.")
    r, c = ref_scores[metric], cur_scores[metric]
    if HIGHER_IS_BETTER[metric]:
        drop = r - c
    else:
        drop = (c - r) / r if r > 0 else c - r
    note = ""
    if task == "classification" and cur[target].nunique() < 2:
        note = (f"The current labels hold one class only ({cur[target].iloc[0]!r}); accuracy is meaningful, "
                "F1 and class balance are not.")
    all_metrics = {f"reference_{k}": v for k, v in ref_scores.items()} | {f"current_{k}": v for k, v in cur_scores.items()}
    return QualityResult(metric, r, c, float(drop), max_drop, bool(drop > max_drop), all_metrics, len(cur), note,
                         len(ref))


def labelled_predictions(model: Any, spec: FeatureSpec, target: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``target`` and ``prediction`` columns for the labelled rows (input of Evidently's quality presets)."""
    import pandas as pd

    rows = frame[frame[target].notna()]
    return pd.DataFrame({target: rows[target].to_numpy(), "prediction": predict(model, rows, spec).to_numpy()})
