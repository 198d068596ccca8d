"""Each retraining mode on a real store: the challenger is registered, goes through the gate, and says how it learned."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from core.errors import MonitorError
from core.monitor.demo import seed_example
from core.monitor.retrain import RetrainPolicy, load_policy, retrain, save_policy
from core.tracking.models import get_model_version, load_sklearn_model


def _table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    color = rng.choice(["red", "blue"], n)
    y = np.where(x1 + 0.5 * x2 + (color == "red") > 0.5, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "y": y})


@pytest.mark.parametrize(("mode", "family"), [("refit", "linear"), ("fine-tune", "rf"), ("incremental", "mlp"),
                                              ("ensemble", "linear")])
def test_each_mode_ends_at_the_gate_with_its_mode_recorded(tracker, mode, family) -> None:
    project = f"mode-{family}-{mode.replace('-', '')}"
    _version, champion = seed_example(tracker, project, _table(240, 0), "toy", "y", family=family)
    result = retrain(tracker, project, current=_table(150, 7, shift=1.0), mode=mode)
    assert result.triggered and result.mode == mode and result.challenger is not None
    assert result.challenger.version > champion.version
    run = tracker.get_run(result.run_id)
    assert run.tags["workbench.retrain.mode"] == mode and run.params["mode"] == mode
    assert run.tags["workbench.retrain.decision"] in ("promoted", "refused")
    gate = tracker.get_run(result.decision.run_id)
    assert gate.stage == "compare" and result.decision.test is not None
    # the gate scored held-out rows only: the new rows' test part and the reference's test part
    assert result.decision.removed_rows == 0
    mv = get_model_version(tracker, champion.name, result.challenger.version)
    assert mv.tags["workbench.retrain_mode"] == mode and mv.tags["workbench.family"] == family
    model = load_sklearn_model(tracker, mv)  # loads through the fixed allow-list
    assert len(model.predict(_table(5, 3).drop(columns="y"))) == 5
    assert f"by {mode}" in result.summary


def test_the_policy_carries_the_mode_and_a_mode_that_does_not_fit_is_refused_before_anything_is_written(tracker) -> None:
    _version, _champion = seed_example(tracker, "modes", _table(200, 0), "toy", "y", family="linear")
    save_policy(tracker, "modes", RetrainPolicy(mode="refit"))
    assert load_policy(tracker, "modes").mode == "refit"
    with pytest.raises(MonitorError, match="must be one of"):
        RetrainPolicy(mode="magic")
    before = len(tracker.runs("modes"))
    with pytest.raises(MonitorError, match="only the mlp family"):
        retrain(tracker, "modes", current=_table(60, 4), mode="incremental")
    assert len(tracker.runs("modes")) == before
    result = retrain(tracker, "modes", current=_table(60, 4))  # the policy's refit
    assert result.mode == "refit"


def test_retrain_mode_headless(tracker, tmp_path) -> None:
    _version, _champion = seed_example(tracker, "cli", _table(200, 0), "toy", "y", family="linear")
    batch = tmp_path / "batch.csv"
    _table(80, 5, shift=1.0).to_csv(batch, index=False)
    env = {"MLFLOW_TRACKING_URI": tracker.settings.tracking_uri, "WORKBENCH_HOME": str(tracker.settings.home)}
    import os

    out = subprocess.run([sys.executable, "-m", "core", "retrain", "--project", "cli", "--current", str(batch),
                          "--mode", "ensemble"], capture_output=True, text=True, env={**os.environ, **env},
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert "by ensemble" in out.stdout and "gate:" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "core", "retrain", "--project", "cli", "--mode", "nope"],
                         capture_output=True, text=True, env={**os.environ, **env}, timeout=600)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr
