"""The frame in a real browser: Home renders, the sidebar shows the store, navigation works."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_no_error, shot, wait_idle

pytestmark = pytest.mark.e2e


def test_home_renders_with_store_status(app_server, page) -> None:  # noqa: ANN001
    page.goto(app_server.url)
    page.get_by_text("MLOps workbench").first.wait_for()
    wait_idle(page)
    assert page.get_by_text("embedded SQLite").count() >= 1
    assert page.get_by_text("This project is empty").count() == 1
    assert_no_error(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280, f"horizontal overflow: {width}px"
    shot(page, "00-home")
