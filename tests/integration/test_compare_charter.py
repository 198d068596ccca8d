"""The charter in Compare and the gate, on a real SQLite MLflow store: the business-cost KPI and the fairness limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.compare.evaluate import fairness
from core.compare.gate import promote, promotion_history
from core.compare.record import run_comparison
from core.errors import CompareError
from core.plan.charter import Charter, save_charter
from core.tracking.datasets import load_dataset
from core.tracking.models import load_sklearn_model
from tests.compare_seed import aliases, build_seeded_home, use_copy

P = "irisproj"
M = "irisproj-species"
BASE = {"problem": "Tell iris species apart", "target": "species", "task": "classification", "metric": "accuracy",
        "threshold": 0.8}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, _template_store: Path):  # noqa: ANN201
    home = tmp_path_factory.mktemp("cmp-charter") / "workspace"
    data, weak, strong = build_seeded_home(home, _template_store)
    return home, data, weak, strong


@pytest.fixture()
def tracker(seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    return use_copy(seeded[0], tmp_path / "ws", monkeypatch)


def hand_cost(tracker, mv, frame) -> float:  # noqa: ANN001
    """(1 · FP + 5 · FN) / n for the positive class virginica, counted row by row."""
    pred = load_sklearn_model(tracker, mv).predict(frame.drop(columns=["species"]))
    fp = sum(1 for t, p in zip(frame["species"], pred) if p == "virginica" and t != "virginica")
    fn = sum(1 for t, p in zip(frame["species"], pred) if t == "virginica" and p != "virginica")
    return (1.0 * fp + 5.0 * fn) / len(frame)


def test_a_charter_with_costs_adds_the_cost_column_from_held_out_rows(tracker, seeded) -> None:  # noqa: ANN001
    _, data, weak, strong = seeded
    plain, *_ = run_comparison(tracker, P, [1, 2], "iris", importance=False, resources=False, log=False)
    assert "business_cost" not in plain.metrics.index  # no charter, no KPI

    save_charter(tracker, P, Charter(**BASE, cost_fp=1.0, cost_fn=5.0, positive_class="virginica"))
    ev, _data, part, run_id = run_comparison(tracker, P, [1, 2], "iris", importance=False, resources=False)
    assert part == "test"
    held = load_dataset(tracker, data.run_id, "test").loc[ev.index]  # the held-out rows the evaluation scored
    assert len(held) == ev.rows
    expected = {"v1": hand_cost(tracker, weak, held), "v2": hand_cost(tracker, strong, held)}
    assert ev.score("v1", "business_cost") == pytest.approx(expected["v1"])
    assert ev.score("v2", "business_cost") == pytest.approx(expected["v2"])
    assert expected["v1"] > expected["v2"] and ev.best["business_cost"] == "v2"  # lower is better
    assert any("positive class 'virginica'" in n for n in ev.notes)
    stored = tracker.download(run_id, "evaluation/metrics.csv").read_text()
    assert "business_cost" in stored


def test_the_gate_on_business_cost_promotes_the_cheaper_model_and_refuses_the_dearer(tracker) -> None:  # noqa: ANN001
    with pytest.raises(CompareError, match="sets no cost"):
        promote(tracker, P, 1, "iris", "business_cost", 0.0)
    assert aliases(tracker) == {}

    save_charter(tracker, P, Charter(**BASE, cost_fp=1.0, cost_fn=5.0, positive_class="virginica"))
    first = promote(tracker, P, 1, "iris", "business_cost", 0.0)
    assert first.passed and first.metric == "business_cost"
    better = promote(tracker, P, 2, "iris", None, 0.01)  # the promotion metric is now business_cost
    assert better.passed and better.metric == "business_cost"
    assert better.challenger_score < better.champion_score and better.improvement == pytest.approx(
        better.champion_score - better.challenger_score)
    assert better.test.test == "paired_bootstrap" and better.test.significant
    assert "lower is better" in better.reason
    assert aliases(tracker) == {"champion": 2, "previous-champion": 1}

    worse = promote(tracker, P, 1, "iris", None, 0.0)
    assert not worse.passed and worse.improvement < 0 and not worse.test.significant
    assert aliases(tracker) == {"champion": 2, "previous-champion": 1}
    run = tracker.get_run(worse.run_id)
    assert run.params["higher_is_better"] == "False" and run.tags["workbench.gate.decision"] == "refused"
    assert run.metrics["challenger.business_cost"] > run.metrics["champion.business_cost"]
    assert list(promotion_history(tracker, P)["metric"]) == ["business_cost"] * 3


def test_the_gate_refuses_a_challenger_over_the_fairness_limit(tracker, seeded) -> None:  # noqa: ANN001
    _, data, weak, _ = seeded
    ev, *_ = run_comparison(tracker, P, [1], "iris", importance=False, resources=False, log=False)
    frame = load_dataset(tracker, data.run_id, "test")
    gap = fairness(ev, frame["site"], "accuracy").gaps["v1"]
    held = frame.loc[ev.index]
    by_site = held.assign(right=load_sklearn_model(tracker, weak).predict(held.drop(columns=["species"]))
                          == held["species"]).groupby("site")["right"].mean()
    assert gap == pytest.approx(by_site.max() - by_site.min()) and gap > 0

    save_charter(tracker, P, Charter(**BASE, protected_column="site", max_gap=round(gap / 2, 4)))
    refused = promote(tracker, P, 1, "iris", "accuracy", 0.0)
    assert not refused.passed and not refused.applied and aliases(tracker) == {}
    assert f"differs by {gap:.4f} across the groups of 'site'" in refused.reason
    assert f"largest gap allowed, {round(gap / 2, 4):g}" in refused.reason
    run = tracker.get_run(refused.run_id)
    assert run.tags["workbench.gate.decision"] == "refused" and run.tags["workbench.gate.fairness"] == "exceeded"
    assert run.metrics["challenger.fairness_gap"] == pytest.approx(gap)

    save_charter(tracker, P, Charter(**BASE, protected_column="site", max_gap=min(1.0, gap + 0.01)))
    within = promote(tracker, P, 1, "iris", "accuracy", 0.0)
    assert within.passed and aliases(tracker) == {"champion": 1}
    assert tracker.get_run(within.run_id).tags["workbench.gate.fairness"] == "within"


def test_a_protected_column_missing_from_held_out_rows_is_a_caution_not_a_refusal(tracker) -> None:  # noqa: ANN001
    save_charter(tracker, P, Charter(**BASE, protected_column="region", max_gap=0.0))
    decision = promote(tracker, P, 2, "iris", "accuracy", 0.0)
    assert decision.passed and decision.fairness_gap is None
    assert any("could not be checked" in c and "no column 'region'" in c for c in decision.cautions)
    assert tracker.get_run(decision.run_id).tags["workbench.gate.fairness"] == "unchecked"


def test_headless_compare_prints_the_cost_and_promote_takes_it(tracker, capsys) -> None:  # noqa: ANN001
    from core.cli import main

    save_charter(tracker, P, Charter(**BASE, cost_fp=1.0, cost_fn=5.0, positive_class="virginica"))
    assert main(["compare", "--models", "1", "2", "--data", "iris", "--no-importance"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("business_cost"))
    assert line.rstrip().endswith("*")  # v2, the last column, is the cheaper one
    assert main(["promote", "--version", "1", "--data", "iris", "--metric", "business_cost"]) == 0
    assert main(["promote", "--version", "2", "--data", "iris"]) == 0
    out = capsys.readouterr().out
    assert "on business_cost (lower is better)" in out and aliases(tracker)["champion"] == 2
