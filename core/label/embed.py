"""The 2-D map: UMAP or t-SNE over the features (PCA first when there are many), cached on disk.

PCA, t-SNE and the shared checks live in :mod:`core.label.maps`; this module owns the cache,
the background worker and UMAP's warm-up. A PCA map is cheap enough to draw at once
(:func:`core.label.maps.pca_map`); the chosen method replaces it when its background fit ends.

umap-learn is slow to start (numba JIT): ~25 s to import on an empty numba cache and
25–80 s for the first fit of a process, against a few seconds once warm. So:

* numba's cache lives on disk in the workspace (``<home>/numba-cache``), set through
  ``NUMBA_CACHE_DIR`` here, before umap is imported (an existing value is honoured);
* :func:`warm_up` runs a tiny fit once per process on a daemon thread;
* :func:`start_embedding` computes a map on a background thread (the page polls);
* a finished map is saved as ``.npy`` under ``<cache_dir>/embeddings`` keyed by
  dataset version + feature columns, so reopening it is a file read.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import LabelError
from core.label.maps import METHODS, MIN_ROWS, PCA_DIMS, prepare  # noqa: F401 - MIN_ROWS re-exported

_lock = threading.Lock()
_warm: dict[str, object] = {"state": "idle", "seconds": None, "error": ""}
_executor: _DaemonWorker | None = None  # noqa: F821 - defined below
_jobs: dict[str, Future] = {}


def ensure_numba_cache(home: Path | None = None) -> str:
    """Point numba's on-disk cache at the workspace unless NUMBA_CACHE_DIR is already set."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        if home is None:
            from core.config import Settings

            home = Settings.from_env().home
        path = Path(home) / "numba-cache"
        path.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(path)
    return os.environ["NUMBA_CACHE_DIR"]


def _umap(home: Path | None = None):  # noqa: ANN202 - the umap module
    ensure_numba_cache(home)
    import umap

    return umap


def embedding_path(cache_dir: Path, dataset_run_id: str, features: Sequence[str], seed: int = 0,
                   method: str = "umap") -> Path:
    """Where the ``method`` map of (dataset version, feature columns) is cached (UMAP keeps its old name)."""
    _check_method(method)
    digest = hashlib.sha1("\x1f".join(map(str, features)).encode()).hexdigest()[:12]
    suffix = "" if method == "umap" else f"-{method}"
    return Path(cache_dir) / "embeddings" / f"{dataset_run_id}-{digest}-s{seed}{suffix}.npy"


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise LabelError(f"The map method must be one of {', '.join(METHODS)}. Got {method!r} instead.")


def load_embedding(path: Path, rows: int | None = None) -> np.ndarray | None:
    """The cached map, or None (missing, unreadable or for another number of rows)."""
    try:
        emb = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if emb.ndim != 2 or emb.shape[1] != 2 or (rows is not None and emb.shape[0] != rows):
        return None
    return emb


def compute_embedding(X: np.ndarray, seed: int = 0, n_neighbors: int = 15,
                      on_progress: Callable[[str], None] | None = None, home: Path | None = None,
                      method: str = "umap") -> np.ndarray:
    """A 2-D ``method`` embedding of ``X`` (standardised; PCA to ≤ 50 dims first when wider).

    Raises:
        LabelError: fewer than :data:`MIN_ROWS` rows, no feature column, non-finite values, unknown method.
    """
    from core.label import maps

    _check_method(method)
    if method == "pca":
        return maps.pca_map(X, seed)
    if method == "tsne":
        return maps.tsne_map(X, seed, on_progress)
    say = on_progress or (lambda _msg: None)
    Z = prepare(X, seed, on_progress=say)
    say("Loading UMAP (first time in this process: up to a minute)…")
    umap = _umap(home)
    say(f"UMAP on {Z.shape[0]:,} rows…")
    reducer = umap.UMAP(n_components=2, n_neighbors=max(2, min(n_neighbors, Z.shape[0] - 1)), random_state=seed)
    return np.asarray(reducer.fit_transform(Z), dtype=np.float32)


def save_embedding(path: Path, emb: np.ndarray) -> Path:
    """Write atomically (temp file + rename) so a reader never sees half a map."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}.npy")
    np.save(tmp, emb)
    os.replace(tmp, path)
    return path


def embed(cache_dir: Path, dataset_run_id: str, features: Sequence[str], X: np.ndarray, seed: int = 0,
          on_progress: Callable[[str], None] | None = None, home: Path | None = None,
          method: str = "umap") -> np.ndarray:
    """The cached map, computing and caching it when missing."""
    path = embedding_path(cache_dir, dataset_run_id, features, seed, method)
    emb = load_embedding(path, rows=len(X))
    if emb is None:
        emb = compute_embedding(X, seed, on_progress=on_progress, home=home, method=method)
        save_embedding(path, emb)
    return emb


@dataclass(frozen=True)
class JobStatus:
    state: str          # idle | running | done | failed
    seconds: float
    error: str = ""


def start_embedding(cache_dir: Path, dataset_run_id: str, features: Sequence[str], X: np.ndarray,
                    seed: int = 0, home: Path | None = None, method: str = "umap") -> Future:
    """Compute the map on this process's background thread (one job per map; repeated calls share it)."""
    path = embedding_path(cache_dir, dataset_run_id, features, seed, method)
    key = str(path)
    with _lock:
        job = _jobs.get(key)
        if job is not None and not (job.done() and job.exception() is not None):
            return job
        job = _pool().submit(embed, cache_dir, dataset_run_id, list(features), np.array(X), seed, None, home, method)
        job.started = time.time()  # type: ignore[attr-defined]
        _jobs[key] = job
        return job


class _DaemonWorker:
    """One daemon worker thread per process: the warm-up and maps run one after another
    (numba compiles once), and a server shutting down never waits for a fit."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="wb-umap", daemon=True).start()

    def submit(self, fn: Callable, *args: object) -> Future:
        fut: Future = Future()
        self._queue.put((fut, fn, args))
        return fut

    def _run(self) -> None:
        while True:
            fut, fn, args = self._queue.get()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as err:  # noqa: BLE001 - handed to whoever polls the future
                fut.set_exception(err)


def _pool() -> _DaemonWorker:
    global _executor
    if _executor is None:
        _executor = _DaemonWorker()
    return _executor


def job_status(cache_dir: Path, dataset_run_id: str, features: Sequence[str], seed: int = 0,
               method: str = "umap") -> JobStatus:
    path = embedding_path(cache_dir, dataset_run_id, features, seed, method)
    job = _jobs.get(str(path))
    if job is None:
        return JobStatus("done" if path.exists() else "idle", 0.0)
    elapsed = time.time() - getattr(job, "started", time.time())
    if not job.done():
        return JobStatus("running", elapsed)
    err = job.exception()
    return JobStatus("failed", elapsed, str(err)) if err else JobStatus("done", elapsed)


def tiny_fit() -> None:
    """A 40-row UMAP fit: compiles (or loads from numba's disk cache) everything a real fit needs."""
    umap = _umap()
    rng = np.random.default_rng(0)
    umap.UMAP(n_components=2, n_neighbors=5, random_state=0).fit_transform(rng.normal(size=(40, 4)))


def _die_with_parent() -> None:
    """In the warm-up child: end when the server that started it ends (Linux), instead of compiling on for
    up to a minute of CPU as an orphan after a kill or a restart. ``WORKBENCH_WARMUP_PARENT`` is the pid
    that asked; if it is already gone the child stops at once."""
    parent = os.environ.get("WORKBENCH_WARMUP_PARENT")
    if not parent:
        return
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no prctl: the pid check below still catches a gone parent
            pass
    if os.getppid() != int(parent):
        raise SystemExit(0)


def warm_up(home: Path | None = None) -> bool:
    """Warm UMAP up in the background, once per process. Returns True if it started now.

    Two steps on the map worker thread (a daemon thread, so a map asked for meanwhile
    waits for compiled code instead of compiling it a second time): first a child
    process fills numba's on-disk cache — the expensive JIT holds no lock of this
    process, so a Streamlit server stays responsive — then this process imports umap
    and runs a tiny fit from that cache.
    """
    with _lock:
        if _warm["state"] != "idle":
            return False
        _warm["state"] = "running"
    cache = ensure_numba_cache(home)

    def run() -> None:
        import subprocess

        t0 = time.perf_counter()
        try:
            child = "from core.label.embed import _die_with_parent, tiny_fit; _die_with_parent(); tiny_fit()"
            subprocess.run([sys.executable, "-c", child], cwd=Path(__file__).resolve().parents[2],
                           env={**os.environ, "NUMBA_CACHE_DIR": cache, "WORKBENCH_WARMUP_PARENT": str(os.getpid())},
                           capture_output=True, timeout=900, check=False)
            tiny_fit()
            _warm.update(state="done", seconds=time.perf_counter() - t0)
        except Exception as err:  # noqa: BLE001 - a failed warm-up only costs speed later
            _warm.update(state="failed", error=str(err), seconds=time.perf_counter() - t0)

    with _lock:
        _pool().submit(run)
    return True


def warm_state() -> dict[str, object]:
    """``{"state": idle|running|done|failed, "seconds", "error"}`` of this process's warm-up."""
    return dict(_warm)
