"""Detached ``tune-worker`` processes: start, find, stop — for the page (and anyone else).

The Streamlit script thread never runs trials. :func:`start_worker` launches
``python -m core tune-worker --study NAME --storage URL`` in its own session
(``start_new_session=True``), so it survives page reruns and closed tabs, writing
its output to ``<home>/tune/<study>/worker-<pid>.log`` next to a small JSON record.

Stop: :func:`stop_workers` sends SIGTERM. The worker's handler sets a flag that the
objective checks between folds: the running trial is marked FAIL ("Stopped on
request …", params re-queued so a resume retries them) and the worker exits
cleanly. A worker killed harder (kill -9, power loss) is recovered by the next one
(:mod:`core.tune.records`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from core.config import REPO_ROOT, Settings
from core.tune.records import pid_alive

_POPENS: dict[int, subprocess.Popen] = {}  # reaped on every listing, so no zombies pile up


@dataclass(frozen=True)
class WorkerInfo:
    pid: int
    study_name: str
    log_path: Path
    started: float
    alive: bool


def _dir(settings: Settings, study_name: str) -> Path:
    return settings.home / "tune" / re.sub(r"[^A-Za-z0-9_.:-]", "_", study_name)


def start_worker(settings: Settings, study_name: str, storage: str, *, n_trials: int | None = None,
                 seed: int | None = None, finalize: bool = True, project: str | None = None,
                 env: dict[str, str] | None = None) -> WorkerInfo:
    """Start a detached worker process on the study; return its pid and log file."""
    folder = _dir(settings, study_name)
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "core"]
    if project:
        cmd += ["--project", project]
    cmd += ["tune-worker", "--study", study_name, "--storage", str(storage)]
    if n_trials:
        cmd += ["--trials", str(n_trials)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if finalize:
        cmd += ["--finalize"]
    log_path = folder / f"worker-{int(time.time() * 1000)}.log"
    full_env = {**os.environ, "WORKBENCH_HOME": str(settings.home), "MLFLOW_TRACKING_URI": settings.tracking_uri,
                "PYTHONUNBUFFERED": "1", **(env or {})}
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    _POPENS[proc.pid] = proc
    started = time.time()
    (folder / f"worker-{proc.pid}.json").write_text(json.dumps({"pid": proc.pid, "log": str(log_path),
                                                                "started": started, "cmd": cmd}))
    return WorkerInfo(proc.pid, study_name, log_path, started, True)


def _reap() -> None:
    for pid, proc in list(_POPENS.items()):
        if proc.poll() is not None:
            _POPENS.pop(pid, None)


def _is_our_worker(pid: int, study_name: str) -> bool:
    """Guard against pid reuse: the process must be a tune-worker of this study."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid_alive(pid)  # no /proc: trust the pid
    return b"tune-worker" in cmdline and study_name.encode() in cmdline


def list_workers(settings: Settings, study_name: str) -> list[WorkerInfo]:
    """Workers started for this study from this workspace (newest first), with liveness."""
    _reap()
    out = []
    for rec in _dir(settings, study_name).glob("worker-*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            d = json.loads(rec.read_text())
            pid = int(d["pid"])
            alive = pid_alive(pid) and _is_our_worker(pid, study_name)
            out.append(WorkerInfo(pid, study_name, Path(d["log"]), float(d["started"]), alive))
    return sorted(out, key=lambda w: w.started, reverse=True)


def stop_workers(settings: Settings, study_name: str) -> list[int]:
    """SIGTERM every live worker of the study; return the pids signalled."""
    pids = []
    for w in list_workers(settings, study_name):
        if w.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(w.pid, signal.SIGTERM)
                pids.append(w.pid)
    return pids


def log_tail(worker: WorkerInfo, lines: int = 20) -> str:
    try:
        return "\n".join(worker.log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
