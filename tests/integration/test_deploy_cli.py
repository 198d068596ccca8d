"""``python -m core export`` on a real SQLite MLflow store: exit codes 0 / 2 / 5 and what gets recorded.

Exit 5 is produced honestly with ``--tolerance 0``: ONNX computes in float32, so probabilities
differ from scikit-learn's float64 ones by ~1e-7 — real differences that a zero tolerance
refuses (a deliberately perturbed ONNX graph is caught in test_deploy_export.py).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from core.cli import main
from core.tracking.models import model_versions
from tests.integration.deploy_fixtures import PROJECT, seed_label_set_model, seed_model, seed_recipe_model

FAST = ["--calls", "20", "--batch-rows", "500"]


def _export(tmp_path, *extra: str) -> int:
    return main(["--project", PROJECT, "export", "--out", str(tmp_path / "out"), "--json", str(tmp_path / "s.json"),
                 *FAST, *extra])


def test_export_champion_records_and_registers(tracker, tmp_path) -> None:
    src = seed_model(tracker, "hgb", "classification")
    assert _export(tmp_path, "--model", f"{PROJECT}@champion", "--quantize") == 0
    s = json.loads((tmp_path / "s.json").read_text())
    for key in ("label_agreement", "max_abs_diff", "sklearn_p50_ms", "onnx_p50_ms", "onnx_bytes"):
        assert key in s
    assert s["label_agreement"] == 1.0 and s["max_abs_diff"] <= 1e-4 and s["equivalent"] is True
    assert s["onnx_bytes"] == (tmp_path / "out" / "model.onnx").stat().st_size
    assert s["quantize"]["helps"] is False  # trees: nothing to quantize
    onnx_v = next(v for v in model_versions(tracker, f"{PROJECT}.onnx") if v.version == s["registered_version"])
    assert onnx_v.tags["workbench.format"] == "onnx"
    assert onnx_v.tags["workbench.source_version"] == str(src.version)
    run = tracker.get_run(s["deploy_run"])
    assert run.stage == "deploy" and src.run_id in run.inputs and src.tags["workbench.data_version"] in run.inputs
    assert run.metrics["parity_equivalent"] == 1.0 and run.metrics["onnx_bytes"] == s["onnx_bytes"]
    assert "onnx_p50_ms" in run.metrics
    import mlflow.artifacts  # an MLflow 3 logged model: its files live with the model, not the run

    local = Path(mlflow.artifacts.download_artifacts(onnx_v.source, dst_path=str(tmp_path / "logged")))
    assert (local / "model.onnx").is_file()
    mlmodel = (local / "MLmodel").read_text()
    assert "onnx" in mlmodel and "signature" in mlmodel
    bundle = tracker.download(run.run_id, "bundle/bundle.zip")
    with zipfile.ZipFile(bundle) as zf:
        assert {"model.onnx", "serve.py", "schema.json", "MODEL_CARD.md", "requirements.txt"} <= set(zf.namelist())
        card = zf.read("MODEL_CARD.md").decode()
    assert "Training data lineage" in card and src.run_id in card and "Equivalent" in card


def test_parity_failure_exits_5_and_is_not_registered(tracker, tmp_path, capsys) -> None:
    seed_model(tracker, "mlp", "regression")
    before = len(model_versions(tracker, PROJECT))
    assert _export(tmp_path, "--model", f"{PROJECT}/1", "--tolerance", "0") == 5
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["equivalent"] is False and s["n_differing"] > 0 and s["causes"]
    assert s["registered_version"] is None
    assert len(model_versions(tracker, PROJECT)) == before
    assert "NOT equivalent" in capsys.readouterr().err
    run = tracker.get_run(s["deploy_run"])
    assert run.metrics["parity_equivalent"] == 0.0 and run.tags["workbench.parity"] == "not-equivalent"


def test_recipe_steps_go_inside_the_exported_model(tracker, tmp_path) -> None:
    seed_recipe_model(tracker, "rf", "classification")
    assert _export(tmp_path, "--model", f"{PROJECT}@champion", "--no-register") == 0
    s = json.loads((tmp_path / "s.json").read_text())
    assert "pca" in s["recipe_included"] and any("trim_case" in step for step, _ in s["recipe_outside"])
    schema = json.loads((tmp_path / "out" / "schema.json").read_text())
    assert {"depth", "width", "island"} <= {i["name"] for i in schema["inputs"]}
    assert "recipe replayed" in s["check"] and s["equivalent"]


def test_a_model_trained_on_a_label_set_gets_the_recipe_of_the_version_it_came_from(tracker, tmp_path) -> None:
    seed_label_set_model(tracker, "rf")
    assert _export(tmp_path, "--model", f"{PROJECT}@champion", "--no-register") == 0
    s = json.loads((tmp_path / "s.json").read_text())
    assert "pca" in s["recipe_included"] and "recipe replayed" in s["check"] and s["equivalent"]
    schema = json.loads((tmp_path / "out" / "schema.json").read_text())
    assert {"depth", "width", "island"} <= {i["name"] for i in schema["inputs"]}  # raw columns in


def test_a_label_set_feature_the_recipe_cannot_make_exports_the_model_alone(tracker, tmp_path, capsys) -> None:
    seed_label_set_model(tracker, "linear", extra_feature=True)
    assert _export(tmp_path, "--model", f"{PROJECT}@champion", "--no-register") == 0
    s = json.loads((tmp_path / "s.json").read_text())
    assert not s["recipe_included"] and s["equivalent"]
    out = capsys.readouterr()
    assert "does not produce reviewer_score" in out.err + out.out


@pytest.mark.parametrize("argv, needle", [
    (["--model", f"{PROJECT}@nope"], "has no alias 'nope'"),
    (["--model", f"{PROJECT}@champion", "--check", "missing.csv"], "does not exist"),
    (["--model", f"{PROJECT}@champion", "--tolerance", "2"], "--tolerance"),
])
def test_bad_input_exits_2_with_one_error_line(tracker, tmp_path, capsys, argv, needle) -> None:
    seed_model(tracker, "linear", "classification")
    try:
        code = _export(tmp_path, *argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error:")]
    assert code == 2
    assert len(errors) == 1 and needle in errors[0]
    assert "Traceback" not in "\n".join(err)
