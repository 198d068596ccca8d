"""One monitoring check end to end: prepare → schema → drift → extras (recorded by :mod:`core.monitor.records`).

``run_check`` is pure (frames in, :class:`MonitorResult` out); ``record_check`` writes it as a
``monitor`` stage run; ``prepare_current`` replays the reference's cleaning recipe on a raw batch;
``load_table`` reads a dataset version reference or a CSV / Parquet file.
"""

from __future__ import annotations

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
    from core.monitor.autoencoder import AutoencoderResult
    from core.monitor.charter_checks import CharterFindings
    from core.monitor.multivariate import ClusterResult, DomainClassifierResult
    from core.monitor.outcomes import Outcomes
    from core.monitor.quality import QualityResult
    from core.plan.charter import Charter
    from core.tracking import Tracker


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
    autoencoder: AutoencoderResult | None = None
    charter: CharterFindings | None = None
    outcomes: Outcomes | None = None
    quality_drop_threshold: float = 0.05
    thresholds_from: str = "the defaults"

    @property
    def findings(self) -> list[str]:
        charter = list(self.charter.findings) if self.charter else []
        return [*self.schema.messages(), *charter, *self.drift.findings, *self.notes]

    @property
    def concept_drift(self) -> bool:
        return bool(self.quality and self.quality.concept_drift)

    def to_dict(self) -> dict[str, Any]:
        out = self.drift.to_dict()
        out["findings"] = self.findings
        out["schema"] = [asdict(f) for f in self.schema.findings]
        out["prediction_drift"] = asdict(self.prediction) if self.prediction else None
        out["quality"] = asdict(self.quality) if self.quality else None
        out["quality_drop_threshold"] = self.quality_drop_threshold
        out["thresholds_from"] = self.thresholds_from
        out["domain_classifier"] = asdict(self.domain) if self.domain else None
        out["clusters"] = asdict(self.clusters) if self.clusters else None
        out["autoencoder"] = asdict(self.autoencoder) if self.autoencoder else None
        out["charter"] = (asdict(self.charter) | {"stale": self.charter.stale}) if self.charter else None
        out["fairness"] = self.outcomes.to_dict()["fairness"] if self.outcomes else None
        out["kpi"] = ({"cost_per_row": self.outcomes.cost_per_row, "n_rows": self.outcomes.n_rows}
                      if self.outcomes else None)
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
    quality_reference: pd.DataFrame | None = None,
    quality_current: pd.DataFrame | None = None,
    charter: Charter | None = None,
    file_time: float | None = None,
    now: float | None = None,
    thresholds_from: str = "the defaults",
    notes: Sequence[str] = (),
    on_progress: Callable[[str], None] | None = None,
) -> MonitorResult:
    """Schema check, per-column drift, and — when possible — multivariate, prediction and quality drift.

    The drift share is the share of drifted *feature* columns: ``columns`` (the model's features when
    a model is checked) or else every shared column, never ``target`` — the same definition the
    retraining policy uses (:func:`core.monitor.retrain.retrain`), so both give one number per batch.
    A shifted target shows in model quality, not in the share.

    Args:
        quality_reference: the reference rows the model-quality baseline is scored on — the held-out
            rows the model was not trained on (:func:`core.monitor.heldout.held_out_reference`). None
            scores ``reference`` as it is (for a reference nothing was learned from); an empty frame
            means no held-out row remains, and quality is not checked (a note says why).
        quality_current: the current rows the model may be scored on (the batch without rows it was
            trained on); default ``current``.
        charter: the project charter: its data needs and freshness become findings, its protected
            column and costs give fairness and the business KPI on the labelled held-out rows.
        file_time: epoch seconds of the batch file, for freshness when the batch has no time column.

    Never raises for bad data: what cannot be checked becomes a note.
    """
    say = on_progress or (lambda _msg: None)
    notes = list(notes)
    unlabelled = bool(target) and target not in current.columns
    from core.monitor.charter_checks import charter_findings

    found = charter_findings(charter, current, file_time=file_time, now=now) if charter is not None else None
    meta = {"charter": found, "quality_drop_threshold": float(max_quality_drop), "thresholds_from": thresholds_from}
    say("Checking the schema")
    schema = check_schema(reference, current, ignore=[target] if unlabelled else [])
    if schema.blocking:
        return MonitorResult(schema, DriftSummary(False, 0.0, 0, (), (options or DriftOptions()).drift_share),
                             notes=tuple(notes), **meta)
    cols = [c for c in (columns or schema.shared_columns)
            if c in schema.shared_columns and c not in schema.excluded and not (target and c == target)]
    say(f"Testing {len(cols)} columns for drift")
    drift = detect_drift(reference, current, options, columns=cols)
    domain = clusters = prediction = quality = autoencoder = outcomes = None
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
        autoencoder = _autoencoder(reference, current, feats, notes, say)
    if model is not None and spec is not None:
        from core.monitor.quality import model_quality, prediction_drift

        say("Scoring the model on both sides")
        try:
            prediction = prediction_drift(model, spec, reference, current, options)
        except WorkbenchError as err:
            notes.append(f"Prediction drift was not checked: {err}")
        base = reference if quality_reference is None else quality_reference
        scored = current if quality_current is None else quality_current
        labelled = target and not unlabelled and current[target].notna().any() and target in reference.columns
        if labelled and (base.empty or target not in base.columns or base[target].notna().sum() == 0):
            from core.monitor.heldout import no_baseline_sentence

            notes.append(no_baseline_sentence())
        elif labelled and (scored.empty or scored[target].notna().sum() == 0):
            notes.append("Model quality was not checked: every labelled row of the current batch was used to train "
                         "the model, so no honest score exists. Check a batch of new labelled rows.")
        elif labelled:
            try:
                quality = model_quality(model, spec, target, task, base, scored, max_drop=max_quality_drop)
                if quality.note:
                    notes.append(quality.note)
            except WorkbenchError as err:
                notes.append(f"Model quality was not checked: {err}")
        elif target:
            notes.append(f"The current batch has no labels in {target!r}, so model quality (concept drift) is not checked.")
        if charter is not None and target:
            from core.monitor.outcomes import score_outcomes

            outcomes = score_outcomes(charter, model, spec, target, task, scored)
            if outcomes is not None:
                notes.extend(outcomes.notes)
    elif charter is not None and (charter.protected_column or charter.has_cost):
        notes.append("Fairness and the business KPI need the model's predictions; pick a model (the page's "
                     "'Score the model', or --model on the command line) to compute them.")
    return MonitorResult(schema, drift, prediction, quality, domain, clusters, tuple(notes), autoencoder,
                         outcomes=outcomes, **meta)


def _autoencoder(reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], notes: list[str],
                 say: Callable[[str], None]) -> AutoencoderResult | None:
    from core.monitor.autoencoder import autoencoder_check, numeric_columns

    if len(numeric_columns(reference, columns)) < 2:
        return None  # nothing joint to learn: the per-column tests say it all
    say("Fitting the autoencoder on the reference")
    try:
        return autoencoder_check(reference, current, columns)
    except (WorkbenchError, ValueError) as err:
        notes.append(f"The autoencoder check was not run: {str(err).splitlines()[0]}")
        return None


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


# Recording lives in core.monitor.records; these names stay importable from here for existing callers.
from core.monitor.records import (  # noqa: E402
    REPORT_HTML,
    REPORT_JSON,
    SUMMARY_JSON,
    attach_report,
    check_metrics,
    check_tags,
    load_stored_report,
    metric_key,
    monitor_runs,
    record_batch,
    record_check,
    record_timeline,
)

__all__ = ["REPORT_HTML", "REPORT_JSON", "SUMMARY_JSON", "MonitorResult", "Table", "attach_report", "check_metrics",
           "check_tags", "load_stored_report", "load_table", "metric_key", "monitor_runs", "prepare_current",
           "record_batch", "record_check", "record_timeline", "run_check"]
