"""Per-model measurements used by :mod:`core.compare.evaluate` (pure: arrays in, tables out).

Every function here takes one fitted model's outputs (or the model itself for
resources and importances) and returns plain numbers or small DataFrames, so the
evaluation can assemble them into one :class:`~core.compare.evaluate.Evaluation`.
"""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

# Direction of every metric the stage reports: True = higher is better.
HIGHER_IS_BETTER: dict[str, bool] = {
    "accuracy": True,
    "balanced_accuracy": True,
    "f1_macro": True,
    "precision_macro": True,
    "recall_macro": True,
    "roc_auc": True,
    "log_loss": False,
    "mse": False,
    "rmse": False,
    "mae": False,
    "r2": True,
    "business_cost": False,  # the charter's mean cost per prediction
    "size_bytes": False,
    "latency_single_ms_p50": False,
    "latency_batch_1k_ms": False,
    "training_time_s": False,
}
# Keys a training run may use for its fit time (Tune, Label and Retrain each log one of these).
# ``duration_s`` is a Tune trial's wall time (cross-validation included), the last resort.
TRAINING_TIME_KEYS = ("training_time_s", "train_time_s", "fit_time_s", "training_time", "fit_time", "train_time",
                      "duration_s")


def higher_is_better(metric: str) -> bool:
    """Direction of ``metric`` (unknown names count as higher-is-better, like scores)."""
    return HIGHER_IS_BETTER.get(metric, not any(w in metric for w in ("loss", "error", "mse", "mae", "time", "size")))


def classification_metrics(y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None,
                           classes: Sequence[Any]) -> tuple[dict[str, float], list[str]]:
    """Accuracy, macro F1 / precision / recall, log loss and ROC AUC (one-vs-rest macro).

    ROC AUC is averaged over the classes that have both positive and negative rows in ``y``;
    when ``y`` holds a single class it is omitted and a note says why.
    """
    from sklearn import metrics as skm

    notes: list[str] = []
    out = {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)) if len(set(y)) > 1 else math.nan,
        "f1_macro": float(skm.f1_score(y, pred, average="macro", zero_division=0)),
        "precision_macro": float(skm.precision_score(y, pred, average="macro", zero_division=0)),
        "recall_macro": float(skm.recall_score(y, pred, average="macro", zero_division=0)),
    }
    if proba is not None:
        unknown = sorted(set(map(str, y)) - set(map(str, classes)))
        if unknown:
            notes.append("log loss and ROC AUC skipped: the evaluation set has classes the model never saw "
                         f"({', '.join(unknown[:5])}).")
        else:
            out["log_loss"] = float(skm.log_loss(y, proba, labels=list(classes)))
            aucs = [float(skm.roc_auc_score(y == c, proba[:, i])) for i, c in enumerate(classes)
                    if 0 < (y == c).sum() < len(y)]
            if len(classes) == 2 and aucs:
                aucs = aucs[1:]  # binary: the positive class only (both curves are mirror images)
            if aucs:
                out["roc_auc"] = float(sum(aucs) / len(aucs))
    return out, notes


def per_class_table(y: np.ndarray, pred: np.ndarray, labels: Sequence[Any]) -> pd.DataFrame:
    """Precision, recall, F1 and support per class."""
    import pandas as pd
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y, pred, labels=list(labels), zero_division=0)
    return pd.DataFrame({"class": [str(c) for c in labels], "precision": p, "recall": r, "f1": f, "support": s})


def curve_points(y: np.ndarray, proba: np.ndarray, classes: Sequence[Any],
                 model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ROC and precision-recall points, one-vs-rest per class (binary: the positive class only).

    Classes absent from ``y`` (or making up all of it) have no curve.
    """
    import numpy as np
    import pandas as pd
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    roc_rows, pr_rows = [], []
    indices = [1] if len(classes) == 2 else range(len(classes))
    for i in indices:
        c = classes[i]
        positive = np.asarray(y == c)
        if not 0 < positive.sum() < len(y):
            continue
        fpr, tpr, _ = roc_curve(positive, proba[:, i])
        precision, recall, _ = precision_recall_curve(positive, proba[:, i])
        roc_auc, ap = auc(fpr, tpr), average_precision_score(positive, proba[:, i])
        roc_rows.append(pd.DataFrame({"model": model, "class": str(c), "x": fpr, "y": tpr, "area": roc_auc}))
        pr_rows.append(pd.DataFrame({"model": model, "class": str(c), "x": recall, "y": precision, "area": ap}))
    empty = pd.DataFrame(columns=["model", "class", "x", "y", "area"])
    return (pd.concat(roc_rows) if roc_rows else empty), (pd.concat(pr_rows) if pr_rows else empty)


def calibration_points(y: np.ndarray, proba: np.ndarray, classes: Sequence[Any], model: str,
                       bins: int = 10) -> pd.DataFrame:
    """Reliability curve: binary — positive-class probability; multiclass — top-class confidence.

    Returns rows (model, mean_predicted, fraction_positive, count) for non-empty bins.
    """
    import numpy as np
    import pandas as pd

    if len(classes) == 2:
        score, hit = proba[:, 1], np.asarray(y == classes[1], dtype=float)
    else:
        top = proba.argmax(axis=1)
        score = proba[np.arange(len(top)), top]
        hit = np.asarray(np.asarray(classes, dtype=object)[top] == np.asarray(y, dtype=object), dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(score, edges[1:-1]), 0, bins - 1)
    rows = [
        {"model": model, "mean_predicted": float(score[which == b].mean()),
         "fraction_positive": float(hit[which == b].mean()), "count": int((which == b).sum())}
        for b in range(bins) if (which == b).any()
    ]
    return pd.DataFrame(rows, columns=["model", "mean_predicted", "fraction_positive", "count"])


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """MSE, RMSE, MAE and R² (R² is NaN for fewer than two rows)."""
    from sklearn import metrics as skm

    mse = float(skm.mean_squared_error(y, pred))
    return {"mse": mse, "rmse": math.sqrt(mse), "mae": float(skm.mean_absolute_error(y, pred)),
            "r2": float(skm.r2_score(y, pred)) if len(y) > 1 else math.nan}


def resource_figures(model: Any, X: pd.DataFrame, *, single_calls: int = 30, batch_rows: int = 1000,
                     batch_calls: int = 3) -> dict[str, float]:
    """Serialized size (pickle bytes), single-row p50 latency and 1k-row batch latency (median).

    The batch is drawn with replacement from ``X`` so that small evaluation sets still
    measure a full 1,000-row call.
    """
    import numpy as np

    size = len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    row = X.iloc[[0]]
    model.predict(row)  # warm-up: first calls pay lazy initialisation
    single = []
    for _ in range(single_calls):
        t0 = time.perf_counter()
        model.predict(row)
        single.append((time.perf_counter() - t0) * 1000)
    batch_frame = X.sample(n=batch_rows, replace=True, random_state=0)
    batch = []
    for _ in range(batch_calls):
        t0 = time.perf_counter()
        model.predict(batch_frame)
        batch.append((time.perf_counter() - t0) * 1000)
    return {"size_bytes": float(size), "latency_single_ms_p50": float(np.median(single)),
            "latency_batch_1k_ms": float(np.median(batch))}


def permutation_importances(model: Any, X: pd.DataFrame, y: pd.Series, model_label: str, *,
                            n_repeats: int = 3, max_rows: int = 300, seed: int = 0) -> pd.DataFrame:
    """Permutation importance of each raw feature column on at most ``max_rows`` sampled rows.

    Uses the model's own ``score`` (accuracy or R²), so it works for every family.
    """
    import pandas as pd
    from sklearn.inspection import permutation_importance

    if len(X) > max_rows:
        X = X.sample(n=max_rows, random_state=seed)
        y = y.loc[X.index]
    result = permutation_importance(model, X, y, n_repeats=n_repeats, random_state=seed, n_jobs=1)
    return pd.DataFrame({
        "model": model_label, "feature": list(X.columns),
        "importance": result.importances_mean, "std": result.importances_std,
    }).sort_values("importance", ascending=False, ignore_index=True)


def training_time(metrics: dict[str, float]) -> float | None:
    """The fit time a training run logged, under any of :data:`TRAINING_TIME_KEYS`."""
    for key in TRAINING_TIME_KEYS:
        if key in metrics:
            return float(metrics[key])
    return None
