"""Export every family × task × (with / without recipe steps) to ONNX and prove parity with onnxruntime.

Real skl2onnx conversions, real onnxruntime sessions, real recipes from the Data stage.
The serving script of the bundle runs as a subprocess on a free loopback port.
"""

from __future__ import annotations

import ast
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile

import numpy as np
import onnx
import pytest

from core.data.recipe import replay
from core.deploy.bundle import BUNDLE_FILES, CardFacts, build_bundle, model_card
from core.deploy.export import export_onnx, run_onnx
from core.deploy.parity import check_parity, sklearn_input
from core.deploy.quantize import quantize_export
from core.deploy.recipe import attach_recipe, onnx_frame_for
from core.errors import ExportError
from core.models import FAMILIES, build_pipeline, feature_spec, prepare_xy
from tests.integration.deploy_fixtures import FAST_PARAMS, recipe_case, small_frame, target_of

TASKS = ("classification", "regression")


def _fit(family: str, task: str, frame):
    target = target_of(task)
    spec = feature_spec(frame, target)
    X, y = prepare_xy(frame, target, spec)
    return build_pipeline(family, task, spec, FAST_PARAMS.get(family, {})).fit(X, y), spec, X, y


def _exported(family: str, task: str, with_recipe: bool):
    """(model, spec, export, sklearn frame, onnx frame) for one case; held-out rows are a fresh draw."""
    if not with_recipe:
        model, spec, X, _ = _fit(family, task, small_frame(task))
        held = small_frame(task, n=80, seed=7)
        return model, spec, export_onnx(model, spec, task, X.head(), family=family), held, held
    raw, recipe, cleaned = recipe_case(task)
    model, spec, _, _ = _fit(family, task, cleaned)
    export, plan = attach_recipe(export_onnx(model, spec, task, family=family), recipe, raw)
    held_raw = recipe_case(task, n=90)[0].sample(frac=1.0, random_state=3)  # new rows, the fitted recipe applied
    ref = replay(held_raw, recipe, mode="transform").frame
    return model, spec, export, ref, onnx_frame_for(held_raw, plan).loc[ref.index]


@pytest.mark.parametrize("with_recipe", [False, True], ids=["model-only", "with-recipe"])
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_exports_with_parity(family: str, task: str, with_recipe: bool) -> None:
    model, spec, export, ref, onnx_in = _exported(family, task, with_recipe)
    report = check_parity(model, export, ref, spec, onnx_frame=onnx_in)
    assert report.rows == len(ref) > 0
    assert report.equivalent, report.verdict
    if task == "classification":
        assert report.label_agreement == 1.0 and report.max_abs_diff <= 1e-4
        probs = run_onnx(export, onnx_in)["probabilities"]
        np.testing.assert_allclose(probs, model.predict_proba(sklearn_input(ref, spec)), atol=1e-4)
    else:  # targets around 3000: float32 rounding is ~1e-4 absolute, so the check is relative
        assert report.label_agreement is None and report.max_rel_diff <= 1e-4
        out = run_onnx(export, onnx_in)["variable"].ravel()
        np.testing.assert_allclose(out, model.predict(sklearn_input(ref, spec)), rtol=1e-4)
    names = {f.name for f in export.inputs}
    if with_recipe:
        # The graph takes raw columns: the PCA inputs and the raw category, not the derived columns.
        assert {"depth", "width", "island"} <= names
        assert not any(n.startswith(("pc", "island_")) for n in names)
        assert "pca" in export.recipe_included and "encode (onehot)" in export.recipe_included
        outside = dict(export.recipe_outside)
        assert any("trim_case" in s for s in outside) and any("drop_duplicates" in s for s in outside)
        assert "note" not in names  # dropped by the recipe, so not an input
    else:
        assert names == set(spec.columns)
    onnx.checker.check_model(onnx.load_from_string(export.onnx_bytes))


def test_hist_gradient_boosting_bool_attribute_is_fixed() -> None:
    """skl2onnx 1.20 + protobuf 7 raised 'Expected an int, got a boolean' on HGB; the export patches it."""
    model, spec, X, _ = _fit("hgb", "classification", small_frame("classification"))
    export = export_onnx(model, spec, "classification", X.head(), family="hgb")
    ops = {n.op_type for n in onnx.load_from_string(export.onnx_bytes).graph.node}
    assert "TreeEnsembleClassifier" in ops


def test_perturbed_onnx_fails_parity_with_cause() -> None:
    """Changing one weight of the exported graph is caught: not equivalent, rows listed, cause unexplained."""
    model, spec, export, ref, onnx_in = _exported("linear", "classification", False)
    graph = onnx.load_from_string(export.onnx_bytes)
    node = next(n for n in graph.graph.node if n.op_type == "LinearClassifier")
    attr = next(a for a in node.attribute if a.name == "coefficients")
    attr.floats[0] += 3.0
    broken = type(export)(**{**export.__dict__, "onnx_bytes": graph.SerializeToString()})
    report = check_parity(model, broken, ref, spec, onnx_frame=onnx_in)
    assert not report.equivalent
    assert report.n_differing > 0 and report.differing
    assert report.max_abs_diff > 1e-3
    assert any("unexplained" in c for c in report.causes)


def test_unsupported_model_names_what() -> None:
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import Pipeline

    from core.models import make_preprocessor

    frame = small_frame("classification")
    spec = feature_spec(frame, "species")
    X, y = prepare_xy(frame, "species", spec)
    model = Pipeline([("prep", make_preprocessor(spec)), ("model", RidgeClassifier())]).fit(X, y)
    with pytest.raises(ExportError, match="RidgeClassifier"):
        export_onnx(model, spec, "classification")


def test_quantization_helps_mlp_not_trees() -> None:
    frame = small_frame("classification", n=200)
    mlp, spec, X, y = _fit("mlp", "classification", frame)
    mlp.set_params(model__hidden_layer_sizes=(128, 128), model__max_iter=40).fit(X, y)
    q = quantize_export(export_onnx(mlp, spec, "classification", family="mlp"), frame, y)
    assert q.helps and q.bytes_after < 0.5 * q.bytes_before and q.quantized is not None
    assert q.score_after is not None and abs(q.score_after - q.score_before) < 0.1
    rf, spec, X, y = _fit("rf", "classification", frame)
    q = quantize_export(export_onnx(rf, spec, "classification", family="rf"), frame, y)
    assert not q.helps and "Does not help" in q.reason and q.quantized is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: object) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize("task", TASKS)
def test_bundle_serves_matching_predictions_without_pickle(task: str, tmp_path) -> None:
    family = "hgb" if task == "classification" else "mlp"
    model, spec, export, ref, onnx_in = _exported(family, task, True)
    parity = check_parity(model, export, ref, spec, onnx_frame=onnx_in)
    card = model_card(export, parity, None, CardFacts(model="toy v1", target=target_of(task)))
    zpath = build_bundle(tmp_path / "out", export, parity, card)
    with zipfile.ZipFile(zpath) as zf:
        assert set(zf.namelist()) == set(BUNDLE_FILES)
        zf.extractall(tmp_path / "bundle")
    tree = ast.parse((tmp_path / "bundle" / "serve.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    log_tree = ast.parse((tmp_path / "bundle" / "serve_log.py").read_text())  # the prediction log it ships with
    imported |= {a.name.split(".")[0] for n in ast.walk(log_tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(log_tree) if isinstance(n, ast.ImportFrom) and n.module}
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party == {"numpy", "onnxruntime", "starlette", "uvicorn", "prometheus_client", "pyarrow", "serve_log"}
    assert not imported & {"pickle", "joblib", "cloudpickle", "dill", "sklearn", "skops", "pandas"}
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "serve.py", "--port", str(port)], cwd=tmp_path / "bundle",
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        rows = [{k: (None if (isinstance(v, float) and np.isnan(v)) else v) for k, v in r.items()}
                for r in onnx_in[export.input_names].head(12).to_dict("records")]  # the contract: its columns only
        status, answer = _post(f"{url}/predict", {"rows": rows})
        assert status == 200, answer
        X = sklearn_input(ref.head(12), spec)
        if task == "classification":
            assert [str(v) for v in answer["predictions"]] == [str(v) for v in model.predict(X)]
            np.testing.assert_allclose(answer["probabilities"], model.predict_proba(X), atol=1e-4)
        else:
            np.testing.assert_allclose(answer["predictions"], model.predict(X), rtol=1e-4, atol=1e-4)
        status, answer = _post(f"{url}/predict", {"rows": [{"length": "not a number"}]})
        assert status == 400 and "length" in answer["error"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
