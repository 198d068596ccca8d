"""Sessions that never see each other: 10 browser contexts on one server, each with its own table.

Each context opens a different table on the Data page (the bundled penguins, or a small
upload of its own shape), reloads, and must get *its* table back (its draft, found
through its browser cookie) — never the table another context opened last. Two of them
then open the Label page of one version beside the eight others and must be offered different rows
(the row on screen and the ones "Up next"), with no page error.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import Settings
from core.tracking import Tracker
from core.tracking.datasets import log_dataset_version
from tests.e2e.conftest import assert_no_error, shot, start_server, stop_server, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]  # 10 sessions on 2 loaded cores
CONTEXTS = 10
TIMEOUT = 300_000  # 10 sessions on 2 shared cores (the first Label page imports the learners): generous, waits for states only


def _seed_label_version(home: Path) -> None:
    s = Settings.from_env({"WORKBENCH_HOME": str(home)})
    s.ensure_dirs()
    t = Tracker.connect(s)
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-3, 0.5, 30), rng.normal(3, 0.5, 30)]
    kind = pd.Series([None] * 60, dtype=object)
    kind[[0, 1, 30, 31]] = ["left", "left", "right", "right"]
    with t.stage_run("default", "data", name="blobs") as rid:
        log_dataset_version(t, rid, "default", pd.DataFrame({"x": x, "y": rng.normal(size=60), "kind": kind}),
                            "blobs")


def _tables(folder: Path) -> list[tuple[str, str, Path | None]]:
    """(name, caption, upload file or None for bundled penguins) for each context."""
    out: list[tuple[str, str, Path | None]] = [("penguins", "344 rows × 8 columns", None)]
    for i in range(1, CONTEXTS):
        path = folder / f"table{i}.csv"
        rows = 10 + i
        pd.DataFrame({"a": range(rows), "b": [i] * rows, "c": ["x"] * rows}).to_csv(path, index=False)
        out.append((f"table{i}", f"{rows} rows × 3 columns", path))
    return out


def _queued(page) -> set[int]:  # noqa: ANN001
    """The rows of this tab's batch: the row on screen and the ones listed under 'Up next'."""
    classes = page.eval_on_selector_all('[class*="st-key-label_row_"]', "els => els.map(e => e.className)")
    rows = {int(m.group(1)) for c in classes if (m := re.search(r"st-key-label_row_(\d+)", c))}
    body = page.locator('[data-testid="stMain"]').inner_text()
    if m := re.search(r"Up next: ([^\n]*)", body):
        rows |= {int(r) for r in re.findall(r"row (\d+)", m.group(1))}
    return rows


def _shows_only(page, name: str, caption: str, others: list[str]) -> None:  # noqa: ANN001
    page.get_by_text(caption).first.wait_for(timeout=TIMEOUT)
    heading = page.locator('[data-testid="stHeading"] h3').first.inner_text().strip()
    assert heading == name, f"a context that opened {name} shows {heading}"
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert not [o for o in others if o != caption and o in body], f"{name} shows another context's table"


def test_ten_contexts_each_get_their_own_table_and_two_tabs_get_different_rows(tmp_path: Path, browser) -> None:  # noqa: ANN001
    home = tmp_path / "workspace"
    _seed_label_version(home)
    tables = _tables(tmp_path)
    captions = [c for _, c, _ in tables]
    server = start_server(home)
    contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(CONTEXTS)]
    pages = [c.new_page() for c in contexts]
    try:
        for pg in pages:
            pg.set_default_timeout(TIMEOUT)
            pg.goto(f"{server.url}/data")
        for pg, (_, _, upload) in zip(pages, tables, strict=True):
            pg.get_by_text("Pick a bundled data set").wait_for()
            pg.wait_for_function("document.cookie.includes('wb_browser=')")  # this browser's id is kept
            if upload is not None:  # by key: a stale "Open" of the bundled set may still show while it reruns
                pg.get_by_text("Upload a file", exact=True).click()
                pg.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
                pg.locator(".st-key-data_open_upload button").click()
            else:
                pg.locator(".st-key-data_open_bundled button").click()
        for pg, (name, caption, _) in zip(pages, tables, strict=True):
            _shows_only(pg, name, caption, captions)
        ids = {next(c["value"] for c in ctx.cookies() if c["name"] == "wb_browser") for ctx in contexts}
        assert len(ids) == CONTEXTS

        for pg in pages:  # every context reloads at about the same time: each must get its own draft back
            pg.reload(wait_until="commit")
        for pg, (name, caption, _) in zip(pages, tables, strict=True):
            _shows_only(pg, name, caption, captions)
            wait_idle(pg, TIMEOUT)
            assert_no_error(pg)
        shot(pages[-1], "sessions-01-own-table-after-reload")

        first, second = pages[0], pages[1]
        for pg in (first, second):
            pg.goto(f"{server.url}/label")
        rows = []
        for pg in (first, second):
            pg.locator('[class*="st-key-label_row_"]').first.wait_for()
            wait_idle(pg, TIMEOUT)
            assert_no_error(pg)
            rows.append(_queued(pg))
        assert len(rows[0]) == len(rows[1]) >= 2 and not rows[0] & rows[1], rows  # two tabs, different rows
        shot(second, "sessions-02-second-tab-other-rows")
    except Exception:
        for i, pg in enumerate(pages):
            shot(pg, f"FAILED-sessions-context-{i}")
        # the server's traceback (the browser shows none: client.showErrorDetails = "none")
        print(server.log.read_text(errors="replace")[-6000:])
        raise
    finally:
        for c in contexts:
            c.close()
        stop_server(server)
