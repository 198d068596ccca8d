"""The Deploy page with AppTest on a real store: empty state, export, parity + latency, acknowledgement, register."""

from __future__ import annotations

from core.tracking.deploy import onnx_versions
from tests.integration.deploy_fixtures import PROJECT, seed_model
from tests.ui.conftest import app_test


def _page():
    at = app_test("pages/deploy.py", timeout=240)
    at.session_state["wb_project"] = PROJECT
    return at


def test_empty_project_says_what_to_do(settings) -> None:
    at = _page().run()
    assert not at.exception
    assert any("no registered model yet" in i.value for i in at.info)


def test_export_shows_parity_latency_and_registers(tracker) -> None:
    seed_model(tracker, "linear", "classification")
    at = _page().run()
    assert not at.exception
    assert "champion" in at.selectbox(key=at.session_state["wb_deploy_version__key"]).value.aliases
    at.number_input(key="wb_deploy_calls").set_value(20)
    at.selectbox(key="wb_deploy_batch").set_value(1_000)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    assert any("Equivalent on" in s.value for s in at.success)
    labels = [m.label for m in at.metric]
    assert "Label agreement" in labels and "Max abs diff" in labels
    assert at.metric[0].value == "100.00%"
    latency = at.table[1].value
    assert list(latency.index) == ["scikit-learn", "onnxruntime"] and (latency["p50 ms (1 row)"] > 0).all()
    assert list(at.table[0].value["result"]) == ["pass", "pass"]
    record = at.button(key="wb_deploy_record")
    assert not record.disabled
    record.click().run()
    assert not at.exception
    assert any("Registered as" in s.value for s in at.success)
    assert any(v.tags.get("workbench.format") == "onnx" for v in onnx_versions(tracker, PROJECT))
    done = next(s.value for s in at.success if "Registered as" in s.value)
    assert f"{PROJECT}.onnx v1" in done and "http://127.0.0.1:5000/#/experiments/" in done  # a link to the run
    assert any(e.label == f"ONNX exports of {PROJECT} (1)" for e in at.expander), [e.label for e in at.expander]


def test_non_equivalent_export_needs_acknowledgement(tracker) -> None:
    """A real non-equivalent export (zero tolerance: float32 rounding counts) seeded into the session:
    the record button stays disabled until the person ticks the acknowledgement."""
    from core.deploy.service import prepare_export

    seed_model(tracker, "mlp", "regression")
    outcome = prepare_export(tracker, PROJECT, f"{PROJECT}@champion", tracker.settings.home / "d", tolerance=0.0,
                             calls=10, batch_rows=100)
    assert not outcome.parity.equivalent
    at = _page()
    at.session_state["wb_deploy_outcome"] = outcome
    at.run()
    assert not at.exception
    assert any("NOT equivalent" in e.value for e in at.error)
    assert at.button(key="wb_deploy_record").disabled
    at.checkbox(key="wb_deploy_ack").check().run()
    assert not at.button(key="wb_deploy_record").disabled
    at.button(key="wb_deploy_record").click().run()
    exports = onnx_versions(tracker, PROJECT)
    assert exports and exports[0].tags["workbench.parity"] == "acknowledged-not-equivalent"
