"""Rows from a CSV batch take the reference's types before retraining appends them (core.monitor.retrain)."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import MonitorError
from core.monitor.retrain import conform_rows


def _reference() -> pd.DataFrame:
    return pd.DataFrame({"when": pd.to_datetime(["2024-01-01", "2024-02-01"]), "x": [1.5, 2.0],
                         "n": pd.array([1, 2], dtype="int64"), "city": ["Oslo", "Rome"], "y": ["a", "b"]})


def test_text_from_a_csv_takes_the_reference_types_and_unparseable_values_become_missing() -> None:
    rows = pd.DataFrame({"when": ["2024-03-05", "05/04/2024", "not a date"], "x": ["3.5", "oops", "4"],
                         "n": ["7", "8", "9"], "city": ["Paris", None, "Oslo"], "y": ["a", "b", "a"],
                         "extra": [1, 2, 3]})
    out = conform_rows(rows, _reference(), ["when", "x", "n", "city"])
    assert list(out.columns) == ["when", "x", "n", "city", "y"]  # the reference's columns, extra dropped
    assert pd.api.types.is_datetime64_any_dtype(out["when"]) and out["when"].isna().tolist() == [False, False, True]
    assert out["x"].tolist()[0] == 3.5 and pd.isna(out["x"].iloc[1]) and out["n"].tolist() == [7, 8, 9]
    combined = pd.concat([_reference(), out], ignore_index=True)
    assert pd.api.types.is_datetime64_any_dtype(combined["when"])  # so it can be written as Parquet
    combined.to_parquet(pd.io.common.BytesIO())


@pytest.mark.parametrize(("rows", "needle"), [
    (pd.DataFrame({"x": [1.0], "y": ["a"]}), "lack the model's feature(s) when"),
    (pd.DataFrame({"when": [None], "x": [1.0], "n": [1], "city": ["Oslo"], "y": ["a"]}), "have no value in"),
])
def test_rows_without_a_feature_are_refused(rows: pd.DataFrame, needle: str) -> None:
    with pytest.raises(MonitorError, match="recipe") as err:
        conform_rows(rows, _reference(), ["when", "x", "n", "city"])
    assert needle in str(err.value)
