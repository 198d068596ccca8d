"""Short-lived caches of the MLflow reads that every rerun made (sidebar, Home, pickers), dropped by any write.

Every rerun of every session used to search the store again: the sidebar's health probe and project
list, Home's runs, registered models and versions (one logged-model read per version), lineage, the
dataset versions of every dataset picker (Data, Label, Tune, Compare) and a saved version's recipe.
Here each read is an ``st.cache_data`` entry keyed by the store URI, the project and the store's
**write stamp**, so a page never shows a number older than the last write:

* embedded SQLite store: its file change counter, size and modification time (and its WAL file's).
  Any write — this server, a CLI command, a tune worker — changes it; a read never does.
* any store: a counter this process bumps after every write through the tracker's client
  (:func:`count_writes`, installed by :func:`ui.resources.tracker`), so this server's own writes show
  at once on a tracking server too; writes made elsewhere on a tracking server show within
  ``REMOTE_TTL_S`` (a time bucket in the stamp).

Nothing here mutates what it returns; callers must not either (the values are shared copies).
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import streamlit as st

from core.tracking import RunSummary, StoreHealth
from core.tracking.datasets import DatasetVersion
from core.tracking.models import ModelVersionInfo
from ui.resources import settings, tracker

REMOTE_TTL_S = 3.0   # a tracking server's writes from other processes show within this
HEALTH_TTL_S = 5.0   # the sidebar's store probe: a store that stops answering shows within this
_ENTRY_TTL_S = 600   # memory bound only: entries are replaced by a new stamp long before this
# MlflowClient methods that change the store (everything else reads)
_WRITE_PREFIXES = ("create_", "set_", "log_", "delete_", "update_", "rename_", "restore_", "transition_",
                   "finalize_", "link_", "copy_", "record_", "upload_", "_log_", "_record_")

_writes = 0
_lock = threading.Lock()


def note_write() -> None:
    """Bump this process's write counter: every cached read made before is stale."""
    global _writes
    with _lock:
        _writes += 1


class _WriteCountingClient:
    """An ``MlflowClient`` stand-in that calls :func:`note_write` after each writing method."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not (callable(attr) and name.startswith(_WRITE_PREFIXES)):
            return attr

        @functools.wraps(attr)
        def write(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            finally:  # a failed write may still have changed something: drop the caches either way
                note_write()

        return write


def count_writes(client: Any) -> Any:
    """``client`` wrapped so that its writes drop the caches of this module (idempotent)."""
    return client if isinstance(client, _WriteCountingClient) else _WriteCountingClient(client)


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:"):
        return None
    path = unquote(urlparse(uri).path)
    return Path(path) if path and path != "/:memory:" else None


def store_stamp(uri: str | None = None) -> tuple:
    """What changes whenever the store is written (see the module docstring)."""
    uri = uri or settings().tracking_uri
    db = _sqlite_path(uri)
    if db is None:
        return (_writes, int(time.monotonic() // REMOTE_TTL_S))
    parts: list[Any] = [_writes, _change_counter(db)]
    for suffix in ("", "-wal"):
        try:
            st_ = Path(f"{db}{suffix}").stat()
        except OSError:
            parts.append(None)
        else:
            parts.append((st_.st_mtime_ns, st_.st_size))
    return tuple(parts)


def _change_counter(db: Path) -> int | None:
    """SQLite's file change counter (header bytes 24-27), bumped by every committed write transaction.

    File times tick in jiffies (a few ms), so a write right after a cached read could keep the same
    mtime and size; the counter cannot (rollback-journal mode, MLflow's default; in WAL mode the
    ``-wal`` file's size and time change instead).
    """
    try:
        with db.open("rb") as f:
            f.seek(24)
            return int.from_bytes(f.read(4), "big")
    except OSError:
        return None


# -- the cached reads --------------------------------------------------------
@st.cache_data(ttl=HEALTH_TTL_S, show_spinner=False, max_entries=8)
def _health(uri: str) -> StoreHealth:
    return tracker().health()


def store_health() -> StoreHealth:
    """The sidebar's store probe, at most once every ``HEALTH_TTL_S`` per store; a failure is not kept."""
    uri = settings().tracking_uri
    health = _health(uri)
    if not health.ok:
        _health.clear()  # a store that came back shows at the next rerun
    return health


@st.cache_data(ttl=_ENTRY_TTL_S, show_spinner=False, max_entries=16)
def _projects(uri: str, stamp: tuple) -> list[str]:
    return tracker().projects()


def projects() -> list[str]:
    """Names of the workbench's projects on the store (cached until the next write)."""
    uri = settings().tracking_uri
    return _projects(uri, store_stamp(uri))


@dataclass(frozen=True)
class HomeSnapshot:
    """Everything Home's cards and model panel show, from one read of the store."""

    runs: tuple[RunSummary, ...]               # the project's runs, newest first
    models: tuple[str, ...]                    # its registered models
    versions: tuple[ModelVersionInfo, ...]     # their versions

    def stage_runs(self, stage: str) -> list[RunSummary]:
        """Top-level runs of ``stage`` (trial child runs left out), newest first."""
        return [r for r in self.runs if r.stage == stage and not r.tags.get("mlflow.parentRunId")]


@st.cache_data(ttl=_ENTRY_TTL_S, show_spinner=False, max_entries=32)
def _home(uri: str, project: str, stamp: tuple, max_runs: int) -> HomeSnapshot:
    from core.tracking.models import model_versions, project_models

    t = tracker()
    runs = t.runs(project, max_results=max_runs)
    names = project_models(t, project)
    versions = [mv for name in names for mv in model_versions(t, name)]
    return HomeSnapshot(tuple(runs), tuple(names), tuple(versions))


def home_snapshot(project: str, max_runs: int = 2000) -> HomeSnapshot:
    """Home's one read (cached until the next write to the store)."""
    uri = settings().tracking_uri
    return _home(uri, project, store_stamp(uri), max_runs)


@st.cache_data(ttl=_ENTRY_TTL_S, show_spinner=False, max_entries=32)
def _lineage(uri: str, project: str, run_id: str, stamp: tuple) -> Any:
    from core.lineage import lineage_graph

    return lineage_graph(tracker(), project, run_id)


def lineage(project: str, run_id: str) -> Any:
    """The :class:`core.lineage.LineageGraph` around ``run_id`` (cached until the next write)."""
    uri = settings().tracking_uri
    return _lineage(uri, project, run_id, store_stamp(uri))


# -- dataset versions (the pickers of Data, Label, Tune, Compare) ------------------------------------------
@st.cache_data(ttl=_ENTRY_TTL_S, show_spinner=False, max_entries=64)
def _dataset_versions(uri: str, project: str, name: str | None, stamp: tuple, _t: Any) -> list[DatasetVersion]:
    from core.tracking.datasets import dataset_versions as read

    return read(_t, project, name)


def dataset_versions(project: str, name: str | None = None, t: Any = None) -> list[DatasetVersion]:
    """:func:`core.tracking.datasets.dataset_versions` of ``project`` (through tracker ``t``, default the
    app's), cached until the next write: every session's pickers share one search per write."""
    t = t or tracker()
    uri = t.settings.tracking_uri
    return _dataset_versions(uri, project, name, store_stamp(uri), t)


@dataclass(frozen=True)
class VersionRecipe:
    """Where a saved version's recipe can be continued from: its raw input and its recipe (both None
    for a raw table or a version without a recipe)."""

    raw_run_id: str | None
    recipe: dict | None


@st.cache_data(ttl=_ENTRY_TTL_S, show_spinner=False, max_entries=64)
def _version_recipe(uri: str, run_id: str, stamp: tuple, _t: Any) -> VersionRecipe:
    from core.data.versions import load_recipe_json, raw_input_of

    raw_id = raw_input_of(_t, run_id)
    return VersionRecipe(raw_id, load_recipe_json(_t, run_id) if raw_id else None)


def version_recipe(run_id: str, t: Any = None) -> VersionRecipe:
    """The raw input and recipe of version ``run_id`` (two run reads, an artifact listing and a download),
    cached until the next write."""
    t = t or tracker()
    uri = t.settings.tracking_uri
    return _version_recipe(uri, run_id, store_stamp(uri), t)
