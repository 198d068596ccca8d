"""The workbench against real team servers: PostgreSQL 15 + ``mlflow server`` (proxied artifacts).

Everything goes through the two environment variables a team sets (MLFLOW_TRACKING_URI,
OPTUNA_STORAGE) and the public core APIs / commands — nothing here knows it is not the
embedded default. The distributed study runs two real ``tune-worker`` processes, SIGKILLs one
of them in the middle of a trial, and checks what a team relies on: the study still finishes,
the dead worker's trial ends FAIL and is retried, every finished trial has exactly one MLflow
child run on the server, and the best model is registered there and loads back.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import Settings
from tests.integration.servers import TeamServers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
PROJECT = "team"
# Optuna's heartbeat in production is 30 s / 90 s grace (core.tune.storage); a test cannot wait
# that long, so the worker processes start with 1 s / 5 s. Everything else is the real command.
WORKER = ("import sys, core.tune.storage as s; s.HEARTBEAT_S, s.GRACE_S = 1, 5; "
          "from core.cli import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture(scope="module")
def team_env(team: TeamServers, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("team-workspace")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "OPTUNA_", "WORKBENCH_"))}
    env.update(team.env(home), MLFLOW_ENABLE_ASYNC_LOGGING="false", GIT_PYTHON_REFRESH="quiet",
               PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="module")
def team_tracker(team_env: dict[str, str]):
    from core.tracking import Tracker

    settings = Settings.from_env(team_env)
    assert settings.tracking_uri.startswith("http://") and "postgresql" in settings.optuna_storage
    return Tracker.connect(settings)


def _frame() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, list(range(10)) + [-1]].copy()
    frame["target"] = np.where(frame["target"] == 1, "benign", "malignant")
    return frame


def test_status_command_sees_both_team_servers(team: TeamServers, team_env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "core", "status"], cwd=ROOT, env=team_env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0].split()[:3] == ["tracking", "tracking", "server"] and "ok" in out[0]
    assert out[1].split()[:3] == ["tuning", "PostgreSQL", "ok"]
    assert team.postgres.password not in proc.stdout


def test_dataset_version_round_trip_through_proxied_artifacts(team: TeamServers, team_tracker) -> None:
    from core.tracking.datasets import load_dataset, log_dataset_version, resolve_dataset

    frame = _frame().head(200)
    split = pd.Series(np.where(np.arange(len(frame)) % 4 == 0, "test", "train"), index=frame.index)
    with team_tracker.stage_run(PROJECT, "data", name="cancer") as run_id:
        version = log_dataset_version(team_tracker, run_id, PROJECT, frame, "cancer-small", split=split, target="target")
    assert resolve_dataset(team_tracker, PROJECT, "cancer-small:v1").run_id == run_id == version.run_id
    back = load_dataset(team_tracker, run_id, part="train")
    pd.testing.assert_frame_equal(back.reset_index(drop=True), frame[split == "train"].reset_index(drop=True),
                                  check_dtype=False)
    # the client never saw a local path: the artifact went through the server into its destination
    assert team_tracker.get_run(run_id).artifact_uri.startswith("mlflow-artifacts:")
    assert list(team.mlflow.artifacts.rglob("table.parquet"))
    # the MLflow dataset input names a source anyone with access to the server can download
    import io
    import json

    import requests

    (dataset_input,) = team_tracker.client.get_run(run_id).inputs.dataset_inputs
    url = json.loads(dataset_input.dataset.source)["url"]
    assert url.startswith(team.tracking_uri)
    stored = pd.read_parquet(io.BytesIO(requests.get(url, timeout=30).content))
    assert len(stored) == len(frame)


def test_model_logged_registered_and_loaded_through_server(team_tracker) -> None:
    from core.models import build_pipeline, feature_spec, prepare_xy
    from core.tracking.models import get_model_version, load_sklearn_model, log_sklearn_model, register_model, set_alias

    frame = _frame()
    spec = feature_spec(frame, "target")
    X, y = prepare_xy(frame, "target", spec)
    model = build_pipeline("linear", "classification", spec, {}, 0).fit(X, y)
    name = f"{PROJECT}-model"
    with team_tracker.stage_run(PROJECT, "tune", name="manual fit") as run_id:
        log_sklearn_model(team_tracker, run_id, model, X.head(5))
        mv = register_model(team_tracker, name, run_id, "model", {"workbench.family": "linear"})
    set_alias(team_tracker, name, "champion", mv.version)
    got = get_model_version(team_tracker, name, "champion")
    assert (got.version, got.run_id, got.tags["workbench.family"]) == (mv.version, run_id, "linear")
    loaded = load_sklearn_model(team_tracker, got)
    assert (loaded.predict(X) == model.predict(X)).all()


def _trials(storage_url: str, study_name: str):
    import optuna

    return optuna.load_study(study_name=study_name, storage=storage_url).get_trials(deepcopy=False)


def _start_worker(env: dict[str, str], study: str, seed: int, log: Path, *extra: str,
                  wrapped: bool = True) -> subprocess.Popen:
    prefix = [sys.executable, "-c", WORKER] if wrapped else [sys.executable, "-m", "core"]
    cmd = [*prefix, "--project", PROJECT, "tune-worker", "--study", study, "--storage", env["OPTUNA_STORAGE"],
           "--seed", str(seed), *extra]
    with open(log, "w") as fh:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)


def test_two_workers_survive_a_killed_worker(team: TeamServers, team_env: dict[str, str], team_tracker,
                                             tmp_path: Path) -> None:
    import json

    from core.tracking.datasets import log_dataset_version
    from core.tracking.models import get_model_version, load_sklearn_model
    from core.tracking.tune import trial_children
    from core.tune.objective import WORKER_ATTR
    from core.tune.storage import make_storage
    from core.tune.study import PARENT_ATTR, StudyConfig, create_or_load_study

    frame = _frame()
    with team_tracker.stage_run(PROJECT, "data", name="cancer") as data_run:
        log_dataset_version(team_tracker, data_run, PROJECT, frame, "cancer", target="target")
    name = f"scaleout-{uuid.uuid4().hex[:8]}"
    space = json.dumps({"n_estimators": {"kind": "int", "low": 40, "high": 80},
                        "max_depth": {"kind": "int", "low": 3, "high": 12}, "min_samples_leaf": 1})
    config = StudyConfig.create(project=PROJECT, data_run_id=data_run, target="target", task="classification",
                                family="rf", space=space, study_name=name, n_trials=8, pruner="none",
                                sampler="random", cv_folds=3)
    storage_url = team.optuna_storage
    study = create_or_load_study(config, make_storage(storage_url), team_tracker)
    parent = study.user_attrs[PARENT_ATTR]

    procs: list[subprocess.Popen] = []
    try:
        victim = _start_worker(team_env, name, 1, tmp_path / "worker-a.log")
        survivor = _start_worker(team_env, name, 2, tmp_path / "worker-b.log")
        procs += [victim, survivor]
        owner = f"{socket.gethostname()}:{victim.pid}"
        killed = None
        deadline = time.monotonic() + 600  # worker start-up (imports, data download) on a busy CI box
        while killed is None and time.monotonic() < deadline:
            assert victim.poll() is None, (tmp_path / "worker-a.log").read_text()
            # all parameters suggested: the worker is fitting folds now
            running = [t for t in _trials(storage_url, name) if t.state.name == "RUNNING"
                       and t.user_attrs.get(WORKER_ATTR) == owner and len(t.params) == 2]
            if running:
                os.kill(victim.pid, signal.SIGKILL)  # mid-trial: no handler, no clean-up, like a lost machine
                victim.wait(10)
                killed = running[0]
            else:
                time.sleep(0.05)
        assert killed is not None, "worker A never started a trial"
        assert next(t for t in _trials(storage_url, name) if t.number == killed.number).state.name == "RUNNING"
        # The survivor fails the stale trial (heartbeat) at its next trial after the grace period, and
        # Optuna's retry callback re-queues it; if the survivor finished first, the next worker does.
        assert survivor.wait(600) == 0, (tmp_path / "worker-b.log").read_text()
        after_survivor = next(t for t in _trials(storage_url, name) if t.number == killed.number)
        # A team restarts a worker (or the lead runs --finalize): it recovers what the dead one left
        # and registers the best model on the server.
        final = _start_worker(team_env, name, 3, tmp_path / "worker-c.log", "--finalize", wrapped=False)
        procs.append(final)
        assert final.wait(600) == 0, (tmp_path / "worker-c.log").read_text()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()}" for p in sorted(tmp_path.glob("worker-*.log")))

    trials = _trials(storage_url, name)
    by_number = {t.number: t for t in trials}
    dead = by_number[killed.number]
    assert dead.state.name == "FAIL", logs
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == dead.number
               or t.user_attrs.get("workbench.retried_from") == dead.number]
    assert len(retries) == 1, logs  # re-queued exactly once, by the heartbeat callback or by the next worker
    retry = retries[0]
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    if retry.state.name == "WAITING":  # the budget was already spent by the others: not needed
        assert len(complete) >= config.n_trials, logs
    else:
        assert retry.state.name == "COMPLETE" and retry.params == dead.params, logs
    assert not [t for t in trials if t.state.name == "RUNNING"], logs
    workers = {t.user_attrs.get(WORKER_ATTR, "").rsplit(":", 1)[-1] for t in trials}
    assert {str(survivor.pid), str(victim.pid)} <= workers
    assert len(complete) >= config.n_trials, logs
    path = "heartbeat" if after_survivor.state.name == "FAIL" else "next worker"

    finished = {t.number for t in trials if t.state.name in ("COMPLETE", "PRUNED", "FAIL")}
    children = trial_children(team_tracker, PROJECT, parent)
    assert set(children) == finished, logs
    assert all(len(ids) == 1 for ids in children.values()), {n: ids for n, ids in children.items() if len(ids) > 1}
    child = team_tracker.get_run(children[dead.number][0])
    assert child.status == "FAILED" and child.tags["optuna.state"] == "FAIL"

    mv = get_model_version(team_tracker, f"{PROJECT}-target", _latest_version(team_tracker))  # <project>-<target>
    assert mv.run_id == parent and mv.tags["workbench.study"] == name
    model = load_sklearn_model(team_tracker, mv)
    X = frame.drop(columns=["target"])
    assert (model.predict(X) == frame["target"]).mean() > 0.9
    print(f"killed trial {dead.number} → FAIL (by {path}), re-queued as trial {retry.number} ({retry.state.name});"
          f" {len(complete)} complete, model v{mv.version}")


def _latest_version(tracker) -> str:
    from core.tracking.models import model_versions

    from core.tracking.models import project_models

    names = project_models(tracker, PROJECT)  # one registered model per prediction job: <project>-<target>
    versions = [mv for name in names for mv in model_versions(tracker, name)]
    assert versions, "no model version registered"
    return str(max(int(v.version) for v in versions))
