""""Save label set": one MLflow run (stage ``label``) holding everything about the labels."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import LabelError
from core.label.labellog import CurvePoint, LabelLog
from core.label.session import labelled_table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.tracking import Tracker
    from core.tracking.datasets import DatasetVersion


@dataclass(frozen=True)
class SavedLabelSet:
    run_id: str
    version: DatasetVersion
    labelled: int
    counts: Mapping[str, int]


def _metric_key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-/ ]+", "_", str(name))[:200] or "_"


def save_label_set(
    tracker: Tracker,
    project: str,
    source: DatasetVersion,
    frame: pd.DataFrame,
    label_column: str,
    labels: Mapping[int, str],
    *,
    log: LabelLog,
    classes: Sequence[str],
    features: Sequence[str],
    strategy: str,
    learner: str,
    curve: Sequence[CurvePoint] = (),
    embedding: Path | None = None,
    name: str | None = None,
    only_labelled: bool = True,
) -> SavedLabelSet:
    """Write the label set as an MLflow ``label`` run with lineage to ``source``.

    The run holds: the labelled table as a new dataset version ``<dataset>-labels`` (only the
    labelled rows by default; target = the label column), the label log and learning curve
    files, per-class counts as metrics, the learning curve as step metrics
    (``label_accuracy`` at step = number of labels), strategy / learner / features as params,
    and the map embedding when one is given.

    Raises:
        LabelError: no labels yet.
    """
    from core.tracking.datasets import load_split, log_dataset_version

    if not labels:
        raise LabelError("There are no labels to save yet; label some rows from the queue or the map first.")
    table = labelled_table(frame, label_column, labels, only_labelled=only_labelled)
    split = _kept_split(load_split(tracker, source.run_id), len(frame), labels, only_labelled)
    if split is None:  # every version keeps a held-out part: split the labelled table itself (nothing learned yet)
        split = _own_split(table, label_column)
    counts = {c: 0 for c in classes}
    for v in labels.values():
        counts[v] = counts.get(v, 0) + 1
    params = {"strategy": strategy, "learner": learner, "label_column": label_column,
              "classes": ",".join(map(str, counts))[:500], "features": ",".join(features)[:500],
              "n_features": len(features), "only_labelled_rows": only_labelled,
              "source_dataset": source.ref}
    with tracker.stage_run(project, "label", name=f"label {source.ref}", inputs=[source.run_id],
                           params=params) as run_id:
        version = log_dataset_version(tracker, run_id, project, table, name or f"{source.name}-labels",
                                      split=split, target=label_column, source=f"label:{source.run_id}")
        for path in (log.path, log.curve_path, log.session_path):
            if path.exists():
                tracker.log_file(run_id, path, "labels")
        if embedding is not None and Path(embedding).exists():
            tracker.log_file(run_id, embedding, "embedding")
        metrics: dict[str, float] = {"labels_total": float(len(labels)),
                                     "rows_unlabelled": float(len(frame) - len(labels))}
        metrics.update({f"labels.{_metric_key(c)}": float(n) for c, n in counts.items()})
        tracker.log_metrics(run_id, metrics)
        rows: list[tuple[str, float, int]] = [("label_accuracy", p.accuracy, p.labels) for p in curve]
        if rows:
            tracker.log_metric_rows(run_id, rows)
    return SavedLabelSet(run_id, version, len(labels), counts)


def _kept_split(split: pd.Series | None, rows: int, labels: Mapping[int, str], only_labelled: bool) -> pd.Series | None:
    """The source version's train / test split for the rows the label set keeps (Tune trains on train,
    Compare and the gate evaluate on test), or None when the source has none or a part would be empty."""
    if split is None or len(split) != rows:
        return None
    kept = split if not only_labelled else split.iloc[[i for i in range(rows) if labels.get(i) is not None]]
    kept = kept.reset_index(drop=True)
    return kept if {"train", "test"} <= set(kept) else None


def _own_split(table: pd.DataFrame, label_column: str) -> pd.Series | None:
    """A stratified 80/20 split of the label set (random when a class is too small); None below 5 rows."""
    from core.data.prepare import split_rows

    return split_rows(table, label_column, "stratified") if len(table) >= 5 else None


def session_meta(**fields: Any) -> dict[str, Any]:
    """The set-up worth keeping next to the log (classes typed for a new column, features…)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}


def random_baseline(tracker: Tracker, project: str, dataset_run_id: str) -> list[CurvePoint]:
    """The random-sampling curve of the newest ``label-sim`` run on this dataset version ([] when none)."""
    from core.errors import WorkbenchError

    try:
        runs = tracker.runs(project, "label", filter_string="tags.`workbench.label.kind` = 'simulation'",
                            max_results=50)
        run = next((r for r in runs if dataset_run_id in r.inputs), None)
        if run is None:
            return []
        data = tracker.load_json(run.run_id, "simulation.json")
    except WorkbenchError:
        return []
    try:
        return [CurvePoint(int(p["labels"]), float(p["accuracy"])) for p in data.get("random", [])]
    except (KeyError, TypeError, ValueError, AttributeError):
        return []
