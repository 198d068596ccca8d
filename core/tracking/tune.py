"""MLflow records of Optuna trials: one finished child run per trial, written in one batch.

A trial's child run is created *after* the trial has finished, with the trial's
real start and end times, so a crashed worker never leaves a half-written child
behind and "exactly one child per finished trial" is easy to keep: whoever logs a
trial first checks :func:`trial_children` for it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from core.tracking.context import run_context_tags
from core.tracking.tracker import INPUTS_TAG, PROJECT_TAG, STAGE_TAG, Tracker, _MAX_PARAM

TRIAL_NUMBER_TAG = "optuna.trial_number"
STUDY_NAME_TAG = "optuna.study_name"
STATE_TAG = "optuna.state"
MESSAGE_TAG = "optuna.message"
# Optuna state -> MLflow run status. MLflow has no "pruned": a pruned trial ended as designed, so it is
# FINISHED (KILLED reads as a failure in the MLflow UI), told apart by the optuna.state tag and its run name.
RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}


def trial_run_name(study_name: str, number: int, state: str) -> str:
    """``<study>-trial-7``, with `` (pruned)`` for a pruned trial."""
    return f"{study_name}-trial-{number}" + (" (pruned)" if state == "PRUNED" else "")


def log_trial_run(
    tracker: Tracker,
    *,
    project: str,
    parent_run_id: str,
    study_name: str,
    number: int,
    state: str,
    params: Mapping[str, Any],
    metric_rows: Sequence[tuple[str, float, int]],
    start_ms: int,
    end_ms: int,
    message: str = "",
    inputs: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
) -> str:
    """Create the finished child run of one trial (params, metrics, tags in one ``log_batch``)."""
    from mlflow.entities import Metric, Param, RunTag

    exp_id = tracker.ensure_project(project)
    all_tags = {
        STAGE_TAG: "tune",
        PROJECT_TAG: project,
        INPUTS_TAG: ",".join(i for i in inputs if i),
        "mlflow.parentRunId": parent_run_id,
        TRIAL_NUMBER_TAG: str(number),
        STUDY_NAME_TAG: study_name,
        STATE_TAG: state,
        **run_context_tags(tracker.settings.tracking_uri),  # mlflow.user / mlflow.source.* like every run
        **(tags or {}),
    }
    if message:
        all_tags[MESSAGE_TAG] = message[:5000]
    run = tracker._call("start a trial run", tracker.client.create_run, exp_id, start_time=start_ms,
                        tags=all_tags, run_name=trial_run_name(study_name, number, state))
    run_id = run.info.run_id
    metrics = [Metric(k, float(v), end_ms, int(s)) for k, v, s in metric_rows
               if v is not None and not (isinstance(v, float) and math.isnan(v))]
    items = [Param(str(k), str(v)[:_MAX_PARAM]) for k, v in params.items()]
    try:
        tracker._call("log the trial", tracker.client.log_batch, run_id, metrics=metrics[:1000], params=items[:100],
                      tags=[RunTag("workbench.trial.duration_s", f"{(end_ms - start_ms) / 1000:.3f}")])
        tracker._call("end the trial run", tracker.client.set_terminated, run_id, RUN_STATUS.get(state, "FINISHED"),
                      end_time=end_ms)
    except Exception:
        # A half-written child would count as "logged": remove it so a retry writes exactly one.
        with contextlib.suppress(Exception):
            tracker.client.delete_run(run_id)
        raise
    return run_id


def trial_children(tracker: Tracker, project: str, parent_run_id: str) -> dict[int, list[str]]:
    """Child runs of a study's parent run, by Optuna trial number (lists, to expose duplicates)."""
    runs = tracker.runs(project, filter_string=f"tags.`mlflow.parentRunId` = '{parent_run_id}'", max_results=50000)
    out: dict[int, list[str]] = {}
    for r in runs:
        number = r.tags.get(TRIAL_NUMBER_TAG)
        if number is not None and number.isdigit():
            out.setdefault(int(number), []).append(r.run_id)
    return out
