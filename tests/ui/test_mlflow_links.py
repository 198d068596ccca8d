"""Links to the MLflow UI: the URL forms, the setting that turns them off, and Home showing them."""

from __future__ import annotations

import pytest

from core.config import Settings
from core.errors import ConfigError
from tests.ui.conftest import app_test
from ui import mlflow_links as links


def test_urls_follow_the_mlflow_ui_routes() -> None:
    base = "http://127.0.0.1:5000/"
    assert links.run_url(base, "3", "abc") == "http://127.0.0.1:5000/#/experiments/3/runs/abc"
    assert links.model_version_url(base, "wine-class.onnx", 2) == "http://127.0.0.1:5000/#/models/wine-class.onnx/versions/2"
    assert links.model_version_url(base, "a b/c", 1).endswith("#/models/a%20b%2Fc/versions/1")
    assert links.logged_model_url(base, "3", "m-1") == "http://127.0.0.1:5000/#/experiments/3/models/m-1"
    assert links.run_url("", "3", "abc") == "" and links.markdown("x", "") == "x"
    assert links.markdown("x", "http://h/#/r") == "[x](http://h/#/r)"


def test_setting_defaults_to_make_mlflow_ui_and_empty_disables(tmp_path) -> None:
    assert Settings.from_env({"WORKBENCH_HOME": str(tmp_path)}).mlflow_ui == "http://127.0.0.1:5000"
    assert Settings.from_env({"WORKBENCH_HOME": str(tmp_path), "WORKBENCH_MLFLOW_UI": ""}).mlflow_ui == ""
    with pytest.raises(ConfigError, match="WORKBENCH_MLFLOW_UI"):
        Settings.from_env({"WORKBENCH_HOME": str(tmp_path), "WORKBENCH_MLFLOW_UI": "localhost:5000"})


def test_home_links_lineage_runs_to_the_mlflow_ui(settings, tracker, monkeypatch) -> None:  # noqa: ANN001
    rid = tracker.start_run("default", "data", name="v1")
    tracker.end_run(rid)
    exp = tracker.ensure_project("default")
    at = app_test("pages/home.py").run()
    assert not at.exception
    texts = [m.value for m in at.markdown]
    assert any(f"http://127.0.0.1:5000/#/experiments/{exp}/runs/{rid}" in t for t in texts)
    monkeypatch.setenv("WORKBENCH_MLFLOW_UI", "")
    at = app_test("pages/home.py").run()
    assert not at.exception and not any("#/experiments/" in m.value for m in at.markdown)


def test_the_app_names_the_page_as_the_source_of_its_runs(settings, monkeypatch) -> None:  # noqa: ANN001
    import core.tracking.context as context_module

    seen: list[str] = []
    monkeypatch.setattr(context_module, "set_run_source", seen.append)
    at = app_test("app.py").run()
    assert not at.exception and seen == ["pages/home.py"]  # (AppTest.switch_page runs a page without app.py)
