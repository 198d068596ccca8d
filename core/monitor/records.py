"""Writing Monitor's checks to MLflow: a check run, its metrics and tags, a batch version, a timeline run.

Read by people in the MLflow UI and by ``retrain --if-drift``: one meaning per metric key, and no
metric or tag for a check that did not run (not a ``false``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.monitor.check import MonitorResult, Table
    from core.tracking import Tracker

REPORT_HTML = "monitor/evidently_report.html"
REPORT_JSON = "monitor/evidently_report.json"
SUMMARY_JSON = "monitor/summary.json"


def metric_key(name: str) -> str:
    """A column name as a valid MLflow metric key."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", str(name))[:200] or "_"


def record_check(
    tracker: Tracker,
    project: str,
    result: MonitorResult,
    *,
    reference: Table,
    current: Table,
    model_run: str = "",
    model_label: str = "",
    html: str | None = None,
    report_json: str | None = None,
    name: str | None = None,
    extra_params: dict[str, Any] | None = None,
) -> str:
    """Store a check as a ``monitor`` stage run; return its run id."""
    from core.tracking.datasets import log_dataset_inputs

    d = result.drift
    params = {"reference": reference.label, "current": current.label, "model": model_label or "-",
              "drift_share_threshold": d.share_threshold, "current_rows": len(current.frame),
              "reference_rows": len(reference.frame), "quality_drop_threshold": result.quality_drop_threshold,
              "thresholds_from": result.thresholds_from, **(extra_params or {})}
    params.update({f"drift.{metric_key(c.name)}.test": c.test for c in d.columns})
    with tracker.stage_run(project, "monitor", name=name or f"check {current.label}",
                           inputs=[r for r in (reference.run_id, current.run_id, model_run) if r],
                           params=params) as run_id:
        log_dataset_inputs(tracker, run_id, [(reference.run_id, "reference"), (current.run_id, "current")])
        tracker.log_metrics(run_id, check_metrics(result))
        tracker.set_tags(run_id, check_tags(result))
        tracker.log_json(run_id, result.to_dict(), SUMMARY_JSON)
        if html is not None:
            tracker.log_text(run_id, html, REPORT_HTML)
        if report_json is not None:
            tracker.log_text(run_id, report_json, REPORT_JSON)
    return run_id


def check_metrics(result: MonitorResult) -> dict[str, float]:
    """The metrics of a check run: one meaning per key, nothing for a check that did not run.

    Per column, ``drift.<column>.score`` is the test's statistic (a p-value for ks / chisquare / z,
    a distance otherwise; the test is the param ``drift.<column>.test``) and ``drift.<column>.detected``
    is 1 when it crossed its threshold, else 0.
    """
    d = result.drift
    metrics = {"drift_share": d.drift_share, "n_drifted": d.n_drifted, "n_columns": d.n_columns}
    for c in d.columns:
        key = metric_key(c.name)
        metrics[f"drift.{key}.score"] = c.statistic
        metrics[f"drift.{key}.detected"] = 1.0 if c.drifted else 0.0
    if result.domain:
        metrics["domain_auc"] = result.domain.auc
    if result.clusters:
        metrics["cluster_tvd"] = result.clusters.tvd
    if result.prediction:
        metrics["prediction_drift.score"] = result.prediction.statistic
        metrics["prediction_drift.detected"] = 1.0 if result.prediction.drifted else 0.0
    if result.quality:
        metrics.update({f"quality.{k}": v for k, v in result.quality.all_metrics.items()})
        metrics["quality_drop"] = result.quality.drop
        metrics["quality.reference_rows"] = result.quality.n_reference
    if result.autoencoder:
        a = result.autoencoder
        metrics.update({"autoencoder.share": a.share, "autoencoder.p_value": a.p_value,
                        "autoencoder.threshold": a.threshold, "autoencoder.detected": 1.0 if a.drifted else 0.0})
    if result.charter:
        metrics.update(result.charter.metrics())
    if result.outcomes:
        metrics.update({metric_key(k): v for k, v in result.outcomes.metrics().items()})
    return metrics


def check_tags(result: MonitorResult) -> dict[str, str]:
    """Verdict tags of a check run; a check that did not run gets no tag (not ``false``)."""
    d = result.drift
    tags = {"dataset_drift": str(d.dataset_drift).lower(),
            "drifted_columns": ",".join(c.name for c in d.columns if c.drifted)[:4000]}
    if result.quality:
        tags["concept_drift"] = str(result.concept_drift).lower()
    if result.prediction:
        tags["prediction_drift"] = str(result.prediction.drifted).lower()
    if result.domain:
        tags["multivariate_drift"] = str(result.domain.drifted).lower()
    if result.autoencoder:
        tags["autoencoder_drift"] = str(result.autoencoder.drifted).lower()
    if result.charter:
        tags["charter_findings"] = " | ".join(result.charter.findings)[:4000] or "none"
        if result.charter.stale is not None:
            tags["stale_batch"] = str(result.charter.stale).lower()
    if result.outcomes and result.outcomes.fairness:
        tags["fairness_gap_exceeded"] = str(result.outcomes.fairness.exceeded).lower()
    return tags


def record_batch(tracker: Tracker, project: str, frame: pd.DataFrame, *, name: str, source: str,
                 reference_run: str = "", note: str = "") -> Table:
    """Save a monitored batch file as a dataset version of kind ``batch`` (the frame as checked).

    The same rows saved again under the same name are that version, not a new one, so re-running a
    check on one file does not multiply versions. ``reference_run`` (whose recipe cleaned the rows)
    becomes the version's input.
    """
    from core.data.versions import KIND_TAG, frame_digest
    from core.monitor.check import Table
    from core.tracking.datasets import clean_name, dataset_versions, log_dataset_version

    name = clean_name(name)
    digest = frame_digest(frame)
    for v in dataset_versions(tracker, project, name)[:20]:
        tags = tracker.get_run(v.run_id).tags
        if tags.get(KIND_TAG) == "batch" and tags.get("workbench.content_digest") == digest:
            return Table(frame, v.label, v.run_id)
    tags = {KIND_TAG: "batch", "workbench.content_digest": digest}
    if note:
        tags["mlflow.note.content"] = note
    with tracker.stage_run(project, "data", name=f"{name} (batch)", inputs=[reference_run] if reference_run else [],
                           params={"source": source[:500]}, tags=tags) as run_id:
        version = log_dataset_version(tracker, run_id, project, frame, name, source=source)
    return Table(frame, version.label, version.run_id)


def attach_report(tracker: Tracker, run_id: str, html: str, report_json: str) -> None:
    """Add an Evidently report built later to an existing check run."""
    tracker.log_text(run_id, html, REPORT_HTML)
    tracker.log_text(run_id, report_json, REPORT_JSON)


def load_stored_report(tracker: Tracker, run_id: str) -> str | None:
    """The stored Evidently HTML of a check, or None when it was not built."""
    if REPORT_HTML not in tracker.list_artifacts(run_id, "monitor"):
        return None
    return tracker.download(run_id, REPORT_HTML).read_text()


def monitor_runs(tracker: Tracker, project: str) -> list:
    return tracker.runs(project, stage="monitor")


def record_timeline(tracker: Tracker, project: str, timeline: Any, *, source: Table, model_run: str = "",
                    reference_run: str = "") -> str:
    """Store a drift-over-time check as one ``monitor`` run with one metric step per period."""
    import json

    name = f"timeline by {timeline.freq}: {source.label}"
    params = {"current": source.label, "time_column": timeline.time_column, "freq": timeline.freq,
              "reference": timeline.reference_label, "periods": len(timeline.points)}
    with tracker.stage_run(project, "monitor", name=name, params=params,
                           inputs=[r for r in (source.run_id, reference_run, model_run) if r]) as run_id:
        from core.tracking.datasets import log_dataset_inputs

        log_dataset_inputs(tracker, run_id, [(reference_run, "reference"), (source.run_id, "current")])
        rows: list[tuple[str, float, int]] = []
        for step, p in enumerate(timeline.points):
            rows += [("drift_share", p.drift_share, step), ("n_drifted", p.n_drifted, step)]
            if p.quality is not None:
                rows.append((f"quality.{timeline.metric}", p.quality, step))
            rows += [(metric_key(k), v, step) for k, v in p.extra_metrics().items()]
        tracker.log_metric_rows(run_id, rows)
        last = timeline.points[-1] if timeline.points else None
        tracker.set_tags(run_id, {"dataset_drift": str(bool(last and last.dataset_drift)).lower(),
                                  "workbench.monitor.kind": "timeline",
                                  "drifted_periods": ",".join(p.period for p in timeline.points if p.dataset_drift)})
        if timeline.notes:
            tracker.set_tags(run_id, {"notes": " | ".join(timeline.notes)[:4000]})
        tracker.log_text(run_id, json.dumps({"reference": timeline.reference_label, "points": timeline.to_records(),
                                             "notes": list(timeline.notes),
                                             "summaries": [s.to_dict() for s in timeline.summaries]}, indent=2,
                                            default=str), "monitor/timeline.json")
    return run_id
