"""Evaluate several models on one table: metrics, curves, resources, importances, fairness.

Two layers, so tests can hand in fitted models directly:

* :func:`evaluate_fitted` — pure computation on ``{label: fitted model}`` and a frame;
* :func:`evaluate_models` — loads registered versions from MLflow, checks their feature
  columns against the table, reads training times from their runs, then calls the former.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.compare import measures
from core.errors import CompareError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Evaluation:
    """Everything the side-by-side view shows, for models evaluated on the same rows.

    Tables are long-format DataFrames with a ``model`` column where several models share one.
    ``metrics`` and ``resources`` have one row per metric and one column per model.
    """

    task: str
    target: str
    models: tuple[str, ...]
    rows: int
    metrics: pd.DataFrame
    resources: pd.DataFrame
    best: Mapping[str, str]
    per_class: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    confusion: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    roc: pd.DataFrame | None = None
    pr: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    residuals: pd.DataFrame | None = None
    importances: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    # Kept for per-group analyses without re-predicting (aligned with ``index``).
    index: Any = None
    y_true: Any = None
    predictions: Mapping[str, Any] = field(default_factory=dict)
    probabilities: Mapping[str, Any] = field(default_factory=dict)  # model -> class probabilities (classifiers)
    classes: Mapping[str, Any] = field(default_factory=dict)  # model -> its classes_ (the probability columns)
    costs: Mapping[str, Any] = field(default_factory=dict)  # model -> the charter's cost of each prediction

    def score(self, model: str, metric: str) -> float:
        """One model's value of ``metric``; CompareError naming the available metrics otherwise."""
        if metric not in self.metrics.index:
            raise CompareError(f"The metric {metric!r} is not available for this {self.task} evaluation. "
                               f"Choose one of: {', '.join(self.metrics.index)}.")
        return float(self.metrics.loc[metric, model])

    def metrics_dict(self) -> dict[str, dict[str, float | None]]:
        """``{model: {metric: value}}`` of metrics and resources (NaN as None), for JSON."""
        table = self._all()
        return {m: {k: (None if _isnan(v) else float(v)) for k, v in table[m].items()} for m in self.models}

    def _all(self) -> pd.DataFrame:
        import pandas as pd

        if self.resources.empty:
            return self.metrics
        return pd.concat([self.metrics, self.resources])


@dataclass(frozen=True)
class Fairness:
    """A metric per group of one column, and the largest gap between groups."""

    column: str
    metric: str
    table: pd.DataFrame  # index = group; columns = models + "rows"
    gaps: Mapping[str, float]  # model -> max - min over groups
    largest_gap_model: str
    largest_gap: float
    worst_group: str  # the group where the largest-gap model does worst
    note: str = ""


def _isnan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def best_per_metric(table: pd.DataFrame) -> dict[str, str]:
    """Column (model) with the best value on each row (metric), direction-aware; ties → first."""
    best: dict[str, str] = {}
    for metric, row in table.iterrows():
        values = row.dropna()
        if values.empty or len(table.columns) < 2:
            continue
        best[str(metric)] = str(values.idxmax() if measures.higher_is_better(str(metric)) else values.idxmin())
    return best


def _sorted_labels(values: Sequence[Any]) -> list[Any]:
    return sorted(set(values), key=lambda v: (str(type(v)), str(v)))


def evaluate_fitted(
    models: Mapping[str, Any],
    frame: pd.DataFrame,
    target: str,
    *,
    task: str | None = None,
    training_times: Mapping[str, float | None] | None = None,
    importance: bool = True,
    resources: bool = True,
    on_progress: Progress | None = None,
) -> Evaluation:
    """Evaluate fitted pipelines (each takes the raw feature columns) on ``frame``.

    Args:
        models: ``{label: fitted model}``; labels become column names.
        frame: evaluation table with the target and every model's feature columns.
        target: target column; rows where it is missing are dropped.
        task: ``classification`` / ``regression``; inferred from the target when None.
        training_times: seconds per label, when the training run logged one.

    Raises:
        CompareError: no model, missing target, or no labelled row.
    """
    import numpy as np
    import pandas as pd

    from core.models import infer_task

    if not models:
        raise CompareError("Pick at least one model to evaluate.")
    if target not in frame.columns:
        raise CompareError(f"The target column {target!r} is not in the evaluation table; pick a dataset version "
                           "that has the column the models were trained to predict.")
    data = frame[frame[target].notna()]
    if data.empty:
        raise CompareError(f"The evaluation table has no row with a value in the target column {target!r}.")
    y_series = data[target]
    task = task or infer_task(y_series)
    y = y_series.to_numpy()
    say = on_progress or (lambda _msg: None)
    labels = list(models)
    notes: list[str] = []
    metric_cols: dict[str, dict[str, float]] = {}
    resource_cols: dict[str, dict[str, float]] = {}
    predictions: dict[str, np.ndarray] = {}
    probabilities: dict[str, np.ndarray] = {}
    class_lists: dict[str, list] = {}
    per_class, confusion = {}, {}
    rocs, prs, calibs, resids, imps = [], [], [], [], []
    X = data.drop(columns=[target])
    clf = task == "classification"
    if clf and len(set(y)) < 2:
        notes.append(f"The evaluation set holds a single class ({y[0]!r}): ROC and precision-recall curves "
                     "and ROC AUC are omitted. Pick a larger or different dataset version to see them.")
    for label, model in models.items():
        say(f"Predicting with {label}…")
        pred = np.asarray(model.predict(X))
        predictions[label] = pred
        if clf:
            proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
            classes = list(getattr(model, "classes_", []))
            if proba is not None:
                probabilities[label], class_lists[label] = proba, classes
            m, extra = measures.classification_metrics(y, pred, proba, classes)
            notes.extend(f"{label}: {n}" for n in extra)
            metric_cols[label] = m
            per_class[label] = measures.per_class_table(y, pred, _sorted_labels(list(y)))
            if proba is not None and len(set(y)) >= 2:
                roc, pr = measures.curve_points(y, proba, classes, label)
                rocs.append(roc)
                prs.append(pr)
            if proba is not None:
                calibs.append(measures.calibration_points(y, proba, classes, label))
        else:
            metric_cols[label] = measures.regression_metrics(y.astype(float), pred.astype(float))
            resids.append(pd.DataFrame({"model": label, "actual": y.astype(float), "predicted": pred.astype(float),
                                        "residual": y.astype(float) - pred.astype(float)}))
        if resources:
            say(f"Timing {label}…")
            res = measures.resource_figures(model, X)
            res["training_time_s"] = (training_times or {}).get(label) or math.nan
            resource_cols[label] = res
        if importance:
            say(f"Permutation importance of {label}…")
            imps.append(measures.permutation_importances(model, X, y_series, label))
    if clf:
        everything = _sorted_labels([*y, *[p for arr in predictions.values() for p in arr]])
        for label, pred in predictions.items():
            from sklearn.metrics import confusion_matrix

            cm = confusion_matrix(y, pred, labels=everything)
            names = [str(c) for c in everything]
            confusion[label] = pd.DataFrame(cm, index=pd.Index(names, name="actual"),
                                            columns=pd.Index(names, name="predicted"))
    metrics_table = pd.DataFrame(metric_cols)[labels]
    resource_table = pd.DataFrame(resource_cols)[labels] if resource_cols else pd.DataFrame(columns=labels)
    if resource_cols and resource_table.loc["training_time_s"].isna().all():
        resource_table = resource_table.drop(index="training_time_s")
        notes.append("Training time is not shown: none of the training runs logged one.")
    best = {**best_per_metric(metrics_table), **best_per_metric(resource_table)}

    def cat(parts: list[pd.DataFrame]) -> pd.DataFrame | None:
        parts = [p for p in parts if not p.empty]
        return pd.concat(parts, ignore_index=True) if parts else None

    return Evaluation(
        task=task, target=target, models=tuple(labels), rows=len(data), metrics=metrics_table,
        resources=resource_table, best=best, per_class=per_class, confusion=confusion, roc=cat(rocs), pr=cat(prs),
        calibration=cat(calibs), residuals=cat(resids), importances=cat(imps), notes=tuple(notes),
        index=data.index, y_true=y, predictions=predictions, probabilities=probabilities, classes=class_lists,
    )


def model_features(mv: ModelVersionInfo) -> list[str]:
    """Raw feature columns a registered version reads (tag ``workbench.features``)."""
    try:
        return list(json.loads(mv.tags["workbench.features"]))
    except (KeyError, ValueError) as err:
        raise CompareError(f"{mv.label} has no workbench.features tag, so its input columns are unknown; "
                           "register models through Tune or Label.") from err


def check_features(versions: Sequence[ModelVersionInfo], frame: pd.DataFrame, target: str) -> None:
    """Every model's features and the target must be columns of ``frame``.

    Raises:
        CompareError: naming each model and the columns it misses.
    """
    problems = []
    for mv in versions:
        missing = [c for c in model_features(mv) if c not in frame.columns]
        if missing:
            problems.append(f"{mv.label} needs {', '.join(map(repr, missing[:8]))}"
                            + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
    if problems:
        raise CompareError("The evaluation data lacks columns the models were trained on: " + "; ".join(problems)
                           + ". Pick a dataset version with the same columns.")
    if target not in frame.columns:
        raise CompareError(f"The evaluation data has no target column {target!r}; pick a labelled dataset version.")


def common_target(versions: Sequence[ModelVersionInfo]) -> tuple[str, str | None]:
    """The target (and task) all versions were trained on; CompareError when they differ."""
    targets = {mv.tags.get("workbench.target", "") for mv in versions}
    if len(targets) != 1 or "" in targets:
        shown = ", ".join(f"{mv.label}: {mv.tags.get('workbench.target') or '?'}" for mv in versions)
        raise CompareError(f"Models can only be compared when they predict the same target. Got {shown}.")
    tasks = {mv.tags.get("workbench.task") for mv in versions} - {None}
    return targets.pop(), (tasks.pop() if len(tasks) == 1 else None)


def load_models(tracker: Tracker, versions: Sequence[ModelVersionInfo]) -> dict[str, Any]:
    """``{label: fitted model}`` for registered versions (label ``vN``)."""
    from core.tracking.models import load_sklearn_model

    return {f"v{mv.version}": load_sklearn_model(tracker, mv) for mv in versions}


def training_time_of(tracker: Tracker, mv: ModelVersionInfo) -> float | None:
    """Seconds the version took to train: from its run, else from its Tune trial's child run.

    Tune registers the refit best model in the study's parent run and records each trial's
    duration (cross-validation included) in a child run tagged ``optuna.trial_number``.
    """
    from core.errors import WorkbenchError

    try:
        found = measures.training_time(dict(tracker.get_run(mv.run_id).metrics))
        trial = mv.tags.get("workbench.trial")
        if found is None and trial is not None and trial.isdigit():
            flt = (f"tags.`mlflow.parentRunId` = '{mv.run_id}' and tags.`optuna.trial_number` = '{trial}'")
            # the study's own experiment (not one named after the registered model: that would create it)
            exp = tracker.client.get_run(mv.run_id).info.experiment_id
            children = tracker.client.search_runs([exp], filter_string=flt, max_results=1)
            if children:
                found = measures.training_time(dict(children[0].data.metrics))
    except (WorkbenchError, Exception):  # noqa: BLE001 - a deleted training run only loses the training time
        return None
    return found


def evaluate_models(
    tracker: Tracker,
    versions: Sequence[ModelVersionInfo],
    frame: pd.DataFrame,
    target: str | None = None,
    *,
    importance: bool = True,
    resources: bool = True,
    on_progress: Progress | None = None,
) -> Evaluation:
    """Load registered versions and evaluate them on ``frame`` (labels ``v3``, ``v5``…).

    Raises:
        CompareError: duplicate versions, different targets, or columns missing from ``frame``.
    """
    if len({mv.version for mv in versions}) != len(versions):
        raise CompareError("Each model version can be picked only once.")
    tagged_target, task = common_target(versions)
    target = target or tagged_target
    check_features(versions, frame, target)
    say = on_progress or (lambda _msg: None)
    say(f"Loading {len(versions)} model version(s) from the registry…")
    models = load_models(tracker, versions)
    times = {f"v{mv.version}": training_time_of(tracker, mv) for mv in versions}
    return evaluate_fitted(models, frame, target, task=task, training_times=times, importance=importance,
                           resources=resources, on_progress=on_progress)


def fairness(evaluation: Evaluation, groups: pd.Series, metric: str | None = None, max_groups: int = 20) -> Fairness:
    """``metric`` of every model per group of ``groups`` (aligned with the evaluated frame's index).

    Numeric columns with more than ``max_groups`` values are cut into quartiles.
    Classification metrics: accuracy, f1_macro; regression: mae, rmse.

    Raises:
        CompareError: unknown metric, or a column with a single group.
    """
    import numpy as np
    import pandas as pd
    from sklearn import metrics as skm

    allowed = ("accuracy", "f1_macro") if evaluation.task == "classification" else ("mae", "rmse")
    metric = metric or allowed[0]
    if metric not in allowed:
        raise CompareError(f"The fairness metric must be one of {', '.join(allowed)} for {evaluation.task}. "
                           f"Got {metric!r} instead.")
    name = str(groups.name)
    g = groups.loc[evaluation.index]
    note = ""
    if pd.api.types.is_numeric_dtype(g) and g.nunique() > max_groups:
        g = pd.qcut(g, 4, duplicates="drop").astype(str)
        note = f"{name} is numeric with many values; its rows were grouped into quartiles."
    g = g.astype(str).where(g.notna(), "(missing)").to_numpy()
    uniq = sorted(set(g))
    if len(uniq) < 2:
        raise CompareError(f"The column {name!r} has a single group ({uniq[0] if uniq else 'none'}) in the evaluation "
                           "rows, so there is nothing to compare between groups; pick another column.")
    if len(uniq) > max_groups:
        raise CompareError(f"The column {name!r} has {len(uniq)} groups; pick a column with at most {max_groups}.")

    def score(yt: np.ndarray, yp: np.ndarray) -> float:
        if metric == "accuracy":
            return float(skm.accuracy_score(yt, yp))
        if metric == "f1_macro":
            return float(skm.f1_score(yt, yp, average="macro", zero_division=0))
        err = yt.astype(float) - yp.astype(float)
        return float(np.abs(err).mean()) if metric == "mae" else float(np.sqrt((err ** 2).mean()))

    y = evaluation.y_true
    table = pd.DataFrame(
        {m: [score(y[g == grp], evaluation.predictions[m][g == grp]) for grp in uniq] for m in evaluation.models},
        index=pd.Index(uniq, name=name),
    )
    table["rows"] = [int((g == grp).sum()) for grp in uniq]
    gaps = {m: float(table[m].max() - table[m].min()) for m in evaluation.models}
    worst_model = max(gaps, key=lambda m: gaps[m])
    col = table[worst_model]
    worst_group = str(col.idxmin() if measures.higher_is_better(metric) else col.idxmax())
    return Fairness(name, metric, table, gaps, worst_model, gaps[worst_model], worst_group, note)
