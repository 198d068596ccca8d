"""The start-up warm-up (python -m ui.serve, make run) creates a new store and reads Home off the first request."""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.conftest import app_test

# what Home's cards, models and lineage read; the sidebar's few-second store probe (experiments) may come again
_HOME_TABLES = re.compile(r"\bFROM (runs|tags|params|latest_metrics|inputs|model_versions|registered_models)\b")


@pytest.fixture()
def warmup(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """ui.warmup as a fresh process sees it (not started); the frozen heap is released afterwards."""
    from ui import warmup as module

    monkeypatch.setattr(module, "_started", False)
    monkeypatch.setattr(module, "_done", threading.Event())
    monkeypatch.setattr(module, "_took", None)
    monkeypatch.setattr(module, "_t_start", None)
    try:
        yield module
    finally:
        gc.unfreeze()


def test_the_warm_up_creates_the_store_and_the_first_page_then_finds_it(tmp_path: Path, monkeypatch,  # noqa: ANN001
                                                                         warmup) -> None:  # noqa: ANN001
    home = tmp_path / "fresh"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    for var in ("MLFLOW_TRACKING_URI", "OPTUNA_STORAGE", "WORKBENCH_ARTIFACTS", "WORKBENCH_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    assert warmup.ready()  # nothing started: nothing to hold health back for
    thread = warmup.start(wait_for_server=False)
    assert thread is not None and warmup.start() is None  # once per process
    warmup.wait(300)
    assert warmup.took() is not None and warmup.ready()
    assert (home / "mlflow.db").exists()
    from ui.resources import tracker

    assert tracker().health().ok  # the app's cached tracker, opened by the warm-up
    at = app_test("app.py").run()  # the first page waits for nothing and renders Home
    assert not at.exception
    assert any("MLOps workbench" in t.value for t in at.title)


def test_after_the_warm_up_the_first_home_reads_nothing_from_the_store(settings, tracker, warmup) -> None:  # noqa: ANN001
    import sqlalchemy

    tracker.end_run(tracker.start_run("default", "data", name="v1"))
    warmup.start(wait_for_server=False)
    warmup.wait(300)
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", record)
    try:
        at = app_test("app.py").run()
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", record)
    assert not at.exception
    assert "1" in [m.value for m in at.metric if m.label == "Runs"]  # the seeded run, from the warm-up's read
    assert any(s.label == "Show the chain of" for s in at.selectbox)  # the lineage of that run, drawn
    assert [s for s in statements if _HOME_TABLES.search(s)] == []
