"""Who and what made a run, and how the MLflow UI should show a project: the context every run is tagged with.

The app sets the page being run and a command sets itself (:func:`run_source`, :func:`set_run_source`);
every run started meanwhile carries it as ``mlflow.source.name`` beside ``mlflow.user`` — the MLflow
UI's User and Source columns. Callers of :meth:`Tracker.start_run` do not pass it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from core.tracking.tracker import Tracker

USER_TAG = "mlflow.user"
SOURCE_NAME_TAG = "mlflow.source.name"
SOURCE_TYPE_TAG = "mlflow.source.type"
# MLflow 3's UI reads this experiment tag to choose the classic-ML layout over the GenAI one (its values:
# custom_model_development, genai_development; unset, the UI guesses from the runs' contents).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
CLASSIC_ML = "custom_model_development"
_RUN_SOURCE: contextvars.ContextVar[str] = contextvars.ContextVar("workbench_run_source", default="")


def set_run_source(name: str) -> contextvars.Token:
    """Name what starts runs from here on in this thread / task, e.g. ``pages/monitor.py`` or
    ``python -m core monitor``; returns the token :func:`contextvars.ContextVar.reset` takes."""
    return _RUN_SOURCE.set(name)


@contextlib.contextmanager
def run_source(name: str) -> Iterator[None]:
    """Within the block, runs are marked as made by ``name``."""
    token = set_run_source(name)
    try:
        yield
    finally:
        _RUN_SOURCE.reset(token)


def current_run_source() -> str:
    """The source set by :func:`run_source`, else ``$WORKBENCH_RUN_SOURCE``, else read from ``sys.argv``
    (``python -m core <command>`` for the CLI, the script name otherwise)."""
    import os
    import sys

    if name := _RUN_SOURCE.get() or os.environ.get("WORKBENCH_RUN_SOURCE", ""):
        return name
    argv = list(sys.argv)
    if argv and Path(argv[0]).as_posix().endswith("core/__main__.py"):
        rest = iter(argv[1:])
        for token in rest:
            if token == "--project":
                next(rest, None)
            elif not token.startswith("-"):
                return f"python -m core {token}"
        return "python -m core"
    return Path(argv[0]).name if argv and argv[0] else "python"


def home_default_experiment(tracker: Tracker) -> None:
    """Point MLflow's 'Default' experiment (id 0) at ``<artifact root>/0`` while it holds nothing.

    A new SQLite store creates it with ``./mlruns/0`` of whatever folder the process started in; the
    workbench never writes there, but MLflow's fluent calls fall back to it, and the UI shows the path.
    """
    want = f"{tracker.settings.artifact_root.rstrip('/')}/0"
    exp = tracker.client.get_experiment("0")
    if exp is None or exp.artifact_location == want:
        return
    if tracker.client.search_runs(["0"], max_results=1, run_view_type=3):  # ViewType.ALL
        return
    if tracker.client.search_logged_models(experiment_ids=["0"], max_results=1):
        return
    from mlflow.store.tracking.dbmodels.models import SqlExperiment

    store = tracker.client._tracking_client.store
    with store.ManagedSessionMaker() as session:
        session.query(SqlExperiment).filter(SqlExperiment.experiment_id == 0).update(
            {SqlExperiment.artifact_location: want})


def run_user(tracking_uri: str) -> str:
    """The person a run belongs to: the tracking server's login when one is set, else the OS user."""
    import getpass
    import os

    if tracking_uri.startswith(("http://", "https://")) and os.environ.get("MLFLOW_TRACKING_USERNAME"):
        return os.environ["MLFLOW_TRACKING_USERNAME"]
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


def run_context_tags(tracking_uri: str) -> dict[str, str]:
    """``mlflow.user`` / ``mlflow.source.name`` / ``mlflow.source.type`` for a run created now (every
    ``create_run`` of the workbench passes them; :meth:`Tracker.start_run` does it for its callers)."""
    return {USER_TAG: run_user(tracking_uri), SOURCE_NAME_TAG: current_run_source(), SOURCE_TYPE_TAG: "LOCAL"}
