"""Monitor's flows as one call each: the page, ``python -m core monitor`` and the pipeline share them.

* :func:`scoring_rows` — which reference and current rows the model may be scored on (held out);
* :func:`check_and_record` — replay the recipe, run the check with the charter, record it;
* :func:`timeline_and_record` — drift (and quality, autoencoder, fairness, cost) per period, recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.models import FeatureSpec
    from core.monitor.check import MonitorResult, Table
    from core.monitor.drift import DriftOptions
    from core.monitor.timeline import Timeline
    from core.plan.charter import Charter
    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo


@dataclass(frozen=True)
class ScoringRows:
    """The rows a model's quality is scored on: never rows it was trained on."""

    reference: pd.DataFrame | None  # None: no model, score nothing
    current: pd.DataFrame | None
    notes: tuple[str, ...] = ()


def scoring_rows(tracker: Tracker | None, reference: Table, current: pd.DataFrame,
                 model_version: ModelVersionInfo | None, target: str) -> ScoringRows:
    """The reference's held-out rows for the baseline and the current rows the model did not learn."""
    from core.monitor.heldout import held_out_reference, without_training_rows

    if model_version is None:
        return ScoringRows(None, None)
    base = held_out_reference(tracker, reference, model_version, target)
    cur = without_training_rows(tracker, current, model_version, target)
    return ScoringRows(base.frame, cur.frame, tuple(n for n in (base.note, cur.note) if n))


@dataclass(frozen=True)
class ModelInput:
    """A model to score, with what it reads and predicts."""

    version: ModelVersionInfo
    model: Any
    spec: FeatureSpec
    target: str
    task: str

    @classmethod
    def of(cls, version: ModelVersionInfo, model: Any, default_target: str = "") -> ModelInput:
        from core.models import spec_from_tags

        return cls(version, model, spec_from_tags(version.tags), version.tags.get("workbench.target", default_target),
                   version.tags.get("workbench.task", ""))


@dataclass(frozen=True)
class CheckRun:
    result: MonitorResult
    run_id: str
    current: Table  # the batch as checked (after the recipe)


def check_and_record(tracker: Tracker, project: str, reference: Table, current: Table, *,
                     options: DriftOptions, model: ModelInput | None = None, multivariate: bool = True,
                     max_quality_drop: float = 0.05, charter: Charter | None = None,
                     thresholds_from: str = "the defaults", file_time: float | None = None,
                     on_progress: Callable[[str], None] | None = None) -> CheckRun:
    """The page's *Run the check*: recipe replay, the check (held-out scoring, charter findings), the run.

    Raises:
        MonitorError: the schema check blocks every test (no rows, no column shared with the reference).
    """
    from core.monitor.check import Table as T
    from core.monitor.check import prepare_current, record_check, run_check

    say = on_progress or (lambda _m: None)
    frame, note = prepare_current(tracker, reference.run_id, current.frame, raw=current.run_id == "")
    say(note)
    target = model.target if model else reference.target
    rows = scoring_rows(tracker, reference, frame, model.version if model else None, target)
    if file_time is None and current.run_id:  # a version has no file: when it was saved stands in
        file_time = tracker.get_run(current.run_id).start_time / 1000
    result = run_check(reference.frame, frame, options=options, model=model.model if model else None,
                       spec=model.spec if model else None, target=target, task=model.task if model else "",
                       multivariate=multivariate, max_quality_drop=max_quality_drop,
                       quality_reference=rows.reference, quality_current=rows.current, charter=charter,
                       file_time=file_time, thresholds_from=thresholds_from, notes=[note, *rows.notes],
                       on_progress=say)
    if result.schema.blocking:  # nothing was tested: no verdict to show, no run to record
        from core.errors import MonitorError

        raise MonitorError(result.schema.blocking_sentence())
    checked = T(frame, current.label, current.run_id)
    run_id = record_check(tracker, project, result, reference=reference, current=checked,
                          model_run=model.version.run_id if model else "",
                          model_label=model.version.label if model else "")
    return CheckRun(result, run_id, checked)


def timeline_and_record(tracker: Tracker, project: str, table: Table, time_column: str, freq: str, *,
                        options: DriftOptions, model: ModelInput | None = None, charter: Charter | None = None,
                        autoencoder: bool = True,
                        on_progress: Callable[[int, int, str], None] | None = None) -> tuple[Timeline, str]:
    """Drift per period of ``table`` (quality, fairness and cost on its held-out rows only), recorded."""
    from core.monitor.check import record_timeline
    from core.monitor.heldout import held_out_reference
    from core.monitor.timeline import drift_timeline

    scored = None
    if model is not None:
        scored = held_out_reference(tracker, table, model.version, model.target).frame.index
    timeline = drift_timeline(table.frame, time_column, freq, options=options, model=model.model if model else None,
                              spec=model.spec if model else None,
                              target=(model.target if model else table.target) or None,
                              task=model.task if model else None, scored_index=scored, charter=charter,
                              autoencoder=autoencoder, on_progress=on_progress)
    run_id = record_timeline(tracker, project, timeline, source=table,
                             model_run=model.version.run_id if model else "")
    return timeline, run_id


def raw_table(tracker: Tracker, run_id: str) -> tuple[pd.DataFrame | None, str]:
    """The table in the units it was uploaded in: the raw version a cleaned version's recipe was fitted on.

    Returns (frame, "") — or (None, a sentence) when there is no raw version to show; a version saved
    without a cleaning recipe is in its raw units already, so it is returned as it is. A label set or a
    retraining set keeps an upstream version's recipe but not its rows: the upstream raw table is not
    *its* raw table, so it has none.
    """
    from core.data.versions import find_recipe, raw_input_of
    from core.tracking.datasets import DatasetVersion, load_dataset

    if not run_id:
        return None, "The table is a file, so it has no stored raw version."
    source = find_recipe(tracker, run_id)
    if source is None:
        return load_dataset(tracker, run_id), ""
    if source.version_run_id != run_id:
        label = DatasetVersion.from_run(tracker.get_run(run_id)).label
        return None, (f"{label} was made from {source.version_label} without a raw version of its own rows, "
                      "so only the cleaned view exists.")
    raw = raw_input_of(tracker, source.version_run_id)
    if raw is None:
        return None, f"{source.version_label} has no raw version stored, so only the cleaned view exists."
    return load_dataset(tracker, raw), ""
