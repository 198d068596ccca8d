"""AppTest of pages/plan.py: the charter form on a real store, the pipeline form on a real Prefect server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.plan import orchestrator as orch
from core.plan import runs as pr
from tests.conftest import make_settings
from tests.ui.conftest import app_test


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    saved = os.environ.pop("PREFECT_API_URL", None)
    settings = make_settings(tmp_path_factory.mktemp("prefect-ui"))
    try:
        yield orch.start(settings, worker=False, timeout=180).url
    finally:
        try:
            from prefect.logging.handlers import APILogWorker

            APILogWorker.drain_all(timeout=5)  # send the flow-run logs before the server goes away
        finally:
            orch.stop(settings)
        if saved is not None:
            os.environ["PREFECT_API_URL"] = saved


def _fill_charter(at, **values) -> None:  # noqa: ANN001
    for key, value in values.items():
        widget = next(w for w in [*at.text_input, *at.text_area, *at.number_input, *at.selectbox]
                      if w.key == f"plan_{key}")
        widget.set_value(value)


def test_charter_written_from_the_page(settings, tracker, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.servers import free_port

    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")  # Prefect down: the page still works
    at = app_test("pages/plan.py").run()
    assert not at.exception
    assert any("no charter yet" in i.value for i in at.info)
    assert any("does not answer" in w.value for w in at.warning)

    _fill_charter(at, problem="Flag rainy days", target="weather", metric="rmse", threshold=0.9)
    at.button(key="FormSubmitter:plan_charter_form-Save charter").click().run()
    assert any("does not fit a classification task" in e.value for e in at.error)

    _fill_charter(at, metric="f1_macro", threshold=0.85, margin=0.01, note="first bar")
    at.button(key="FormSubmitter:plan_charter_form-Save charter").click().run()
    assert not at.exception and not at.error
    from core.plan.charter import charter_history, load_charter

    charter = load_charter(tracker, "default")
    assert (charter.problem, charter.metric, charter.threshold, charter.margin) == ("Flag rainy days", "f1_macro",
                                                                                   0.85, 0.01)
    assert charter_history(tracker, "default")[0].tags["workbench.plan.note"] == "first bar"
    assert any(m.label == "Success metric" and m.value == "f1_macro ≥ 0.85" for m in at.metric)


def test_schedule_created_from_the_page(settings, prefect_api, monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    at = app_test("pages/plan.py").run()
    assert not at.exception
    at.text_input(key="plan_cron").set_value("not a cron")
    at.text_input(key="plan_watch").set_value(str(inbox))
    at.button(key="FormSubmitter:plan_schedule_form-Save pipeline").click().run()
    assert any("does not parse" in e.value for e in at.error)

    at.text_input(key="plan_cron").set_value("*/10 * * * *")
    at.button(key="FormSubmitter:plan_schedule_form-Save pipeline").click().run()
    assert not at.exception and not at.error
    dep = next(d for d in pr.deployments(settings) if d.name == "default")
    assert (dep.flow, dep.schedule, dep.parameters["watch"]) == ("monitor-and-retrain", "cron */10 * * * *",
                                                                 str(inbox))

    at.button(key="plan_pause").click().run()
    assert not at.exception
    assert next(d for d in pr.deployments(settings) if d.name == "default").paused
    at.button(key="plan_run_now").click().run()
    assert any("Queued flow run" in s.value for s in at.success)
