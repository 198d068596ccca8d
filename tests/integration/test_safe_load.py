"""Models load only through the workbench's fixed skops allow-list; pickle is off in its processes."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import TrackingError
from core.models import FAMILIES, build_pipeline, feature_spec, prepare_xy
from core.tracking.models import load_sklearn_model, register_model, register_trained
from core.tracking.safe_load import ALLOWED_TYPES

ROOT = Path(__file__).resolve().parents[2]


def _frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "num": rng.normal(size=n), "count": rng.integers(0, 9, n).astype(float),
        "colour": rng.choice(["red", "green", "blue"], n), "flag": rng.choice([True, False], n),
        "cls": rng.choice(["a", "b", "c"], n), "value": rng.normal(size=n),
    })
    frame.loc[[2, 7], "num"] = np.nan  # imputers see missing values, as in real tables
    frame.loc[[3], "colour"] = None
    return frame


def _fit(family: str, task: str, frame: pd.DataFrame):  # noqa: ANN202
    target = "cls" if task == "classification" else "value"
    spec = feature_spec(frame, target, ["num", "count", "colour", "flag"])
    X, y = prepare_xy(frame, target, spec)
    params = {"n_estimators": 5} if family == "rf" else {"max_iter": 20} if family == "hgb" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an MLP on 60 rows does not converge; its types are what matter
        return build_pipeline(family, task, spec, params).fit(X, y), X


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_needs_only_allowed_types(family: str, task: str) -> None:
    import skops.io as sio

    model, _ = _fit(family, task, _frame())
    found = set(sio.get_untrusted_types(data=sio.dumps(model)))
    assert found <= set(ALLOWED_TYPES), f"add to safe_load.ALLOWED_TYPES: {sorted(found - set(ALLOWED_TYPES))}"


def _register(tracker, model, X, project: str = "p"):  # noqa: ANN001, ANN202
    """Registered the current way: an MLflow 3 logged model (source ``models:/m-…``) behind ``models:/name/N``."""
    with tracker.stage_run(project, "tune") as rid:
        mv = register_trained(tracker, rid, model, X, project=project,
                              tags={"workbench.target": "cls", "workbench.task": "classification"})
    assert mv.source.startswith("models:/m-") and mv.uri == f"models:/{mv.name}/{mv.version}"
    return mv


def test_a_model_registered_the_workbench_way_loads(tracker) -> None:  # noqa: ANN001
    model, X = _fit("hgb", "classification", _frame())
    loaded = load_sklearn_model(tracker, _register(tracker, model, X))
    assert (loaded.predict(X) == model.predict(X)).all()


def _with_counter(model):  # noqa: ANN001, ANN202
    model.notes_ = Counter("abc")  # an otherwise valid pipeline carrying one harmless but foreign type
    return model, "collections.Counter"


def _with_eval(model):  # noqa: ANN001, ANN202
    from sklearn.preprocessing import FunctionTransformer

    model.hook_ = FunctionTransformer(func=eval)  # what an attacker's model would carry
    return model, "builtins.eval"


@pytest.mark.parametrize("craft", [_with_counter, _with_eval])
def test_a_model_trusting_an_extra_type_in_its_mlmodel_is_refused(tracker, craft) -> None:  # noqa: ANN001
    import mlflow.artifacts
    import yaml

    model, X = _fit("linear", "classification", _frame())
    model, bad = craft(model)
    mv = _register(tracker, model, X)  # log_sklearn_model writes the extra type into MLmodel's trust list
    local = mlflow.artifacts.download_artifacts(artifact_uri=mv.uri, dst_path=str(tracker.settings.home / "check"),
                                                tracking_uri=tracker.settings.tracking_uri)
    assert bad in yaml.safe_load((Path(local) / "MLmodel").read_text())["flavors"]["sklearn"]["skops_trusted_types"]
    with pytest.raises(TrackingError) as err:
        load_sklearn_model(tracker, mv)
    text = str(err.value)
    assert f"contains the type {bad!r}, which the workbench does not load" in text and "\n" not in text


def test_pickle_models_are_refused_by_mlflow_and_by_the_workbench(tracker, tmp_path: Path) -> None:  # noqa: ANN001
    import mlflow.sklearn

    model, X = _fit("linear", "regression", _frame())
    path = tmp_path / "pickled"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(model, str(path), serialization_format="pickle")
    code = ("import core.tracking, mlflow.sklearn, sys\n"
            "try:\n    mlflow.sklearn.load_model(sys.argv[1])\n"
            "except Exception as err:\n    print('refused:', err); raise SystemExit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=180, env={k: v for k, v in __import__("os").environ.items()
                                            if k != "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "MLFLOW_ALLOW_PICKLE_DESERIALIZATION" in proc.stdout
    with tracker.stage_run("p", "tune") as rid:
        tracker.log_dir(rid, path, "model")  # someone with write access uploads a pickle model and registers it
        mv = register_model(tracker, "p", rid)
    with pytest.raises(TrackingError, match=r"is saved as pickle, which can run code when loaded"):
        load_sklearn_model(tracker, mv)
