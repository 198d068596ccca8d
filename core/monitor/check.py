"""One monitoring check end to end: prepare → schema → drift → extras → record in MLflow.

``run_check`` is pure (frames in, :class:`MonitorResult` out); ``record_check``
writes it as a ``monitor`` stage run; ``prepare_current`` replays the
reference's cleaning recipe on a raw batch; ``load_table`` reads a dataset
version reference or a CSV / Parquet file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import DataError, MonitorError, RecipeError, TrackingError, WorkbenchError, one_line
from core.monitor.drift import ColumnDrift, DriftOptions, DriftSummary, detect_drift
from core.monitor.schema import SchemaReport, check_schema

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.models import FeatureSpec
    from core.monitor.multivariate import ClusterResult, DomainClassifierResult
    from core.monitor.quality import QualityResult
    from core.tracking import Tracker

REPORT_HTML = "monitor/evidently_report.html"
REPORT_JSON = "monitor/evidently_report.json"
SUMMARY_JSON = "monitor/summary.json"


@dataclass(frozen=True)
class Table:
    """A loaded table and where it came from (run id when it is a dataset version)."""

    frame: pd.DataFrame
    label: str
    run_id: str = ""
    target: str = ""


@dataclass(frozen=True)
class MonitorResult:
    """Everything one check found; the page renders it, ``record_check`` stores it."""

    schema: SchemaReport
    drift: DriftSummary
    prediction: ColumnDrift | None = None
    quality: QualityResult | None = None
    domain: DomainClassifierResult | None = None
    clusters: ClusterResult | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def findings(self) -> list[str]:
        return [*self.schema.messages(), *self.drift.findings, *self.notes]

    @property
    def concept_drift(self) -> bool:
        return bool(self.quality and self.quality.concept_drift)

    def to_dict(self) -> dict[str, Any]:
        out = self.drift.to_dict()
        out["findings"] = self.findings
        out["schema"] = [asdict(f) for f in self.schema.findings]
        out["prediction_drift"] = asdict(self.prediction) if self.prediction else None
        out["quality"] = asdict(self.quality) if self.quality else None
        out["domain_classifier"] = asdict(self.domain) if self.domain else None
        out["clusters"] = asdict(self.clusters) if self.clusters else None
        return out


def run_check(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    options: DriftOptions | None = None,
    columns: Sequence[str] | None = None,
    model: Any = None,
    spec: FeatureSpec | None = None,
    target: str = "",
    task: str = "",
    multivariate: bool = True,
    max_quality_drop: float = 0.05,
    notes: Sequence[str] = (),
    on_progress: Callable[[str], None] | None = None,
) -> MonitorResult:
    """Schema check, per-column drift, and — when possible — multivariate, prediction and quality drift.

    The drift share is the share of drifted *feature* columns: ``columns`` (the model's features when
    a model is checked) or else every shared column, never ``target`` — the same definition the
    retraining policy uses (:func:`core.monitor.retrain.retrain`), so both give one number per batch.
    A shifted target shows in model quality, not in the share.

    Never raises for bad data: what cannot be checked becomes a note.
    """
    say = on_progress or (lambda _msg: None)
    notes = list(notes)
    unlabelled = bool(target) and target not in current.columns
    say("Checking the schema")
    schema = check_schema(reference, current, ignore=[target] if unlabelled else [])
    if schema.blocking:
        return MonitorResult(schema, DriftSummary(False, 0.0, 0, (), (options or DriftOptions()).drift_share), notes=tuple(notes))
    cols = [c for c in (columns or schema.shared_columns)
            if c in schema.shared_columns and c not in schema.excluded and not (target and c == target)]
    say(f"Testing {len(cols)} columns for drift")
    drift = detect_drift(reference, current, options, columns=cols)
    domain = clusters = prediction = quality = None
    if multivariate:
        from core.monitor.multivariate import cluster_check, domain_classifier

        feats = [c for c in cols if c != target]
        say("Training the domain classifier")
        try:
            domain = domain_classifier(reference, current, columns=feats)
            say("Checking cluster occupancy")
            clusters = cluster_check(reference, current, columns=feats)
        except (WorkbenchError, ValueError) as err:
            notes.append(f"Multivariate drift was not checked: {str(err).splitlines()[0]}")
    if model is not None and spec is not None:
        from core.monitor.quality import model_quality, prediction_drift

        say("Scoring the model on both sides")
        try:
            prediction = prediction_drift(model, spec, reference, current, options)
        except WorkbenchError as err:
            notes.append(f"Prediction drift was not checked: {err}")
        if target and not unlabelled and current[target].notna().any() and target in reference.columns:
            try:
                quality = model_quality(model, spec, target, task, reference, current, max_drop=max_quality_drop)
                if quality.note:
                    notes.append(quality.note)
            except WorkbenchError as err:
                notes.append(f"Model quality was not checked: {err}")
        elif target:
            notes.append(f"The current batch has no labels in {target!r}, so model quality (concept drift) is not checked.")
    return MonitorResult(schema, drift, prediction, quality, domain, clusters, tuple(notes))


# -- inputs ---------------------------------------------------------------------
def load_table(tracker: Tracker | None, project: str, ref: str) -> Table:
    """A CSV / Parquet file path, or a dataset version reference (``name``, ``name:vN``, run id).

    Raises:
        MonitorError: the file cannot be read or the reference does not resolve.
    """

    path = Path(ref).expanduser()
    if path.suffix.lower() in (".csv", ".parquet", ".pq", ".tsv") or path.exists():
        if not path.is_file():
            raise MonitorError(f"There is no file {str(path)!r}; give a CSV / Parquet path or a dataset version.")
        from core.data.files import read_for_models

        try:
            frame = read_for_models(path)[0]
        except DataError as err:
            raise MonitorError(one_line(err)) from err
        return Table(frame, path.name)
    if tracker is None:
        raise MonitorError(f"{ref!r} is not a file; dataset versions need the MLflow store.")
    from core.tracking.datasets import load_dataset, resolve_dataset

    try:
        version = resolve_dataset(tracker, project, ref)
    except TrackingError as err:
        raise MonitorError(f"{err} Give a dataset version (NAME, NAME:vN, run id) or a CSV / Parquet file.") from err
    return Table(load_dataset(tracker, version.run_id), version.label, version.run_id, version.target)


def prepare_current(tracker: Tracker, reference_run: str, current: pd.DataFrame, *, raw: bool = True) -> tuple[pd.DataFrame, str]:
    """Replay the reference version's cleaning recipe on a raw current batch.

    Returns the frame to check and a sentence saying what happened (the recipe
    is skipped, with a note, when there is none or it cannot apply).
    """
    if not reference_run:
        return current, "The reference is a file, so no cleaning recipe was replayed."
    if not raw:
        return current, "The current batch is a cleaned dataset version; the recipe was not replayed again."
    from core.data.recipe import Recipe, replay
    from core.data.versions import find_recipe

    source = find_recipe(tracker, reference_run)
    if source is None:
        return current, "The reference has no cleaning recipe; the current batch is checked as it is."
    recipe_json = source.recipe
    try:
        result = replay(current, Recipe.from_dict(recipe_json), mode="transform")
    except RecipeError as err:
        return current, f"The reference's cleaning recipe could not be replayed ({err}); the batch is checked as it is."
    n = len(recipe_json["steps"])
    if source.version_run_id != reference_run:
        return result.frame, (f"Replayed the cleaning recipe of {source.version_label}, which the reference was made "
                              f"from ({n} step{'s' if n != 1 else ''}), on the current batch.")
    return result.frame, f"Replayed the reference's cleaning recipe ({n} step{'s' if n != 1 else ''}) on the current batch."


# -- recording ------------------------------------------------------------------
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
              "reference_rows": len(reference.frame), **(extra_params or {})}
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
    return tags


def record_batch(tracker: Tracker, project: str, frame: pd.DataFrame, *, name: str, source: str,
                 reference_run: str = "", note: str = "") -> Table:
    """Save a monitored batch file as a dataset version of kind ``batch`` (the frame as checked).

    The same rows saved again under the same name are that version, not a new one, so re-running a
    check on one file does not multiply versions. ``reference_run`` (whose recipe cleaned the rows)
    becomes the version's input.
    """
    from core.data.versions import KIND_TAG, frame_digest
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
        tracker.log_metric_rows(run_id, rows)
        last = timeline.points[-1] if timeline.points else None
        tracker.set_tags(run_id, {"dataset_drift": str(bool(last and last.dataset_drift)).lower(),
                                  "workbench.monitor.kind": "timeline",
                                  "drifted_periods": ",".join(p.period for p in timeline.points if p.dataset_drift)})
        tracker.log_text(run_id, json.dumps({"reference": timeline.reference_label, "points": timeline.to_records(),
                                             "summaries": [s.to_dict() for s in timeline.summaries]}, indent=2,
                                            default=str), "monitor/timeline.json")
    return run_id
