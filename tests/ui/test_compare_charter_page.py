"""The Compare page with a charter that sets costs: the cost row beside the metrics, business_cost in the gate form."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from core.plan.charter import Charter, save_charter
from tests.compare_seed import build_seeded_home, use_copy
from tests.ui.conftest import app_test
from ui.compare import TAB

P = "irisproj"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, _template_store: Path) -> Path:
    home = tmp_path_factory.mktemp("cmp-charter-ui") / "workspace"
    build_seeded_home(home, _template_store)
    return home


def test_cost_row_and_gate_on_business_cost(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = use_copy(seeded, tmp_path / "ws", monkeypatch)
    save_charter(tracker, P, Charter(problem="Tell iris species apart", target="species", task="classification",
                                     metric="accuracy", threshold=0.8, margin=0.02, cost_fp=1.0, cost_fn=5.0,
                                     positive_class="virginica", protected_column="site", max_gap=1.0))
    st.cache_data.clear()
    at = app_test("pages/compare.py", timeout=240)
    at.session_state["wb_project"] = P
    at.session_state[TAB] = "Champion / challenger"  # only the open tab runs
    at.run()
    assert not at.exception
    gate_metric = at.selectbox(key=f"cmp_gate_metric_{P}-species")
    assert "business_cost" in gate_metric.options and gate_metric.value == "accuracy"  # the charter's metric
    assert at.number_input(key="cmp_gate_margin").value == pytest.approx(0.02)  # the charter's margin

    at.session_state[TAB] = "Side by side"
    at.run().toggle(key="cmp_importance").set_value(False)
    at.button(key="cmp_evaluate").click().run()
    assert not at.exception
    metrics = next(df.value for df in at.dataframe if "business_cost" in df.value.index)
    assert "★" in metrics.loc["business_cost", "v2"]  # the strong model costs less
    assert any("mean cost per prediction" in i.value for i in at.info)
    assert at.selectbox(key="cmp_fair_col").value == "site"  # the charter's protected column first
    assert any("The charter allows at most **1**" in s.value and "every model is within it" in s.value
               for s in at.success)

    at.session_state[TAB] = "Champion / challenger"
    at.run().selectbox(key=f"cmp_gate_metric_{P}-species").set_value("business_cost")
    at.selectbox(key=at.session_state["cmp_gate_version__key"]).set_value(2)
    next(b for b in at.button if b.label == "Run the gate").click().run()
    assert not at.exception and any("no champion yet" in s.value for s in at.success)
    history = next(df.value for df in at.dataframe if "decision" in df.value.columns)
    assert list(history["metric"]) == ["business_cost"]
    assert at.selectbox(key=f"cmp_gate_metric_{P}-species").disabled  # the promotion metric is now fixed
