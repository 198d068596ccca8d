"""AppTest of pages/monitor.py on a real temporary store."""

from __future__ import annotations

from tests.ui.conftest import app_test
from ui.monitor_sections import PREVIOUS_OPEN


def test_empty_project_says_what_to_do(settings) -> None:
    at = app_test("pages/monitor.py").run()
    assert not at.exception
    assert any("no dataset version" in i.value for i in at.info)
    assert any(b.label == "Load the Seattle weather example" for b in at.button)


def test_check_and_timeline_on_seattle_weather(settings, tracker) -> None:
    from core.monitor.demo import seattle_weather, seed_example

    seed_example(tracker, "default", seattle_weather(), "seattle-weather", "weather")
    at = app_test("pages/monitor.py").run()
    assert not at.exception
    at.button(key="mon_run").click().run()
    assert not at.exception
    assert [m.value for m in at.metric if m.label == "Dataset drift"] == ["no"]  # the reference against itself
    assert any(m.label == "Domain classifier ROC AUC" for m in at.metric)
    assert any(m.label == "accuracy on current" for m in at.metric)
    assert any(b.label == "Build Evidently quality report" for b in at.button)

    at.radio(key="mon_mode").set_value("Periods of a time column").run()
    at.selectbox(key="mon_freq").set_value("year").run()
    at.button(key="mon_run").click().run()
    assert not at.exception
    assert at.selectbox(key="mon_period").options == ["2013", "2014", "2015"]
    runs = tracker.runs("default", stage="monitor")
    assert len(runs) == 2 and runs[0].tags.get("workbench.monitor.kind") == "timeline"
    assert len(tracker.client.get_metric_history(runs[0].run_id, "drift_share")) == 3

    # "Previous checks" is lazy: closed, it lists nothing (no run search); opened, both checks can be reopened
    assert not [s for s in at.selectbox if s.key == "mon_reopen"]
    at.session_state[PREVIOUS_OPEN] = True
    at.run()
    assert not at.exception
    assert len(at.selectbox(key="mon_reopen").options) == 2


def test_the_retraining_policy_form_saves_the_mode(settings, tracker) -> None:
    from core.monitor.demo import seattle_weather, seed_example
    from core.monitor.retrain import load_policy

    seed_example(tracker, "default", seattle_weather(), "seattle-weather", "weather")
    at = app_test("pages/monitor.py").run()
    assert not at.exception
    assert at.selectbox(key="mon_policy_mode").value == "study"  # today's behaviour stays the default
    at.selectbox(key="mon_policy_mode").set_value("ensemble")
    next(b for b in at.button if b.label == "Save policy").click().run()
    assert not at.exception
    assert load_policy(tracker, "default").mode == "ensemble"
    at = app_test("pages/monitor.py").run()  # a new session reads it back
    assert at.selectbox(key="mon_policy_mode").value == "ensemble"
