"""The Compare page under AppTest: empty states, side-by-side evaluation, the gate moving aliases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

from core.tracking.models import model_versions
from tests.compare_seed import build_seeded_home, use_copy
from tests.ui.conftest import app_test
from ui.compare import TAB, TABS

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
    assert [t.label for t in at.tabs][:5] == ["Runs", "Side by side", "Champion / challenger", "Shadow", "A/B test"]
    assert "No runs yet" in _texts(at)
    assert "No registered model yet" not in _texts(at)  # only the open tab runs: Side by side is not drawn
    at.session_state[TAB] = "Side by side"
    assert "No registered model yet" in _texts(at.run())


def test_first_render_runs_the_runs_tab_alone(seeded: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A first render draws the runs table, not the gate's history or the other tabs' pickers and forms."""
    use_copy(seeded, tmp_path / "ws", monkeypatch)
    st.cache_data.clear()
    at = app_test("pages/compare.py", timeout=240)
    at.session_state["wb_project"] = P
    at.run()
    assert not at.exception
    runs = _frame(at, "run_id")
    assert runs.shape[0] == 3
    params = [c for c in runs.columns if c.startswith("params.")]
    assert params, "the seeded runs differ in some param"
    for c in params:  # MLflow stores params as text; numbers are shown as numbers (right-aligned, rounded)
        as_numbers = pd.to_numeric(runs[c], errors="coerce")
        if as_numbers.notna().sum() == runs[c].notna().sum():
            assert pd.api.types.is_numeric_dtype(runs[c]), c
    assert not [b for b in at.button if b.label in ("Evaluate side by side", "Run the gate", "Replay in shadow")]
    for tab in TABS[1:]:
        at.session_state[TAB] = tab
        at.run()
        assert not at.exception, tab
        assert not [df for df in at.dataframe if "run_id" in df.value.columns], f"{tab} drew the runs table"


def test_evaluate_then_promote_through_the_gate(seeded: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = use_copy(seeded, tmp_path / "ws", monkeypatch)
    st.cache_data.clear()
    at = app_test("pages/compare.py", timeout=240)
    at.session_state["wb_project"] = P
    at.run()
    assert not at.exception
    assert _frame(at, "run_id").shape[0] == 3  # data + two tune runs
    at.session_state[TAB] = "Side by side"
    at.run()
    assert sorted(at.multiselect(key=at.session_state["cmp_versions__key"]).value) == [1, 2]
    at.toggle(key="cmp_importance").set_value(False)
    at.button(key="cmp_evaluate").click().run()
    assert not at.exception
    metrics = _frame(at, "accuracy")
    assert "★" in metrics.loc["accuracy", "v2"] and "★" not in metrics.loc["accuracy", "v1"]
    assert len(tracker.runs(P, stage="compare")) == 1

    at.multiselect(key=at.session_state["cmp_versions__key"]).set_value([1])
    at.session_state[TAB] = "Champion / challenger"
    at.run()
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
    at.session_state[TAB] = "Side by side"
    assert at.run().multiselect(key=at.session_state["cmp_versions__key"]).value == [1]
    at.session_state[TAB] = "Champion / challenger"
    at.run()

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
    at.text_input(key="cmp_f_tag").set_value("no-such-tag").run()
    assert not at.exception and "0 of 3 runs" in _texts(at)
    # A/B on 150 rows with B at 5 % is fine, but shadow has no champion yet: the tab says so.
    at.session_state[TAB] = "Shadow"
    assert "promote a champion" in _texts(at.run())
    at.session_state[TAB] = "A/B test"
    at.run().button(key="cmp_ab_run").click().run()
    assert not at.exception
    assert any("needs a champion and a challenger" in e.value for e in at.error)
