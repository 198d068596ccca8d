"""``python -m core monitor`` closes the loop headless (issue 14) and records natively (issue 16).

Read back with the plain MlflowClient: the batch file becomes a dataset version of kind ``batch``, the
check run has the reference and the batch as dataset inputs (the data runs' own entities), stable
drift keys, verdict tags only for checks that ran, and who / what made it.
"""

from __future__ import annotations

import getpass

import numpy as np
import pandas as pd

from core.cli import main
from core.monitor.demo import seed_example

PROJECT = "headless"


def _table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    color = rng.choice(["red", "blue"], n)
    y = np.where(x1 + 0.5 * x2 + (color == "red") > 0.5, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "y": y})


def _monitor(*extra: str) -> int:
    return main(["--project", PROJECT, "monitor", "--reference", "toy", *extra])


def _check_run(tracker):
    return tracker.client.get_run(tracker.runs(PROJECT, stage="monitor")[0].run_id)


def test_headless_check_with_a_model_records_the_batch_and_every_check(tracker, tmp_path, capsys) -> None:
    version, mv = seed_example(tracker, PROJECT, _table(400, 0), "toy", "y")
    batch = tmp_path / "batch-2026-12.csv"
    _table(300, 1, shift=1.5).to_csv(batch, index=False)
    assert _monitor("--current", str(batch), "--model", f"{mv.name}@champion") == 0
    out = capsys.readouterr().out
    assert "prediction drift:" in out and "model quality:" in out and "multivariate drift:" in out

    run = _check_run(tracker)
    tags, metrics, params = run.data.tags, run.data.metrics, run.data.params
    # the batch is a dataset version of kind batch, listed in the run's inputs
    batch_runs = [r for r in tracker.runs(PROJECT, stage="data") if r.tags.get("workbench.dataset.kind") == "batch"]
    assert len(batch_runs) == 1
    b = batch_runs[0]
    assert b.tags["workbench.dataset.name"] == "batch-2026-12" and b.tags["workbench.dataset.version"] == "1"
    assert b.run_id in tags["workbench.inputs"].split(",") and version.run_id in tags["workbench.inputs"]
    # dataset inputs: the same entities (name and digest) as the data runs that made them
    contexts = {i.tags[0].value: (i.dataset.name, i.dataset.digest) for i in run.inputs.dataset_inputs
                if i.tags and i.tags[0].key == "mlflow.data.context"}
    assert contexts == {"reference": ("toy:v1", version.digest),
                        "current": ("batch-2026-12:v1", b.tags["workbench.dataset.digest"])}
    data_digest = tracker.client.get_run(version.run_id).inputs.dataset_inputs[0].dataset.digest
    assert data_digest == version.digest
    # stable drift keys over the model's features only (the target is not a drifting column)
    assert metrics["n_columns"] == 3
    for col in ("x1", "x2", "color"):
        assert f"drift.{col}.score" in metrics and metrics[f"drift.{col}.detected"] in (0.0, 1.0)
        assert params[f"drift.{col}.test"]
        assert f"drift.{col}" not in metrics
    assert "drift.y.score" not in metrics
    assert metrics["drift.x1.detected"] == 1.0
    assert {"prediction_drift.score", "prediction_drift.detected", "domain_auc", "quality_drop"} <= set(metrics)
    assert {"prediction_drift", "multivariate_drift", "concept_drift"} <= set(tags)
    assert params["model"].startswith(mv.label) and mv.run_id in tags["workbench.inputs"]
    assert tags["mlflow.user"] == getpass.getuser() and tags["mlflow.source.name"] == "python -m core monitor"
    assert tags["mlflow.source.type"] == "LOCAL"


def test_headless_check_without_a_model_tags_only_what_ran(tracker, tmp_path) -> None:
    version, _mv = seed_example(tracker, PROJECT, _table(400, 0), "toy", "y")
    batch = tmp_path / "labelled.csv"
    _table(200, 2).to_csv(batch, index=False)
    assert _monitor("--current", str(batch), "--batch-name", "week-49") == 0
    run = _check_run(tracker)
    assert not {"prediction_drift", "multivariate_drift", "concept_drift"} & set(run.data.tags)
    assert not [k for k in run.data.metrics if k.startswith(("prediction", "domain", "cluster", "quality"))]
    assert run.data.metrics["n_columns"] == 3  # the target is left out of the share here too
    # the same file checked again is the same batch version, not a second one
    assert _monitor("--current", str(batch), "--batch-name", "week-49") == 0
    batches = [r for r in tracker.runs(PROJECT, stage="data") if r.tags.get("workbench.dataset.kind") == "batch"]
    assert [r.tags["workbench.dataset.name"] for r in batches] == ["week-49"]
    assert all(batches[0].run_id in r.inputs for r in tracker.runs(PROJECT, stage="monitor"))


def test_headless_model_errors_are_one_line(tracker, tmp_path, capsys) -> None:
    seed_example(tracker, PROJECT, _table(200, 0), "toy", "y")
    batch = tmp_path / "b.csv"
    _table(50, 3).to_csv(batch, index=False)
    assert _monitor("--current", str(batch), "--model", "nosuch@champion") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "nosuch" in err[0]
    assert _monitor("--current", str(batch), "--batch-name", "!!!") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "'!!!'" in err[0]
    assert not tracker.runs(PROJECT, stage="monitor")  # nothing recorded for refused input


def test_timeline_run_has_its_table_and_reference_as_dataset_inputs(tracker) -> None:
    from core.monitor.check import Table, record_timeline
    from core.monitor.timeline import drift_timeline
    from core.tracking.datasets import log_dataset_version

    dates = pd.date_range("2020-01-01", "2021-12-31", freq="D")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"date": dates.astype(str), "t": rng.normal(0, 1, len(dates)) + (dates.year == 2021) * 2})
    with tracker.stage_run(PROJECT, "data") as rid:
        table = log_dataset_version(tracker, rid, PROJECT, frame, "daily")
    with tracker.stage_run(PROJECT, "data") as rid:
        ref = log_dataset_version(tracker, rid, PROJECT, frame.head(100), "daily-ref")
    timeline = drift_timeline(frame, "date", "year")
    run_id = record_timeline(tracker, PROJECT, timeline, source=Table(frame, table.label, table.run_id),
                             reference_run=ref.run_id)
    inputs = tracker.client.get_run(run_id).inputs.dataset_inputs
    assert {i.tags[0].value: i.dataset.digest for i in inputs} == {"current": table.digest, "reference": ref.digest}
