"""Evaluation, fairness, gate decisions, shadow comparison and runs-table helpers on fitted models."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from core.compare import runs
from core.compare.evaluate import best_per_metric, check_features, evaluate_fitted, fairness
from core.compare.gate import gate_decision, promotion_gate
from core.compare.shadow import shadow_compare
from core.errors import CompareError
from core.models import build_pipeline, feature_spec, prepare_xy
from core.tracking import RunSummary
from core.tracking.models import ModelVersionInfo
from tests.compare_seed import STRONG, WEAK, iris_frame


@pytest.fixture(scope="module")
def iris_models() -> tuple[dict, pd.DataFrame]:
    frame, split = iris_frame()
    train, test = frame[split == "train"], frame[split == "test"]
    spec = feature_spec(train, "species")
    X, y = prepare_xy(train, "species", spec)
    models = {name: build_pipeline(fam, "classification", spec, params).fit(X, y)
              for name, (fam, params) in {"weak": WEAK, "strong": STRONG}.items()}
    return models, test


@pytest.fixture(scope="module")
def diabetes_models() -> tuple[dict, pd.DataFrame]:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame.head(240)
    train, test = frame.iloc[:160], frame.iloc[160:]
    spec = feature_spec(train, "target")
    X, y = prepare_xy(train, "target", spec)
    models = {"ridge": build_pipeline("linear", "regression", spec, {"alpha": 1.0}).fit(X, y),
              "knn": build_pipeline("knn", "regression", spec, {"n_neighbors": 3}).fit(X, y)}
    return models, test


def test_classification_evaluation_matches_sklearn(iris_models) -> None:  # noqa: ANN001
    models, test = iris_models
    ev = evaluate_fitted(models, test, "species", training_times={"weak": 0.5, "strong": 0.2})
    X = test.drop(columns="species")
    for name, model in models.items():
        pred = model.predict(X)
        assert ev.metrics.loc["accuracy", name] == pytest.approx(skm.accuracy_score(test["species"], pred))
        assert ev.metrics.loc["f1_macro", name] == pytest.approx(skm.f1_score(test["species"], pred, average="macro"))
        assert ev.metrics.loc["log_loss", name] == pytest.approx(
            skm.log_loss(test["species"], model.predict_proba(X), labels=model.classes_))
        assert ev.metrics.loc["roc_auc", name] == pytest.approx(
            skm.roc_auc_score(test["species"], model.predict_proba(X), multi_class="ovr"))
        assert ev.confusion[name].to_numpy().sum() == len(test)
        assert np.trace(ev.confusion[name].to_numpy()) == (pred == test["species"]).sum()
        assert set(ev.per_class[name]["class"]) == {"setosa", "versicolor", "virginica"}
    assert ev.best["accuracy"] == "strong" and ev.best["log_loss"] == "strong"  # lower log loss is better
    assert ev.best["training_time_s"] == "strong"  # lower time is better
    assert ev.resources.loc["size_bytes", "weak"] < ev.resources.loc["size_bytes", "strong"]
    assert (ev.resources.loc["latency_single_ms_p50"] > 0).all()
    assert set(ev.roc["class"]) == {"setosa", "versicolor", "virginica"}
    assert ev.roc["x"].between(0, 1).all() and ev.pr["y"].between(0, 1).all()
    assert ev.calibration["count"].groupby(ev.calibration["model"]).sum().eq(len(test)).all()
    top = ev.importances[ev.importances["model"] == "strong"].iloc[0]["feature"]
    assert top.startswith("petal")  # iris is separated by the petals


def test_best_per_metric_is_direction_aware() -> None:
    table = pd.DataFrame({"a": [0.9, 0.3, 10.0], "b": [0.8, 0.2, 12.0]}, index=["accuracy", "log_loss", "rmse"])
    assert best_per_metric(table) == {"accuracy": "a", "log_loss": "b", "rmse": "a"}


def test_regression_evaluation(diabetes_models) -> None:  # noqa: ANN001
    models, test = diabetes_models
    ev = evaluate_fitted(models, test, "target", importance=False)
    assert ev.task == "regression"
    for name, model in models.items():
        pred = model.predict(test.drop(columns="target"))
        assert ev.metrics.loc["mae", name] == pytest.approx(skm.mean_absolute_error(test["target"], pred))
        assert ev.metrics.loc["rmse", name] == pytest.approx(math.sqrt(skm.mean_squared_error(test["target"], pred)))
        assert ev.metrics.loc["r2", name] == pytest.approx(skm.r2_score(test["target"], pred))
    best = ev.metrics.loc["rmse"].idxmin()
    assert ev.best["rmse"] == best and ev.best["mse"] == best and ev.best["r2"] == best
    assert ev.roc is None and not ev.confusion
    assert len(ev.residuals) == 2 * len(test)
    assert ev.residuals.eval("actual - predicted").sub(ev.residuals["residual"]).abs().max() < 1e-9
    assert "Training time is not shown" in " ".join(ev.notes)


def test_single_class_set_omits_roc_with_a_note(iris_models) -> None:  # noqa: ANN001
    models, test = iris_models
    one = test[test["species"] == "setosa"]
    ev = evaluate_fitted(models, one, "species", importance=False, resources=False)
    assert ev.roc is None and ev.pr is None
    assert "roc_auc" not in ev.metrics.index
    assert any("single class" in n for n in ev.notes)
    assert ev.metrics.loc["accuracy", "strong"] == pytest.approx(1.0)


def test_missing_target_and_no_model(iris_models) -> None:  # noqa: ANN001
    models, test = iris_models
    with pytest.raises(CompareError, match="target column 'kind'"):
        evaluate_fitted(models, test, "kind")
    with pytest.raises(CompareError, match="at least one model"):
        evaluate_fitted({}, test, "species")


def test_check_features_names_missing_columns(iris_models) -> None:  # noqa: ANN001
    _, test = iris_models
    mv = ModelVersionInfo("p", 3, "r", "s", (), {"workbench.features": '["petal_length", "petal_width", "colour"]'})
    with pytest.raises(CompareError, match=r"p v3 needs 'colour'"):
        check_features([mv], test, "species")
    bare = ModelVersionInfo("p", 4, "r", "s", (), {})
    with pytest.raises(CompareError, match="no workbench.features tag"):
        check_features([bare], test, "species")


def test_fairness_largest_gap_and_single_group(iris_models) -> None:  # noqa: ANN001
    models, test = iris_models
    ev = evaluate_fitted(models, test, "species", importance=False, resources=False)
    result = fairness(ev, test["site"], "accuracy")
    for name in models:
        pred = ev.predictions[name]
        per = {g: skm.accuracy_score(test["species"][test["site"] == g], pred[(test["site"] == g).to_numpy()])
               for g in ("north", "south")}
        assert result.table.loc["north", name] == pytest.approx(per["north"])
        assert result.gaps[name] == pytest.approx(abs(per["north"] - per["south"]))
    assert result.largest_gap == max(result.gaps.values())
    assert result.table["rows"].sum() == len(test)
    with pytest.raises(CompareError, match="single group"):
        fairness(ev, pd.Series("all", index=test.index, name="constant"))
    with pytest.raises(CompareError, match="must be one of"):
        fairness(ev, test["site"], "rmse")
    quart = fairness(ev, test["sepal_length"])
    assert "quartiles" in quart.note and len(quart.table) <= 4


def test_gate_decision_directions_and_margin() -> None:
    ok = gate_decision(0.80, 0.85, "accuracy", 0.02, champion="v1", challenger="v2")
    assert ok.passed and ok.delta == pytest.approx(0.05) and "above the margin 0.02" in ok.reason
    short = gate_decision(0.80, 0.81, "accuracy", 0.02, champion="v1", challenger="v2")
    assert not short.passed and "is not above the margin 0.02" in short.reason
    tie = gate_decision(0.80, 0.80, "accuracy", 0.0)
    assert not tie.passed  # beating means strictly better
    lower = gate_decision(10.0, 8.0, "rmse", 1.0)
    assert lower.passed and lower.improvement == pytest.approx(2.0) and lower.delta == pytest.approx(-2.0)
    worse = gate_decision(10.0, 12.0, "rmse", 0.0)
    assert not worse.passed
    first = gate_decision(None, 0.7, "accuracy", 0.5, champion=None, challenger="v1")
    assert first.passed and "no champion yet" in first.reason
    nan = gate_decision(0.8, float("nan"), "roc_auc", 0.0)
    assert not nan.passed
    for bad in (-0.1, float("nan"), "x"):
        with pytest.raises(CompareError, match="margin"):
            gate_decision(0.8, 0.9, "accuracy", bad)  # type: ignore[arg-type]


def test_promotion_gate_on_evaluation(iris_models) -> None:  # noqa: ANN001
    models, test = iris_models
    ev = evaluate_fitted(models, test, "species", importance=False, resources=False)
    decision = promotion_gate(ev, "log_loss", 0.05, champion="weak", challenger="strong")
    assert decision.passed and decision.champion_score == ev.metrics.loc["log_loss", "weak"]
    assert decision.test is not None and decision.test.test == "paired_bootstrap" and decision.test.p_value < 0.05
    assert "CI" in decision.reason and "p-value" in decision.reason
    refused = promotion_gate(ev, "accuracy", 0.0, champion="strong", challenger="weak")
    assert not refused.passed and refused.test.test == "mcnemar"
    with pytest.raises(CompareError, match="not available"):
        promotion_gate(ev, "r2", 0.0, champion="weak", challenger="strong")


def test_gate_says_which_condition_failed() -> None:
    from core.compare.significance import PairedTest

    def paired(p: float) -> PairedTest:
        return PairedTest("mcnemar", "accuracy", 0.03, -0.01, 0.07, 0.95, p, 2 * p, 0.05, 100, (2, 5), 0, "")

    big_not_significant = gate_decision(0.80, 0.83, "accuracy", 0.005, champion="v1", challenger="v2",
                                        test=paired(0.2))
    assert not big_not_significant.passed and "above the margin 0.005 but not significant" in \
        big_not_significant.reason
    small_significant = gate_decision(0.80, 0.803, "accuracy", 0.005, champion="v1", challenger="v2",
                                      test=paired(0.001))
    assert not small_significant.passed and "is not above the margin 0.005" in small_significant.reason
    both = gate_decision(0.80, 0.801, "accuracy", 0.005, champion="v1", challenger="v2", test=paired(0.4))
    assert not both.passed and "not above the margin 0.005 and is not significant" in both.reason
    ok = gate_decision(0.80, 0.83, "accuracy", 0.005, champion="v1", challenger="v2", test=paired(0.001))
    assert ok.passed and "95% CI -0.0100 to +0.0700" in ok.reason


def test_shadow_compare_serves_champion(iris_models) -> None:  # noqa: ANN001
    models, test = iris_models
    result = shadow_compare(models, "strong", test, target="species")
    preds = {k: m.predict(test.drop(columns="species")) for k, m in models.items()}
    assert (result.predictions["served"].to_numpy() == preds["strong"]).all()
    assert result.disagreement["weak"] == pytest.approx((preds["weak"] != preds["strong"]).mean())
    assert len(result.disagreeing) == int((preds["weak"] != preds["strong"]).sum())
    assert result.scores["strong"] == pytest.approx((preds["strong"] == test["species"]).mean())
    assert result.right_when_disagree["strong"] > result.right_when_disagree["weak"]
    unlabelled = shadow_compare(models, "strong", test.drop(columns="species"))
    assert not unlabelled.has_labels
    with pytest.raises(CompareError, match="at least one challenger"):
        shadow_compare({"strong": models["strong"]}, "strong", test)


def _run(run_id: str, stage: str, params: dict, metrics: dict, tags: dict | None = None,
         inputs: tuple[str, ...] = ()) -> RunSummary:
    return RunSummary(run_id, run_id, stage, "FINISHED", 0, 1, inputs, params, metrics,
                      {"workbench.stage": stage, **(tags or {})})


def test_runs_table_helpers() -> None:
    frame = runs.runs_frame([
        _run("a", "tune", {"family": "rf", "n_estimators": "100", "seed": "0"}, {"accuracy": 0.9, "log_loss": 0.3},
             {"workbench.family": "rf", "team": "x"}, ("d1",)),
        _run("b", "tune", {"family": "rf", "n_estimators": "50", "seed": "0"}, {"accuracy": 0.95, "log_loss": 0.4},
             {"workbench.family": "rf"}, ("d2",)),
        _run("c", "compare", {"metric": "accuracy"}, {}, {}, ("a", "d1")),
    ])
    assert {"params.n_estimators", "metrics.accuracy", "tags.team"} <= set(frame.columns)
    tune = runs.filter_runs(frame, stage="tune")
    assert list(tune["run_id"]) == ["a", "b"]
    assert runs.differing_param_columns(tune) == ["params.n_estimators"]
    assert "params.seed" not in runs.differing_params(tune).columns
    assert "params.seed" in runs.differing_params(frame).columns  # missing on run c counts as different
    assert list(runs.filter_runs(frame, data_version="d1")["run_id"]) == ["a", "c"]
    assert list(runs.filter_runs(frame, tag="team=x")["run_id"]) == ["a"]
    assert runs.filter_runs(frame, tag="nope").empty
    assert list(runs.sort_runs(tune, "accuracy")["run_id"]) == ["b", "a"]  # higher first
    assert list(runs.sort_runs(tune, "log_loss")["run_id"]) == ["a", "b"]  # lower first
    with pytest.raises(CompareError, match="No run logged the metric 'f1'"):
        runs.sort_runs(frame, "f1")
    pruned = RunSummary("p", "p", "tune", "KILLED", 0, 1, (), {}, {}, {"optuna.state": "PRUNED"})
    killed = RunSummary("k", "k", "tune", "KILLED", 0, 1, (), {}, {}, {})
    assert list(runs.runs_frame([pruned, killed])["status"]) == ["PRUNED", "KILLED"]  # a pruned trial is no failure
    assert list(runs.numeric_params(tune).columns) == ["n_estimators"]


def test_shadow_regression_uses_a_tolerance(diabetes_models) -> None:  # noqa: ANN001
    models, test = diabetes_models
    result = shadow_compare(models, "ridge", test, target="target", task="regression", tolerance=20.0)
    X = test.drop(columns="target")
    diff = abs(models["knn"].predict(X) - models["ridge"].predict(X))
    assert result.disagreement["knn"] == pytest.approx((diff > 20.0).mean())
    assert result.score_name == "mae"
    assert result.scores["ridge"] == pytest.approx(skm.mean_absolute_error(test["target"], models["ridge"].predict(X)))
