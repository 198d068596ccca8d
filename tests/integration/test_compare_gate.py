"""Promotion gate, shadow and A/B on a real temporary MLflow registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.compare.abtest import run_ab
from core.compare.gate import promote, promotion_history, set_challenger
from core.compare.record import run_comparison
from core.compare.shadow import run_shadow
from core.errors import CompareError
from core.tracking.datasets import load_dataset
from tests.compare_seed import aliases, build_seeded_home, save_dataset, use_copy

P = "irisproj"
M = "irisproj-species"  # one registered model per prediction job: <project>-<target>


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, _template_store: Path):  # noqa: ANN201
    home = tmp_path_factory.mktemp("cmp-gate") / "workspace"
    data, weak, strong = build_seeded_home(home, _template_store)
    return home, data, weak, strong


@pytest.fixture()
def tracker(seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    return use_copy(seeded[0], tmp_path / "ws", monkeypatch)


def test_aliases_move_only_after_a_passed_gate(tracker, seeded) -> None:  # noqa: ANN001
    _, data, weak, strong = seeded
    first = promote(tracker, P, 1, "iris", "accuracy", 0.01)
    assert first.passed and first.applied and "no champion yet" in first.reason
    assert aliases(tracker) == {"champion": 1}
    run = tracker.get_run(first.run_id)
    assert run.stage == "compare" and set(run.inputs) == {weak.run_id, data.run_id}
    assert run.params["challenger_version"] == "1" and run.params["champion_version"] == "none"
    assert run.tags["workbench.gate.decision"] == "passed"
    arts = tracker.list_artifacts(first.run_id, "evaluation") + tracker.list_artifacts(first.run_id, "figures")
    assert "evaluation/metrics.csv" in arts and "figures/confusion_v1.html" in arts

    assert set_challenger(tracker, P, 2).aliases == ("challenger",)
    refused = promote(tracker, P, 2, "iris", "accuracy", 0.5)  # v2 is better, but not by 0.5
    assert not refused.passed and not refused.applied
    assert aliases(tracker) == {"champion": 1, "challenger": 2}
    run = tracker.get_run(refused.run_id)
    assert run.tags["workbench.gate.decision"] == "refused" and "workbench.gate.applied" not in run.tags
    assert set(run.inputs) == {weak.run_id, strong.run_id, data.run_id}
    assert run.metrics["challenger.accuracy"] > run.metrics["champion.accuracy"]
    assert run.params["test"] == "mcnemar" and 0 <= run.metrics["p_value"] <= 1
    assert "not above the margin 0.5" in refused.reason

    passed = promote(tracker, P, 2, "iris", "accuracy", 0.01)
    assert passed.passed and passed.champion == "v1" and passed.delta == pytest.approx(
        passed.challenger_score - passed.champion_score)
    assert passed.test.significant and "p-value" in passed.reason and passed.rows == 45
    assert aliases(tracker) == {"champion": 2, "previous-champion": 1}

    # the promotion metric was set by the first promotion: another metric is refused, not silently used
    with pytest.raises(CompareError, match="promotion metric of irisproj-species is 'accuracy'"):
        promote(tracker, P, 1, "iris", "log_loss", 0.0)
    back = promote(tracker, P, 1, "iris", "log_loss", 0.0, change_metric=True)
    assert not back.passed and aliases(tracker) == {"champion": 2, "previous-champion": 1}

    history = promotion_history(tracker, P)
    assert list(history["decision"]) == ["refused", "passed", "refused", "passed"]
    assert list(history["aliases_moved"]) == [False, True, False, True]
    assert list(history["challenger"]) == ["v1", "v2", "v2", "v1"]
    assert list(history["champion"]) == ["v2", "v1", "v1", "—"]
    assert history.iloc[0]["metric"] == "log_loss"


def test_bad_input_moves_nothing_and_logs_nothing(tracker) -> None:  # noqa: ANN001
    promote(tracker, P, 1, "iris", "accuracy", 0.0)
    before = len(tracker.runs(P, stage="compare"))
    cases = [
        ((2, "iris", "accuracy", -0.1), "margin"),
        ((2, "iris", "r2", 0.0), "does not switch to 'r2' silently"),
        ((7, "iris", "accuracy", 0.0), "no version '7'"),
        ((2, "iris:v9", "accuracy", 0.0), "No dataset version"),
        ((1, "iris", "accuracy", 0.0), "already the champion"),
    ]
    for args, message in cases:
        with pytest.raises(CompareError, match=message):
            promote(tracker, P, *args)
    with pytest.raises(CompareError, match="gate metric must be one of"):
        promote(tracker, P, 2, "iris", "r2", 0.0, change_metric=True)
    assert aliases(tracker) == {"champion": 1}
    assert len(tracker.runs(P, stage="compare")) == before


def test_evaluation_data_without_a_feature_column_is_refused(tracker) -> None:  # noqa: ANN001
    frame = load_dataset(tracker, tracker.runs(P, stage="data")[0].run_id).drop(columns="petal_width")
    save_dataset(tracker, P, frame, "iris-narrow", "species")
    with pytest.raises(CompareError, match="lacks columns .*'petal_width'"):
        promote(tracker, P, 2, "iris-narrow", "accuracy", 0.0)
    assert aliases(tracker) == {}


def test_compare_run_is_logged_with_lineage(tracker, seeded) -> None:  # noqa: ANN001
    _, data, weak, strong = seeded
    ev, version, part, run_id = run_comparison(tracker, P, ["1", f"{M}/2"], "iris", importance=False)
    assert part == "test" and ev.rows == 45 and ev.models == ("v1", "v2")
    assert ev.best["accuracy"] == "v2"
    assert "training_time_s" in ev.resources.index  # read from the tune runs
    run = tracker.get_run(run_id)
    assert run.tags["workbench.compare.kind"] == "evaluate"
    assert set(run.inputs) == {weak.run_id, strong.run_id, data.run_id}
    assert run.params["rows_removed_as_training"] == "0"  # the test part: no training row in it


def test_shadow_and_ab_need_a_champion_then_log_runs(tracker) -> None:  # noqa: ANN001
    with pytest.raises(CompareError, match="no champion yet"):
        run_shadow(tracker, P, "iris")
    promote(tracker, P, 1, "iris", "accuracy", 0.0)
    with pytest.raises(CompareError, match="challenger"):
        run_shadow(tracker, P, "iris")
    set_challenger(tracker, P, 2)
    shadow = run_shadow(tracker, P, "iris")
    assert shadow.rows == 45 and shadow.champion == "v1" and shadow.challengers == ("v2",)  # the test part only
    run = tracker.get_run(shadow.run_id)
    assert run.tags["workbench.compare.kind"] == "shadow"
    assert run.metrics["disagreement"] == pytest.approx(shadow.disagreement["v2"])
    assert run.metrics["challenger.accuracy"] > run.metrics["champion.accuracy"]
    assert "shadow/predictions.csv" in tracker.list_artifacts(shadow.run_id, "shadow")

    frame = load_dataset(tracker, tracker.runs(P, stage="data")[0].run_id)  # all 150 rows, training rows included
    report = run_ab(tracker, P, frame, "species", 0.5, mde=0.1, seed=1)
    r = report.result
    assert r.n_a + r.n_b == 45 and r.test == "two-proportion z-test"  # the 105 training rows were left out
    assert "105 batch rows repeat rows a model was trained on" in r.warning
    assert r.mean_b > r.mean_a  # the challenger (v2) is the better model
    assert set(report.rows.loc[report.rows["arm"] == "B", "served_by"]) == {"v2"}
    logged = tracker.get_run(r.run_id)
    assert logged.metrics["p_value"] == pytest.approx(r.p_value)
    assert logged.tags["workbench.compare.kind"] == "ab"
    held_out = load_dataset(tracker, tracker.runs(P, stage="data")[0].run_id, "test")
    with pytest.raises(CompareError, match="empty"):
        run_ab(tracker, P, held_out.head(3), "species", 0.1)
    train = load_dataset(tracker, tracker.runs(P, stage="data")[0].run_id, "train")
    with pytest.raises(CompareError, match="No held-out rows remain: all 105 rows of the A/B batch"):
        run_ab(tracker, P, train, "species", 0.5)

    # A measured continuous outcome: Welch's t-test, with a power warning for a tiny effect.
    revenue = frame.assign(revenue=frame["petal_length"] * 10.0)
    outcome = run_ab(tracker, P, revenue, "revenue", 0.4, kind="outcome", mde=0.01, seed=2).result
    assert outcome.test == "Welch's t-test" and outcome.n_b == 60
    assert "too small" in outcome.warning
    assert tracker.get_run(outcome.run_id).params["kind"] == "outcome"


def test_training_time_falls_back_to_the_tune_trial(tracker) -> None:  # noqa: ANN001
    from core.compare.evaluate import training_time_of
    from core.tracking.models import ModelVersionInfo

    parent = tracker.start_run(P, "tune", name="study")
    for number, seconds in ((2, 9.0), (3, 2.5)):
        child = tracker.start_run(P, "tune", parent_run_id=parent, tags={"optuna.trial_number": str(number)})
        tracker.log_metrics(child, {"duration_s": seconds})
    mv = ModelVersionInfo(P, 99, parent, "", (), {"workbench.trial": "3"})
    assert training_time_of(tracker, mv) == pytest.approx(2.5)
    assert training_time_of(tracker, ModelVersionInfo(P, 98, parent, "", (), {})) is None


def test_gate_refuses_training_rows_and_two_targets_make_two_registered_models(tracker, seeded) -> None:  # noqa: ANN001
    from core.cli import EXIT_GATE_REFUSED, main
    from core.compare.heldout import NoHeldOutRows
    from core.tracking.models import project_models
    from tests.compare_seed import train_and_register

    _, data, weak, strong = seeded
    train_rows = load_dataset(tracker, data.run_id, "train")
    save_dataset(tracker, P, train_rows, "iris-train-copy", "species")  # no split: every row is a training row
    with pytest.raises(NoHeldOutRows, match="No held-out rows remain: all 105 rows of iris-train-copy v1"):
        promote(tracker, P, 1, "iris-train-copy", "accuracy", 0.0)
    assert aliases(tracker) == {} and main(["promote", "--version", "1", "--data", "iris-train-copy"]) == \
        EXIT_GATE_REFUSED
    # a table repeating some training rows beside new ones: the repeats are removed and counted
    test_rows = load_dataset(tracker, data.run_id, "test")
    mixed = save_dataset(tracker, P, __import__("pandas").concat([train_rows.head(30), test_rows]), "iris-mixed",
                         "species")
    decision = promote(tracker, P, 2, mixed.ref, "accuracy", 0.0)
    assert decision.rows == 45 and decision.removed_rows == 30

    site = train_and_register(tracker, P, data, "site", "linear", {"C": 1.0})  # another target, another model
    assert site.name == "irisproj-site" and site.version == 1
    assert project_models(tracker, P) == ["irisproj-site", "irisproj-species"]
    with pytest.raises(CompareError, match="has 2 registered models, one per prediction job"):
        promote(tracker, P, 1, "iris", "accuracy", 0.0)
    assert promote(tracker, P, "irisproj-site/1", "iris", "accuracy", 0.0).model_name == "irisproj-site"
