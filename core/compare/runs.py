"""The project's runs as one table: filter, sort, and show only the params that differ.

MLflow's run list cannot hide identical params (mlflow#10477, #4819); here
:func:`differing_params` does, on a frame with ``params.*`` / ``metrics.*`` / ``tags.*`` columns
(the same naming as ``mlflow.search_runs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.compare.measures import higher_is_better
from core.errors import CompareError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.tracking import RunSummary, Tracker

BASE_COLUMNS = ("run_id", "name", "stage", "status", "start", "family", "data_version", "inputs")
_HIDDEN_TAGS = ("mlflow.", "workbench.inputs", "workbench.project")


def runs_frame(runs: Sequence[RunSummary]) -> pd.DataFrame:
    """One row per run: base columns, then ``params.*``, ``metrics.*`` and ``tags.*`` (MLflow system tags left out)."""
    import pandas as pd

    rows = []
    for r in runs:
        row = {
            "run_id": r.run_id,
            "name": r.name,
            "stage": r.stage,
            # a pruned trial is an MLflow KILLED run (MLflow has no "pruned"); say what happened
            "status": "PRUNED" if r.tags.get("optuna.state") == "PRUNED" else r.status,
            "start": pd.to_datetime(r.start_time, unit="ms"),
            "family": r.tags.get("workbench.family") or r.params.get("family", ""),
            "data_version": r.tags.get("workbench.data_version", ""),
            "inputs": ",".join(r.inputs),
        }
        row.update({f"params.{k}": v for k, v in r.params.items()})
        row.update({f"metrics.{k}": v for k, v in r.metrics.items()})
        row.update({f"tags.{k}": v for k, v in r.tags.items() if not k.startswith(_HIDDEN_TAGS)})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else list(BASE_COLUMNS))
    ordered = [c for c in BASE_COLUMNS if c in frame.columns]
    for prefix in ("params.", "metrics.", "tags."):
        ordered += sorted(c for c in frame.columns if c.startswith(prefix))
    return frame[ordered]


def filter_runs(
    frame: pd.DataFrame,
    *,
    stage: str | None = None,
    data_version: str | None = None,
    family: str | None = None,
    tag: str | None = None,
) -> pd.DataFrame:
    """Rows matching every given filter.

    ``data_version`` is a dataset run id matched against the run's lineage inputs and its
    ``workbench.data_version`` tag; ``tag`` is ``key=value`` (or ``key`` to require the tag).
    """
    mask = frame["run_id"].notna()
    if stage:
        mask &= frame["stage"] == stage
    if data_version:
        mask &= (frame["data_version"] == data_version) | frame["inputs"].str.split(",").map(
            lambda ids: data_version in ids)
    if family:
        mask &= frame["family"] == family
    if tag:
        key, sep, value = tag.partition("=")
        col = f"tags.{key.strip()}"
        if col not in frame.columns:
            return frame.iloc[0:0]
        mask &= frame[col].notna() if not sep else frame[col].astype(str) == value.strip()
    return frame[mask]


def sort_runs(frame: pd.DataFrame, metric: str, ascending: bool | None = None) -> pd.DataFrame:
    """Sort by ``metric`` (``metrics.`` prefix optional), best first unless ``ascending`` is given.

    Raises:
        CompareError: no run logged that metric.
    """
    col = metric if metric.startswith("metrics.") else f"metrics.{metric}"
    if col not in frame.columns:
        known = ", ".join(c.removeprefix("metrics.") for c in frame.columns if c.startswith("metrics.")) or "none"
        raise CompareError(f"No run logged the metric {metric!r}; metrics logged: {known}.")
    if ascending is None:
        ascending = not higher_is_better(col.removeprefix("metrics."))
    return frame.sort_values(col, ascending=ascending, na_position="last")


def differing_param_columns(frame: pd.DataFrame) -> list[str]:
    """``params.*`` columns whose value is not the same on every row (a missing value counts as a value)."""
    cols = []
    for c in frame.columns:
        if c.startswith("params."):
            values = frame[c].astype(object).where(frame[c].notna(), "<missing>")
            if values.nunique(dropna=False) > 1:
                cols.append(c)
    return cols


def differing_params(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the ``params.*`` columns that are identical on every row."""
    keep = set(differing_param_columns(frame))
    return frame[[c for c in frame.columns if not c.startswith("params.") or c in keep]]


def runs_table(
    tracker: Tracker,
    project: str,
    stage: str | None = None,
    *,
    data_version: str | None = None,
    family: str | None = None,
    tag: str | None = None,
    sort_by: str | None = None,
    only_differing: bool = False,
    max_results: int = 2000,
) -> pd.DataFrame:
    """The project's runs (newest first, or best first by ``sort_by``) with the given filters."""
    frame = runs_frame(tracker.runs(project, stage=stage, max_results=max_results))
    frame = filter_runs(frame, data_version=data_version, family=family, tag=tag)
    if sort_by:
        frame = sort_runs(frame, sort_by)
    return differing_params(frame) if only_differing else frame


def numeric_params(frame: pd.DataFrame) -> pd.DataFrame:
    """``params.*`` columns that parse as numbers (for parallel coordinates), as floats."""
    import pandas as pd

    out = {}
    for c in frame.columns:
        if c.startswith("params."):
            values = pd.to_numeric(frame[c], errors="coerce")
            if values.notna().sum() >= max(2, int(0.5 * frame[c].notna().sum())) and values.nunique() > 1:
                out[c.removeprefix("params.")] = values
    return pd.DataFrame(out, index=frame.index)


STUDY_COLUMN = "tags.optuna.study_name"  # Tune's study runs and their trials carry it (core.tracking.tune)


def chart_groups(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """The groups a parallel-coordinates chart can cover, largest first: ``{label: (kind, value)}``.

    One model family, or one study, at a time: each family has its own parameters, so a chart of every
    run puts most axes at "missing" (issue 20). Labels read ``family rf (12 runs)`` / ``study … (30 runs)``;
    only groups of at least two runs are offered.
    """
    found: list[tuple[int, str, tuple[str, str]]] = []
    for kind, column in (("family", "family"), ("study", STUDY_COLUMN)):
        if column not in frame.columns:
            continue
        counts = frame[column].replace("", None).dropna().value_counts()
        for value, n in counts.items():
            if n >= 2:
                found.append((int(n), f"{kind} {value} ({n} runs)", (kind, str(value))))
    found.sort(key=lambda item: (-item[0], item[1]))
    return {label: key for _n, label, key in found}


def group_runs(frame: pd.DataFrame, group: tuple[str, str]) -> pd.DataFrame:
    """The rows of one :func:`chart_groups` group."""
    kind, value = group
    column = "family" if kind == "family" else STUDY_COLUMN
    if column not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame[column].astype(str) == value]


def metric_values(group: pd.DataFrame, metric: str) -> int:
    """How many runs of ``group`` carry ``metric``."""
    values = group.get(f"metrics.{metric}")
    return 0 if values is None else int(values.notna().sum())


def chart_metric(group: pd.DataFrame, metrics: list[str], preferred: str) -> str:
    """The metric a group's chart is coloured by at first: ``preferred`` when at least two of its runs carry
    it, else the first of ``metrics`` that does (a study's ``best_cv_*`` is on its parent run only, its
    trials carry ``cv_*``), else ``preferred`` (or the first metric) so the page can say why nothing is drawn."""
    for metric in [preferred, *metrics]:
        if metric in metrics and metric_values(group, metric) >= 2:
            return metric
    return preferred if preferred in metrics else metrics[0]
