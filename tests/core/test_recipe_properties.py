"""Hypothesis properties: cleaning never adds rows, replay is deterministic, duplicates drop once."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data.recipe import Recipe, Step, apply_step, replay
from core.errors import RecipeError

TOKENS = ["NA", "-", "?", "", " "]
cells_num = st.one_of(st.integers(-50, 50).map(str), st.sampled_from(TOKENS), st.sampled_from(["1,5", " 7 ", "3.25"]))
cells_txt = st.one_of(st.sampled_from(["a", "b", " A ", "b  c", "d"]), st.sampled_from(TOKENS))


@st.composite
def frames(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    return pd.DataFrame({
        "num": draw(st.lists(cells_num, min_size=n, max_size=n)),
        "txt": draw(st.lists(cells_txt, min_size=n, max_size=n)),
        "val": draw(st.lists(st.one_of(st.none(), st.floats(-1e3, 1e3)), min_size=n, max_size=n)),
    })


STEP_CHOICES = st.sampled_from([
    Step("missing_tokens", {"tokens": TOKENS}),
    Step("fix_types", {"columns": ["num"], "to": "numeric"}),
    Step("trim_case", {"columns": ["txt"], "case": "lower"}),
    Step("drop_duplicates"),
    Step("drop_missing_rows", {"threshold": 0.4}),
    Step("impute", {"columns": ["val"], "strategy": "median"}),
    Step("impute", {"columns": ["txt"], "strategy": "constant", "fill_value": "z"}),
    Step("impute", {"columns": ["txt"], "strategy": "most_frequent"}),
    Step("outliers", {"columns": ["val"], "action": "clip"}),
    Step("outliers", {"columns": ["val"], "action": "remove", "method": "zscore", "k": 1.0}),
    Step("scale", {"columns": ["val"], "method": "robust"}),
])
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _replay_or_none(frame: pd.DataFrame, recipe: Recipe):
    try:
        return replay(frame, recipe, "fit")
    except RecipeError:
        return None  # e.g. impute on an all-missing column: refused with a sentence, never another error


@FAST
@given(frames(), st.lists(STEP_CHOICES, min_size=1, max_size=5))
def test_cleaning_never_adds_rows_and_keeps_row_labels(frame: pd.DataFrame, steps: list[Step]) -> None:
    original = frame.copy(deep=True)
    result = _replay_or_none(frame, Recipe(tuple(steps)))
    pd.testing.assert_frame_equal(frame, original)  # the input is never modified, even on failure
    if result is None:
        return
    for step_result in result.results:
        assert step_result.rows_after <= step_result.rows_before
        assert step_result.changed_rows <= step_result.rows_after
    assert set(result.frame.index) <= set(frame.index)


@FAST
@given(frames(), st.lists(STEP_CHOICES, min_size=1, max_size=5))
def test_a_recipe_replayed_on_the_same_input_gives_the_same_frame(frame: pd.DataFrame, steps: list[Step]) -> None:
    first = _replay_or_none(frame, Recipe(tuple(steps)))
    if first is None:
        return
    saved = Recipe.from_json(first.recipe.to_json())
    pd.testing.assert_frame_equal(replay(frame, saved, "transform").frame, first.frame)
    pd.testing.assert_frame_equal(replay(frame, saved, "fit").frame, first.frame)


@FAST
@given(frames(), st.sampled_from([None, ["txt"], ["num", "txt"]]))
def test_drop_duplicates_is_idempotent(frame: pd.DataFrame, subset) -> None:
    step = Step("drop_duplicates", {"subset": subset})
    once = apply_step(frame, step).frame
    twice = apply_step(once, step)
    pd.testing.assert_frame_equal(twice.frame, once)
    assert twice.rows_after == twice.rows_before and twice.changed_cells == 0


@pytest.mark.parametrize("kind", ["encode", "pca"])
def test_steps_that_add_columns_still_keep_the_rows(kind: str) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [3.0, 1.0, 0.0], "c": ["x", "y", "x"]})
    result = apply_step(frame, Step(kind))
    assert result.rows_after == result.rows_before == 3 and result.added_columns
