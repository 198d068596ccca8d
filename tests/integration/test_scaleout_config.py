"""Switching backends by environment, and a dead tracking server costing seconds with one clear sentence."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.config import Settings
from core.errors import TrackingError
from core.scaleout.status import mask, storage_kind, storage_status
from tests.integration.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_storage_kind_and_mask() -> None:
    assert storage_kind("/tmp/ws/optuna.journal") == "journal file"
    assert storage_kind("postgresql+psycopg2://u:p@db:5432/optuna") == "PostgreSQL"
    assert storage_kind("sqlite:///x.db") == "SQLite"
    assert mask("postgresql+psycopg2://bob:s3cret@db:5432/optuna") == "postgresql+psycopg2://bob:***@db:5432/optuna"
    assert mask("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_two_variables_switch_the_settings(tmp_path: Path) -> None:
    local = Settings.from_env({"WORKBENCH_HOME": str(tmp_path)})
    assert local.embedded and storage_kind(local.optuna_storage) == "journal file"
    team = Settings.from_env({"WORKBENCH_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": "http://10.0.0.5:5000",
                              "OPTUNA_STORAGE": "postgresql+psycopg2://wb:pw@10.0.0.5/optuna"})
    assert not team.embedded and team.tracking_uri == "http://10.0.0.5:5000"
    assert storage_kind(team.optuna_storage) == "PostgreSQL"


def test_dead_optuna_database_is_one_sentence_without_password() -> None:
    port = free_port()
    s = storage_status(f"postgresql+psycopg2://wb:topsecret@127.0.0.1:{port}/optuna")
    assert not s.ok and s.kind == "PostgreSQL"
    assert "does not answer" in s.message and "topsecret" not in s.message and "\n" not in s.message


def test_dead_tracking_server_health_and_calls_fail_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.tracking import Tracker

    for key in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        monkeypatch.delenv(key, raising=False)
    uri = f"http://127.0.0.1:{free_port()}"
    tracker = Tracker.connect(Settings.from_env({"WORKBENCH_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": uri}))
    start = time.perf_counter()
    health = tracker.health()
    assert not health.ok and health.kind == "tracking server"
    assert f"tracking server at {uri} does not answer" in health.message
    assert time.perf_counter() - start < 5
    start = time.perf_counter()
    with pytest.raises(TrackingError, match="does not answer .while trying to look up the project"):
        tracker.runs("p")
    with pytest.raises(TrackingError, match="does not answer .while trying to read run"):
        tracker.get_run("0" * 32)
    # bounded retries (2, backoff 1 s) instead of MLflow's ~4 minutes
    assert time.perf_counter() - start < 30
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"


def test_person_set_retry_variables_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.tracking import Tracker

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "5")
    Tracker.connect(Settings.from_env({"WORKBENCH_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": "http://127.0.0.1:1"}))
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "5"


@pytest.mark.parametrize("argv", [["status"], ["--project", "p", "tune", "--data", "iris", "--target", "y", "--model", "rf"]])
def test_cli_against_dead_server_exits_2_with_one_line(tmp_path: Path, argv: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_HTTP_REQUEST")}
    env.update(WORKBENCH_HOME=str(tmp_path), MLFLOW_TRACKING_URI=f"http://127.0.0.1:{free_port()}")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "core", *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    elapsed = time.perf_counter() - start
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: The MLflow tracking server at http://127.0.0.1:")
    assert "Traceback" not in proc.stderr
    # imports + ~3 s of bounded retries; MLflow's defaults (7 retries, backoff 2 s doubling) sleep over 250 s
    assert elapsed < 200, f"{elapsed:.0f} s: the retries are not bounded"
