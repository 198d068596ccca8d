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
    download = lambda: next(e for e in at.get("download_button") if e.proto.label.startswith("Download"))  # noqa: E731
    assert download().proto.disabled and any("Download is off" in c.value for c in at.caption)
    at.checkbox(key="wb_deploy_ack").check().run()
    assert not at.button(key="wb_deploy_record").disabled
    assert not download().proto.disabled  # acknowledged: the bundle can be downloaded
    at.button(key="wb_deploy_record").click().run()
    exports = onnx_versions(tracker, PROJECT)
    assert exports and exports[0].tags["workbench.parity"] == "acknowledged-not-equivalent"


def test_compression_table_pareto_and_registered_student(tracker) -> None:
    """Pruning + distillation on a real forest: the table lists every variant, the student registers as a new
    version of the same model linked to its teacher."""
    from core.deploy.service import prepare_export
    from core.tracking.models import model_versions

    teacher = seed_model(tracker, "rf", "classification")
    outcome = prepare_export(tracker, PROJECT, f"{PROJECT}@champion", tracker.settings.home / "c", calls=10,
                             batch_rows=100)
    at = _page()
    at.session_state["wb_deploy_outcome"] = outcome
    at.run()
    at.button(key="wb_deploy_compress").click().run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "variant" in d.value.columns)
    names = list(table["variant"])
    assert names[0] == "original" and "pruned 7/15 trees" in names and "student: tree depth 6" in names
    assert table.loc[0, "Δ held-out"] == 0 and (table["ONNX bytes"] > 0).all() and "★" in set(table["Pareto"])
    at.selectbox(key="wb_deploy_variant").set_value("student: linear")
    at.button(key="wb_deploy_register_variant").click().run()
    assert not at.exception
    assert any("linked to its teacher" in s.value for s in at.success)
    student = next(v for v in model_versions(tracker, PROJECT) if v.tags.get("workbench.compression"))
    assert student.tags["workbench.teacher_version"] == str(teacher.version)
    assert student.tags["workbench.compression"] == "student: linear" and student.version != teacher.version
