"""Prefect 3 as the engine: the embedded server and worker, deployments, schedules and flow runs.

Embedded default (``PREFECT_API_URL`` unset): ``start`` launches ``prefect server start`` on a free
loopback port with ``PREFECT_HOME`` (and its SQLite database) in ``<workspace>/prefect``, and one
``prefect worker start --type process`` on the work pool ``workbench``; both are detached (own session),
their pid and port are in ``<workspace>/prefect/server.json`` / ``worker.json``, so a page refresh or
a workbench restart finds them again (pid alive + ``/api/health``) instead of starting a second pair.

Team: ``PREFECT_API_URL`` points at a shared Prefect server (on PostgreSQL); workers on other machines
run ``prefect worker start --pool workbench``; deployments are the same work-pool deployments.
The API calls (deployments, schedules, flow runs) are in :mod:`core.plan.runs`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import REPO_ROOT
from core.plan import PlanError

if TYPE_CHECKING:  # pragma: no cover
    from core.config import Settings

POOL = "workbench"
API_ENV = "PREFECT_API_URL"
START_TIMEOUT_S = 90.0
HEALTH_TIMEOUT_S = 5.0  # a busy embedded server on 2 shared cores can take seconds to answer /health


@dataclass(frozen=True)
class Service:
    name: str  # "server" | "worker"
    running: bool
    pid: int | None
    detail: str


@dataclass(frozen=True)
class Status:
    url: str
    embedded: bool
    reachable: bool
    server: Service | None
    worker: Service | None
    message: str

    @property
    def ui_url(self) -> str:
        return self.url[: -len("/api")] if self.url.endswith("/api") else self.url


# -- where things live -------------------------------------------------------------------------------
def prefect_home(settings: Settings) -> Path:
    return settings.home / "prefect"


def _state_file(settings: Settings, name: str) -> Path:
    return prefect_home(settings) / f"{name}.json"


def _read_state(settings: Settings, name: str) -> dict[str, Any]:
    try:
        return json.loads(_state_file(settings, name).read_text())
    except (OSError, ValueError):
        return {}


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    try:  # a zombie (our own exited child) is not alive
        return "zombie" not in Path(f"/proc/{int(pid)}/status").read_text().lower()
    except OSError:
        return True


def _start_ticks(pid: int | None) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/PID/stat`` field 22), None when unknown."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError, TypeError):
        return None


def _ours(state: dict[str, Any]) -> bool:
    """The process in a state file is alive and is the one we started (a pid reused after a reboot is not)."""
    pid = state.get("pid")
    if not _alive(pid):
        return False
    recorded, now = state.get("ticks"), _start_ticks(pid)
    return recorded is None or now is None or recorded == now


def healthy(url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    """One GET of ``<api>/health``; True when the Prefect API answers."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as resp:  # noqa: S310
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def api_url(settings: Settings) -> str:
    """``$PREFECT_API_URL``, else the embedded server's URL from its state file ("" when none was started)."""
    url = os.environ.get(API_ENV, "").strip()
    if url:
        return url.rstrip("/")
    state = _read_state(settings, "server")
    return state.get("url", "") if _ours(state) else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prefect_env(settings: Settings, url: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PREFECT_HOME": str(prefect_home(settings)), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "WORKBENCH_HOME": str(settings.home), "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)})
    if url:
        env[API_ENV] = url
    return env


def _spawn(settings: Settings, name: str, argv: list[str], env: dict[str, str],
           extra: dict[str, Any]) -> subprocess.Popen:
    home = prefect_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    log = (home / f"{name}.log").open("ab")
    proc = subprocess.Popen(argv, env=env, cwd=str(REPO_ROOT), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)  # detached: survives the page
    _state_file(settings, name).write_text(json.dumps({"pid": proc.pid, "ticks": _start_ticks(proc.pid),
                                                       "started": time.time(), **extra}))
    return proc


def _log_tail(settings: Settings, name: str, lines: int = 3) -> str:
    try:
        text = (prefect_home(settings) / f"{name}.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])[-400:]


# -- start / stop ---------------------------------------------------------------------------------------
def start(settings: Settings, *, worker: bool = True, timeout: float = START_TIMEOUT_S) -> Status:
    """Start (or find) the embedded server and the worker; with ``PREFECT_API_URL`` only the worker.

    Raises:
        PlanError: the server did not answer within ``timeout`` (with the tail of its log).
    """
    url = os.environ.get(API_ENV, "").strip().rstrip("/")
    if not url:
        url = _ensure_server(settings, timeout)
    elif not healthy(url):
        raise PlanError(unreachable(url))
    if worker:
        _ensure_worker(settings, url)
    return status(settings)


def _ensure_server(settings: Settings, timeout: float) -> str:
    state = _read_state(settings, "server")
    if _ours(state) and state.get("url") and healthy(state["url"]):
        return state["url"]
    if _ours(state):  # alive but not answering yet (just started by another page) — wait for it
        if _wait_healthy(state.get("url", ""), lambda: _ours(state), timeout):
            return state["url"]
        _kill(state.get("pid"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = _prefect_env(settings)
    env["PREFECT_UI_API_URL"] = url
    argv = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    proc = _spawn(settings, "server", argv, env, {"url": url, "port": port})
    if not _wait_healthy(url, lambda: proc.poll() is None, timeout):
        tail = _log_tail(settings, "server")
        _kill(proc.pid)
        raise PlanError(f"The embedded Prefect server did not answer within {timeout:.0f} s ({tail or 'no log'}).")
    return url


def _wait_healthy(url: str, running: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    delay = 0.1
    while time.monotonic() < deadline:
        if healthy(url, timeout=1.0):
            return True
        if not running():
            return False
        time.sleep(delay)  # polling a starting process: back off up to 0.5 s
        delay = min(delay * 1.5, 0.5)
    return False


def _ensure_worker(settings: Settings, url: str) -> None:
    state = _read_state(settings, "worker")
    if _ours(state) and state.get("url") == url:
        return
    if _ours(state):
        _kill(state.get("pid"))
    ensure_pool(url)
    env = _prefect_env(settings, url)
    env.setdefault("PREFECT_WORKER_QUERY_SECONDS", "5")
    argv = [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--type", "process",
            "--name", f"workbench-{socket.gethostname()}-{os.getpid()}"]
    _spawn(settings, "worker", argv, env, {"url": url})


def _kill(pid: int | None) -> bool:
    if not _alive(pid):
        return False
    with contextlib.suppress(OSError):
        os.killpg(int(pid), signal.SIGTERM)  # its own session: the group is it and its flow-run children
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(OSError):
            os.killpg(int(pid), signal.SIGKILL)
    return True


def stop(settings: Settings) -> list[str]:
    """Stop the embedded worker and server this workspace started; return what was stopped."""
    stopped = []
    for name in ("worker", "server"):
        state = _read_state(settings, name)
        if _ours(state) and _kill(state.get("pid")):
            stopped.append(f"{name} (pid {state['pid']})")
        with contextlib.suppress(OSError):
            _state_file(settings, name).unlink()
    return stopped


def status(settings: Settings) -> Status:
    """Where the API is, whether it answers, and the embedded processes (never raises)."""
    env_url = os.environ.get(API_ENV, "").strip().rstrip("/")
    services = []
    for name in ("server", "worker"):
        state = _read_state(settings, name)
        alive = _ours(state)
        services.append(Service(name, alive, state.get("pid") if alive else None, state.get("url", "")))
    url = env_url or (services[0].detail if services[0].running else "")
    reachable = bool(url) and healthy(url)
    if url and not reachable and not env_url:  # our own server is alive: give a busy one a second chance
        reachable = healthy(url, timeout=3 * HEALTH_TIMEOUT_S)
    if not url:
        message = "The embedded Prefect server is not running; start it with `python -m core pipeline serve`."
    elif not reachable:
        message = unreachable(url)
    else:
        message = "ok"
    return Status(url, not env_url, reachable, services[0] if not env_url else None, services[1], message)


def unreachable(url: str) -> str:
    return (f"The Prefect API at {url} does not answer; start it (`python -m core pipeline serve`, or your team's "
            f"server) or fix PREFECT_API_URL — the rest of the workbench keeps working without it.")


def ensure_pool(url: str) -> None:
    """Create the ``workbench`` process work pool when it is missing."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.workers.process import ProcessWorker

    with temporary_settings(updates={PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        try:
            client.read_work_pool(POOL)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=POOL, type="process",
                                                   base_job_template=ProcessWorker.get_default_base_job_template()))
