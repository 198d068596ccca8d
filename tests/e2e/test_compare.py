"""Journey: two registered versions → compare them side by side on /compare → promote the better
one through the gate → the champion alias moves (in the page and in the registry)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.tracking.models import model_versions
from tests.compare_seed import build_seeded_home
from tests.conftest import make_settings
from tests.e2e.conftest import assert_no_error, shot, start_server, stop_server, wait_idle

pytestmark = pytest.mark.e2e


def test_compare_two_versions_and_promote_the_better(tmp_path: Path, page, _template_store: Path) -> None:  # noqa: ANN001
    from core.tracking import Tracker

    home = tmp_path / "workspace"
    build_seeded_home(home, _template_store, "irisproj")
    server = start_server(home, {"WORKBENCH_PROJECT": "irisproj"})
    try:
        page.goto(f"{server.url}/compare")
        page.get_by_text("Only params that differ").first.wait_for()
        wait_idle(page)
        assert_no_error(page)
        shot(page, "compare-01-runs")

        page.get_by_role("tab", name="Side by side").click()
        page.get_by_text("Permutation importance").first.click()  # off: faster on a busy machine
        page.get_by_role("button", name="Evaluate side by side").click()
        page.get_by_text("★").first.wait_for(timeout=120_000)
        wait_idle(page)
        assert_no_error(page)
        assert page.get_by_text("0.9778 ★").count() >= 1  # v2 (random forest) is the better model
        shot(page, "compare-02-side-by-side")

        page.get_by_role("tab", name="Champion / challenger").click()
        page.get_by_text("none yet").first.wait_for()
        page.get_by_role("button", name="Run the gate").click()
        page.get_by_text("Gate passed.").first.wait_for(timeout=120_000)
        wait_idle(page)
        assert_no_error(page)
        assert page.get_by_text("no champion yet", exact=False).count() >= 1
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, f"horizontal overflow: {width}px"
        shot(page, "compare-03-promoted")
        aliases = {a: mv.version for mv in model_versions(Tracker.connect(make_settings(home)), "irisproj")
                   for a in mv.aliases}
        assert aliases == {"champion": 2}
    finally:
        stop_server(server)
