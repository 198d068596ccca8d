"""``make run`` (``python -m ui.serve``): a deep link opened first still gets app.py's frame.

ui.serve's warm-up imports the ``ui`` package before any page runs, so the import-time frame check
(:mod:`ui.frame`) never ran inside a page: ``/monitor`` opened first (or reloaded) showed the page alone,
under Streamlit's ``pages/`` folder list, without the sidebar or the project picker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import shot, start_server, stop_server

pytestmark = pytest.mark.e2e


def test_a_deep_link_under_make_run_opens_inside_the_frame(page, tmp_path: Path) -> None:  # noqa: ANN001
    server = start_server(tmp_path / "workspace", timeout=240, make_run=True)
    try:
        for _visit in range(2):  # the first page of the process, then a reload
            page.goto(f"{server.url}/monitor")
            page.get_by_text("Check a new batch against the reference").wait_for()
            page.get_by_text("embedded SQLite").first.wait_for()  # app.py's sidebar is there
            assert page.get_by_role("link", name="Tune").count() >= 1  # st.navigation's titles …
            assert page.get_by_role("link", name="tune", exact=True).count() == 0  # … not the folder's file names
        shot(page, "make-run-deep-link-monitor")
    finally:
        stop_server(server)
