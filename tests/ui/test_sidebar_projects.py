"""The sidebar's New project switches to the project it creates, and refuses an unsafe name in one sentence."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _sidebar_only() -> None:
    from ui.sidebar import render_sidebar

    render_sidebar()


def app_test(_script: str) -> AppTest:
    # The sidebar alone: under AppTest, app.py's st.navigation leaves the sidebar empty on a second run
    # (a harness quirk, also with the old sidebar), and these tests need several runs.
    return AppTest.from_function(_sidebar_only, default_timeout=90)


def _create(at, name: str):  # noqa: ANN001, ANN202
    [box] = [t for t in at.sidebar.text_input if t.label == "Name"]
    box.set_value(name)
    [create] = [b for b in at.sidebar.button if b.label == "Create"]
    return create.click().run()


def _picker(at):  # noqa: ANN001, ANN202
    [box] = [s for s in at.sidebar.selectbox if s.label == "Project"]
    return box


def test_new_project_is_created_and_selected(settings, tracker) -> None:  # noqa: ANN001
    tracker.ensure_project("default")  # a store in use has it (AppTest keeps a value that left the options)
    at = app_test("app.py").run()
    assert not at.exception and _picker(at).value == "default"
    at = _create(at, "fresh-one")
    assert not at.exception
    assert at.session_state["wb_project"] == "fresh-one" and _picker(at).value == "fresh-one"
    assert "fresh-one" in _picker(at).options and "fresh-one" in tracker.projects()
    at = at.run()  # and it stays there on the next rerun
    assert at.session_state["wb_project"] == "fresh-one" and _picker(at).value == "fresh-one"
    _picker(at).set_value("default")
    at = at.run()  # picking another project in the selectbox still works
    assert at.session_state["wb_project"] == "default" and _picker(at).value == "default"


def test_an_unsafe_project_name_is_one_sentence_and_nothing_changes(settings, tracker) -> None:  # noqa: ANN001
    at = _create(app_test("app.py").run(), "../../tmp/evil")
    assert not at.exception
    errors = [e.value for e in at.sidebar.error]
    assert any(e.startswith("The project name must be") and "'../../tmp/evil'" in e for e in errors), errors
    assert at.session_state["wb_project"] == "default" and _picker(at).value == "default"
    assert "../../tmp/evil" not in tracker.projects()
