"""Warm the server before it reports healthy: the store, the first pages' imports and reads, a frozen heap.

``python -m ui.serve`` (what ``make run`` starts) calls :func:`start` and holds ``/_stcore/health`` at 503
until :func:`ready` (at most ``GATE_S``). The thread waits until Streamlit's server is up (never two
threads importing during the server's own start), then, while health still says "warming up":

* the MLflow store is opened through the app's own cached tracker (a new workspace's SQLite file is
  created and migrated here, once, instead of inside the first person's page);
* the modules of the frame, Home and Data are imported (MLflow, SQLAlchemy, pandas …);
* Home's and the sidebar's cached reads are filled (:func:`ui.home.prefetch`), so the first Home is
  served from memory (keyed by the store's write stamp: a later write is read again, never hidden);
* the import heap is frozen (``gc.freeze``): with ``runner.postScriptGC`` off, Python's own full
  collections then skip those ~300k long-lived objects instead of walking them (≈ 0.1-0.9 s each).

So "healthy" means "the first page is quick", and start → health carries the cost honestly.
Heavy, page-specific libraries (umap, evidently, onnxruntime) are not imported here: their pages warm
them on demand. A request that arrives before the warm-up is done (a plain ``streamlit run`` never
gates health) waits for it (:func:`wait`) rather than importing the same modules on a second thread
(two threads importing one package can deadlock).
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import threading
import time

# the frame, Home and Data: what the first page of nearly every visit needs
MODULES = (
    "ui.sidebar", "ui.cache", "ui.state", "ui.feedback", "ui.pickers", "ui.mlflow_links", "core.lineage",
    "core.tracking.models", "core.tracking.datasets", "core.tracking.repair", "core.plan.notify",
    "ui.identity", "ui.data", "ui.data_profile", "core.data.drafts", "core.data.versions",
    # the other pages' modules, before health too: importing them after it, beside a request that imports
    # the same ones, is the two-thread import this module avoids (optuna.visualization pulls matplotlib)
    "core.tune.inspect", "optuna.visualization", "ui.tune", "ui.compare", "ui.deploy", "ui.monitor", "ui.plan",
)
_LOG = logging.getLogger("workbench.warmup")
_done = threading.Event()
_started = False
_took: float | None = None
_t_start: float | None = None  # when start() was called (monotonic)
GATE_S = 60.0  # the longest the warm-up holds back health (ui.serve); a request waits as long (wait())


def start(wait_for_server: bool = True) -> threading.Thread | None:
    """Start the warm-up on a daemon thread (once per process); None when it was started before."""
    global _started, _t_start
    if _started:
        return None
    _started = True
    _t_start = time.monotonic()
    thread = threading.Thread(target=_warm, args=(wait_for_server,), name="workbench-warmup", daemon=True)
    thread.start()
    return thread


def _server_started(timeout: float = 120.0) -> None:
    """Wait until Streamlit's runtime has started: its main thread then idles in the event loop, so the
    warm-up's imports never race the server's own (health is held back meanwhile, see ui.serve)."""
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Runtime.exists() and Runtime.instance().state.name not in ("INITIAL",):
            return
        time.sleep(0.05)


def _warm(wait_for_server: bool = True) -> None:
    global _took
    try:
        if wait_for_server:
            _server_started()
    except Exception:  # noqa: BLE001 - a Streamlit without this API: warm at once
        _LOG.warning("Could not tell whether the server has started; warming now.", exc_info=True)
    t0 = time.perf_counter()
    print("workbench: warming up (opening the store, importing and reading the first pages); the page connects "
          "when done", file=sys.stderr, flush=True)
    # the cached resources below are built outside a script run: Streamlit warns about the missing
    # ScriptRunContext (and cache decorators about the runtime), which is expected here
    quiet = [logging.getLogger(n) for n in ("streamlit.runtime.scriptrunner_utils.script_run_context",
                                           "streamlit.runtime.caching.cache_data_api")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.ERROR)
    phases: dict[str, float] = {}  # seconds per step, for the log line (what runs before health)

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        phases[name] = now - since
        return now

    try:
        from core.tracking.repair import repair_project
        from ui.resources import settings, tracker

        t = tracker()          # the app's cached tracker: imports MLflow, opens (or creates) the store
        if t.health().ok:      # a tracking server that is down: the sidebar says so, nothing to wait for here
            repair_project(t, settings().project)  # the once-per-process repair of the default project
        mark = lap("store", t0)
        for name in MODULES:
            importlib.import_module(name)
        from ui.home import prefetch

        mark = lap("imports", mark)
        prefetch(settings().project)  # Home's and the sidebar's cached reads: the first Home is one cache hit
        lap("Home's reads", mark)
    except Exception:  # noqa: BLE001 - never stop the server: the first page reports a store that fails
        _LOG.warning("Warm-up stopped early; the first page does the rest.", exc_info=True)
    finally:
        for q, level in zip(quiet, levels, strict=True):
            q.setLevel(level)
        mark = time.perf_counter()
        gc.collect()
        gc.freeze()  # what is alive now lives for the whole process: keep it out of every later collection
        lap("gc", mark)
        _took = time.perf_counter() - t0
        steps = ", ".join(f"{name} {secs:.1f} s" for name, secs in phases.items())
        print(f"workbench: warm-up done in {_took:.1f} s ({steps}); healthy now", file=sys.stderr, flush=True)
        _done.set()


def wait(timeout: float = GATE_S) -> None:
    """On the request path: if a warm-up is under way, wait for it (a no-op without one); past ``timeout``
    the request goes on and imports what it needs itself."""
    if _started:
        _done.wait(timeout)


def ready() -> bool:
    """Whether the server may answer healthy: the warm-up is done, or it has run longer than ``GATE_S``
    (a store that hangs must not keep the server from ever reporting healthy). True without a warm-up."""
    if not _started or _done.is_set():
        return True
    return _t_start is not None and time.monotonic() - _t_start > GATE_S


def took() -> float | None:
    """Seconds the warm-up took, or None while it runs (or when none was started)."""
    return _took
