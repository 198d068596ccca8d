"""Real team servers for tests and benchmarks: PostgreSQL 15 and an ``mlflow server`` on loopback.

:func:`team_servers` is a context manager that

1. initialises a throw-away PostgreSQL cluster (``initdb``) in a temporary folder, owned by an
   unprivileged system user when we run as root (PostgreSQL refuses to run as root): the user
   ``wbpg`` is created with ``useradd`` if missing, and the server processes drop to it with
   ``subprocess``'s ``user=`` / ``group=`` (setresuid in the child — no ``su``/``sudo`` needed);
2. starts it with ``pg_ctl`` on a free loopback port (password auth over TCP, durability off —
   it is a test cluster), creates the ``mlflow`` and ``optuna`` databases;
3. starts ``mlflow server`` with the PostgreSQL backend store, proxied artifacts
   (``--serve-artifacts --artifacts-destination``) and ``--allowed-hosts``, and waits for ``/health``;
4. on exit — normal, exception or interpreter shutdown — stops every process it started
   (the MLflow process group, then ``pg_ctl stop``) and deletes the folders.

It is plain Python (no pytest), so ``bench/bench_scaleout.py`` uses it too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("WORKBENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "wbpg"  # system user that owns the test cluster when we run as root
DB_ROLE = "workbench"
DATABASES = ("mlflow", "optuna")
REPO_ROOT = Path(__file__).resolve().parents[2]


class ServerStartError(RuntimeError):
    """A server did not come up; the message carries the tail of its log."""


def postgres_available() -> bool:
    """True when the PostgreSQL binaries this module needs are installed."""
    return all((PG_BIN / name).exists() for name in ("initdb", "pg_ctl", "postgres"))


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- PostgreSQL ------------------------------------------------------------------------------------
@dataclass
class _Identity:
    """Who runs the PostgreSQL processes: ourselves, or an unprivileged user when we are root."""

    uid: int
    gid: int

    @classmethod
    def for_postgres(cls) -> _Identity:
        if os.geteuid() != 0:
            return cls(os.getuid(), os.getgid())
        try:
            entry = pwd.getpwnam(PG_USER)
        except KeyError:
            done = subprocess.run(
                ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", PG_USER],
                capture_output=True, text=True,
            )
            try:  # exit 9: another test process (a parallel worker) created it meanwhile
                entry = pwd.getpwnam(PG_USER)
            except KeyError:
                raise RuntimeError(f"useradd {PG_USER} failed: {done.stderr.strip()}") from None
        return cls(entry.pw_uid, entry.pw_gid)

    def popen_kwargs(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


@dataclass
class Postgres:
    """A running throw-away PostgreSQL cluster."""

    root: Path
    port: int
    password: str
    identity: _Identity
    started: bool = False

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        """SQLAlchemy URL of ``database`` (what MLflow and Optuna take)."""
        return f"{driver}://{DB_ROLE}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {"PATH": f"{PG_BIN}:/usr/bin:/bin", "LC_ALL": "C", "HOME": str(self.root)}
        return subprocess.run(
            [str(a) for a in args], env=env, cwd=self.root, capture_output=True, text=True,
            timeout=timeout, **self.identity.popen_kwargs(),
        )

    @classmethod
    def start(cls) -> Postgres:
        if not postgres_available():
            raise ServerStartError(f"PostgreSQL binaries not found in {PG_BIN} (set WORKBENCH_PG_BIN).")
        identity = _Identity.for_postgres()
        # Not under pytest's tmp_path: that tree is 0700 root, the unprivileged user could not enter it.
        root = Path(tempfile.mkdtemp(prefix="wb-pg-"))
        os.chown(root, identity.uid, identity.gid)
        pg = cls(root, free_port(), secrets.token_hex(12), identity)
        try:
            pg._init_and_start()
        except BaseException:
            pg.stop()
            raise
        return pg

    def _init_and_start(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        os.chown(pwfile, self.identity.uid, self.identity.gid)
        pwfile.chmod(0o600)
        init = self._run(
            PG_BIN / "initdb", "-D", self.data_dir, "-U", DB_ROLE, f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C", "--no-sync",
        )
        pwfile.unlink()
        if init.returncode != 0:
            raise ServerStartError(f"initdb failed:\n{init.stdout[-2000:]}\n{init.stderr[-2000:]}")
        # Loopback TCP only; the Unix socket lives in the (private) data folder. Durability is off:
        # the cluster is thrown away, and fsync on a busy 2-core CI box only costs time.
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        start = self._run(PG_BIN / "pg_ctl", "-D", self.data_dir, "-l", self.log_file, "-o", opts, "-w", "-t", "60", "start")
        self.started = True  # even on a failed wait a postmaster may be running: stop() cleans up
        if start.returncode != 0:
            raise ServerStartError(f"pg_ctl start failed: {start.stderr.strip()}\n{_tail(self.log_file)}")
        self._create_databases()

    def _create_databases(self) -> None:
        import psycopg2

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=DB_ROLE, password=self.password,
                                        dbname="postgres", connect_timeout=5)
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        try:
            conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            with conn.cursor() as cur:
                for name in DATABASES:
                    cur.execute(f'CREATE DATABASE "{name}" OWNER "{DB_ROLE}"')
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the cluster (fast, then immediate) and delete its folder. Idempotent."""
        if self.started and (self.data_dir / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    if self._run(PG_BIN / "pg_ctl", "-D", self.data_dir, "-m", mode, "-w", "-t", "20", "stop",
                                 timeout=30).returncode == 0:
                        break
            _kill_postmaster(self.data_dir)
        self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


def _kill_postmaster(data_dir: Path) -> None:
    """Last resort: SIGKILL the postmaster named in postmaster.pid (its children exit with it)."""
    pid_file = data_dir / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)


# -- MLflow server ---------------------------------------------------------------------------------
@dataclass
class MlflowServer:
    """A running ``mlflow server`` (its own process group, so its workers die with it)."""

    process: subprocess.Popen
    port: int
    artifacts: Path
    log_file: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, backend_uri: str, root: Path, workers: int = 1, timeout: float = 180,
              artifact_root: str | None = None) -> MlflowServer:
        """Start it on a free port; a port another process took between the probe and the bind is retried.

        ``artifact_root``: serve an existing store whose runs point at this artifact root
        (``--default-artifact-root``) instead of proxied artifacts in a new folder under ``root``.
        """
        for _attempt in range(3):
            try:
                return cls._start(backend_uri, root, workers, timeout, artifact_root)
            except ServerStartError as err:
                if "already in use" not in str(err):
                    raise
        return cls._start(backend_uri, root, workers, timeout, artifact_root)

    @classmethod
    def _start(cls, backend_uri: str, root: Path, workers: int, timeout: float,
               artifact_root: str | None = None) -> MlflowServer:
        port = free_port()
        artifacts = root / "mlartifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        log_file = root / "mlflow-server.log"
        where = (["--default-artifact-root", artifact_root] if artifact_root
                 else ["--serve-artifacts", "--artifacts-destination", str(artifacts)])
        cmd = [
            str(Path(sys.executable).with_name("mlflow")), "server",
            "--backend-store-uri", backend_uri, *where,
            "--host", "127.0.0.1", "--port", str(port),
            "--allowed-hosts", f"127.0.0.1:{port},localhost:{port}",
            "--workers", str(workers),
        ]
        env = {**os.environ, "MLFLOW_ENABLE_ASYNC_LOGGING": "false", "GIT_PYTHON_REFRESH": "quiet"}
        env.pop("MLFLOW_TRACKING_URI", None)
        with open(log_file, "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
                                    start_new_session=True)
        server = cls(proc, port, artifacts, log_file)
        try:
            server._wait_healthy(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError(f"mlflow server exited with {self.process.returncode}:\n{_tail(self.log_file)}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            time.sleep(0.5)
        raise ServerStartError(f"mlflow server did not answer /health within {timeout:.0f} s:\n{_tail(self.log_file)}")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after 5 s (a test server: nothing to flush). Idempotent."""
        _stop_group(self.process, grace=5)


def _stop_group(proc: subprocess.Popen, grace: float) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    # Workers may outlive a parent that already exited: always sweep the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


# -- both together ---------------------------------------------------------------------------------
@dataclass
class TeamServers:
    """PostgreSQL + MLflow server, as a team would run them."""

    postgres: Postgres
    mlflow: MlflowServer
    root: Path
    _cleanups: list = field(default_factory=list, repr=False)

    @property
    def tracking_uri(self) -> str:
        return self.mlflow.url

    @property
    def optuna_storage(self) -> str:
        return self.postgres.url("optuna")

    def env(self, home: Path | str) -> dict[str, str]:
        """The two variables that switch the workbench to the team servers (plus a workspace)."""
        return {"WORKBENCH_HOME": str(home), "MLFLOW_TRACKING_URI": self.tracking_uri,
                "OPTUNA_STORAGE": self.optuna_storage}


@contextlib.contextmanager
def team_servers(mlflow_workers: int = 1) -> Iterator[TeamServers]:
    """Start PostgreSQL 15 and an MLflow tracking server on it; stop both on exit."""
    root = Path(tempfile.mkdtemp(prefix="wb-team-"))
    pg: Postgres | None = None
    server: MlflowServer | None = None

    def cleanup() -> None:
        if server is not None:
            server.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(cleanup)  # a crash of the test process still stops the servers
    try:
        pg = Postgres.start()
        server = MlflowServer.start(pg.url("mlflow"), root, workers=mlflow_workers)
        yield TeamServers(pg, server, root)
    finally:
        cleanup()
        atexit.unregister(cleanup)


if __name__ == "__main__":  # manual check: python -m tests.integration.servers
    t0 = time.perf_counter()
    with team_servers() as s:
        print(f"up in {time.perf_counter() - t0:.1f} s: MLFLOW_TRACKING_URI={s.tracking_uri} OPTUNA_STORAGE={s.optuna_storage}")
    print("stopped")
