"""Retraining modes as pure functions: what each one fits, on which rows, and what it refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import MonitorError
from core.models import build_pipeline, feature_spec
from core.monitor.retrain_modes import (
    MODES,
    check_mode,
    ensemble,
    fine_tune,
    incremental,
    training_parts,
)


def _frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    color = rng.choice(["red", "blue"], n)
    y = np.where(x1 + 0.5 * x2 + (color == "red") > 0.5 + shift, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "y": y})


@pytest.fixture()
def parts():
    old, new = _frame(200, 0), _frame(80, 1, shift=1.5)
    frame = pd.concat([old, new], ignore_index=True)
    split = ["train"] * 150 + ["test"] * 50 + ["train"] * 64 + ["test"] * 16
    spec = feature_spec(old, "y")
    return training_parts(frame, split, 200, "y", spec), spec


def test_training_parts_keep_test_rows_out_and_tell_old_from_new(parts) -> None:
    p, _spec = parts
    assert len(p.X_old) == 150 and len(p.X_new) == 64 and len(p.X) == 214
    assert list(p.X.columns) == ["x1", "x2", "color"]


def test_too_few_new_rows_is_one_sentence() -> None:
    frame = _frame(50, 0)
    with pytest.raises(MonitorError, match="only 0 of them"):
        training_parts(frame, ["train"] * 50, 50, "y", feature_spec(frame, "y"))


@pytest.mark.parametrize(("mode", "family", "task", "words"), [
    ("nope", "", "", "must be one of"),
    ("fine-tune", "svm", "classification", "champion is svm"),
    ("fine-tune", "linear", "regression", "champion is linear"),
    ("incremental", "rf", "classification", "only the mlp family"),
])
def test_modes_that_do_not_apply_are_refused_with_a_sentence(mode, family, task, words) -> None:
    with pytest.raises(MonitorError, match=words):
        check_mode(mode, family, task)


def test_every_mode_is_known() -> None:
    assert MODES == ("study", "refit", "fine-tune", "incremental", "ensemble")
    assert check_mode("ensemble", "knn", "classification") == "ensemble"


def test_fine_tuning_a_forest_adds_trees_fitted_on_the_new_rows_and_keeps_the_old(parts) -> None:
    p, spec = parts
    champion = build_pipeline("rf", "classification", spec, {"n_estimators": 20}).fit(p.X_old, p.y_old)
    tuned = fine_tune(champion, "rf", "classification", p)
    old_trees = tuned.named_steps["model"].estimators_[:20]
    assert len(tuned.named_steps["model"].estimators_) == 30  # max(10, 20 // 4) more
    # the first 20 trees are the champion's, untouched; the champion itself is not modified
    for a, b in zip(old_trees, champion.named_steps["model"].estimators_):
        assert np.array_equal(a.tree_.threshold, b.tree_.threshold)
    assert len(champion.named_steps["model"].estimators_) == 20
    assert tuned.named_steps["model"].warm_start is False
    # preprocessing kept as the champion fitted it (new rows never refit the scaler)
    assert np.allclose(tuned.named_steps["prep"].transformers_[0][1].named_steps["scale"].mean_,
                       champion.named_steps["prep"].transformers_[0][1].named_steps["scale"].mean_)


def test_fine_tuning_gradient_boosting_adds_iterations(parts) -> None:
    p, spec = parts
    champion = build_pipeline("hgb", "classification", spec, {"max_iter": 20}).fit(p.X_old, p.y_old)
    tuned = fine_tune(champion, "hgb", "classification", p)
    assert tuned.named_steps["model"].n_iter_ > champion.named_steps["model"].n_iter_


def test_fine_tuning_moves_the_model_towards_the_new_rows(parts) -> None:
    p, spec = parts
    champion = build_pipeline("mlp", "classification", spec, {"hidden_layer_sizes": 8}).fit(p.X_old, p.y_old)
    tuned = fine_tune(champion, "mlp", "classification", p)
    before = np.mean(champion.predict(p.X_new) == p.y_new)
    after = np.mean(tuned.predict(p.X_new) == p.y_new)
    assert after > before


def test_fine_tuning_refuses_new_rows_that_lack_a_class(parts) -> None:
    p, spec = parts
    champion = build_pipeline("rf", "classification", spec, {"n_estimators": 10}).fit(p.X_old, p.y_old)
    one_class = type(p)(p.X_old, p.y_old, p.X_new[p.y_new == "no"], p.y_new[p.y_new == "no"])
    with pytest.raises(MonitorError, match="exactly the champion's classes"):
        fine_tune(champion, "rf", "classification", one_class)


def test_incremental_learning_replays_old_rows_so_it_forgets_less_than_fine_tuning(parts) -> None:
    p, spec = parts
    champion = build_pipeline("mlp", "classification", spec, {"hidden_layer_sizes": 8}).fit(p.X_old, p.y_old)
    tuned = fine_tune(champion, "mlp", "classification", p, epochs=40)
    mixed = incremental(champion, "mlp", "classification", p, epochs=40)
    old_score = lambda m: np.mean(m.predict(p.X_old) == p.y_old)  # noqa: E731
    assert old_score(mixed) >= old_score(tuned)
    with pytest.raises(MonitorError, match="only the mlp family"):
        incremental(champion, "rf", "classification", p)


def test_ensemble_weight_is_chosen_on_new_rows_and_the_vote_is_the_weighted_mean(parts) -> None:
    p, spec = parts
    champion = build_pipeline("linear", "classification", spec).fit(p.X_old, p.y_old)
    choice = ensemble(champion, "linear", "classification", spec, {}, p)
    assert choice.validation_rows == round(0.3 * 64) and 0 <= choice.champion_weight <= 1
    model, w = choice.model, choice.champion_weight
    new = model.estimators_[1]
    expected = w * champion.predict_proba(p.X_new) + (1 - w) * new.predict_proba(p.X_new)
    assert np.allclose(model.predict_proba(p.X_new), expected)
    assert list(model.predict(p.X_new)) == list(np.asarray(model.classes_)[expected.argmax(axis=1)])
    # the drifted rows follow another rule: the champion alone cannot be the best voice
    assert w < 1.0


def test_ensemble_for_regression_is_a_weighted_mean() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    frame["y"] = frame["a"] * 2 + np.where(np.arange(300) >= 200, 3.0, 0.0)
    spec = feature_spec(frame, "y", ["a", "b"])
    p = training_parts(frame, ["train"] * 300, 200, "y", spec)
    champion = build_pipeline("linear", "regression", spec).fit(p.X_old, p.y_old)
    choice = ensemble(champion, "linear", "regression", spec, {}, p)
    w = choice.champion_weight
    new = choice.model.estimators_[1]
    assert np.allclose(choice.model.predict(p.X_new), w * champion.predict(p.X_new) + (1 - w) * new.predict(p.X_new))


def test_an_ensemble_is_refused_by_the_onnx_export_with_a_sentence(parts) -> None:
    from core.deploy.export import export_onnx
    from core.errors import ExportError

    p, spec = parts
    champion = build_pipeline("linear", "classification", spec).fit(p.X_old, p.y_old)
    choice = ensemble(champion, "linear", "classification", spec, {}, p)
    with pytest.raises(ExportError, match="ensemble of two pipelines"):
        export_onnx(choice.model, spec, "classification", p.X_new)
