"""The leakage filters: the target, identifier-like columns and perfectly predictive columns, each with a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.leakage import suggest_features
from core.models import feature_spec

RNG = np.random.default_rng(0)
N = 100


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame({"id": np.arange(N) + 1000, "x": RNG.normal(size=N), "cat": RNG.choice(list("abc"), N),
                          "income": RNG.integers(1000, 100_000, N), "y": RNG.choice(["p", "q"], N)})
    frame["code"] = frame["y"].map({"p": 0, "q": 1})
    frame["separates"] = np.where(frame["y"] == "p", RNG.uniform(0, 1, N), RNG.uniform(2, 3, N))
    frame["name"] = [f"person{i}" for i in RNG.permutation(N)]
    frame["order"] = RNG.permutation(N)  # a shuffled dense run of ints: an id
    return frame


def test_leaky_columns_are_left_out_with_their_reason() -> None:
    advice = suggest_features(_frame(), "y")
    assert advice.features == ("x", "cat", "income")  # a wide range of distinct integers is a real feature
    assert set(advice.excluded) == {"y", "id", "code", "separates", "name", "order"}
    assert advice.excluded["y"] == "the target"
    assert "row number or id" in advice.excluded["id"] and "identifier" in advice.excluded["name"]
    assert "perfectly" in advice.excluded["code"] and "perfectly" in advice.excluded["separates"]
    assert advice.note.startswith("Left out of the features by default: 'id'") and "'y'" not in advice.note


def test_regression_monotone_copy_of_the_target_is_a_leak_but_a_noisy_one_is_not() -> None:
    frame = pd.DataFrame({"x": RNG.normal(size=N)})
    frame["y"] = 3 * frame["x"] + RNG.normal(size=N)
    frame["exp_y"] = np.exp(frame["y"])
    assert set(suggest_features(frame, "y").excluded) == {"y", "exp_y"}


def test_few_rows_prove_nothing() -> None:
    small = _frame().head(20)
    assert "code" not in suggest_features(small, "y").excluded  # 20 < 30 rows: no "perfect" verdict


def test_model_features_default_to_the_advice_and_named_features_are_kept() -> None:
    frame = _frame()
    spec = feature_spec(frame, "y")
    assert set(spec.columns) == {"x", "cat", "income"} and "id" in spec.excluded
    assert "id" in feature_spec(frame, "y", ["id", "x"]).columns  # asked for explicitly: used
