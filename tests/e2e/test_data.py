"""Data journey in Chromium: pick penguins, normalise the missing tokens, impute, save a version, see it listed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_no_error, shot, wait_idle

pytestmark = pytest.mark.e2e


def _add_step(page, title: str) -> None:  # noqa: ANN001
    """Choose a step kind, preview it with its defaults, apply it."""
    page.get_by_text("Add a step").wait_for()
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Step").first
    box.click()
    page.keyboard.type(title)  # the dropdown is virtualised; typing filters it so the option is rendered
    page.get_by_role("option").filter(has_text=title).first.click()
    wait_idle(page)
    page.get_by_role("button", name="Preview").click()
    wait_idle(page)
    page.get_by_role("button", name="Apply step").wait_for()
    page.get_by_role("button", name="Apply step").click()
    wait_idle(page)


def test_penguins_clean_and_save(app_server, page) -> None:  # noqa: ANN001
    page.goto(f"{app_server.url}/data")  # a deep link first: the page must still get the frame
    page.get_by_text("Pick a bundled data set").wait_for()
    wait_idle(page)
    page.get_by_text("embedded SQLite").first.wait_for()  # the sidebar of app.py is there
    assert page.get_by_role("link", name="Tune").count() >= 1  # st.navigation, not the pages/ folder list
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Bundled data set").first
    box.click()
    page.get_by_role("option").filter(has_text="enguin").first.click()
    page.get_by_role("button", name="Open", exact=True).and_(page.get_by_test_id("stBaseButton-primary")).click()
    page.get_by_text("344 rows × 8 columns").first.wait_for()
    wait_idle(page)
    assert page.get_by_text("Suspected missing-value tokens").count() == 1
    shot(page, "data-01-profile")

    page.get_by_role("tab", name="Clean").click()
    _add_step(page, "Normalise missing tokens")
    assert page.get_by_text("1. Normalise missing tokens").count() == 1
    _add_step(page, "Impute missing values")
    assert page.get_by_text("2. Impute missing values").count() == 1
    shot(page, "data-02-recipe")

    page.get_by_role("tab", name="Versions").click()
    page.get_by_role("button", name="Save version").click()
    page.get_by_text("Saved penguins v1 (344 rows: 275 train, 69 held out)").wait_for(timeout=120_000)
    page.get_by_text("a held-out part was added first").first.wait_for()
    wait_idle(page)
    table = page.locator('[data-testid="stDataFrame"]').last
    assert table.is_visible()
    assert_no_error(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    shot(page, "data-03-saved")

    # A refresh keeps the recipe (the draft is on disk).
    page.reload()
    page.get_by_text("344 rows × 8 columns").first.wait_for()
    wait_idle(page)
    page.get_by_role("tab", name="Clean").click()
    # the saved recipe carries the held-out part it was saved with, decided first: the split leads the recipe
    page.get_by_text("1. Split train / test").first.wait_for()
    assert page.get_by_text("3. Impute missing values").count() == 1
