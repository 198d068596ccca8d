"""AppTest of the Tune page: empty state, and a real study started from the form in a worker process."""

from __future__ import annotations

import time

from core.tracking.models import model_versions
from core.tune.storage import list_studies, make_storage
from core.tune.study import open_study
from core.tune.worker import list_workers, stop_workers
from tests.tune_data import penguins, save_version
from tests.ui.conftest import app_test
from ui.tune import NEW_OPEN, UNDERSTAND_OPEN


def test_empty_project_says_what_to_do(settings) -> None:  # noqa: ANN001
    at = app_test("pages/tune.py").run()
    assert not at.exception, at.exception
    infos = " ".join(i.value for i in at.info)
    assert "No dataset version in this project yet" in infos
    assert "No study in this project yet" in infos


def test_start_a_study_from_the_form_and_watch_it_finish(settings, tracker) -> None:  # noqa: ANN001
    save_version(tracker, "default", penguins(150))
    at = app_test("pages/tune.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="tune_family").value == "linear"
    at.selectbox(key="tune_family").set_value("knn").run()
    assert not at.exception, at.exception
    at.number_input(key="tune_trials").set_value(4)
    at.text_input(key="tune_study_name").set_value("page-knn")
    at.button(key="tune_start").click().run()
    assert not at.exception, at.exception
    try:
        workers = list_workers(settings, "page-knn")
        assert len(workers) == 1
        deadline = time.time() + 180
        while time.time() < deadline and any(w.alive for w in list_workers(settings, "page-knn")):
            time.sleep(0.5)
        assert not any(w.alive for w in list_workers(settings, "page-knn")), "the worker did not finish in time"
    finally:
        stop_workers(settings, "page-knn")
    study, config = open_study(make_storage(settings.optuna_storage), "page-knn")
    assert config.family == "knn" and config.n_trials == 4
    assert len([t for t in study.get_trials() if t.state.is_finished()]) == 4

    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="tune_selected_study").value == "page-knn"
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Complete"]) + int(metrics["Pruned"]) + int(metrics["Failed"]) == 4
    # the worker ran with --finalize: the best model is registered and the page says so
    registered = study.user_attrs["workbench.model_version"].split("#")[0]  # "<registered model>/<version>"
    name, _, number = registered.rpartition("/")
    assert name in ("default", "default-species")  # per project before issue 13 item 5, per target after
    assert [(str(v.version), v.tags["workbench.study"]) for v in model_versions(tracker, name)] == [(number, "page-knn")]
    assert any("Best model registered as" in s.value for s in at.success)
    assert len(at.dataframe) >= 1

    # a first render with a study draws its view only: neither the New study form (a dataset download and
    # the space editor) nor "Understand the study" (parameter importances fit a forest) runs until opened
    first = app_test("pages/tune.py").run()
    assert not first.exception, first.exception
    labels = {b.label for b in first.button}
    assert "Reset to the default space" not in labels and "Start study" not in labels
    assert not first.get("button_group")  # the view picker of "Understand the study"
    first.session_state[NEW_OPEN] = True
    first.session_state[UNDERSTAND_OPEN] = True
    first.run()
    assert not first.exception, first.exception
    assert "Start study" in {b.label for b in first.button}
    assert first.get("button_group")


def test_the_proposed_study_name_follows_target_and_family_and_number_boxes_start_nothing(
        settings, tracker) -> None:  # noqa: ANN001
    save_version(tracker, "default", penguins(60))
    at = app_test("pages/tune.py").run()
    assert not at.exception, at.exception
    name = at.text_input(key="tune_study_name")
    assert name.value.startswith("linear-species-")
    stamp = name.value.removeprefix("linear-species-")

    at.selectbox(key="tune_family").set_value("knn").run()
    assert at.text_input(key="tune_study_name").value == f"knn-species-{stamp}"
    (target,) = [s for s in at.selectbox if s.label == "Target"]
    target.set_value("island").run()
    assert not at.exception, at.exception
    assert at.text_input(key="tune_study_name").value == f"knn-island-{stamp}"

    # a number box changed and committed (Enter) reruns the page, but only the button starts a study
    at.number_input(key="tune_trials").set_value(7).run()
    at.number_input(key="tune_folds").set_value(4).run()
    assert not at.exception, at.exception
    assert list_studies(make_storage(settings.optuna_storage)) == []
    assert list_workers(settings, f"knn-island-{stamp}") == []

    # a name the person typed is theirs: it no longer follows the family
    at.text_input(key="tune_study_name").set_value("my-study").run()
    at.selectbox(key="tune_family").set_value("linear").run()
    assert at.text_input(key="tune_study_name").value == "my-study"
    at.text_input(key="tune_study_name").set_value("").run()  # emptied: the proposal comes back
    assert at.text_input(key="tune_study_name").value == f"linear-island-{stamp}"
