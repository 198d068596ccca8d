"""Done-when journey of the fast queue: 30 labels by keyboard alone, undo two, relabel one in the
history, save — the saved label set holds exactly the intended labels."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from core.config import Settings
from core.label.labellog import LabelLog, latest_labels
from core.tracking import Tracker
from core.tracking.datasets import dataset_versions, load_dataset, log_dataset_version
from tests.e2e.conftest import assert_no_error, choose, shot, start_server, stop_server, wait_idle

pytestmark = pytest.mark.e2e
CLASSES = ("setosa", "versicolor", "virginica")


def _seed(home: Path):  # noqa: ANN202
    s = Settings.from_env({"WORKBENCH_HOME": str(home)})
    s.ensure_dirs()
    t = Tracker.connect(s)
    iris = load_iris(as_frame=True)
    frame = iris.data.assign(species=np.nan)  # an empty label column to fill
    with t.stage_run("default", "data", name="iris") as rid:
        version = log_dataset_version(t, rid, "default", frame, "iris")
    return s, t, version, [CLASSES[i] for i in iris.target]


def _shown(page) -> int:  # noqa: ANN001
    cls = page.locator('[class*="st-key-label_row_"]').first.get_attribute("class")
    return int(re.search(r"st-key-label_row_(\d+)", cls).group(1))


def _next_row_after(page, row: int) -> int:  # noqa: ANN001
    page.wait_for_function("r => { const e = document.querySelector('[class*=\"st-key-label_row_\"]');"
                           " return e && !e.className.includes('st-key-label_row_' + r + ' ') "
                           "&& !e.className.endsWith('st-key-label_row_' + r); }", arg=row)
    return _shown(page)


def _press(page, key: str, done, tries: int = 5) -> None:  # noqa: ANN001
    """Press ``key`` until ``done(page)`` holds once the server has answered (``wait_idle``).

    A key that lands while the queue fragment is still drawing clicks the previous drawing's button,
    which the app ignores on purpose (a replayed click must never label twice): the key is pressed
    again only after the app is idle and the press visibly did nothing, so no press is applied twice.
    """
    for _ in range(tries):
        wait_idle(page)
        if done(page):
            return
        page.keyboard.press(key)
        wait_idle(page)
        if done(page):
            return
    raise AssertionError(f"pressing {key!r} {tries} times left the queue unchanged")


def _row_shown(row: int):  # noqa: ANN202
    return lambda page: page.evaluate("r => document.querySelector('.st-key-label_row_' + r) !== null", row)


def _row_gone(row: int):  # noqa: ANN202
    return lambda page: page.evaluate("r => document.querySelector('.st-key-label_row_' + r) === null", row)


def test_label_thirty_rows_by_keyboard_undo_two_relabel_one_and_save(tmp_path: Path, browser) -> None:  # noqa: ANN001
    home = tmp_path / "workspace"
    settings, tracker, version, truth = _seed(home)
    server = start_server(home)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(180_000)
    log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "species")
    try:
        page.goto(f"{server.url}/label")
        page.get_by_text("Session set-up").first.wait_for()
        wait_idle(page)
        classes = page.locator(f".st-key-label_{version.run_id[:8]}_classes input")
        classes.fill(", ".join(CLASSES))
        classes.press("Enter")
        page.locator('[class*="st-key-label_row_"]').first.wait_for()
        wait_idle(page)
        assert_no_error(page)
        assert page.get_by_text("1–9 give the classes").count() >= 1  # the keys are documented on the page
        page.locator("h1").first.click()  # focus the page, not the class-names box
        shot(page, "label-keys-01-queue")

        intended: dict[int, str] = {}
        order: list[int] = []
        row = _shown(page)
        for _ in range(30):
            label = truth[row]
            page.keyboard.press(str(CLASSES.index(label) + 1))
            intended[row] = label
            order.append(row)
            row = _next_row_after(page, row)
        assert latest_labels(log.events())[0] == intended  # every key press is on disk

        for _ in range(2):  # undo the last two, by key
            undone = order.pop()
            _press(page, "u", _row_shown(undone))
            del intended[undone]
        _press(page, "Space", _row_gone(undone))  # space skips the undone row now on screen
        assert latest_labels(log.events())[0] == intended
        shot(page, "label-keys-02-after-undo")

        page.get_by_role("tab", name="History").click()
        target = order[0]
        new = next(c for c in CLASSES if c != intended[target])
        row_box = page.locator(".st-key-label_hist_row input")
        row_box.fill(str(target))
        row_box.press("Enter")
        wait_idle(page)
        choose(page, page.locator(".st-key-label_hist_class"), new)
        wait_idle(page)
        page.locator(".st-key-label_hist_relabel button").click()
        page.get_by_text(f"Row {target} is now '{new}'").wait_for()
        intended[target] = new
        assert latest_labels(log.events())[0] == intended
        shot(page, "label-keys-03-history")

        page.get_by_role("tab", name="Save").click()
        page.locator(".st-key-label_save_all input").check(force=True)
        wait_idle(page)
        page.locator(".st-key-label_save button").click()
        page.get_by_text("Saved 28 labels").wait_for()
        assert_no_error(page)
        saved = dataset_versions(tracker, "default", "iris-labels")[0]
        table = load_dataset(tracker, saved.run_id)
        got = {i: v for i, v in enumerate(table["species"].tolist()) if isinstance(v, str)}
        assert got == intended
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, f"horizontal overflow: {width}px"
    finally:
        context.close()
        stop_server(server)
