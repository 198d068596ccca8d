"""The charter: validation sentences, verdict, cost metric, versions in MLflow and the CLI round trip."""

from __future__ import annotations

import json
import math

import pytest

from core.cli import main
from core.plan import PlanError
from core.plan.charter import (CHARTER_TAG, Charter, business_cost, charter_history, charter_verdict, load_charter,
                               save_charter)

BASE = {"problem": "Flag risky loans", "target": "y", "task": "classification", "metric": "f1_macro",
        "threshold": 0.9, "margin": 0.005}


@pytest.mark.parametrize(("change", "words"), [
    ({"metric": "rmse"}, "does not fit a classification task"),
    ({"threshold": 1.5}, "must be a number in [0, 1]"),
    ({"margin": -0.1}, "promotion margin must be a number ≥ 0"),
    ({"families": ("linear", "xgboost")}, "model family 'xgboost' is not known"),
    ({"task": "ranking"}, "classification or regression"),
    ({"problem": " "}, "problem statement must not be blank"),
    ({"cost_per_unit": 2.0}, "applies to regression"),
    ({"max_gap": 0.1}, "needs the protected column"),
    ({"drift_share": 0}, "(0, 1]"),
])
def test_bad_charters_are_one_sentence(change: dict, words: str) -> None:
    with pytest.raises(PlanError) as err:
        Charter(**{**BASE, **change})
    assert words in str(err.value) and "\n" not in str(err.value)


def test_regression_charter_and_metric_direction() -> None:
    c = Charter(problem="Forecast demand", target="units", task="regression", metric="rmse", threshold=12.0,
                cost_per_unit=3.0)
    assert not c.higher_is_better and c.tune_metric() == "rmse" and c.gate_metric() == "rmse"
    assert charter_verdict(c, 10.0).meets and charter_verdict(c, 10.0).by == pytest.approx(2.0)
    miss = charter_verdict(c, 13.5)
    assert not miss.meets and miss.by == pytest.approx(-1.5) and "short by 1.5000" in miss.sentence
    assert business_cost(c, [10, 20, 30], [12, 20, 27]) == pytest.approx(3.0 * (2 + 0 + 3) / 3)
    with pytest.raises(PlanError, match="no field 'treshold'"):
        Charter.from_dict({**BASE, "treshold": 1})


def test_classification_cost_verdict_and_policy() -> None:
    c = Charter(**BASE, cost_fp=1.0, cost_fn=5.0, positive_class="yes", families=("linear", "rf"), drift_share=0.3)
    y_true = ["yes", "no", "yes", "no"]
    y_pred = ["no", "yes", "yes", "no"]  # one FN, one FP
    assert business_cost(c, y_true, y_pred) == pytest.approx((5.0 + 1.0) / 4)
    assert charter_verdict(c, 0.93).meets and not charter_verdict(c, 0.85).meets
    assert not charter_verdict(c, None).meets and math.isnan(charter_verdict(c, None).by)
    policy = c.retrain_policy(n_trials=4)
    assert (policy.max_drift_share, policy.gate_metric, policy.gate_margin, policy.n_trials) == (0.3, "f1_macro",
                                                                                                0.005, 4)
    assert Charter(**{**BASE, "metric": "precision_macro", "threshold": 0.8}).tune_metric() == "accuracy"
    assert Charter.from_json(c.to_json()) == c


def test_data_findings_against_the_charter() -> None:
    from core.plan.charter import data_findings

    c = Charter(**BASE, expected_columns=("x1", "x2", "color"), batch_size=100)
    assert data_findings(c, ["x1", "x2", "color", "y"], 150) == []
    found = data_findings(c, ["x1", "y"], 40)
    assert found == ["The batch lacks the charter's expected column(s) x2, color.",
                     "The batch has 40 rows, fewer than the charter's batch size of 100."]


def test_versions_in_mlflow(tracker) -> None:
    assert load_charter(tracker, "loans") is None
    first = save_charter(tracker, "loans", Charter(**BASE))
    second = save_charter(tracker, "loans", Charter(**{**BASE, "threshold": 0.92}), note="raised the bar")
    assert load_charter(tracker, "loans").threshold == 0.92
    history = charter_history(tracker, "loans")
    assert [r.run_id for r in history] == [second, first]
    run = tracker.get_run(second)
    assert run.stage == "plan" and run.params["metric"] == "f1_macro" and run.params["threshold"] == "0.92"
    assert first in run.inputs and run.tags["workbench.plan.note"] == "raised the bar"
    # a plain MLflow reader finds the current charter from the experiment tag and the JSON artifact
    exp = tracker.client.get_experiment_by_name("loans")
    assert exp.tags[CHARTER_TAG] == second
    path = tracker.client.download_artifacts(second, "plan/charter.json", str(tracker.settings.home))
    assert json.loads(open(path).read())["threshold"] == 0.92


def test_cli_round_trip_and_bad_input(settings, tmp_path, capsys) -> None:
    assert main(["charter", "show", "--project", "cli"]) == 0
    assert "no charter yet" in capsys.readouterr().out
    argv = ["charter", "set", "--project", "cli", "--problem", "Flag risky loans", "--target", "y", "--task",
            "classification", "--metric", "f1_macro", "--threshold", "0.9", "--margin", "0.005", "--families",
            "linear,rf", "--columns", "x1,x2", "--drift-share", "0.4"]
    assert main(argv) == 0
    assert "saved the charter" in capsys.readouterr().out
    assert main(["charter", "set", "--project", "cli", "--threshold", "0.95"]) == 0  # the rest is kept
    capsys.readouterr()
    assert main(["charter", "show", "--project", "cli", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["threshold"] == 0.95 and shown["families"] == ["linear", "rf"] and shown["drift_share"] == 0.4
    path = tmp_path / "charter.json"
    path.write_text(json.dumps({**shown, "metric": "r2"}))
    assert main(["charter", "set", "--project", "cli", "--from-json", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: The success metric 'r2' does not fit a classification")
    assert main(["charter", "set", "--project", "cli", "--threshold", "7"]) == 2
    assert capsys.readouterr().err.strip() == ("error: The charter's threshold for f1_macro must be a number in "
                                               "[0, 1]. Got 7.0 instead.")
    assert main(["charter", "set", "--project", "cli", "--from-json", str(tmp_path / "missing.json")]) == 2
    assert "cannot be read" in capsys.readouterr().err
