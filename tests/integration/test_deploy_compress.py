"""Pruning and distillation (core.deploy.compress) on real forests: held-out integrity, parity, students."""

from __future__ import annotations

import numpy as np
import pytest

from core.deploy.compress import compare_compression
from core.deploy.export import run_onnx
from core.deploy.parity import sklearn_input
from core.errors import ExportError
from core.models import build_pipeline, feature_spec, prepare_xy
from tests.integration.deploy_fixtures import small_frame, target_of


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_pruning_never_looks_at_the_test_rows_and_variants_export_faithfully(task: str) -> None:
    frame = small_frame(task, 320)
    target = target_of(task)
    train, test = frame.iloc[:240].reset_index(drop=True), frame.iloc[240:].reset_index(drop=True)
    spec = feature_spec(train, target)
    X, y = prepare_xy(train, target, spec)
    model = build_pipeline("rf", task, spec, {"n_estimators": 20, "max_depth": 6}).fit(X, y)
    report = compare_compression(model, spec, task, "rf", train, test, target)
    names = [v.name for v in report.variants]
    assert names[0] == "original" and report.variants[0].delta == 0
    assert {"pruned 2/20 trees", "pruned 5/20 trees", "pruned 10/20 trees"} <= set(names)
    assert {"student: tree depth 6", "student: linear"} <= set(names) and any(v.pareto for v in report.variants)
    # the same training rows with scrambled test labels: the same trees are kept (selection saw no test row)
    scrambled = test.assign(**{target: test[target].sample(frac=1, random_state=1).to_numpy()})
    again = compare_compression(model, spec, task, "rf", train, scrambled, target)
    Xt = sklearn_input(test, spec)
    for a, b in zip(report.variants, again.variants):
        if a.kind in ("pruned", "student"):
            same = (lambda m: m.predict_proba(Xt)) if task == "classification" else (lambda m: m.predict(Xt))
            np.testing.assert_array_equal(same(a.model), same(b.model))
            assert a.size_bytes == b.size_bytes
    for v in report.variants:
        if v.model is None:
            continue
        assert v.size_bytes <= report.variants[0].size_bytes or v.kind == "original"
        out = run_onnx(v.export, test[spec.columns])
        if task == "classification":
            np.testing.assert_allclose(out["probabilities"], v.model.predict_proba(Xt), atol=1e-4)
        else:
            np.testing.assert_allclose(np.ravel(out["variable"]), v.model.predict(Xt), rtol=1e-4, atol=1e-3)
    pruned = next(v for v in report.variants if v.name == "pruned 5/20 trees")
    assert len(pruned.model.named_steps["model"].estimators_) == 5
    assert len(model.named_steps["model"].estimators_) == 20  # the teacher is untouched


def test_no_held_out_rows_is_one_sentence() -> None:
    frame = small_frame("classification", 120)
    spec = feature_spec(frame, "species")
    X, y = prepare_xy(frame, "species", spec)
    model = build_pipeline("rf", "classification", spec, {"n_estimators": 5}).fit(X, y)
    with pytest.raises(ExportError, match="held-out test split"):
        compare_compression(model, spec, "classification", "rf", frame, frame.head(0), "species")
