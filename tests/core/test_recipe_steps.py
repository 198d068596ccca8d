"""Every step kind on small constructed frames, with exact expected values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.data.recipe import Recipe, Step, apply_step, suggest_missing_tokens
from core.errors import RecipeError


def run(frame: pd.DataFrame, kind: str, **params):
    return apply_step(frame, Step(kind, params))


def test_suggest_missing_tokens_counts_cells_per_token_including_blank() -> None:
    frame = pd.DataFrame({"a": ["1", "NA", " ", "n/a", "NA"], "b": ["x", "", "?", "----", "ok"], "n": [1, 2, 3, 4, 5]})
    assert suggest_missing_tokens(frame) == {"": 2, "NA": 2, "----": 1, "?": 1, "n/a": 1}
    assert suggest_missing_tokens(frame, tokens=["?"]) == {"?": 1}


def test_missing_tokens_replaces_tokens_and_makes_numeric_columns_numeric() -> None:
    frame = pd.DataFrame({"a": ["1", "NA", " 3 ", "-"], "b": ["x", "null", "y", "?"], "c": ["1", "2", "z", ""]})
    result = run(frame, "missing_tokens", tokens=["NA", "-", "null", "?", ""])
    out = result.frame
    assert out["a"].tolist()[0] == 1.0 and math.isnan(out["a"][1]) and out["a"][2] == 3.0 and math.isnan(out["a"][3])
    assert out["a"].dtype == float
    assert out["b"].tolist()[0::2] == ["x", "y"] and out["b"].isna().tolist() == [False, True, False, True]
    assert out["c"].dtype == object and out["c"].isna().tolist() == [False, False, False, True]  # 'z' keeps it text
    assert result.step.fitted == {"numeric": ["a"]}
    assert result.changed_cells == 5 and result.changed_rows == 2  # " 3 " → 3.0 is the same value
    assert result.summary == "Replaced 5 cells in 3 columns with missing; 1 column became numeric ('a')."


def test_missing_tokens_without_conversion_and_on_chosen_columns() -> None:
    frame = pd.DataFrame({"a": ["1", "NA"], "b": ["NA", "2"]})
    out = run(frame, "missing_tokens", tokens=["NA"], columns=["a"], convert_numeric=False).frame
    assert out["a"].tolist()[0] == "1" and pd.isna(out["a"][1]) and out["b"].tolist() == ["NA", "2"]


def test_fix_types_numeric_handles_separators_spaces_and_decimal_comma() -> None:
    frame = pd.DataFrame({"us": ["1,234", " 12 ", "3.5", "abc"], "eu": ["1.234,5", "2,25", " 7 ", None]})
    result = run(frame, "fix_types", columns=["us"], to="numeric")
    assert result.frame["us"].tolist()[:3] == [1234.0, 12.0, 3.5] and math.isnan(result.frame["us"][3])
    assert result.summary == "Converted 1 column ('us') to numeric; 1 value could not be parsed and became missing."
    eu = run(frame, "fix_types", columns=["eu"], to="numeric", decimal=",").frame["eu"]
    assert eu.tolist()[:3] == [1234.5, 2.25, 7.0] and math.isnan(eu[3])


def test_fix_types_datetime_category_boolean_text() -> None:
    frame = pd.DataFrame({"d": ["2024-01-02", "2024-02-30", "2024-03-04"], "c": ["x", "y", "x"],
                          "b": ["Yes", "no", "maybe"], "n": [1.5, 2.0, None]})
    d = run(frame, "fix_types", columns=["d"], to="datetime", format="%Y-%m-%d").frame["d"]
    assert d.tolist()[0] == pd.Timestamp("2024-01-02") and pd.isna(d[1])
    assert run(frame, "fix_types", columns=["c"], to="category").frame["c"].cat.categories.tolist() == ["x", "y"]
    b = run(frame, "fix_types", columns=["b"], to="boolean").frame["b"]
    assert str(b.dtype) == "boolean" and b.tolist()[:2] == [True, False] and pd.isna(b[2])
    t = run(frame, "fix_types", columns=["n"], to="text").frame["n"]
    assert t.tolist()[:2] == ["1.5", "2.0"] and pd.isna(t[2])


def test_trim_case_strips_collapses_and_changes_case_of_text_only() -> None:
    frame = pd.DataFrame({"s": ["  Ada   Lovelace ", "bob", None], "mixed": [" a ", 3, "b "]})
    out = run(frame, "trim_case", case="title").frame
    assert out["s"].tolist()[:2] == ["Ada Lovelace", "Bob"] and pd.isna(out["s"][2])
    assert out["mixed"].tolist() == ["A", 3, "B"]
    with pytest.raises(RecipeError, match="trim_case works on text columns; 'n' is int64"):
        run(pd.DataFrame({"n": [1]}), "trim_case", columns=["n"])


def test_drop_and_keep_columns() -> None:
    frame = pd.DataFrame({"a": [1], "b": [2], "c": [3]})
    dropped = run(frame, "drop_columns", columns=["b"])
    assert list(dropped.frame.columns) == ["a", "c"] and dropped.removed_columns == ("b",)
    assert list(run(frame, "keep_columns", columns=["c", "a"]).frame.columns) == ["a", "c"]


def test_drop_duplicates_keeps_first_and_original_labels() -> None:
    frame = pd.DataFrame({"a": [1, 1, 2, 1], "b": ["x", "x", "y", "z"]})
    result = run(frame, "drop_duplicates")
    assert result.frame.index.tolist() == [0, 2, 3] and result.rows_after == 3
    assert run(frame, "drop_duplicates", subset=["a"]).frame.index.tolist() == [0, 2]


def test_drop_missing_rows_by_threshold() -> None:
    frame = pd.DataFrame({"a": [1, None, None, 4], "b": [1, 2, None, 4], "c": [1, 2, None, None]})
    assert run(frame, "drop_missing_rows").frame.index.tolist() == [0]
    assert run(frame, "drop_missing_rows", threshold=0.5).frame.index.tolist() == [0, 1, 3]
    assert run(frame, "drop_missing_rows", columns=["b"]).frame.index.tolist() == [0, 1, 3]


def test_impute_mean_median_most_frequent_constant() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, None, 9.0], "s": ["a", None, "b", "a"]})
    mean = run(frame, "impute", strategy="mean", columns=["x"])
    assert mean.frame["x"].tolist() == [1.0, 2.0, 4.0, 9.0] and mean.step.fitted == {"values": {"x": 4.0}}
    assert run(frame, "impute", strategy="median").frame["x"][2] == 2.0
    assert run(frame, "impute", strategy="most_frequent", columns=["s"]).frame["s"].tolist() == ["a", "a", "b", "a"]
    const = run(frame, "impute", strategy="constant", fill_value="0", columns=["x", "s"]).frame
    assert const["x"][2] == 0.0 and const["s"][1] == "0"


def test_impute_knn_uses_nearest_rows() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 10.0, 11.0, 1.5], "y": [10.0, 20.0, 100.0, 110.0, None]})
    out = run(frame, "impute", strategy="knn", n_neighbors=2).frame
    assert out["y"][4] == pytest.approx(15.0)  # neighbours x=1 and x=2


def test_impute_median_covers_text_columns_with_their_most_frequent_value_and_says_so() -> None:
    frame = pd.DataFrame({"x": [1.0, None, 3.0, 5.0], "s": ["a", None, "a", "b"], "full": ["u", "v", "w", "u"]})
    result = run(frame, "impute", strategy="median")
    assert result.frame["x"].tolist() == [1.0, 3.0, 3.0, 5.0]
    assert result.frame["s"].tolist() == ["a", "a", "a", "b"]  # the text column is not skipped silently
    assert result.step.fitted["most_frequent"] == ["s"]
    assert "1 cell of the non-numeric column(s) 's' got their most frequent value" in result.summary
    explicit = run(pd.DataFrame({"s": ["a", None, "a"]}), "impute", strategy="mean", columns=["s"])
    assert explicit.frame["s"].tolist() == ["a", "a", "a"]


def test_impute_names_a_column_it_cannot_fill() -> None:
    result = run(pd.DataFrame({"x": [1.0, None], "empty": [None, None]}).astype({"empty": float}), "impute")
    assert result.frame["x"].tolist() == [1.0, 1.0]
    assert "skipped 'empty' (no value to learn from)" in result.summary


def test_outliers_iqr_flag_clip_remove() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 100.0]})  # Q1 2, Q3 4, IQR 2 → bounds [-1, 7]
    flag = run(frame, "outliers", columns=["x"], method="iqr", action="flag")
    assert flag.frame["x__outlier"].tolist() == [False, False, False, False, True]
    assert flag.step.fitted["bounds"] == {"x": [-1.0, 7.0]} and flag.added_columns == ("x__outlier",)
    assert flag.changed_rows == 1
    assert run(frame, "outliers", columns=["x"], action="clip").frame["x"].tolist() == [1.0, 2.0, 3.0, 4.0, 7.0]
    removed = run(frame, "outliers", columns=["x"], action="remove")
    assert removed.frame.index.tolist() == [0, 1, 2, 3] and removed.rows_after == 4


def test_outliers_zscore_bounds() -> None:
    frame = pd.DataFrame({"x": [0.0, 0.0, 0.0, 0.0, 10.0]})  # mean 2, std 4
    result = run(frame, "outliers", method="zscore", k=1.0, action="remove")
    assert result.step.fitted["bounds"]["x"] == [-2.0, 6.0] and result.rows_after == 4


@pytest.mark.parametrize(("method", "expected"), [
    ("minmax", [0.0, 0.25, 0.5, 1.0]),
    ("zscore", [(v - 2.75) / np.std([1, 2, 3, 5]) for v in [1, 2, 3, 5]]),
    ("robust", [(v - 2.5) / 1.75 for v in [1, 2, 3, 5]]),  # median 2.5, Q1 1.75, Q3 3.5
])
def test_scale_methods(method: str, expected: list[float]) -> None:
    out = run(pd.DataFrame({"x": [1, 2, 3, 5]}), "scale", method=method).frame
    assert out["x"].tolist() == pytest.approx(expected)


def test_encode_onehot_and_ordinal() -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "c": ["b", "a", None], "z": [0, 0, 0]})
    onehot = run(frame, "encode", columns=["c"])
    assert list(onehot.frame.columns) == ["id", "c_a", "c_b", "z"]
    assert onehot.frame["c_a"].tolist() == [0, 1, 0] and onehot.frame["c_b"].tolist() == [1, 0, 0]
    ordinal = run(frame, "encode", columns=["c"], method="ordinal").frame["c"]
    assert ordinal.tolist()[:2] == [1.0, 0.0] and pd.isna(ordinal[2])
    with pytest.raises(RecipeError, match="would create 2 columns from 'c', more than max_categories=1"):
        run(frame, "encode", columns=["c"], max_categories=1)


def test_pca_replaces_columns_with_components() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 4.0, 6.0, 8.0], "y": [0, 1, 0, 1]})
    result = run(frame, "pca", target="y", variance=0.9)
    assert list(result.frame.columns) == ["y", "pc1"]
    z = (np.array([1, 2, 3, 4]) - 2.5) / np.std([1, 2, 3, 4])
    assert result.frame["pc1"].to_numpy() == pytest.approx(z * np.sqrt(2))  # both columns are perfectly correlated
    assert result.summary == "Replaced 2 columns with 1 principal component explaining 100.0% of the variance."
    kept = run(frame, "pca", columns=["a", "b"], n_components=2, keep_originals=True).frame
    assert list(kept.columns) == ["a", "b", "y", "pc1", "pc2"]


def test_pca_on_too_few_rows_is_a_sentence() -> None:
    with pytest.raises(RecipeError, match="pca needs at least 2 rows to learn components; the table has 1"):
        run(pd.DataFrame({"a": [1.0], "b": [2.0]}), "pca")


def test_select_filter_drops_constant_and_correlated_never_target() -> None:
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 4, 6, 8.1], "k": [5.0] * 4, "c": [1.0, -1, 1, -1],
                          "y": [1.0, 2, 3, 4]})
    result = run(frame, "select_filter", target="y", correlation_threshold=0.9)
    assert result.step.fitted["dropped"] == ["b", "k"]
    assert list(result.frame.columns) == ["a", "c", "y"]


def test_select_wrapper_and_l1_keep_the_informative_columns() -> None:
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({"good": rng.normal(size=n), "noise1": rng.normal(size=n), "noise2": rng.normal(size=n)})
    frame["y"] = np.where(frame["good"] + 0.1 * rng.normal(size=n) > 0, "pos", "neg")
    wrapper = run(frame, "select_wrapper", target="y", n_features=1)
    assert wrapper.step.fitted["selected"] == ["good"] and list(wrapper.frame.columns) == ["good", "y"]
    frame["r"] = 3 * frame["good"] + 0.01 * rng.normal(size=n)
    l1 = run(frame.drop(columns="y"), "select_l1", target="r", alpha=0.1)
    assert l1.step.fitted["selected"] == ["good"] and l1.step.fitted["task"] == "regression"


def test_split_random_stratified_and_time() -> None:
    frame = pd.DataFrame({"y": ["a"] * 6 + ["b"] * 4, "t": pd.date_range("2024-01-01", periods=10)[::-1]})
    random = run(frame, "split", test_size=0.3, seed=1)
    assert random.split.value_counts().to_dict() == {"train": 7, "test": 3} and random.frame.equals(frame)
    strat = run(frame, "split", method="stratified", target="y", test_size=0.5).split
    assert pd.crosstab(frame["y"], strat).to_dict() == {"test": {"a": 3, "b": 2}, "train": {"a": 3, "b": 2}}
    by_time = run(frame, "split", method="time", time_column="t", test_size=0.2).split
    assert by_time[by_time == "test"].index.tolist() == [0, 1]  # the two latest dates


def test_split_stratified_with_a_single_member_class_is_a_sentence() -> None:
    frame = pd.DataFrame({"y": ["a", "a", "a", "b"]})
    with pytest.raises(RecipeError, match="needs at least 2 rows in every class of 'y'; class 'b' has 1"):
        run(frame, "split", method="stratified", target="y", test_size=0.5)


def test_infinite_values_never_break_the_json_or_the_fit() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, np.inf, 4.0, None], "y": [1.0, 0.0, 1.0, 0.0, 1.0]})
    for step in (Step("impute", {"strategy": "mean", "columns": ["x"]}), Step("outliers", {"columns": ["x"]}),
                 Step("scale", {"columns": ["x"]})):
        result = apply_step(frame, step)
        Recipe((result.step,)).to_json()  # strict JSON: would raise on inf
    assert apply_step(frame, Step("impute", {"strategy": "mean", "columns": ["x"]})).step.fitted == {
        "values": {"x": 7 / 3}}
    with pytest.raises(RecipeError, match="pca cannot use column 'x': it holds infinite values"):
        apply_step(frame.fillna(0.0), Step("pca"))
