"""The charter's cost as a Compare metric (pure): the row, the per-row losses, the paired bootstrap over them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.compare.charter_rules import fairness_limit, with_business_cost
from core.compare.evaluate import evaluate_fitted
from core.compare.resampled import row_loss_metric
from core.compare.significance import gate_significance
from core.plan.charter import Charter, business_cost, row_costs

CHARTER = Charter(problem="Flag fraud", target="y", task="classification", metric="accuracy", threshold=0.5,
                  cost_fp=2.0, cost_fn=10.0, positive_class="fraud")


class Fixed:
    """A 'model' that predicts given labels (row order), enough for evaluate_fitted."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = np.asarray(labels, dtype=object)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.labels[: len(X)]


def test_cost_row_equals_the_charters_formula_and_lower_wins() -> None:
    y = ["fraud", "ok", "fraud", "ok", "ok", "fraud"]
    a = ["ok", "fraud", "fraud", "ok", "ok", "ok"]  # 2 FN, 1 FP → (2·10 + 1·2) / 6
    b = ["fraud", "ok", "fraud", "fraud", "ok", "fraud"]  # 1 FP → 2 / 6
    frame = pd.DataFrame({"x": range(6), "group": ["m", "m", "m", "f", "f", "f"], "y": y})
    ev = evaluate_fitted({"A": Fixed(a), "B": Fixed(b)}, frame, "y", task="classification", importance=False,
                         resources=False)
    out = with_business_cost(ev, CHARTER)
    assert out.score("A", "business_cost") == pytest.approx(22 / 6) == business_cost(CHARTER, y, a)
    assert out.score("B", "business_cost") == pytest.approx(2 / 6)
    assert out.best["business_cost"] == "B" and list(out.costs["A"]) == [10, 2, 0, 0, 0, 10]
    assert with_business_cost(ev, None) is ev  # no charter, no row
    no_cost = Charter(problem="Flag fraud", target="y", task="classification", metric="accuracy", threshold=0.5)
    assert "business_cost" not in with_business_cost(ev, no_cost).metrics.index

    check = fairness_limit(out, frame, Charter(**{**no_cost.to_dict(), "protected_column": "group",
                                                  "max_gap": 0.5, "expected_columns": (), "families": ()}), "A",
                           "accuracy")
    # A is right on 1 of 3 'm' rows (row 2) and on 2 of 3 'f' rows: gap 1/3, within 0.5
    assert check.checked and check.gap == pytest.approx(1 / 3) and not check.exceeded and check.worst_group == "m"


def test_a_resampled_cost_is_the_cost_of_the_resampled_rows() -> None:
    rng = np.random.default_rng(0)
    y = rng.choice(["fraud", "ok"], 200)
    pred = np.where(rng.random(200) < 0.8, y, np.where(y == "fraud", "ok", "fraud"))
    losses = row_costs(CHARTER, y, pred)
    metric = row_loss_metric("business_cost")
    idx = rng.integers(0, 200, size=(5, 200))
    w = np.stack([np.bincount(i, minlength=200) for i in idx]).astype(float)
    direct = [business_cost(CHARTER, y[i], pred[i]) for i in idx]
    assert np.allclose(metric.evaluate(metric.prepare(y, losses), w), direct)


def test_the_gate_test_on_cost_is_one_sided_for_lower_cost() -> None:
    rng = np.random.default_rng(1)
    y = rng.choice(["fraud", "ok"], 400)
    worse = np.where(rng.random(400) < 0.7, y, np.where(y == "fraud", "ok", "fraud"))
    better = np.where(rng.random(400) < 0.95, y, np.where(y == "fraud", "ok", "fraud"))
    costs = (row_costs(CHARTER, y, worse), row_costs(CHARTER, y, better))
    up = gate_significance("business_cost", "classification", y, worse, better, row_losses=costs, n_resamples=500)
    assert up.test == "paired_bootstrap" and up.significant
    assert up.improvement == pytest.approx(costs[0].mean() - costs[1].mean())
    down = gate_significance("business_cost", "classification", y, better, worse, row_losses=costs[::-1],
                             n_resamples=500)
    assert not down.significant and down.improvement < 0
    with pytest.raises(Exception, match="set the costs in the project's charter"):
        gate_significance("business_cost", "classification", y, worse, better)
