"""AppTest of the Monitor page with a charter (thresholds, findings, fairness, cost) and in raw units."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.ui.conftest import app_test


def _toy(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, n), rng.normal(0, 1, n)
    return pd.DataFrame({"x1": x1, "x2": x2, "group": rng.choice(["a", "b"], n),
                         "y": np.where(x1 + 0.5 * x2 > 0, "yes", "no")})


def _slider(at, label: str):
    return next(s for s in at.slider if s.label == label)


def test_the_charter_sets_the_defaults_an_override_lasts_one_check_and_findings_show(settings, tracker) -> None:
    from core.monitor.demo import seed_example
    from core.plan.charter import Charter, save_charter

    seed_example(tracker, "default", _toy(), "toy", "y")
    save_charter(tracker, "default", Charter(
        problem="Who says yes", target="y", task="classification", metric="accuracy", threshold=0.7, cost_fp=1.0,
        cost_fn=3.0, positive_class="yes", expected_columns=("x1", "zip"), protected_column="group", max_gap=0.9,
        drift_share=0.3, quality_drop=0.1))
    at = app_test("pages/monitor.py").run()
    assert not at.exception
    assert any("are from the charter" in c.value for c in at.caption)
    assert _slider(at, "Drift share for dataset drift").value == 0.3

    at.button(key="mon_run").click().run()
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "expected column(s) zip" in shown
    assert any("Thresholds from the charter: drift share 0.3, quality drop 0.1" in c.value for c in at.caption)
    labels = {m.label for m in at.metric}
    assert {"Cost per row", "accuracy gap across group", "Unfamiliar rows"} <= labels
    run = tracker.runs("default", stage="monitor")[0]
    assert "kpi.cost_per_row" in run.metrics and "fairness.gap" in run.metrics and "autoencoder.share" in run.metrics

    # an override for one check: the next check's defaults are the charter's again
    _slider(at, "Drift share for dataset drift").set_value(0.6)
    next(b for b in at.button if b.label == "Apply").click().run()
    at.button(key="mon_run").click().run()
    assert not at.exception
    assert any("Thresholds from this check (overriding the charter): drift share 0.6" in c.value for c in at.caption)
    assert tracker.runs("default", stage="monitor")[0].params["drift_share_threshold"] == "0.6"
    at.run()
    assert _slider(at, "Drift share for dataset drift").value == 0.3


def test_distributions_are_in_raw_units_with_the_cleaned_view_one_click_away(settings, tracker) -> None:
    from tests.integration.deploy_fixtures import seed_recipe_model

    seed_recipe_model(tracker, "linear", "classification", project="default")
    at = app_test("pages/monitor.py").run()
    at.button(key="mon_run").click().run()
    assert not at.exception
    assert at.radio(key="mon_units").value == "Raw (as uploaded)"
    at.selectbox(key="mon_overlay").set_value("length").run()
    assert any(c.value.startswith("Raw units") for c in at.caption)
    at.radio(key="mon_units").set_value("Cleaned (as checked)").run()
    assert not at.exception and not any(c.value.startswith("Raw units") for c in at.caption)
