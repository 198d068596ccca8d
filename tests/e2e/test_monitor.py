"""Journey: Seattle weather saved as a dataset version → monitor by year → timeline → full Evidently report."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LONG, assert_no_error, shot, start_server, stop_server, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture()
def seeded_server(tmp_path):
    from core.monitor.demo import seattle_weather, seed_example
    from core.tracking import Tracker
    from tests.conftest import make_settings

    home = tmp_path / "workspace"
    tracker = Tracker.connect(make_settings(home))
    seed_example(tracker, "default", seattle_weather(), "seattle-weather", "weather")
    server = start_server(home)
    yield server
    stop_server(server)


def test_monitor_by_year_and_open_the_report(seeded_server, page) -> None:
    page.goto(f"{seeded_server.url}/monitor")
    page.get_by_text("Periods of a time column").wait_for(timeout=LONG)
    wait_idle(page)
    page.get_by_text("Periods of a time column").click()
    page.locator("label:has(input:checked)").filter(has_text="Periods of a time column").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Run the check").click()
    page.get_by_text("Drift over time", exact=True).wait_for(timeout=LONG)
    wait_idle(page)
    page.get_by_text("each year against 2012").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()  # the timeline chart (drawn after the rerun that follows a check)
    page.get_by_text("Period to inspect").wait_for()
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    shot(page, "monitor-timeline")
    page.get_by_role("button", name="Build full Evidently report").click()
    page.get_by_role("button", name="Download the report (HTML)").wait_for(timeout=LONG)
    wait_idle(page)
    frame = page.frame_locator('iframe[title="st.iframe"], iframe').last
    frame.get_by_text("Dataset Drift").first.wait_for(timeout=LONG)
    assert_no_error(page)
    shot(page, "monitor-report")
