"""Version pickers whose labels change (a promotion turns "v2" into "v2 (champion)") under AppTest.

The browser sends a multiselect's / selectbox's selection back as *formatted labels*, under the
widget's element id. With a fixed user key the id survives a relabelling, the old labels come back as
raw strings, and ``format_func`` / serialisation raised TypeError for the whole page (issue 13, item 8).
``ui.pickers.picker_key`` makes the key follow the labels and carries the selection (as values) over.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from tests.compare_seed import build_seeded_home, use_copy
from tests.ui.conftest import app_test


def _plain_key_app() -> None:
    import streamlit as st

    labels = {"1": "v1", "2": "v2 (champion)" if st.session_state.get("promoted") else "v2", "3": "v3"}
    chosen = st.multiselect("Model versions", list(labels), default=["1"], format_func=labels.get, key="versions")
    st.write(f"chosen={chosen}")


def _picker_key_app() -> None:
    import streamlit as st

    from ui.pickers import picker_key

    labels = {1: "v1", 2: "v2 (champion)" if st.session_state.get("promoted") else "v2", 3: "v3"}
    if st.session_state.get("retired"):
        labels.pop(1)
    chosen = st.multiselect("Model versions", list(labels), default=[min(labels)], format_func=labels.get,
                            key=picker_key("versions", labels, labels.get))
    pick = st.selectbox("Challenger", list(labels), index=len(labels) - 1, format_func=labels.get,
                        key=picker_key("challenger", labels, labels.get))
    st.write(f"chosen={chosen} pick={pick}")


def _stale(widget, labels: list[str]) -> WidgetState:  # noqa: ANN001
    """What the browser still holds for ``widget``: its element id with the old formatted labels."""
    state = WidgetState(id=widget.id)
    state.string_array_value.data[:] = labels
    return state


def _shown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_a_fixed_key_crashes_when_the_labels_change_under_the_browser(capfd: pytest.CaptureFixture[str]) -> None:
    """The old crash path, reproduced: same key, relabelled options, the browser's old labels."""
    at = AppTest.from_function(_plain_key_app).run()
    at.multiselect(key="versions").select("2").run()
    at.session_state["promoted"] = True
    at.run()  # the promotion's rerun: same key, so the same element id, now labelled "v2 (champion)"
    assert not at.exception
    states = at._tree.get_widget_states()
    widget = at.multiselect(key="versions")
    kept = [s for s in states.widgets if s.id != widget.id]
    del states.widgets[:]
    states.widgets.extend([*kept, _stale(widget, ["v1", "v2"])])  # the next click sends what it shows
    at._run(states)
    assert at.exception, "the stale labels no longer crash a fixed key: re-check the root cause in Streamlit"
    captured = capfd.readouterr()
    assert "TypeError" in captured.out + captured.err  # the page shows a redacted message; the log has the type


def test_picker_key_follows_the_labels_and_carries_the_choice() -> None:
    at = AppTest.from_function(_picker_key_app).run()
    first_key = at.session_state["versions__key"]
    at.multiselect(key=first_key).select(2)
    at.selectbox(key=at.session_state["challenger__key"]).set_value(2)
    at.run()
    assert "chosen=[1, 2] pick=2" in _shown(at)
    old_widget = at.multiselect(key=first_key)

    at.session_state["promoted"] = True
    at.run()  # relabelled: a new key, the choice carried over as values, the old key gone
    assert not at.exception
    new_key = at.session_state["versions__key"]
    assert new_key != first_key and new_key.startswith("versions_")
    assert first_key not in at.session_state
    assert "chosen=[1, 2] pick=2" in _shown(at)
    assert at.multiselect(key=new_key).values == ["v1", "v2 (champion)"]

    # The browser still sends the old element's labels next to the new widget: no crash, the old id is ignored.
    states = at._tree.get_widget_states()
    states.widgets.append(_stale(old_widget, ["v1", "v2"]))
    at._run(states)
    assert not at.exception
    assert "chosen=[1, 2] pick=2" in _shown(at)

    # Every widget still answers after the relabelling.
    at.multiselect(key=new_key).select(3).run()
    assert not at.exception and "chosen=[1, 2, 3]" in _shown(at)
    at.selectbox(key=at.session_state["challenger__key"]).set_value(3).run()
    assert not at.exception and "pick=3" in _shown(at)


def test_a_choice_that_is_no_longer_an_option_falls_back_to_the_default() -> None:
    at = AppTest.from_function(_picker_key_app).run()
    at.multiselect(key=at.session_state["versions__key"]).set_value([1])
    at.selectbox(key=at.session_state["challenger__key"]).set_value(1)
    at.run()
    at.session_state["retired"] = True  # version 1 is gone
    at.run()
    assert not at.exception
    assert "chosen=[2] pick=3" in _shown(at)  # the defaults: first option; last option


def test_an_emptied_multiselect_stays_empty_after_a_relabel() -> None:
    at = AppTest.from_function(_picker_key_app).run()
    at.multiselect(key=at.session_state["versions__key"]).set_value([]).run()
    at.session_state["promoted"] = True
    at.run()
    assert not at.exception and "chosen=[]" in _shown(at)


P = "irisproj"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, _template_store: Path) -> Path:
    home = tmp_path_factory.mktemp("pickers-ui") / "workspace"
    build_seeded_home(home, _template_store)
    return home


def test_compare_page_survives_the_browsers_old_labels_after_a_promotion(
        seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_copy(seeded, tmp_path / "ws", monkeypatch)
    st.cache_data.clear()
    from ui.compare import TAB  # only the open tab runs: each step opens the tab it uses

    at = app_test("pages/compare.py", timeout=240)
    at.session_state["wb_project"] = P
    at.session_state[TAB] = "Side by side"
    at.run()
    assert not at.exception
    versions_key = at.session_state["cmp_versions__key"]
    before = at.multiselect(key=versions_key)
    assert sorted(before.value) == [1, 2]
    stale_labels = list(before.values)
    at.session_state[TAB] = "Champion / challenger"
    at.run().selectbox(key=at.session_state["cmp_gate_version__key"]).set_value(2)
    next(b for b in at.button if b.label == "Run the gate").click().run()
    assert not at.exception
    at.session_state[TAB] = "Side by side"
    at.run()
    assert at.session_state["cmp_versions__key"] != versions_key, [e.value for e in at.error]  # "v2" → "v2 (champion)"
    after = at.multiselect(key=at.session_state["cmp_versions__key"])
    assert any("(champion)" in label for label in after.options)
    assert sorted(after.value) == [1, 2]  # the person's choice survived the relabelling

    states = at._tree.get_widget_states()
    states.widgets.append(_stale(before, stale_labels))
    at._run(states)
    assert not at.exception
    at.multiselect(key=at.session_state["cmp_versions__key"]).set_value([1]).run()
    assert not at.exception
    at.session_state[TAB] = "Shadow"
    shadow = at.run().multiselect(key=at.session_state["cmp_shadow_models__key"])
    shadow.set_value([1]).run()
    assert not at.exception
