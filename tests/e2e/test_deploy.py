"""Deploy journey in Chromium: a seeded champion is exported, parity and latency are shown, the bundle downloads."""

from __future__ import annotations

import zipfile

import pytest

from tests.e2e.conftest import LONG, assert_no_error, shot, start_server, stop_server, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture()
def seeded_server(tmp_path):
    from core.tracking import Tracker
    from tests.conftest import make_settings
    from tests.integration.deploy_fixtures import PROJECT, seed_model

    home = tmp_path / "workspace"
    tracker = Tracker.connect(make_settings(home))
    seed_model(tracker, "linear", "classification")
    server = start_server(home, extra_env={"WORKBENCH_PROJECT": PROJECT})
    yield server
    stop_server(server)


def test_export_champion_and_download_bundle(seeded_server, page, tmp_path) -> None:  # noqa: ANN001
    page.goto(f"{seeded_server.url}/deploy")
    page.get_by_role("heading", name="Deploy").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Export to ONNX").click()
    page.get_by_text("Equivalent on").first.wait_for(timeout=LONG)
    wait_idle(page)
    assert_no_error(page)
    page.get_by_text("per row (p50)").wait_for()  # the latency caption, drawn last of the result
    assert page.get_by_role("heading", name="Parity — deployproj v1 (champion)").count() == 1  # the champion was preselected
    assert page.get_by_text("Latency and size").count() == 1
    assert page.get_by_text("per row (p50)").count() == 1  # the latency caption under the table
    assert page.get_by_text("onnxruntime", exact=True).count() >= 1  # latency/size table row header
    assert page.get_by_role("cell", name="pass", exact=True).count() == 2  # both parity checks
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280, f"horizontal overflow: {width}px"
    shot(page, "deploy-01-exported")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download bundle (zip)").click()
    path = tmp_path / "bundle.zip"
    info.value.save_as(path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {"model.onnx", "schema.json", "serve.py", "requirements.txt", "MODEL_CARD.md"} <= names
        assert zf.read("model.onnx")[:2] and b"onnxruntime" in zf.read("requirements.txt")
    page.get_by_role("button", name="Record in MLflow and register").click()
    page.get_by_text("Registered as").first.wait_for(timeout=LONG)
    wait_idle(page)
    assert_no_error(page)
    shot(page, "deploy-02-registered")
