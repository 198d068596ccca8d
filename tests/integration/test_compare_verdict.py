"""The charter's verdict for the champion, read from what the gate recorded (real SQLite MLflow store)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from core.cli import main
from core.compare.gate import promote
from core.plan.charter import Charter, save_charter
from core.plan.verdict import champion_verdict
from core.tracking.models import model_versions
from tests.compare_seed import build_seeded_home, use_copy

P = "irisproj"
BASE = {"problem": "Tell iris species apart", "target": "species", "task": "classification"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, _template_store: Path):  # noqa: ANN201
    home = tmp_path_factory.mktemp("cmp-verdict") / "workspace"
    build_seeded_home(home, _template_store)
    return home


@pytest.fixture()
def tracker(seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    return use_copy(seeded, tmp_path / "ws", monkeypatch)


def test_no_charter_or_no_champion_gives_no_verdict(tracker) -> None:  # noqa: ANN001
    assert champion_verdict(tracker, P) is None
    save_charter(tracker, P, Charter(**BASE, metric="accuracy", threshold=0.9))
    assert champion_verdict(tracker, P) is None  # no champion yet


def test_the_verdict_uses_the_gates_held_out_score_of_the_champion(tracker, capsys) -> None:  # noqa: ANN001
    first = promote(tracker, P, 2, "iris", "accuracy", 0.0)
    score = first.challenger_score
    save_charter(tracker, P, Charter(**BASE, metric="accuracy", threshold=round(score - 0.05, 4)))
    meets = champion_verdict(tracker, P)
    assert meets.meets and meets.by == pytest.approx(0.05, abs=1e-4)
    assert "irisproj-species v2" in meets.sentence and f"{score:.4f}" in meets.sentence
    # what Home already read (its snapshot's versions and runs) gives the same verdict
    assert champion_verdict(tracker, P, versions=model_versions(tracker, f"{P}-species"),
                            runs=tracker.runs(P)) == meets

    save_charter(tracker, P, Charter(**BASE, metric="accuracy", threshold=round(score + 0.05, 4)
                                     if score <= 0.95 else 1.0))
    assert not champion_verdict(tracker, P).meets or score == 1.0

    # a charter metric the gate did not use is read from the gate's stored evaluation table
    save_charter(tracker, P, Charter(**BASE, metric="log_loss", threshold=5.0))
    other = champion_verdict(tracker, P)
    assert other.meets and 0 < 5.0 - other.by < 5.0 and "log_loss" in other.sentence
    save_charter(tracker, P, Charter(**BASE, metric="log_loss", threshold=0.0))  # a log loss is never 0
    misses = champion_verdict(tracker, P)
    assert not misses.meets and misses.by == pytest.approx(other.by - 5.0) and "short by" in misses.sentence

    assert main(["charter", "show", "--project", P]) == 0
    out = capsys.readouterr().out
    assert "verdict: The champion irisproj-species v2 misses the charter: log_loss" in out


def test_a_champion_without_a_recorded_score_says_so(tracker) -> None:  # noqa: ANN001
    from core.tracking.models import set_alias

    set_alias(tracker, f"{P}-species", "champion", 1)  # moved by hand: no gate ever scored it
    save_charter(tracker, P, Charter(**BASE, metric="accuracy", threshold=0.9))
    verdict = champion_verdict(tracker, P)
    assert not verdict.meets and math.isnan(verdict.by) and "No gate has recorded" in verdict.sentence
