"""The charter drives Monitor: thresholds, data needs, freshness, fairness and cost per row (hand-computed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.models import FeatureSpec
from core.monitor.charter_checks import DAY_SECONDS, charter_findings, group_fairness, monitor_thresholds
from core.monitor.check import run_check
from core.monitor.timeline import drift_timeline
from core.plan.charter import Charter

NOW = pd.Timestamp("2026-12-01", tz="UTC").timestamp()


def _charter(**changes) -> Charter:
    base = Charter(problem="Who buys", target="y", task="classification", metric="accuracy", threshold=0.8,
                   cost_fp=1.0, cost_fn=5.0, positive_class="yes", expected_columns=("x1", "group", "zip"),
                   batch_size=20, freshness_days=7, protected_column="group", max_gap=0.2, drift_share=0.3,
                   quality_drop=0.02)
    return base.updated(**changes) if changes else base


class SignOfX1:
    """A model anyone can check by hand: 'yes' when x1 > 0."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.where(X["x1"].to_numpy() > 0, "yes", "no")


SPEC = FeatureSpec(numeric=("x1",), categorical=())

# 8 labelled rows: group a gets 4 of 4 right, group b 2 of 4 (one FP, one FN)
BATCH = pd.DataFrame({
    "x1": [1.0, 2.0, -1.0, -2.0, 1.0, -1.0, 3.0, -3.0],
    "group": ["a", "a", "a", "a", "b", "b", "b", "b"],
    "y": ["yes", "yes", "no", "no", "no", "yes", "yes", "no"],
    "when": ["2026-11-01"] * 4 + ["2026-11-20"] * 4,
})


def test_thresholds_come_from_the_charter_else_the_defaults() -> None:
    t = monitor_thresholds(_charter())
    assert (t.drift_share, t.quality_drop, t.source) == (0.3, 0.02, "the charter")
    d = monitor_thresholds(None)
    assert (d.drift_share, d.quality_drop, d.source) == (0.5, 0.05, "the defaults")


def test_data_needs_and_freshness_from_the_newest_time_value() -> None:
    found = charter_findings(_charter(), BATCH, now=NOW)
    assert found.missing_columns == ("zip",) and found.rows == 8
    assert found.age_days == pytest.approx(11.0) and found.age_from == "when" and found.stale is True
    text = " ".join(found.findings)
    assert "expected column(s) zip" in text and "8 rows, fewer than the charter's batch size of 20" in text
    assert "stale: its newest 'when' value is 11.0 days old, older than the charter's freshness of 7 days" in text
    m = found.metrics()
    assert m["charter.missing_columns"] == 1 and m["charter.batch_rows_short"] == 1
    assert m["charter.batch_age_days"] == pytest.approx(11.0) and m["charter.stale"] == 1


def test_freshness_falls_back_to_the_file_time_or_says_it_was_not_checked() -> None:
    no_time = BATCH.drop(columns=["when"])
    fresh = charter_findings(_charter(), no_time, file_time=NOW - 3 * DAY_SECONDS, now=NOW)
    assert fresh.age_days == pytest.approx(3.0) and fresh.age_from == "file time" and fresh.stale is False
    assert not any("stale" in f for f in fresh.findings)
    old = charter_findings(_charter(), no_time, file_time=NOW - 9 * DAY_SECONDS, now=NOW)
    assert any(f.startswith("The batch is stale: its file is 9.0 days old") for f in old.findings)
    unknown = charter_findings(_charter(), no_time, now=NOW)
    assert unknown.stale is None
    assert any("no time column and no file time" in f for f in unknown.findings)


def test_fairness_per_group_and_its_gap_by_hand() -> None:
    pred = pd.Series(SignOfX1().predict(BATCH))
    f = group_fairness(_charter(), BATCH["y"], pred, BATCH["group"], "classification")
    assert f.metric == "accuracy" and f.by_group == {"a": 1.0, "b": 0.5} and f.rows == {"a": 4, "b": 4}
    assert f.gap == 0.5 and f.exceeded  # above the charter's 0.2
    assert not group_fairness(_charter(max_gap=0.6), BATCH["y"], pred, BATCH["group"], "classification").exceeded


def test_run_check_scores_fairness_and_cost_on_the_batch_and_lists_the_charter_findings() -> None:
    result = run_check(BATCH, BATCH, model=SignOfX1(), spec=SPEC, target="y", task="classification",
                       multivariate=False, charter=_charter(), now=NOW, max_quality_drop=0.02,
                       thresholds_from="the charter")
    o = result.outcomes
    # one FP (x1=1, y=no) and one FN (x1=-1, y=yes) in 8 rows: (1·1 + 5·1) / 8
    assert o.cost_per_row == pytest.approx(6 / 8) and o.n_rows == 8
    assert o.fairness.gap == 0.5
    assert any("gap across 'group' is 0.500, above the charter's largest gap of 0.2" in f for f in result.findings)
    assert any("expected column(s) zip" in f for f in result.findings)
    out = result.to_dict()
    assert out["kpi"]["cost_per_row"] == pytest.approx(0.75) and out["fairness"]["by_group"] == {"a": 1.0, "b": 0.5}
    assert out["charter"]["stale"] is True and out["thresholds_from"] == "the charter"
    assert out["quality_drop_threshold"] == 0.02


def test_no_protected_column_in_the_batch_is_one_sentence() -> None:
    result = run_check(BATCH, BATCH.drop(columns=["group"]), model=SignOfX1(), spec=SPEC, target="y",
                       task="classification", multivariate=False, charter=_charter(), now=NOW)
    assert result.outcomes.fairness is None and result.outcomes.cost_per_row == pytest.approx(0.75)
    assert any(f.startswith("The batch has no protected column 'group'") for f in result.findings)


def test_the_timeline_gives_fairness_and_cost_per_period_on_held_out_rows_only() -> None:
    reference = BATCH.assign(when="2026-10-15")
    table = pd.concat([reference, BATCH], ignore_index=True)
    # rows 8..15 are the two November periods; row 12 (group b, a false positive) was a training row
    scored = [i for i in range(16) if i != 12]
    tl = drift_timeline(table, "when", "month", model=SignOfX1(), spec=SPEC, target="y", task="classification",
                        charter=_charter(), scored_index=scored)
    (nov,) = tl.points  # October is the reference
    assert nov.period == "2026-11" and nov.scored_rows == 7
    # without row 12: group b has x1=-1→no (y yes, FN), 3→yes (right), -3→no (right): 2 of 3
    assert dict(nov.fairness_by_group) == {"a": 1.0, "b": pytest.approx(2 / 3)}
    assert nov.fairness_gap == pytest.approx(1 / 3) and nov.fairness_exceeded
    assert nov.cost_per_row == pytest.approx(5 / 7)  # one FN left, cost 5, over 7 rows
    assert nov.quality == pytest.approx(6 / 7)
    rec = tl.to_records()[0]
    assert rec["cost_per_row"] == pytest.approx(5 / 7) and rec["fairness_gap"] == pytest.approx(1 / 3)
    assert nov.extra_metrics()["kpi.cost_per_row"] == pytest.approx(5 / 7)


def test_without_a_model_fairness_and_cost_say_what_they_need() -> None:
    result = run_check(BATCH, BATCH, target="y", multivariate=False, charter=_charter(), now=NOW)
    assert result.outcomes is None
    assert any(f.startswith("Fairness and the business KPI need the model's predictions") for f in result.findings)
