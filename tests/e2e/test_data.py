"""Data journey in Chromium: pick penguins, normalise the missing tokens, impute, save a version, see it listed."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import LONG, assert_no_error, choose, shot, wait_idle

pytestmark = pytest.mark.e2e


def _add_step(page, title: str) -> None:  # noqa: ANN001
    """Choose a step kind, preview it with its defaults, apply it."""
    page.get_by_text("Add a step").wait_for()
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Step").first
    # the dropdown is virtualised; typing filters it so the option is rendered
    choose(page, box, re.compile(re.escape(title)), typed=title)
    wait_idle(page)
    page.get_by_role("button", name="Preview").click()
    wait_idle(page)
    page.get_by_role("button", name="Apply step").click()
    wait_idle(page)


def test_penguins_clean_and_save(app_server, page) -> None:  # noqa: ANN001
    page.goto(f"{app_server.url}/data")  # a deep link first: the page must still get the frame
    page.get_by_text("Pick a bundled data set").wait_for()
    wait_idle(page)
    page.get_by_text("embedded SQLite").first.wait_for()  # the sidebar of app.py is there
    assert page.get_by_role("link", name="Tune").count() >= 1  # st.navigation, not the pages/ folder list
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Bundled data set").first
    choose(page, box, re.compile("enguin"))
    wait_idle(page)
    page.locator(".st-key-data_open_bundled button").click()
    page.get_by_text("344 rows × 8 columns").first.wait_for(timeout=LONG)
    wait_idle(page)
    page.get_by_text("Suspected missing-value tokens").first.wait_for()
    assert page.get_by_text("Suspected missing-value tokens").count() == 1
    shot(page, "data-01-profile")

    page.get_by_role("tab", name="Clean").click()
    _add_step(page, "Normalise missing tokens")
    page.get_by_text("1. Normalise missing tokens").wait_for()  # one, in the recipe (strict: two would fail)
    _add_step(page, "Impute missing values")
    page.get_by_text("2. Impute missing values").wait_for()
    shot(page, "data-02-recipe")

    page.get_by_role("tab", name="Versions").click()
    page.get_by_role("button", name="Save version").click()
    page.get_by_text("Saved penguins v1 (344 rows: 275 train, 69 held out)").wait_for(timeout=LONG)
    page.get_by_text("a held-out part was added first").first.wait_for()
    wait_idle(page)
    table = page.locator('[data-testid="stDataFrame"]').last
    assert table.is_visible()
    assert_no_error(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    shot(page, "data-03-saved")

    # A refresh keeps the recipe (the draft is on disk).
    page.reload()
    page.get_by_text("344 rows × 8 columns").first.wait_for(timeout=LONG)
    wait_idle(page)
    page.get_by_role("tab", name="Clean").click()
    # the saved recipe carries the held-out part it was saved with, decided first: the split leads the recipe
    page.get_by_text("1. Split train / test").first.wait_for()
    page.get_by_text("3. Impute missing values").wait_for()
