"""Shadow counts per challenger, and the gate refusing a challenger that does another job."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.compare.gate import check_same_job
from core.compare.shadow import shadow_compare
from core.errors import CompareError
from core.tracking.models import ModelVersionInfo


class _Fixed:
    """A 'model' that predicts given labels (shadow_compare only calls predict)."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = np.array(labels)

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        return self.labels[: len(X)]


def test_each_challenger_is_credited_only_on_its_own_disagreements() -> None:
    truth = ["a"] * 10
    frame = pd.DataFrame({"x": range(10), "y": truth})
    champ = _Fixed(["a"] * 8 + ["b", "b"])           # wrong on rows 8, 9
    near = _Fixed(["a"] * 9 + ["a"])                   # disagrees on 8, 9 (right on both)
    wild = _Fixed(["c"] * 7 + ["a", "a", "b"])         # disagrees on 0-6, 8 (right on 8 only)
    result = shadow_compare({"v1": champ, "v2": near, "v3": wild}, "v1", frame, target="y")
    assert result.disagreement == {"v2": pytest.approx(0.2), "v3": pytest.approx(0.8)}
    assert result.right_when_disagree["v2"] == 2  # not counted over v3's disagreements
    assert result.right_when_disagree["v3"] == 1
    assert result.right_when_disagree["v1"] == 7  # champion: right on 0-6 where someone disagreed
    assert result.scores == {"v1": 0.8, "v2": 1.0, "v3": 0.2}


def _mv(version: int, target: str, task: str, aliases: tuple[str, ...] = ()) -> ModelVersionInfo:
    return ModelVersionInfo("p", version, f"run{version}", "", aliases,
                            {"workbench.target": target, "workbench.task": task})


def test_a_challenger_for_another_target_or_task_is_refused() -> None:
    champion = _mv(1, "target", "classification", ("champion",))
    check_same_job(champion, _mv(2, "target", "classification"))
    check_same_job(None, _mv(3, "price", "regression"))  # no champion yet: anything may become the first
    with pytest.raises(CompareError, match=r"predicts 'target' \(regression\) but the champion .* \(classification\)"):
        check_same_job(champion, _mv(4, "target", "regression"))
    with pytest.raises(CompareError, match="project of its own"):
        check_same_job(champion, _mv(5, "species", "classification"))
