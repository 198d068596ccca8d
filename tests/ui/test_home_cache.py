"""The cached reads of ui.cache never show a number older than the last write (real SQLite store)."""

from __future__ import annotations

from tests.ui.conftest import app_test


def _data_card_runs(at) -> str:  # noqa: ANN001
    from ui.navigation import PAGES

    stages = [p.stage for p in PAGES if p.stage]
    runs = [m for m in at.metric if m.label == "Runs"]
    drawn = [i for col in range(3) for i in range(len(stages)) if i % 3 == col]  # cards fill three columns
    return runs[drawn.index(stages.index("data"))].value


def test_home_shows_a_new_run_at_the_next_rerun(settings, tracker) -> None:  # noqa: ANN001
    tracker.end_run(tracker.start_run("default", "data", name="v1"))
    at = app_test("pages/home.py").run()
    assert not at.exception
    assert _data_card_runs(at) == "1"
    at.run()  # a rerun without a write is served from the cache and shows the same
    assert _data_card_runs(at) == "1"
    tracker.end_run(tracker.start_run("default", "data", name="v2"))  # another process's tracker: the store changed
    at.run()
    assert _data_card_runs(at) == "2"


def test_a_write_through_the_app_tracker_drops_the_cache_at_once(settings) -> None:  # noqa: ANN001
    from ui import cache
    from ui.resources import tracker

    at = app_test("pages/home.py").run()
    assert _data_card_runs(at) == "0"
    before = cache.store_stamp()
    t = tracker()
    rid = t.start_run("default", "data", name="v1")  # counted by the app's client wrapper
    assert cache.store_stamp() != before
    t.end_run(rid)
    at.run()
    assert _data_card_runs(at) == "1"


def _sidebar_only() -> None:
    from ui.sidebar import render_sidebar

    render_sidebar()


def test_the_sidebar_lists_a_project_created_elsewhere(settings, tracker) -> None:  # noqa: ANN001
    from streamlit.testing.v1 import AppTest

    def options(at) -> list[str]:  # noqa: ANN001
        [box] = [s for s in at.sidebar.selectbox if s.label == "Project"]
        return list(box.options)

    # the sidebar alone: under AppTest, app.py's st.navigation leaves the sidebar empty on a second run
    at = AppTest.from_function(_sidebar_only, default_timeout=90).run()
    assert "other" not in options(at)
    at.run()
    assert "other" not in options(at)
    tracker.ensure_project("other")
    at.run()
    assert "other" in options(at)


def test_only_writing_client_methods_bump_the_counter() -> None:
    from ui import cache

    class Client:
        def search_runs(self) -> str:
            return "read"

        def log_batch(self) -> str:
            return "wrote"

    client = cache.count_writes(Client())
    assert cache.count_writes(client) is client
    remote = "http://127.0.0.1:1"
    stamp = cache.store_stamp(remote)
    assert client.search_runs() == "read" and cache.store_stamp(remote)[0] == stamp[0]
    assert client.log_batch() == "wrote" and cache.store_stamp(remote)[0] == stamp[0] + 1
