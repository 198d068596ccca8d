"""``python -m ui.serve`` (make run) reports healthy only once the store is open and Home's reads are warm."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_gate_holds_readiness_until_the_warm_up_is_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.runtime.runtime import Runtime, RuntimeState

    from ui import serve, warmup

    monkeypatch.setattr(Runtime, "is_ready_for_browser_connection", Runtime.__dict__["is_ready_for_browser_connection"])
    assert serve.gate_health() and serve.gate_health()  # installed once, the second call a no-op
    running = SimpleNamespace(_state=RuntimeState.NO_SESSIONS_CONNECTED)
    stopped = SimpleNamespace(_state=RuntimeState.STOPPED)

    def readiness(runtime: SimpleNamespace) -> tuple[bool, str]:
        return asyncio.run(Runtime.is_ready_for_browser_connection.fget(runtime))

    monkeypatch.setattr(warmup, "_started", True)
    monkeypatch.setattr(warmup, "_done", threading.Event())
    monkeypatch.setattr(warmup, "_t_start", time.monotonic())
    assert readiness(running) == (False, serve.WARMING)
    assert readiness(stopped)[0] is False
    warmup._done.set()
    assert readiness(running) == (True, "ok")
    monkeypatch.setattr(warmup, "_done", threading.Event())
    monkeypatch.setattr(warmup, "_t_start", time.monotonic() - warmup.GATE_S - 1)
    assert readiness(running) == (True, "ok")  # a warm-up that hangs never keeps health down for good


def test_make_run_is_healthy_only_after_the_warm_up(tmp_path: Path) -> None:
    home = tmp_path / "workspace"
    home.mkdir()
    port = _free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    log = home / "server.log"
    proc = subprocess.Popen([sys.executable, "-m", "ui.serve", "--server.port", str(port), "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    answers: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and 200 not in answers:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as r:
                    answers.append(r.status)
            except urllib.error.HTTPError as err:  # 503 "warming up" (or Streamlit's own while it starts)
                answers.append(err.code)
            except OSError:
                time.sleep(0.1)
            # the warm-up's line is printed just before it lets health through: healthy means warm
            if answers and answers[-1] == 200:
                assert "warm-up done" in log.read_text(), log.read_text()[-3000:]
        assert answers and answers[-1] == 200, f"no healthy answer: {answers[-5:]}\n{log.read_text()[-3000:]}"
        assert (home / "mlflow.db").exists()  # the new store was created before health said ok
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
