"""AppTest smoke tests of the frame and Home."""

from __future__ import annotations

from tests.ui.conftest import app_test


def test_app_runs_and_shows_home(settings) -> None:  # noqa: ANN001
    at = app_test("app.py").run()
    assert not at.exception
    assert any("MLOps workbench" in t.value for t in at.title)
    assert any("This project is empty" in i.value for i in at.info)


def test_home_lists_stage_runs(settings, tracker) -> None:  # noqa: ANN001
    rid = tracker.start_run("default", "data", name="v1")
    tracker.end_run(rid)
    at = app_test("pages/home.py").run()
    assert not at.exception
    from ui.navigation import PAGES

    runs = [m for m in at.metric if m.label == "Runs"]
    stages = [p.stage for p in PAGES if p.stage]
    drawn = [i for col in range(3) for i in range(len(stages)) if i % 3 == col]  # cards fill three columns
    assert runs[drawn.index(stages.index("data"))].value == "1"  # the Data card
    assert [m.value for m in runs].count("1") == 1
