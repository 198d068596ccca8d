"""The Compare page under AppTest: empty states, side-by-side evaluation, the gate moving aliases."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from core.tracking.models import model_versions
from tests.compare_seed import build_seeded_home, use_copy
from tests.ui.conftest import app_test

P = "irisproj"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, _template_store: Path) -> Path:
    home = tmp_path_factory.mktemp("cmp-ui") / "workspace"
    build_seeded_home(home, _template_store)
    return home


def _texts(at) -> str:  # noqa: ANN001
    parts = [e.value for kind in ("info", "warning", "success", "error", "caption", "markdown")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def _frame(at, column: str):  # noqa: ANN001, ANN202
    """The first dataframe shown with ``column`` among its columns or index labels."""
    for df in at.dataframe:
        value = df.value
        if column in value.columns or column in value.index:
            return value
    raise AssertionError(f"no dataframe with {column!r} on the page")


def test_empty_project_says_what_to_do(settings) -> None:  # noqa: ANN001
    at = app_test("pages/compare.py", timeout=240)
    at.session_state["wb_project"] = "empty"
    at.run()
    assert not at.exception
    text = _texts(at)
    assert "No runs yet" in text and "No registered model yet" in text
    assert [t.label for t in at.tabs][:5] == ["Runs", "Side by side", "Champion / challenger", "Shadow", "A/B test"]


def test_evaluate_then_promote_through_the_gate(seeded: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = use_copy(seeded, tmp_path / "ws", monkeypatch)
    st.cache_data.clear()
    at = app_test("pages/compare.py", timeout=240)
    at.session_state["wb_project"] = P
    at.run()
    assert not at.exception
    assert _frame(at, "run_id").shape[0] == 3  # data + two tune runs
    assert sorted(at.multiselect(key=at.session_state["cmp_versions__key"]).value) == [1, 2]
    at.toggle(key="cmp_importance").set_value(False)
    at.button(key="cmp_evaluate").click().run()
    assert not at.exception
    metrics = _frame(at, "accuracy")
    assert "★" in metrics.loc["accuracy", "v2"] and "★" not in metrics.loc["accuracy", "v1"]
    assert len(tracker.runs(P, stage="compare")) == 1

    at.multiselect(key=at.session_state["cmp_versions__key"]).set_value([1])
    at.selectbox(key=at.session_state["cmp_gate_version__key"]).set_value(2)
    at.number_input(key="cmp_gate_margin").set_value(0.05)
    next(b for b in at.button if b.label == "Run the gate").click().run()
    assert not at.exception
    assert any("no champion yet" in s.value for s in at.success)
    champion = {a: mv.version for mv in model_versions(tracker, f"{P}-species") for a in mv.aliases}
    assert champion == {"champion": 2}
    history = _frame(at, "decision")
    assert list(history["decision"]) == ["passed"]
    # "v2" became "v2 (champion)": the widget has a new key (the browser's stale labels crashed the page)
    # and the person's choice survives the relabelling
    assert at.multiselect(key=at.session_state["cmp_versions__key"]).value == [1]

    # v1 is worse: the gate refuses and the champion stays.
    at.selectbox(key=at.session_state["cmp_gate_version__key"]).set_value(1)
    next(b for b in at.button if b.label == "Run the gate").click().run()
    assert not at.exception
    assert any("Gate refused" in w.value for w in at.warning)
    assert {a: mv.version for mv in model_versions(tracker, f"{P}-species") for a in mv.aliases} == {"champion": 2}


def test_bad_input_shows_one_sentence(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_copy(seeded, tmp_path / "ws", monkeypatch)
    at = app_test("pages/compare.py", timeout=240)
    at.session_state["wb_project"] = P
    at.run()
    # A/B on 150 rows with B at 5 % is fine, but shadow has no champion yet: the tab says so.
    assert "promote a champion" in _texts(at)
    at.text_input(key="cmp_f_tag").set_value("no-such-tag").run()
    assert not at.exception and "0 of 3 runs" in _texts(at)
    at.button(key="cmp_ab_run").click().run()
    assert not at.exception
    assert any("needs a champion and a challenger" in e.value for e in at.error)
