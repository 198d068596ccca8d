"""The start-up warm-up (python -m ui.serve, make run) creates a new store off the first request."""

from __future__ import annotations

import gc
from pathlib import Path


def test_the_warm_up_creates_the_store_and_the_first_page_then_finds_it(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from ui import warmup

    home = tmp_path / "fresh"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    for var in ("MLFLOW_TRACKING_URI", "OPTUNA_STORAGE", "WORKBENCH_ARTIFACTS", "WORKBENCH_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(warmup, "_started", False)
    monkeypatch.setattr(warmup, "_done", __import__("threading").Event())
    monkeypatch.setattr(warmup, "_took", None)
    try:
        thread = warmup.start(wait_for_server=False)
        assert thread is not None and warmup.start() is None  # once per process
        warmup.wait(300)
        assert warmup.took() is not None
        assert (home / "mlflow.db").exists()
        from ui.resources import tracker

        assert tracker().health().ok  # the app's cached tracker, opened by the warm-up
        from tests.ui.conftest import app_test

        at = app_test("app.py").run()  # the first page waits for nothing and renders Home
        assert not at.exception
        assert any("MLOps workbench" in t.value for t in at.title)
    finally:
        gc.unfreeze()

