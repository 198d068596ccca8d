"""Home shows the charter's verdict for the champion once a gate has scored it (AppTest, real store)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from core.compare.gate import promote
from core.plan.charter import Charter, save_charter
from tests.compare_seed import build_seeded_home, use_copy
from tests.ui.conftest import app_test

P = "irisproj"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, _template_store: Path) -> Path:
    home = tmp_path_factory.mktemp("cmp-home") / "workspace"
    build_seeded_home(home, _template_store)
    return home


def test_home_shows_meets_or_misses(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = use_copy(seeded, tmp_path / "ws", monkeypatch)
    st.cache_data.clear()
    at = app_test("pages/home.py", timeout=120)
    at.session_state["wb_project"] = P
    at.run()
    assert not at.exception and not [s for s in at.success if "charter" in s.value]  # no charter, no verdict

    decision = promote(tracker, P, 2, "iris", "accuracy", 0.0)
    save_charter(tracker, P, Charter(problem="Tell iris species apart", target="species", task="classification",
                                     metric="log_loss", threshold=0.0))
    at.run()
    assert not at.exception and decision.passed
    assert any("The champion irisproj-species v2 misses the charter" in w.value for w in at.warning)


def test_plan_shows_the_same_verdict_under_the_charter(seeded: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = use_copy(seeded, tmp_path / "ws", monkeypatch)
    st.cache_data.clear()
    promote(tracker, P, 2, "iris", "accuracy", 0.0)
    save_charter(tracker, P, Charter(problem="Tell iris species apart", target="species", task="classification",
                                     metric="accuracy", threshold=0.5))
    at = app_test("pages/plan.py", timeout=120)
    at.session_state["wb_project"] = P
    at.run()
    assert not at.exception
    assert any("The champion irisproj-species v2 meets the charter" in s.value for s in at.success)
