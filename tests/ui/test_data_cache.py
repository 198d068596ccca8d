"""The dataset pickers and the Data page read versions once per write, and never show a list older than it."""

from __future__ import annotations

from tests.tune_data import penguins, save_version
from tests.ui.conftest import app_test

_PICKER = """
from ui.pickers import dataset_picker
from ui.resources import tracker

v = dataset_picker(tracker(), "default", key="pick")
import streamlit as st
st.write("none" if v is None else f"picked {v.label}")
"""


def _options(at) -> list[str]:  # noqa: ANN001
    return list(at.selectbox(key="pick").options)


def test_a_picker_shows_a_version_saved_elsewhere_at_the_next_rerun(settings, tracker) -> None:  # noqa: ANN001
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(_PICKER, default_timeout=90).run()
    assert [m.value for m in at.markdown] == ["none"]
    save_version(tracker, "default", penguins(60), name="penguins")  # another process's tracker
    at.run()
    assert not at.exception, at.exception
    assert len(_options(at)) == 1 and "penguins v1" in _options(at)[0]
    other = AppTest.from_string(_PICKER, default_timeout=90).run()  # a second session: the same list
    assert _options(other) == _options(at)
    save_version(tracker, "default", penguins(80), name="penguins")
    at.run()
    assert [o.split(" · ")[0] for o in _options(at)] == ["penguins v2", "penguins v1"]  # newest first


def test_the_data_page_lists_and_reopens_a_version_saved_after_it_was_drawn(settings, tracker) -> None:  # noqa: ANN001
    at = app_test("pages/data.py").run()
    at.radio(key="data_source_kind").set_value("Saved version").run()
    assert any("No saved versions" in i.value for i in at.info)
    save_version(tracker, "default", penguins(60), name="penguins")
    at.run()
    assert not at.exception, at.exception
    assert [o.split(" · ")[0] for o in at.selectbox(key="data_saved").options] == ["penguins v1"]
    at.button(key="data_open_version").click().run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "penguins"
