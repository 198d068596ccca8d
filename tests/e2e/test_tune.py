"""Journey: a seeded dataset version → start a short study on /tune → live progress → best trial and model."""

from __future__ import annotations

import pytest

from core.tune.worker import stop_workers
from tests.e2e.conftest import LONG, assert_no_error, shot, start_server, start_study, stop_server, wait_idle
from tests.tune_data import penguins, save_version

pytestmark = pytest.mark.e2e


def test_start_a_study_and_see_the_best_trial(settings, tracker, page) -> None:  # noqa: ANN001
    save_version(tracker, "default", penguins(200))  # the workspace is seeded before the server starts
    server = start_server(settings.home)
    try:
        page.goto(f"{server.url}/tune")
        page.get_by_role("button", name="Reset to the default space").wait_for()
        page.get_by_label("Trials (budget)").wait_for()
        wait_idle(page)
        assert_no_error(page)
        shot(page, "tune-01-new-study")
        start_study(page, "e2e-linear", 4)
        # live progress (the fragment polls the storage every 2 s) until the study is done and registered
        page.get_by_text("e2e-linear").first.wait_for(timeout=LONG)
        page.get_by_text("Best trial").first.wait_for(timeout=LONG)
        shot(page, "tune-02-progress")
        page.get_by_text("Best model registered as").first.wait_for(timeout=LONG)
        wait_idle(page)
        page.get_by_text("4 of 4 trials").first.wait_for()
        assert_no_error(page)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, f"horizontal overflow: {width}px"
        shot(page, "tune-03-done")
    finally:
        stop_workers(settings, "e2e-linear")
        stop_server(server)
