"""The workbench's pipelines as Prefect 3 flows; each stage call is one task (a thin wrapper).

* ``monitor-and-retrain`` — for each new batch file in a folder (or glob): save → check → retrain when the
  charter's thresholds are crossed (the retrain ends at the promotion gate) → export when promoted → notify.
* ``scheduled-retrain`` — retrain the champion's configuration and gate it (run every N days).
* ``tune`` — one Optuna study as a flow run.

A task's logic lives in :mod:`core.plan.stages` (and the stage packages behind it); tasks only pass run ids.
Files already processed are remembered by a key — the file's absolute path and the SHA-256 of its content (a
rewritten file counts as new; a touched one does not) — in two places: the ``workbench.batch.key`` tag of the batch's
dataset version in MLflow (shared by workers on every host) and ``<workspace>/plan/<project>/processed.json`` (this
host's record with each file's outcome). A file that failed is remembered there too, with its error, so one unreadable
file does not fail every later run.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE

from core.errors import one_line
from core.plan import PlanError
from core.plan import stages

BATCH_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
FLOW_NAMES = ("monitor-and-retrain", "scheduled-retrain", "tune")


def _tracker():  # noqa: ANN202
    from core.config import Settings

    return _tracker_for(Settings.from_env())


@functools.lru_cache(maxsize=4)
def _tracker_for(settings):  # noqa: ANN001, ANN202 - one Tracker per store and process (connecting migrates SQLite)
    from core.tracking import Tracker

    return Tracker.connect(settings)


def _home() -> Path:
    from core.config import Settings

    return Settings.from_env().home


# -- which files are new ---------------------------------------------------------------------------
def batch_files(watch: str) -> list[Path]:
    """The batch files under ``watch`` (a folder, or a glob such as ``/data/in/*.csv``), oldest first.

    Raises:
        PlanError: the folder does not exist or cannot be read.
    """
    watch = str(watch or "").strip()
    if not watch:
        raise PlanError("Give the folder (or glob) to watch for new batch files.")
    if any(ch in watch for ch in "*?["):
        parent = Path(watch.split("*")[0].split("?")[0].split("[")[0]).expanduser()
        folder = parent if parent.is_dir() else parent.parent
        _check_folder(folder)
        files = [Path(p) for p in glob.glob(os.path.expanduser(watch))]
    else:
        folder = Path(watch).expanduser()
        _check_folder(folder)
        files = list(folder.iterdir())
    files = [f.resolve() for f in files if f.is_file() and f.suffix.lower() in BATCH_SUFFIXES]
    return sorted(files, key=lambda f: (f.stat().st_mtime, f.name))


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise PlanError(f"The watch folder {str(folder)!r} does not exist; create it or pick another folder.")
    if not folder.is_dir():
        raise PlanError(f"The watch path {str(folder)!r} is a file, not a folder; give its folder or a glob.")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise PlanError(f"The watch folder {str(folder)!r} cannot be read by this user; fix its permissions.")


def file_key(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return f"{path.resolve()}#{digest.hexdigest()[:32]}"


def _processed_path(home: Path, project: str) -> Path:
    return Path(home) / "plan" / project / "processed.json"


def processed(home: Path, project: str) -> dict[str, dict[str, Any]]:
    """The files the pipeline already handled for ``project``: key → {file, status, error, flow_run, at}."""
    try:
        return json.loads(_processed_path(home, project).read_text())
    except (OSError, ValueError):
        return {}


def remember(home: Path, project: str, key: str, entry: dict[str, Any]) -> None:
    path = _processed_path(home, project)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = processed(home, project)
    data[key] = entry
    from core.atomic import write_atomic

    write_atomic(path, json.dumps(data, indent=1))


# -- tasks (thin wrappers) ---------------------------------------------------------------------------
@task(name="save-batch", task_run_name="save-batch", cache_policy=NONE)
def save_batch(project: str, path: str, model: str = "", key: str = "") -> stages.BatchVersion:
    return stages.save_batch(_tracker(), project, path, model, key)


@task(name="check-batch", task_run_name="check-batch", cache_policy=NONE)
def check_batch(project: str, batch_run: str, reference: str = "", model: str = "") -> stages.CheckOutcome:
    from core.plan.charter import load_charter

    return stages.check_batch(_tracker(), project, batch_run, load_charter(_tracker(), project), reference=reference,
                              model=model)


@task(name="retrain-and-gate", task_run_name="retrain-and-gate", cache_policy=NONE)
def retrain_and_gate(project: str, n_trials: int, batch_run: str = "", check_run: str = "",
                     model: str = "") -> stages.RetrainOutcome:
    from core.plan.charter import load_charter

    policy = stages.retrain_policy(_tracker(), project, load_charter(_tracker(), project), n_trials)
    return stages.retrain_and_gate(_tracker(), project, policy, batch_run=batch_run, check_run=check_run,
                                   model=model)


@task(name="export-champion", task_run_name="export-champion", cache_policy=NONE)
def export_champion(project: str, model: str = "") -> stages.ExportOutcome:
    out = _home() / "plan" / project / "exports" / time.strftime("%Y%m%d-%H%M%S")
    return stages.export_champion(_tracker(), project, out, model)


@task(name="notify", task_run_name="notify", cache_policy=NONE)
def notify(kind: str, title: str, message: str, project: str, link: str = "") -> str:
    from core.plan.notify import raise_alert

    return raise_alert(_home(), kind, title, message, project=project, link=link).id


@task(name="tune-study", task_run_name="tune-study", cache_policy=NONE)
def tune_study(project: str, data: str, target: str, family: str, n_trials: int, metric: str = "") -> str:
    return stages.tune_study(_tracker(), project, data, target, family, n_trials, metric or None)


# -- flows ---------------------------------------------------------------------------------------------
def _alert_failed(flow_obj: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: a failed run raises a ``failed`` alert with the step and its message."""
    from core.plan.notify import raise_alert

    project = (flow_run.parameters or {}).get("project", "")
    raise_alert(_home(), "failed", f"{flow_run.name} ({flow_obj.name}) failed", state.message or "failed",
                project=project, link=f"flow-run/{flow_run.id}")


def _failure(state: Any) -> str:
    err = state.result(raise_on_failure=False)
    return one_line(err) if isinstance(err, BaseException) else (state.message or "failed")


@flow(name="monitor-and-retrain", on_failure=[_alert_failed], log_prints=True)
def monitor_and_retrain(project: str = "default", watch: str = "", reference: str = "", model: str = "",
                        n_trials: int = 3, export: bool = True) -> list[dict[str, Any]]:
    """Every new batch file under ``watch``: save → check → retrain + gate when triggered → export → notify."""
    home = _home()
    done = set(processed(home, project)) | stages.saved_batch_keys(_tracker(), project)  # this host's + all hosts'
    todo = [(f, file_key(f)) for f in batch_files(watch)]
    todo = [(f, k) for f, k in todo if k not in done]
    summaries: list[dict[str, Any]] = []
    failures: list[str] = []
    from prefect.runtime import flow_run

    for path, key in todo:
        started = time.time()
        summary = _one_batch(project, path, key, reference, model, n_trials, export)
        summary["seconds_since_landing"] = round(time.time() - path.stat().st_mtime, 2)
        summary["seconds"] = round(time.time() - started, 2)
        summaries.append(summary)
        if summary["status"] == "failed":
            failures.append(f"{path.name} failed at {summary['task']}: {summary['error']}")
        remember(home, project, key, {"file": str(path), "status": summary["status"], "error": summary.get("error", ""),
                                      "flow_run": str(flow_run.id or ""), "at": time.time(), "summary": summary})
        print(json.dumps(summary, default=str))
    if failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise PlanError(f"{failures[0]}{more}.".replace("..", "."))
    return summaries


def _one_batch(project: str, path: Path, key: str, reference: str, model: str, n_trials: int,
               export: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"file": path.name, "status": "clean"}
    state = save_batch(project, str(path), model, key, return_state=True)
    if state.is_failed():
        return {**out, "status": "failed", "task": "save-batch", "error": _failure(state)}
    batch = state.result()
    out["batch_run"] = batch.run_id
    state = check_batch(project, batch.run_id, reference, model, return_state=True)
    if state.is_failed():
        return {**out, "status": "failed", "task": "check-batch", "error": _failure(state)}
    check = state.result()
    out.update(check_run=check.run_id, drift_share=check.drift_share, quality_drop=check.quality_drop)
    if check.findings:
        out["findings"] = list(check.findings)
        notify("info", f"{path.name} misses the charter's data needs", " ".join(check.findings), project)
    if check.dataset_drift:
        notify("drift", f"{path.name} drifted", f"{len(check.drifted_columns)} column(s) drifted "
               f"(share {check.drift_share:.2f}): {', '.join(check.drifted_columns[:6])}.", project)
    from core.plan.charter import load_charter

    policy = stages.retrain_policy(_tracker(), project, load_charter(_tracker(), project), n_trials)
    fire, reason = stages.should_retrain(policy, check)
    out["reason"] = reason
    if not fire:
        return out
    state = retrain_and_gate(project, n_trials, batch.run_id, check.run_id, model, return_state=True)
    if state.is_failed():
        return {**out, "status": "failed", "task": "retrain-and-gate", "error": _failure(state)}
    result = state.result()
    out.update(status="promoted" if result.promoted else "refused", retrain_run=result.run_id,
               gate_run=result.gate_run, challenger=result.challenger, gate_reason=result.gate_reason)
    if result.promoted:
        notify("promotion", f"{result.challenger} promoted", result.gate_reason, project)
        if export:
            state = export_champion(project, model, return_state=True)
            if state.is_failed():
                return {**out, "status": "failed", "task": "export-champion", "error": _failure(state)}
            out["export_run"] = state.result().run_id
    else:
        notify("retrain", f"{result.challenger} not promoted", result.gate_reason, project)
    return out


@flow(name="scheduled-retrain", on_failure=[_alert_failed], log_prints=True)
def scheduled_retrain(project: str = "default", model: str = "", n_trials: int = 3,
                      export: bool = True) -> dict[str, Any]:
    """Retrain the champion's configuration on its data and send it to the gate (export when promoted)."""
    result = retrain_and_gate(project, n_trials, model=model)
    kind = "promotion" if result.promoted else "retrain"
    notify(kind, f"{result.challenger} {'promoted' if result.promoted else 'not promoted'}", result.gate_reason,
           project)
    out = {"retrain_run": result.run_id, "gate_run": result.gate_run, "promoted": result.promoted}
    if result.promoted and export:
        out["export_run"] = export_champion(project, model).run_id
    return out


@flow(name="tune", on_failure=[_alert_failed], log_prints=True)
def tune(project: str = "default", data: str = "", target: str = "", family: str = "linear", n_trials: int = 10,
         metric: str = "") -> str:
    """One Optuna study as a flow run; returns the registered model (NAME/VERSION)."""
    if not data or not target:
        raise PlanError("The tune pipeline needs a dataset version (data) and a target column.")
    return tune_study(project, data, target, family, n_trials, metric)


FLOWS = {"monitor-and-retrain": monitor_and_retrain, "scheduled-retrain": scheduled_retrain, "tune": tune}
