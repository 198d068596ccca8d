"""Journey on /compare with a charter: the parallel chart of one family, the cost row, a fairness refusal.

The project has three random-forest versions (so the family has a chart of its own) and a charter with
costs and a fairness limit no model can meet (max gap 0 across 'site'); the gate refuses with the gap.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.plan.charter import Charter, save_charter
from tests.compare_seed import build_seeded_home, train_and_register
from tests.conftest import make_settings
from tests.e2e.conftest import LONG, assert_no_error, shot, start_server, stop_server, wait_idle

pytestmark = pytest.mark.e2e


def test_charter_costs_fairness_and_one_family_chart(tmp_path: Path, page, _template_store: Path) -> None:  # noqa: ANN001
    from core.tracking import Tracker

    home = tmp_path / "workspace"
    data, _, _ = build_seeded_home(home, _template_store, "irisproj")
    tracker = Tracker.connect(make_settings(home))
    for n, depth in ((5, 2), (40, 6)):
        train_and_register(tracker, "irisproj", data, "species", "rf", {"n_estimators": n, "max_depth": depth})
    save_charter(tracker, "irisproj", Charter(problem="Tell iris species apart", target="species",
                                              task="classification", metric="accuracy", threshold=0.9,
                                              cost_fp=1.0, cost_fn=5.0, positive_class="virginica",
                                              protected_column="site", max_gap=0.0))
    server = start_server(home, {"WORKBENCH_PROJECT": "irisproj"})
    try:
        page.goto(f"{server.url}/compare")
        page.get_by_text("Parallel coordinates: runs of").first.wait_for(timeout=LONG)
        wait_idle(page)
        assert_no_error(page)
        page.locator(".js-plotly-plot").first.wait_for()
        page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        page.get_by_text("family rf (3 runs)").first.wait_for()
        shot(page, "compare-charter-01-parallel")

        page.get_by_role("tab", name="Side by side").click()
        page.get_by_text("Permutation importance").first.click()
        wait_idle(page)  # the toggle's rerun is over: the button below is the one of this run
        page.get_by_role("button", name="Evaluate side by side").click()
        page.get_by_text("mean cost per prediction", exact=False).first.wait_for(timeout=LONG)
        wait_idle(page)
        assert_no_error(page)
        page.get_by_text("mean cost per prediction", exact=False).first.scroll_into_view_if_needed()
        shot(page, "compare-charter-02-cost")

        page.get_by_role("tab", name="Champion / challenger").click()
        page.get_by_role("button", name="Run the gate").click()
        page.get_by_text("Gate refused.").first.wait_for(timeout=LONG)
        wait_idle(page)
        assert_no_error(page)
        page.get_by_text("exceeds the charter's fairness limit", exact=False).first.wait_for()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, f"horizontal overflow: {width}px"
        shot(page, "compare-charter-03-fairness-refused")
    finally:
        stop_server(server)
