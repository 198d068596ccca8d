"""Shared fixtures: real temporary MLflow stores (SQLite), settings pointing at tmp_path.

Creating a new SQLite MLflow store runs ~seconds of migrations, so one migrated
empty store is built per test session and copied for every test that needs one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.config import Settings


def make_settings(home: Path, **extra: str) -> Settings:
    env = {"WORKBENCH_HOME": str(home), **extra}
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def _template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.tracking import Tracker

    home = tmp_path_factory.mktemp("template-store")
    tracker = Tracker.connect(make_settings(home))
    tracker.health()
    return home / "mlflow.db"


@pytest.fixture()
def settings(tmp_path: Path, _template_store: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on a fresh, already migrated SQLite store in tmp_path (also exported to the env)."""
    home = tmp_path / "workspace"
    home.mkdir()
    shutil.copy(_template_store, home / "mlflow.db")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    for var in ("MLFLOW_TRACKING_URI", "OPTUNA_STORAGE", "WORKBENCH_ARTIFACTS", "WORKBENCH_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    return make_settings(home)


@pytest.fixture()
def tracker(settings: Settings):
    from core.tracking import Tracker

    return Tracker.connect(settings)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_PYTHON_REFRESH", "quiet")
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / "workspace" / "numba-cache"))


def pytest_configure(config: pytest.Config) -> None:
    """Import Prefect before any test runs.

    Prefect's console log handler binds to ``sys.stderr`` as it is at Prefect's first import. A test that
    imports it lazily under ``capsys`` binds it to a per-test stream that is closed afterwards, and every later
    flow in that process fails writing its log ("I/O operation on closed file", then a RecursionError) — which
    test comes first on a pytest-xdist worker varies from run to run. Imported here, it binds to the session's
    capture, which lives as long as the process (a plain `import prefect` is lazy and sets nothing up).
    """
    import prefect.main  # noqa: F401 — `import prefect` is lazy: its logging is set up by prefect.main


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The Chromium journeys run last (the order is otherwise kept; `make test` hands files to its two
    pytest-xdist workers in this order, so on each worker too they come after every other test).

    Playwright's sync API keeps its event loop running in the main thread for as long as the session-scoped
    browser lives; Prefect's sync/async dispatch takes that for an async context and hands back coroutines,
    so the Plan stage's in-process tests must run before the first browser starts.
    """
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
