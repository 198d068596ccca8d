"""Recipe as data: JSON round trip, editing, schema, validation sentences."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.data.recipe import STEPS, Recipe, Step, apply_step, describe_step, replay
from core.errors import RecipeError

ALL_KINDS = {"missing_tokens", "fix_types", "trim_case", "drop_columns", "keep_columns", "drop_duplicates",
             "drop_missing_rows", "impute", "outliers", "scale", "encode", "select_filter", "select_wrapper",
             "select_l1", "pca", "split", "group_stats", "rolling", "fourier", "rebalance", "augment_noise"}


def test_registry_has_every_kind_with_a_renderable_schema() -> None:
    assert set(STEPS) == ALL_KINDS
    for kind, spec in STEPS.items():
        assert spec.kind == kind and spec.title and spec.description.endswith(".")
        for p in spec.params:
            assert p.type in {"columns", "column", "choice", "multichoice", "float", "int", "bool", "text", "tokens"}
            assert p.help
            if p.type == "choice":
                assert p.default in p.choices
            if p.type == "multichoice":
                assert p.default and set(p.default) <= set(p.choices)


def test_json_round_trip_with_numpy_fitted_state_is_pure_json() -> None:
    recipe = Recipe((
        Step("impute", {"strategy": "mean", "columns": ["x"]}, {"values": {"x": np.float64(1.5)}}),
        Step("pca", {"columns": ["a", "b"]}, {"components": np.array([[1.0, 0.0]]), "mean": [np.nan, 2]}),
    ))
    text = recipe.to_json()
    data = json.loads(text)  # strict JSON: no NaN, no numpy
    assert data["steps"][1]["fitted"] == {"components": [[1.0, 0.0]], "mean": [None, 2]}
    again = Recipe.from_json(text)
    assert again.to_json() == text and again.steps[0].fitted == {"values": {"x": 1.5}}


def test_editing_returns_new_recipes() -> None:
    a, b, c = Step("drop_duplicates"), Step("trim_case"), Step("scale")
    recipe = Recipe((a, b))
    assert recipe.with_step(c).steps == (a, b, c) and recipe.steps == (a, b)
    assert recipe.without(0).steps == (b,)
    assert recipe.replace(1, c).steps == (a, c)
    assert Recipe((a, b, c)).move(2, 0).steps == (c, a, b)
    with pytest.raises(RecipeError, match=r"The 'i' position must be an int in \[0, 1\]. Got 5 instead."):
        recipe.without(5)


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "The recipe is not valid JSON"),
    ('{"steps": [{"kind": "bake", "params": {}}]}',
     "Step 1 has an unknown kind 'bake'; known kinds are missing_tokens"),
    ('{"steps": [{"kind": "impute", "params": {"strategy": "avg"}}]}',
     "Step 1: The 'strategy' parameter of impute must be one of 'mean', 'median', 'most_frequent', 'constant', "
     "'knn'. Got 'avg' instead."),
    ('{"steps": [{"kind": "scale", "params": {"colums": ["x"]}}]}', "Step 1: scale has no parameter 'colums'"),
    ('{"steps": [{"kind": "split", "params": {"test_size": 1.5}}]}',
     r"The 'test_size' parameter of split must be a number in \[0.01, 0.99\]. Got 1.5 instead."),
    ('{"steps": [{"kind": "drop_columns", "params": {"columns": "x"}}]}', "must be a list of column names"),
    ('{"version": 7, "steps": []}', "The recipe 'version' must be 1. Got 7 instead."),
    ('[1]', "Step 1 must be an object with a 'kind' string"),
])
def test_bad_recipes_are_sentences(text: str, message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        Recipe.from_json(text)


def test_unknown_column_names_the_step_param_and_value() -> None:
    frame = pd.DataFrame({"a": [1.0, None]})
    recipe = Recipe((Step("drop_duplicates"), Step("impute", {"columns": ["b"]})))
    with pytest.raises(RecipeError, match=r"^Step 2 \(impute\): Column 'b' in the 'columns' parameter of impute is not "
                                          r"in the table \(columns: 'a'\)"):
        replay(frame, recipe, "fit")


def test_defaults_are_filled_in_and_recorded() -> None:
    result = apply_step(pd.DataFrame({"x": [1.0, None, 3.0]}), Step("impute"))
    assert result.step.params == {"columns": None, "strategy": "median", "fill_value": None, "n_neighbors": 5}
    assert result.step.fitted == {"values": {"x": 2.0}}


def test_transform_of_an_unfitted_learning_step_is_refused() -> None:
    with pytest.raises(RecipeError, match="has not been fitted yet; replay the recipe in 'fit' mode first"):
        apply_step(pd.DataFrame({"x": [1.0]}), Step("scale"), fit=False)
    assert not Recipe((Step("scale"),)).is_fitted and Recipe((Step("drop_duplicates"),)).is_fitted


def test_duplicate_row_labels_are_renumbered_so_changes_can_be_tracked() -> None:
    frame = pd.DataFrame({"x": [1.0, None, 3.0]}, index=[7, 7, 8])
    result = apply_step(frame, Step("impute", {"strategy": "mean"}))
    assert result.frame.index.tolist() == [0, 1, 2] and result.frame["x"].tolist() == [1.0, 2.0, 3.0]
    assert result.changed_cells == 1 and result.changed_index.tolist() == [1]


def test_describe_step_lists_non_default_params() -> None:
    step = Step("impute", {"strategy": "mean", "columns": ["a", "b", "c", "d", "e"]})
    assert describe_step(step) == "Impute missing values — columns=a, b, c, d (+1); strategy=mean"
    assert describe_step(Step("drop_duplicates")) == "Drop duplicate rows"
