"""Known answers for the fast drift check, schema findings, multivariate and timeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import MonitorError
from core.monitor.check import run_check
from core.monitor.drift import DriftOptions, DriftSummary, detect_drift, infer_kind
from core.monitor.multivariate import cluster_check, domain_classifier
from core.monitor.schema import check_schema
from core.monitor.timeline import drift_timeline, split_periods


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.normal(0, 1, n), "b": rng.normal(5, 2, n), "c": rng.exponential(1, n), "d": rng.uniform(0, 1, n),
        "color": rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]),
        "size": rng.choice(["S", "M", "L", "XL"], n),
    })


@pytest.mark.parametrize("n", [600, 4000])
def test_two_random_halves_do_not_drift(n) -> None:
    table = _table(n)
    idx = np.random.default_rng(1).permutation(n)
    summary = detect_drift(table.iloc[idx[: n // 2]], table.iloc[idx[n // 2:]])
    assert not summary.dataset_drift
    assert summary.n_drifted <= 1 and summary.n_columns == 6


@pytest.mark.parametrize("n", [800, 5000])
def test_mean_shift_flags_exactly_the_shifted_columns(n) -> None:
    ref, cur = _table(n, 1), _table(n, 2)
    cur["a"] += 1.0
    cur["c"] *= 2.0
    summary = detect_drift(ref, cur)
    assert {c.name for c in summary.columns if c.drifted} == {"a", "c"}
    assert [c.name for c in summary.columns[:2]] == ["a", "c"] or [c.name for c in summary.columns[:2]] == ["c", "a"]
    assert summary.drift_share == pytest.approx(2 / 6) and not summary.dataset_drift


def test_category_frequency_change_is_flagged() -> None:
    ref, cur = _table(3000, 3), _table(3000, 4)
    cur["color"] = np.random.default_rng(5).choice(["red", "green", "blue"], 3000, p=[0.1, 0.3, 0.6])
    summary = detect_drift(ref, cur)
    assert [c.name for c in summary.columns if c.drifted] == ["color"]
    assert summary.column("color").test == "jensenshannon" and summary.column("color").kind == "categorical"


def test_drift_share_setting_decides_the_dataset_verdict() -> None:
    table = _table(1000, 1)
    ref, cur = table.iloc[::2], table.iloc[1::2].copy()
    cur["a"] += 2
    cur["b"] += 3
    assert detect_drift(ref, cur).n_drifted == 2
    assert not detect_drift(ref, cur).dataset_drift
    assert detect_drift(ref, cur, DriftOptions(drift_share=0.3)).dataset_drift


def test_overrides_change_test_and_threshold() -> None:
    ref, cur = _table(500, 1), _table(500, 2)
    s = detect_drift(ref, cur, DriftOptions(method="psi", per_column_method={"a": "wasserstein"},
                                            per_column_threshold={"b": 0.5}))
    assert s.column("a").test == "wasserstein" and s.column("color").test == "psi"
    assert s.column("b").threshold == 0.5 and s.column("c").threshold == 0.1
    with pytest.raises(MonitorError, match="must be one of"):
        DriftOptions(method="bogus")
    bad = detect_drift(ref, cur, DriftOptions(per_column_method={"color": "ks"}))
    assert "color" not in {c.name for c in bad.columns} and any("ks" in f or "K-S" in f for f in bad.findings)


def test_json_round_trip() -> None:
    s = detect_drift(_table(300, 1), _table(300, 2))
    data = __import__("json").loads(s.to_json())
    assert set(data) >= {"dataset_drift", "drift_share", "columns"}
    assert set(data["columns"][0]) >= {"name", "test", "statistic", "threshold", "drifted"}
    assert DriftSummary.from_dict(data) == s


def test_kinds_follow_evidently() -> None:
    assert infer_kind(pd.Series([1.0, 2.0])) == "numeric"
    assert infer_kind(pd.Series(range(5))) == "categorical"
    assert infer_kind(pd.Series(range(50))) == "numeric"
    assert infer_kind(pd.Series([f"id{i}" for i in range(10)])) == "text"
    assert infer_kind(pd.Series([True, False])) == "categorical"
    assert infer_kind(pd.Series([None, None], dtype=object)) == "unknown"


def test_schema_findings() -> None:
    ref = _table(200, 1)
    cur = _table(100, 2).drop(columns=["d"])
    cur["new"] = 1
    cur["b"] = cur["b"].astype(str)
    cur["a"] = np.nan
    cur.loc[:5, "size"] = "XXL"
    report = check_schema(ref, cur)
    kinds = {(f.kind, f.column) for f in report.findings}
    assert {("missing_column", "d"), ("extra_column", "new"), ("retyped", "b"), ("all_missing", "a"),
            ("unseen_categories", "size")} <= kinds
    assert set(report.excluded) == {"a", "b"} and not report.blocking


def test_bad_batches_never_crash() -> None:
    ref = _table(200, 1)
    empty = run_check(ref, ref.iloc[:0], multivariate=False)
    assert empty.schema.blocking and any("no rows" in f for f in empty.findings)
    one = run_check(ref, ref.iloc[:1], multivariate=True)
    assert any("need more data" in f for f in one.findings)
    assert any("too few rows on one side" in f for f in one.findings)  # text test: no NaN statistic
    cur = _table(150, 2)
    cur["a"] = np.nan  # crashes a plain Evidently report (evidently#1480)
    result = run_check(ref, cur, multivariate=False)
    assert "a" not in {c.name for c in result.drift.columns} and result.drift.n_columns == 5
    nothing = run_check(ref, pd.DataFrame({"zzz": [1, 2, 3]}), multivariate=False)
    assert nothing.schema.blocking


def test_domain_classifier_and_clusters_see_joint_shift() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=1500)
    ref = pd.DataFrame({"x": x[:750], "y": x[:750] + rng.normal(0, 0.1, 750)})
    cur = pd.DataFrame({"x": x[750:], "y": -x[750:] + rng.normal(0, 0.1, 750)})  # same marginals, flipped relation
    assert not detect_drift(ref, cur).dataset_drift
    dc = domain_classifier(ref, cur)
    assert dc.drifted and dc.auc > 0.9
    same = domain_classifier(ref, pd.DataFrame({"x": x[750:], "y": x[750:] + rng.normal(0, 0.1, 750)}))
    assert not same.drifted
    shifted = cur.assign(x=cur["x"] + 3)
    assert cluster_check(ref, shifted).drifted and not cluster_check(ref, ref.sample(frac=1, random_state=1)).drifted
    few = cluster_check(ref, ref.sample(12, random_state=2))  # 12 rows: occupancies jump by chance alone
    assert few.tvd >= few.threshold and few.p_value >= 0.05 and not few.drifted


def test_timeline_by_year() -> None:
    dates = pd.date_range("2020-01-01", "2022-12-31", freq="D")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"date": dates.astype(str), "t": rng.normal(0, 1, len(dates)) + (dates.year == 2022) * 2,
                          "w": np.where(dates.dayofyear % 3 == 0, "sun", "rain")})
    assert [p for p, _ in split_periods(frame, "date", "year")] == ["2020", "2021", "2022"]
    tl = drift_timeline(frame, "date", "year")
    assert tl.reference_label == "2020" and [p.period for p in tl.points] == ["2021", "2022"]
    assert tl.points[0].drifted_columns == () and tl.points[1].drifted_columns == ("t",)
    with pytest.raises(MonitorError, match="period"):
        split_periods(frame, "date", "week")


@pytest.mark.parametrize("seed", range(4))
def test_fast_wasserstein_is_scipy_bit_for_bit(seed) -> None:
    from scipy import stats

    from core.monitor.stattests import _wasserstein

    rng = np.random.default_rng(seed)
    u = np.round(rng.normal(0, 1, 3000 + seed * 500), seed)  # ties when rounded
    v = np.round(rng.normal(0.2, 1.2, 2000), seed)
    assert _wasserstein(u, v) == stats.wasserstein_distance(u, v)
