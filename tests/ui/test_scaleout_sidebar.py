"""The sidebar names both backends and says, in one sentence, when the tracking server is down."""

from __future__ import annotations

from tests.integration.servers import free_port
from tests.ui.conftest import app_test


def test_sidebar_shows_dead_tracking_server_and_storage_kind(settings, monkeypatch) -> None:  # noqa: ANN001
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("OPTUNA_STORAGE", "postgresql+psycopg2://wb:hidden@127.0.0.1:1/optuna")
    at = app_test("app.py").run()
    assert not at.exception
    errors = [e.value for e in at.sidebar.error]
    assert any(f"tracking server at {uri} does not answer" in e for e in errors), errors
    captions = [c.value for c in at.sidebar.caption]
    assert "Tuning storage: PostgreSQL" in captions
    assert not any("hidden" in c for c in captions)
    # the page body also reports the outage as one line instead of crashing
    assert any("does not answer" in e.value for e in at.main.error)


def test_sidebar_embedded_default(settings) -> None:  # noqa: ANN001
    at = app_test("app.py").run()
    assert not at.exception
    captions = [c.value for c in at.sidebar.caption]
    assert any("embedded SQLite" in c for c in captions)
    assert "Tuning storage: journal file" in captions
