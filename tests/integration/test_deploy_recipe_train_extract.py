"""ONNX export of a recipe with training-time and feature extraction steps: real skl2onnx, real onnxruntime."""

from __future__ import annotations

import numpy as np

from core.data.recipe import Recipe, Step, replay
from core.deploy.export import export_onnx, run_onnx
from core.deploy.parity import check_parity, sklearn_input
from core.deploy.recipe import attach_recipe, onnx_frame_for
from core.models import build_pipeline, feature_spec, prepare_xy
from tests.integration.deploy_fixtures import small_frame

RECIPE = Recipe((
    Step("split", {"method": "stratified", "test_size": 0.25, "target": "species", "seed": 0}),
    Step("impute", {"strategy": "median"}),
    Step("impute", {"columns": ["island"], "strategy": "most_frequent"}),
    Step("group_stats", {"column": "depth", "by": "island", "stats": ["mean", "max"]}),
    Step("rebalance", {"method": "oversample", "target": "species"}),
    Step("augment_noise", {"columns": ["length", "depth"], "scale": 0.02}),
    Step("scale", {"columns": ["length", "depth_mean_by_island"], "method": "zscore"}),
))


def test_training_time_steps_stay_out_of_the_graph_and_extraction_runs_before_it() -> None:
    raw = small_frame("classification")
    fitted = replay(raw, RECIPE, "fit")
    assert len(fitted.frame) > len(raw)  # rebalanced and augmented training rows
    train = fitted.frame[fitted.split == "train"]
    spec = feature_spec(train, "species")
    X, y = prepare_xy(train, "species", spec)
    model = build_pipeline("linear", "classification", spec, {}).fit(X, y)
    export, plan = attach_recipe(export_onnx(model, spec, "classification", family="linear"), fitted.recipe, raw)
    outside = dict(export.recipe_outside)
    assert "training only: re-samples the training rows" in outside["step 5 rebalance (oversample)"]
    assert "training only: adds jittered copies" in outside["step 6 augment_noise on length, depth"]
    assert "per-group statistics" in outside["step 4 group_stats"]
    assert [s.kind for s in plan.before] == ["impute", "impute", "group_stats"]
    assert "scale (zscore)" in export.recipe_included
    held_raw = small_frame("classification", n=90, seed=5)  # new rows: no resampling, the reference's statistics
    ref = replay(held_raw, fitted.recipe, mode="transform").frame
    assert len(ref) == len(held_raw)
    onnx_in = onnx_frame_for(held_raw, plan).loc[ref.index]
    report = check_parity(model, export, ref, spec, onnx_frame=onnx_in)
    assert report.equivalent and report.label_agreement == 1.0, report.verdict
    probs = run_onnx(export, onnx_in)["probabilities"]
    np.testing.assert_allclose(probs, model.predict_proba(sklearn_input(ref, spec)), atol=1e-4)
