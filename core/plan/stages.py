"""The ONE adapter between the pipelines and the stage packages.

Every Prefect task in :mod:`core.plan.flows` calls exactly one function here, and each function here
calls today's stage functions (Data, Monitor, Compare, Deploy, Tune) and returns a small frozen result
with run ids only (no frames), so task inputs stay cheap to pass and to show in the Prefect UI.
When a stage's signature changes, this module is the only place the pipelines need to follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import MonitorError

if TYPE_CHECKING:  # pragma: no cover
    from core.monitor.retrain import RetrainPolicy
    from core.plan.charter import Charter
    from core.tracking import Tracker

BATCH_KIND = "batch"


@dataclass(frozen=True)
class BatchVersion:
    """A batch file saved as a dataset version (kind ``batch``)."""

    run_id: str
    label: str
    rows: int
    file: str


@dataclass(frozen=True)
class CheckOutcome:
    run_id: str
    drift_share: float
    dataset_drift: bool
    drifted_columns: tuple[str, ...]
    quality_drop: float | None
    findings: tuple[str, ...] = ()  # what the batch lacks against the charter's data needs


@dataclass(frozen=True)
class RetrainOutcome:
    run_id: str
    challenger: str
    promoted: bool
    gate_run: str
    gate_reason: str
    metric: str
    challenger_score: float | None
    champion_score: float | None


@dataclass(frozen=True)
class ExportOutcome:
    run_id: str
    model: str
    bundle: str
    equivalent: bool


def champion_config(tracker: Tracker, project: str, model: str = "") -> tuple[Any, dict[str, Any]]:
    """(champion version, its training configuration) — Monitor's ``champion_config``.

    ``model`` is the registered model (``<project>-<target>``); default: the project's only one.
    """
    from core.monitor.retrain import champion_config as config

    return config(tracker, project, model or None)


def saved_batch_keys(tracker: Tracker, project: str) -> set[str]:
    """The file keys (path + content hash) of every batch already saved in the project (shared by all workers)."""
    from core.data.versions import KIND_TAG

    runs = tracker.runs(project, stage="data", filter_string=f"tags.`{KIND_TAG}` = '{BATCH_KIND}'")
    return {r.tags["workbench.batch.key"] for r in runs if r.tags.get("workbench.batch.key")}


def save_batch(tracker: Tracker, project: str, path: str | Path, model: str = "", key: str = "") -> BatchVersion:
    """Read a batch file, replay the champion's cleaning recipe, save it as a ``batch`` dataset version.

    Raises:
        MonitorError: the reader's sentence when the file cannot be read; no champion.
    """
    from core.data.versions import KIND_TAG
    from core.monitor.check import load_table, prepare_current
    from core.tracking.datasets import log_dataset_version, resolve_dataset

    path = Path(path)
    _champion, cfg = champion_config(tracker, project, model)
    table = load_table(tracker, project, str(path))
    if table.frame.empty:
        raise MonitorError(f"The batch file {path.name!r} has no rows.")
    from core.monitor.served import served_features  # a served prediction-log file: its features only

    frame, note = prepare_current(tracker, cfg["data_version"], served_features(path, table.frame))
    base = resolve_dataset(tracker, project, cfg["data_version"])
    target = cfg["target"] if cfg["target"] in frame.columns else ""
    with tracker.stage_run(project, "data", name=f"batch {path.name}", inputs=[cfg["data_version"]],
                           tags={KIND_TAG: BATCH_KIND, "workbench.batch.file": str(path)[:4000],
                                 "workbench.batch.note": note[:4000], "workbench.batch.key": key[:4000]}) as rid:
        version = log_dataset_version(tracker, rid, project, frame.reset_index(drop=True), f"{base.name}-batches",
                                      target=target, source=f"pipeline: {path.name}")
    return BatchVersion(version.run_id, version.label, len(frame), str(path))


def check_batch(tracker: Tracker, project: str, batch_run: str, charter: Charter | None = None, *,
                reference: str = "", model: str = "") -> CheckOutcome:
    """Monitor's check of a saved batch against ``reference`` (default: the champion's training data).

    Uses the champion's model (prediction, quality and multivariate drift); the charter's drift-share and
    quality-drop thresholds decide; the check is recorded as a ``monitor`` run.
    """
    from core.models import spec_from_tags
    from core.monitor.check import Table, load_table, record_check, run_check
    from core.monitor.drift import DriftOptions
    from core.tracking.datasets import load_dataset
    from core.tracking.models import load_sklearn_model

    champion, cfg = champion_config(tracker, project, model)
    reference = load_table(tracker, project, reference or cfg["data_version"])
    current = Table(load_dataset(tracker, batch_run), batch_run, batch_run)
    target = cfg["target"]
    options = DriftOptions(drift_share=charter.drift_share) if charter else DriftOptions()
    features = [c for c in cfg["features"] if c in reference.frame.columns]
    model = load_sklearn_model(tracker, champion)
    labelled = target in current.frame.columns and current.frame[target].notna().any()
    from core.monitor.service import scoring_rows

    rows = scoring_rows(tracker, reference, current.frame, champion, target)  # held-out rows only
    file_time = _batch_file_time(tracker, batch_run)
    result = run_check(reference.frame, current.frame, options=options, columns=features, model=model,
                       spec=spec_from_tags(champion.tags), target=target if labelled else "", task=cfg["task"],
                       max_quality_drop=charter.quality_drop if charter else 0.05,
                       quality_reference=rows.reference, quality_current=rows.current, charter=charter,
                       file_time=file_time, thresholds_from="the charter" if charter else "the defaults",
                       notes=rows.notes)
    run_id = record_check(tracker, project, result, reference=reference, current=current,
                          model_run=champion.run_id, model_label=champion.label,
                          name=f"pipeline check {current.label}")
    d = result.drift
    drop = result.quality.drop if result.quality is not None else None
    findings = result.charter.findings if result.charter is not None else ()  # data needs and freshness
    return CheckOutcome(run_id, float(d.drift_share), bool(d.dataset_drift),
                        tuple(c.name for c in d.columns if c.drifted), drop, findings)


def _batch_file_time(tracker: Tracker, batch_run: str) -> float:
    """The batch file's modification time (freshness without a time column); when it was saved if it is gone."""
    run = tracker.get_run(batch_run)
    path = Path(run.tags.get("workbench.batch.file", ""))
    return path.stat().st_mtime if path.name and path.is_file() else run.start_time / 1000


def retrain_policy(tracker: Tracker, project: str, charter: Charter | None, n_trials: int = 5) -> RetrainPolicy:
    """The charter's thresholds as the retraining policy (the project's stored policy without a charter).

    The retraining mode is the stored policy's either way: the charter sets the bar, not how to learn.
    """
    from dataclasses import replace

    from core.monitor.retrain import load_policy

    stored = load_policy(tracker, project)
    return replace(charter.retrain_policy(n_trials=n_trials), mode=stored.mode) if charter else stored


def should_retrain(policy: RetrainPolicy, check: CheckOutcome | None) -> tuple[bool, str]:
    """Monitor's rule on the check's drift share and quality drop."""
    from core.monitor.retrain import should_retrain as rule

    if check is None:
        return True, "scheduled"
    return rule(policy, drift_share=check.drift_share, quality_drop=check.quality_drop)


def retrain_and_gate(tracker: Tracker, project: str, policy: RetrainPolicy, *, batch_run: str = "",
                     check_run: str = "", model: str = "") -> RetrainOutcome:
    """Monitor's retrain (reference + the batch's labelled rows, by the policy's mode) ending at Compare's gate.

    The retrain run lists the batch and the check run among its inputs.
    """
    from core.monitor.retrain import retrain
    from core.tracking.datasets import load_dataset

    current = load_dataset(tracker, batch_run) if batch_run else None
    result = retrain(tracker, project, policy, current=current, current_run=batch_run, check_run=check_run,
                     if_drift=False, model_name=model or None)
    d = result.decision
    label = result.challenger.label if result.challenger else ""
    return RetrainOutcome(result.run_id, label, bool(d and d.passed), getattr(d, "run_id", ""),
                          getattr(d, "reason", result.reason), getattr(d, "metric", ""),
                          getattr(d, "challenger_score", None), getattr(d, "champion_score", None))


def export_champion(tracker: Tracker, project: str, out_dir: str | Path, model: str = "") -> ExportOutcome:
    """Deploy's ONNX export of the current champion (parity-checked bundle, recorded as a ``deploy`` run)."""
    from core.deploy.service import prepare_export, record_export

    champion, _cfg = champion_config(tracker, project, model)
    outcome = prepare_export(tracker, project, f"{champion.name}@champion", out_dir, calls=50, batch_rows=1000)
    recorded = record_export(tracker, project, outcome)
    return ExportOutcome(getattr(recorded, "run_id", ""), outcome.source.label, str(out_dir),
                         bool(outcome.parity.equivalent))


def tune_study(tracker: Tracker, project: str, data: str, target: str, family: str, n_trials: int,
               metric: str | None = None) -> str:
    """Tune's study (trials as MLflow child runs) and its best model registered; return the model label."""
    from core.tracking.datasets import load_dataset, resolve_dataset
    from core.models import infer_task
    from core.tune.storage import make_storage
    from core.tune.study import StudyConfig, finalize_study, run_trials

    version = resolve_dataset(tracker, project, data)
    task = infer_task(load_dataset(tracker, version.run_id)[target])
    config = StudyConfig.create(project=project, data_run_id=version.run_id, target=target, task=task, family=family,
                                metric=metric, n_trials=int(n_trials))
    storage = make_storage(tracker.settings.optuna_storage)
    run_trials(config, storage, tracker)
    mv = finalize_study(config, storage, tracker)
    return f"{mv.name}/{mv.version}"
