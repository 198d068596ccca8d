"""What the workbench records, read back with the plain MlflowClient (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.tracking.datasets import log_dataset_inputs, log_dataset_version


def test_log_dataset_inputs_points_at_the_data_runs_entity(tracker) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "y": ["x", "y", "x"]})
    ref_run = tracker.start_run("p", "data", name="ref")
    ref = log_dataset_version(tracker, ref_run, "p", frame, "toy", target="y")
    tracker.end_run(ref_run)
    cur_run = tracker.start_run("p", "data", name="cur")
    cur = log_dataset_version(tracker, cur_run, "p", frame.head(2), "toy-batch")
    tracker.end_run(cur_run)

    run_id = tracker.start_run("p", "monitor", name="check")
    log_dataset_inputs(tracker, run_id, [(ref.run_id, "reference"), (cur.run_id, "current"), ("", "x")])
    run = tracker.client.get_run(run_id)
    seen = {i.tags[0].value: (i.dataset.name, i.dataset.digest) for i in run.inputs.dataset_inputs}
    assert seen == {"reference": ("toy:v1", ref.digest), "current": ("toy-batch:v1", cur.digest)}


def _int_depth(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(depth=frame["depth"].round().astype("int64"))  # an integer feature, as in wine's proline


def _export(tracker, tmp_path, family: str, task: str, recipe: bool = False, ints: bool = False):
    from core.cli import main
    from tests.integration.deploy_fixtures import PROJECT, seed_model, seed_recipe_model, small_frame

    if recipe:
        src = seed_recipe_model(tracker, family, task)
    else:
        src = seed_model(tracker, family, task, frame=_int_depth(small_frame(task)) if ints else None)
    out = tmp_path / "s.json"
    assert main(["--project", PROJECT, "export", "--model", f"{PROJECT}@champion", "--out", str(tmp_path / "out"),
                 "--json", str(out), "--calls", "10", "--batch-rows", "200"]) == 0
    return src, json.loads(out.read_text())


@pytest.mark.parametrize(("family", "task", "recipe", "ints"), [("rf", "classification", False, True),
                                                                ("linear", "regression", True, False)])
def test_onnx_export_is_its_own_registered_model_and_predicts_through_pyfunc(tracker, tmp_path, family, task,
                                                                             recipe, ints) -> None:
    import mlflow.artifacts
    import mlflow.pyfunc

    from core.deploy.export import run_onnx
    from core.tracking.deploy import onnx_versions
    from core.tracking.models import model_versions
    from tests.integration.deploy_fixtures import PROJECT, small_frame

    src, s = _export(tracker, tmp_path, family, task, recipe, ints)
    name = f"{PROJECT}.onnx"
    mv = tracker.client.get_model_version(name, str(s["registered_version"]))
    assert mv.tags["workbench.format"] == "onnx" and mv.tags["workbench.source_version"] == str(src.version)
    assert mv.tags["workbench.source_model"] == PROJECT
    # MLflow 3.17's SQL registry store does not fill ModelVersion.model_id; the source URI names the logged model
    assert mv.source.startswith("models:/m-")
    logged = tracker.client.get_logged_model(mv.source.removeprefix("models:/"))
    assert logged.source_run_id == s["deploy_run"] and str(logged.status).endswith("READY")
    assert logged.experiment_id == tracker.ensure_project(PROJECT)  # not MLflow's 'Default' experiment
    assert tracker.client.search_logged_models(experiment_ids=["0"]) == []
    deploy_inputs = tracker.client.get_run(s["deploy_run"]).inputs.dataset_inputs
    assert [i.tags[0].value for i in deploy_inputs] == ["evaluation"]
    assert all(not v.is_onnx for v in model_versions(tracker, PROJECT))  # the scikit-learn list stays clean
    assert [v.version for v in onnx_versions(tracker, PROJECT)] == [mv.version]

    local = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{mv.version}", dst_path=str(tmp_path / "m")))
    mlmodel = (local / "MLmodel").read_text()
    assert "CPUExecutionProvider" in mlmodel and "CUDA" not in mlmodel
    from mlflow.models import Model

    types = {c["name"]: c["type"] for c in Model.load(str(local / "MLmodel")).signature.inputs.to_dict()}
    assert types["depth"] == ("long" if ints else "double") and types["island"] == "string"

    # a plain DataFrame of the raw feature columns, as the data arrived (missing cells and all)
    frame = small_frame(task, n=40, seed=7)
    if ints:
        frame = _int_depth(frame)
    if recipe:
        from tests.integration.deploy_fixtures import recipe_case

        frame = recipe_case(task, n=40)[0]
    raw = frame.dropna(subset=["island"]).reset_index(drop=True)  # pyfunc feeds text as it is: no None
    export = tracker.download(s["deploy_run"], "bundle/bundle.zip")
    import zipfile

    from core.deploy.export import ExportResult, InputField

    with zipfile.ZipFile(export) as zf:
        onnx_bytes = zf.read("model.onnx")
        schema = json.loads(zf.read("schema.json"))
    fields = tuple(InputField(i["name"], i["tensor"]) for i in schema["inputs"])
    raw = raw[[f.name for f in fields]]
    expected = run_onnx(ExportResult(onnx_bytes, fields, tuple(schema["outputs"]), task, family, ""), raw)
    model = mlflow.pyfunc.load_model(f"models:/{name}/{mv.version}")
    got = model.predict(raw)
    if task == "classification":
        assert list(got["label"]) == list(expected["label"].ravel())
        probs = got[[c for c in got.columns if c.startswith("probability.")]].to_numpy()
        np.testing.assert_allclose(probs, expected["probabilities"], rtol=1e-6)
    else:
        np.testing.assert_allclose(got["variable"].to_numpy(), expected["variable"].ravel(), rtol=1e-6)

    # the version's own serving example, through the CLI scorer (no conda / virtualenv)
    example = local / "serving_input_example.json"
    assert example.is_file()
    out = tmp_path / "pred.json"
    proc = subprocess.run([str(Path(sys.executable).parent / "mlflow"), "models", "predict", "--env-manager", "local",
                           "-m", f"models:/{name}/{mv.version}", "-i", str(example), "-t", "json", "-o", str(out)],
                          capture_output=True, text=True, timeout=300, env={**os.environ,
                                                                            "MLFLOW_TRACKING_URI": tracker.settings.tracking_uri})
    assert proc.returncode == 0, proc.stderr[-2000:]
    preds = json.loads(out.read_text())["predictions"]
    assert len(preds) == len(json.loads(example.read_text())["dataframe_split"]["data"])


def test_every_run_names_its_user_and_source(tracker, monkeypatch) -> None:
    import getpass

    from core.tracking.context import run_source

    with run_source("pages/monitor.py"):
        inside = tracker.start_run("p", "monitor")
    monkeypatch.setattr(sys, "argv", ["/x/core/__main__.py", "--project", "p", "tune", "--data", "f.csv"])
    outside = tracker.start_run("p", "tune")
    tags = [tracker.client.get_run(r).data.tags for r in (inside, outside)]
    assert [t["mlflow.source.name"] for t in tags] == ["pages/monitor.py", "python -m core tune"]
    assert all(t["mlflow.user"] == getpass.getuser() and t["mlflow.source.type"] == "LOCAL" for t in tags)


def test_projects_are_marked_classic_ml_and_default_stays_in_the_workspace(tracker) -> None:
    tracker.start_run("p", "data")
    exp = tracker.client.get_experiment(tracker.ensure_project("p"))
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    default = tracker.client.get_experiment("0")
    assert default.artifact_location == f"{tracker.settings.artifact_root}/0"
    assert default.artifact_location.startswith(tracker.settings.home.as_uri())


def test_side_by_side_runs_keep_metric_keys_bounded(tracker) -> None:
    from core.compare.record import run_comparison
    from core.monitor.demo import seed_example

    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 300)
    frame = pd.DataFrame({"x": x, "z": rng.normal(0, 1, 300), "y": np.where(x > 0, "a", "b")})
    version, first = seed_example(tracker, "cmp", frame, "toy", "y")
    _, second = seed_example(tracker, "cmp", frame, "toy", "y", family="rf", promote=False)
    *_, one = run_comparison(tracker, "cmp", [f"{first.name}/{first.version}"], version.ref, importance=False)
    *_, two = run_comparison(tracker, "cmp", [f"{first.name}/{first.version}", f"{second.name}/{second.version}"],
                             version.ref, importance=False)
    single, pair = (tracker.client.get_run(r).data for r in (one, two))
    assert "accuracy" in single.metrics and not [k for k in single.metrics if "_v" in k]
    assert not [k for k in pair.metrics if k.startswith("accuracy")]  # per model: the CSV artifact
    assert pair.params["models"] == f"{first.name}/{first.version},{second.name}/{second.version}"
    assert "evaluation/metrics.csv" in tracker.list_artifacts(two, "evaluation")


def test_make_mlflow_ui_opens_the_store_the_workbench_uses(tracker, settings, repo_root, tmp_path) -> None:
    import signal
    import time
    import urllib.request

    from tests.integration.servers import free_port

    tracker.ensure_project("seen-in-ui")
    env = {**os.environ, "WORKBENCH_HOME": str(settings.home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    store = subprocess.run(["make", "-s", "mlflow-store"], cwd=repo_root, env=env, capture_output=True, text=True)
    assert store.stdout.strip() == settings.tracking_uri
    remote = subprocess.run(["make", "-s", "mlflow-ui"], cwd=repo_root, capture_output=True, text=True,
                            env={**env, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    assert remote.returncode == 0 and "open it in a browser" in remote.stdout

    port = free_port()
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(["make", "-s", "mlflow-ui", f"MLFLOW_UI_PORT={port}"], cwd=repo_root, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        names: list[str] = []
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/ajax-api/2.0/mlflow/experiments/search?max_results=100"
                with urllib.request.urlopen(url, timeout=2) as resp:
                    names = [e["name"] for e in json.loads(resp.read())["experiments"]]
                break
            except OSError:
                time.sleep(0.25)  # polling a server that is starting, not waiting a fixed time
        assert "seen-in-ui" in names, (names, (tmp_path / "ui.log").read_text()[-2000:])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_onnx_versions_read_old_stores_exports_inside_the_sklearn_model(tracker) -> None:
    from core.tracking.deploy import onnx_versions
    from core.tracking.models import model_versions, register_model
    from tests.integration.deploy_fixtures import PROJECT, seed_model

    src = seed_model(tracker, "linear", "classification")
    with tracker.stage_run(PROJECT, "deploy", name="old export") as run_id:
        tracker.log_text(run_id, "onnx", "onnx_model/model.onnx")
    old = register_model(tracker, PROJECT, run_id, "onnx_model",
                         {"workbench.format": "onnx", "workbench.source_version": str(src.version)})
    assert [(v.name, v.version) for v in onnx_versions(tracker, PROJECT)] == [(PROJECT, old.version)]
    assert [v.version for v in model_versions(tracker, PROJECT, sklearn_only=True)] == [src.version]
