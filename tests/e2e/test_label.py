"""Label digits in Chromium from the queue, reload: the labels and the learning curve are still there."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from core.config import Settings
from core.label.labellog import LabelLog, latest_labels
from core.tracking import Tracker
from core.tracking.datasets import log_dataset_version
from tests.e2e.conftest import assert_no_error, shot, start_server, stop_server, wait_idle

pytestmark = pytest.mark.e2e
ROWS = 300


def _seed(home: Path):  # noqa: ANN202
    s = Settings.from_env({"WORKBENCH_HOME": str(home)})
    s.ensure_dirs()
    t = Tracker.connect(s)
    digits = load_digits(as_frame=True).frame.iloc[:ROWS]
    frame = digits.drop(columns=["target"]).assign(digit=np.nan)  # an empty label column to fill
    with t.stage_run("default", "data", name="digits") as rid:
        version = log_dataset_version(t, rid, "default", frame, "digits")
    return s, version, digits["target"].to_numpy()


def _shown(page) -> int:  # noqa: ANN001
    cls = page.locator('[class*="st-key-label_row_"]').first.get_attribute("class")
    return int(re.search(r"st-key-label_row_(\d+)", cls).group(1))


def test_label_a_batch_of_digits_and_reload(tmp_path: Path, browser) -> None:  # noqa: ANN001
    home = tmp_path / "workspace"
    settings, version, truth = _seed(home)
    server = start_server(home)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(180_000)
    try:
        page.goto(f"{server.url}/label")
        page.get_by_text("Session set-up").first.wait_for()
        wait_idle(page)
        classes = page.locator(f'.st-key-label_{version.run_id[:8]}_classes input')
        classes.fill(", ".join(str(d) for d in range(10)))
        classes.press("Enter")
        wait_idle(page)
        page.locator('[class*="st-key-label_row_"]').first.wait_for()
        assert_no_error(page)
        shot(page, "label-01-queue")
        rows = []
        for _ in range(10):  # one row on screen at a time; a click shows the next row of the batch
            row = _shown(page)
            rows.append(row)
            page.locator(".st-key-label_classes").get_by_role("button", name=str(truth[row]), exact=True).click()
            page.locator(f".st-key-label_row_{row}").wait_for(state="detached")
        wait_idle(page)
        assert_no_error(page)
        log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "digit")
        labels, _ = latest_labels(log.events())
        assert labels == {r: str(truth[r]) for r in rows}  # on disk before any reload
        # the learning-curve point comes from the background round: the Progress tab below waits for it

        page.reload()
        page.get_by_text("Session set-up").first.wait_for()
        wait_idle(page)
        page.get_by_role("tab", name="Progress").click()
        page.get_by_text("Labelled", exact=True).first.wait_for()
        assert page.locator('[data-testid="stMetricValue"]').first.inner_text().strip() == "10"
        page.get_by_text("1 point(s)").first.wait_for()
        page.locator('[data-testid="stPlotlyChart"]').nth(1).wait_for()  # counts + learning curve, both drawn
        assert page.locator('[class*="st-key-label_row_"]').count() == 0  # only the open tab runs
        page.get_by_role("tab", name="Queue").click()
        page.locator('[class*="st-key-label_row_"]').first.wait_for()
        assert _shown(page) not in rows  # the next batch
        assert_no_error(page)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, f"horizontal overflow: {width}px"
        shot(page, "label-02-after-reload")
    finally:
        context.close()
        stop_server(server)
