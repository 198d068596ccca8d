"""profile_frame: kinds, missing tokens, statistics, duplicates, correlations, alerts, JSON, and invariants."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data.bundled import list_bundled, load_bundled
from core.data.profile import CORRELATION_MAX_COLUMNS, profile_frame


def _alerts(profile, kind: str) -> list:  # noqa: ANN001
    return [a for a in profile.alerts if a.kind == kind]


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    x = rng.normal(10, 2, n)
    return pd.DataFrame({
        "x": x,
        "x_twice": 2 * x + rng.normal(0, 0.01, n),
        "noise": rng.normal(0, 1, n),
        "as_text": np.where(np.arange(n) % 10 == 0, "NA", x.round(1).astype(str)).astype(object),
        "money": np.where(np.arange(n) % 2 == 0, "1,234", "56").astype(object),
        "colour": np.array(["red", "blue", " red", "-"] * 50, dtype=object),
        "same": ["k"] * n,
        "mostly": ["a"] * 196 + ["b"] * 4,
        "ident": [f"id{i}" for i in range(n)],
        "when": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d").to_numpy(dtype=object),
        "flag": [True, False] * 100,
        "mix": ["1", "2", "three", "4"] * 50,
        "blank": [""] * n,
    })  # fmt: skip


def test_kinds_counts_and_tokens(mixed: pd.DataFrame) -> None:
    p = profile_frame(mixed)
    kinds = {c.name: c.dtype for c in p.columns}
    assert kinds == {
        "x": "numeric", "x_twice": "numeric", "noise": "numeric", "as_text": "numeric", "money": "numeric",
        "colour": "categorical", "same": "categorical", "mostly": "categorical", "ident": "text",
        "when": "datetime", "flag": "boolean", "mix": "mixed", "blank": "empty",
    }  # fmt: skip
    assert (p.rows, p.n_columns) == (200, 13)
    as_text = p.column("as_text")
    assert (as_text.missing, as_text.tokens, as_text.pandas_dtype) == (20, {"NA": 20}, "object")
    assert not as_text.needs_parsing  # only the token stops it from being numeric
    assert as_text.min == pytest.approx(mixed["x"].round(1)[np.arange(200) % 10 != 0].min())
    money = p.column("money")
    assert (money.min, money.max, money.mean, money.needs_parsing) == (56.0, 1234.0, 645.0, True)
    colour = p.column("colour")
    assert (colour.missing, colour.distinct, colour.tokens) == (50, 3, {"-": 50})  # 'red' and ' red' differ
    assert colour.top_values == [("red", 50), ("blue", 50), (" red", 50)]
    assert p.column("mix").numeric_like_share == pytest.approx(0.75)
    assert p.column("blank").missing == 200 and p.column("blank").tokens == {"": 200}
    assert p.column("when").min == "2020-01-01T00:00:00" and p.column("when").max.startswith("2020-07-18")
    assert p.missing_tokens_found == {"": 200, "-": 50, "NA": 20}


def test_numeric_statistics_are_exact(mixed: pd.DataFrame) -> None:
    col = profile_frame(mixed).column("x")
    x = mixed["x"].to_numpy()
    assert (col.min, col.max) == (x.min(), x.max())
    assert col.mean == pytest.approx(x.mean()) and col.std == pytest.approx(x.std(ddof=1))
    expected = np.percentile(x, [5, 25, 50, 75, 95])
    assert col.quantiles == pytest.approx(dict(zip(["p5", "p25", "p50", "p75", "p95"], expected)))
    assert sum(col.histogram.counts) == 200 and len(col.histogram.edges) == len(col.histogram.counts) + 1 == 31
    assert col.histogram.edges[0] == x.min() and col.histogram.edges[-1] == pytest.approx(x.max())


def test_alerts_name_the_problem(mixed: pd.DataFrame) -> None:
    frame = pd.concat([mixed, mixed.iloc[:5]], ignore_index=True)
    p = profile_frame(frame)
    assert p.duplicate_rows == 5 == frame.duplicated().sum()
    assert [a.column for a in _alerts(p, "duplicates")] == [None]
    assert [a.column for a in _alerts(p, "constant")] == ["same"]
    assert [a.column for a in _alerts(p, "almost_constant")] == ["mostly"]
    assert [a.column for a in _alerts(p, "high_cardinality")] == ["ident"]
    assert [a.column for a in _alerts(p, "mixed_types")] == ["mix"]
    assert {a.column for a in _alerts(p, "missing_tokens")} == {"as_text", "colour", "blank"}
    assert [(a.column, a.severity) for a in _alerts(p, "high_missing")] == [("blank", "warning"), ("colour", "info")]
    corr = _alerts(p, "high_correlation")
    assert [a.columns for a in corr] == [("x", "x_twice"), ("x", "as_text"), ("x_twice", "as_text")]
    assert "'x' and 'x_twice'" in corr[0].message
    assert {a.column for a in _alerts(p, "stored_as_text")} == {"money", "when"}
    assert all(a.severity in ("warning", "info") for a in p.alerts)
    severities = [a.severity for a in p.alerts]
    assert severities == sorted(severities, key=lambda s: s != "warning")


def test_confirmed_tokens_change_what_counts_as_missing(mixed: pd.DataFrame) -> None:
    p = profile_frame(mixed, missing_tokens=["NA"])
    assert p.column("colour").missing == 0 and p.column("colour").distinct == 4
    assert p.column("blank").dtype == "categorical" and p.column("as_text").missing == 20
    assert p.missing_tokens_found == {"NA": 20}


def test_correlation_matches_pandas_with_pairwise_missing_values() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(500, 4)), columns=list("abcd"))
    frame["b"] += frame["a"]
    frame.loc[rng.random(500) < 0.2, "a"] = np.nan
    frame.loc[rng.random(500) < 0.3, "c"] = np.nan
    frame["k"] = 1.0  # constant: no correlation defined
    p = profile_frame(frame)
    expected = frame.corr()
    pd.testing.assert_frame_equal(p.correlation, expected, atol=1e-9)
    assert p.correlation_rows == 500


def test_duplicates_count_missing_values_as_equal() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan, np.nan, 1.0], "b": ["x", None, None, "x"], "c": ["", "", "", "y"]})
    assert profile_frame(frame).duplicate_rows == 1 == frame.duplicated().sum()


def test_extension_and_special_dtypes() -> None:
    frame = pd.DataFrame({
        "i": pd.array([1, None, 3, 3], dtype="Int64"),
        "b": pd.array([True, None, False, True], dtype="boolean"),
        "cat": pd.Categorical(["a", "b", None, "a"]),
        "ts": pd.to_datetime(["2021-01-01", None, "2021-03-01", "2021-01-01"]).tz_localize("UTC"),
        "obj": [1, "1", 2.5, None],
        "lists": [[1], [1], [2], None],
        "inf": [1.0, np.inf, -np.inf, 2.0],
    })  # fmt: skip
    p = profile_frame(frame)
    kinds = [c.dtype for c in p.columns]
    assert kinds == ["numeric", "boolean", "categorical", "datetime", "numeric", "categorical", "numeric"]
    assert (p.column("i").missing, p.column("i").distinct, p.column("i").top_values[0]) == (1, 2, (3, 2))
    assert p.column("b").mean == pytest.approx(2 / 3) and p.column("cat").missing == 1
    assert p.column("ts").min.startswith("2021-01-01") and p.column("ts").max.startswith("2021-03-01")
    assert (p.column("inf").min, p.column("inf").max) == (1.0, 2.0)
    json.dumps(p.to_json(), allow_nan=False)


def test_one_row_one_column_and_empty_frame() -> None:
    one = profile_frame(pd.DataFrame({"a": [1], "b": ["x"]}))
    assert one.rows == 1 and one.duplicate_rows == 0 and not _alerts(one, "constant")
    single = profile_frame(pd.DataFrame({"v": [1.0, 2.0, 2.0]}))
    assert single.correlation is None and single.duplicate_rows == 1
    empty = profile_frame(pd.DataFrame({"a": pd.Series([], dtype=float)}))
    assert empty.rows == 0 and empty.columns[0].dtype == "empty"


def test_two_thousand_columns_are_fast_and_correlation_is_capped() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.integers(0, 5, size=(60, 2000)), columns=[f"c{i}" for i in range(2000)])
    start = time.perf_counter()
    p = profile_frame(frame)
    elapsed = time.perf_counter() - start
    assert p.n_columns == 2000 and len(p.columns) == 2000
    assert p.correlation.shape == (CORRELATION_MAX_COLUMNS, CORRELATION_MAX_COLUMNS)
    assert elapsed < 30, f"2,000 columns took {elapsed:.1f} s"  # ~1.5 s on a quiet 2-core machine


def test_json_has_the_documented_shape() -> None:
    table = load_bundled("dirty_customers")
    doc = profile_frame(table.frame).to_json()
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text)["rows"] == 312 and doc["duplicate_rows"] == 12
    assert {"name", "dtype", "missing", "distinct"} <= set(doc["columns"][0])
    assert {"kind", "column", "message", "severity"} <= set(doc["alerts"][0])
    kinds = {a["kind"] for a in doc["alerts"]}
    assert {"duplicates", "constant", "almost_constant", "high_cardinality", "high_correlation",
            "mixed_types", "missing_tokens"} <= kinds  # fmt: skip
    corr = doc["correlation"]
    assert len(corr["values"]) == len(corr["columns"]) and corr["columns"][0] == "age"


def test_bundled_sets_profile_as_described() -> None:
    sets = {b.key: b for b in list_bundled()}
    assert set(sets) == {"penguins", "digits", "seattle-weather", "dirty_customers"}
    penguins = profile_frame(load_bundled("penguins").frame)
    assert penguins.column("bill_length_mm").tokens == {"NA": 2} and penguins.column("sex").missing == 11
    weather = profile_frame(load_bundled("seattle-weather").frame)
    assert weather.column("date").dtype == "datetime" and weather.column("date").max.startswith("2015-12-31")
    digits = load_bundled("digits").frame
    assert digits.shape == (1797, 65) and digits["digit"].nunique() == 10 and digits.iloc[:, :64].to_numpy().max() == 16


FRAMES = st.integers(0, 25).flatmap(
    lambda n: st.fixed_dictionaries({
        "num": st.lists(st.one_of(st.floats(-1e6, 1e6), st.none()), min_size=n, max_size=n),
        "txt": st.lists(st.sampled_from(["a", "b", "NA", "", " ", "1", "1,000", "?"]), min_size=n, max_size=n),
        "int": st.lists(st.integers(-3, 3), min_size=n, max_size=n),
    })  # fmt: skip
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRAMES)
def test_profile_invariants(data: dict) -> None:
    frame = pd.DataFrame({"num": pd.Series(data["num"], dtype=float), "txt": pd.Series(data["txt"], dtype=object),
                          "int": pd.Series(data["int"], dtype="int64")})  # fmt: skip
    p = profile_frame(frame)
    assert p.rows == len(frame) and p.n_columns == 3
    assert p.duplicate_rows == int(frame.duplicated().sum())
    for col in p.columns:
        assert 0 <= col.missing <= p.rows and 0 <= col.distinct <= p.rows
        assert col.missing + col.non_missing == p.rows
        assert sum(c for _, c in col.top_values) <= col.non_missing
        if col.histogram is not None:
            assert sum(col.histogram.counts) <= col.non_missing
    json.dumps(p.to_json(), allow_nan=False)
