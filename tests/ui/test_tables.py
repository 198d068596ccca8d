"""ui/tables.py: whole values — precision by magnitude, '—' for what is missing, widths from the content."""

from __future__ import annotations

import math

import pandas as pd

from ui.data_recipe import changed_first
from ui.tables import MAX_PX, column_width, decimals, significant, table_height


def test_significant_digits_follow_the_magnitude_and_missing_is_none() -> None:
    assert significant(55270.3) == "55,270"
    assert significant(48.891) == "48.89"
    assert significant(0.0963612) == "0.09636"
    assert significant(3) == "3" and significant(12345) == "12,345"
    assert significant(None) is None and significant(math.nan) is None  # the grid's placeholder: "—"
    assert significant("2021-01-07T00:00:00") == "2021-01-07"
    assert significant(2.5e-7) == "2.500e-07"


def test_decimals_per_column() -> None:
    assert decimals(pd.Series([1, 2, 3])) == 0
    assert decimals(pd.Series([0.0012, 0.0031])) == 4
    assert decimals(pd.Series([12.5, 48.25])) == 2
    assert decimals(pd.Series([190600.5, 16600.25])) == 0


def test_a_column_is_as_wide_as_its_longest_text_up_to_the_cap() -> None:
    short = column_width("type", pd.Series(["text", "numeric"]))
    long = column_width("column", pd.Series(["mean fractal dimension", "radius"]))
    assert short < long < MAX_PX
    assert long >= len("mean fractal dimension") * 6.5  # Source Sans 14 px needs about this much
    assert column_width("x", pd.Series(["y" * 400])) == MAX_PX
    assert column_width("mean", pd.Series([0.0963612, 12345.6789])) >= len("12,345.6789") * 6.5


def test_height_fits_the_rows_without_blank_rows() -> None:
    assert table_height(4) == 38 + 4 * 35
    assert table_height(1000) == 420


def test_before_after_put_the_changed_columns_first() -> None:
    before = pd.DataFrame({"a": [1, 2], "b": ["x", " y"], "c": [0, 0]}, index=[3, 7])
    after = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0, 0], "d": [1, 1]}, index=[3, 7])
    order_before, order_after, changed = changed_first(before, after)
    assert order_before == ["b", "a", "c"]
    assert order_after == ["d", "b", "a", "c"]
    assert changed == ["d", "b"]
