"""`python -m core label-sim`: JSON curves against random on the same splits, MLflow logging, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_iris

from core.cli import main
from core.tracking.datasets import log_dataset_version

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def iris_csv(tmp_path: Path) -> Path:
    path = tmp_path / "iris.csv"
    load_iris(as_frame=True).frame.to_csv(path, index=False)
    return path


def _sim(args: list[str], tmp_path: Path) -> dict:
    out = tmp_path / f"sim-{len(list(tmp_path.iterdir()))}.json"
    assert main(["label-sim", *args, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_curves_share_splits_and_start(iris_csv: Path, tmp_path: Path, settings) -> None:  # noqa: ANN001
    base = [str(iris_csv), "--target", "target", "--budget", "40", "--batch", "10", "--init", "10", "--seeds", "2"]
    res = _sim([*base, "--strategy", "margin"], tmp_path)
    assert res["strategy"] == "margin"
    assert [p["labels"] for p in res["curve"]] == [10, 20, 30, 40] == [p["labels"] for p in res["random"]]
    assert all(0 <= p["accuracy"] <= 1 for p in res["curve"] + res["random"])
    assert res["curve"][0]["accuracy"] == res["random"][0]["accuracy"]  # same split, same starting labels
    rnd = _sim([*base, "--strategy", "random"], tmp_path)
    assert rnd["curve"] == rnd["random"] == res["random"]  # the baseline is reproducible across runs
    assert "run_id" not in res  # a plain file without --project is not logged


def test_dataset_version_run_is_logged_to_mlflow(tracker, tmp_path: Path) -> None:  # noqa: ANN001
    frame = load_iris(as_frame=True).frame
    with tracker.stage_run("default", "data", name="iris") as rid:
        version = log_dataset_version(tracker, rid, "default", frame, "iris")
    res = _sim(["iris:v1", "--target", "target", "--strategy", "entropy", "--budget", "30", "--seeds", "1"], tmp_path)
    run = tracker.get_run(res["run_id"])
    assert run.stage == "label" and run.tags["workbench.label.kind"] == "simulation"
    assert run.tags["workbench.inputs"] == version.run_id and run.params["strategy"] == "entropy"
    steps = [m.step for m in tracker.client.get_metric_history(res["run_id"], "sim_accuracy")]
    assert sorted(steps) == [p["labels"] for p in res["curve"]]
    assert tracker.load_json(res["run_id"], "simulation.json")["curve"] == res["curve"]


@pytest.mark.parametrize(("args", "message"), [
    (["--target", "nope", "--strategy", "margin"], "target column 'nope'"),
    (["--target", "target", "--strategy", "margin", "--budget", "500"], "larger than"),
    (["--target", "target", "--strategy", "margin", "--init", "50", "--budget", "40"], "must not exceed"),
])
def test_bad_input_exits_2_with_one_line(iris_csv: Path, args: list[str], message: str, capsys) -> None:  # noqa: ANN001
    assert main(["label-sim", str(iris_csv), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]


def test_subprocess_exit_code_and_single_error_line(tmp_path: Path, settings) -> None:  # noqa: ANN001
    bad = tmp_path / "one.csv"
    pd.DataFrame({"x": range(20), "y": [0] * 20}).to_csv(bad, index=False)
    proc = subprocess.run([sys.executable, "-m", "core", "label-sim", str(bad), "--target", "y", "--strategy",
                           "margin", "--budget", "10"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: The target needs at least two classes to simulate labelling; it has 1."]


@pytest.mark.parametrize("strategy", ["density", "expected_change"])
def test_the_new_strategies_and_plain_batches_run_headless(iris_csv: Path, tmp_path: Path, strategy: str) -> None:
    base = [str(iris_csv), "--target", "target", "--budget", "30", "--batch", "10", "--init", "10", "--seeds", "1",
            "--strategy", strategy]
    diverse, plain = _sim(base, tmp_path), _sim([*base, "--no-diverse"], tmp_path)
    assert diverse["strategy"] == strategy and [p["labels"] for p in diverse["curve"]] == [10, 20, 30]
    assert diverse["curve"][0] == plain["curve"][0] == diverse["random"][0]  # same split and starting labels
    assert all(0 <= p["accuracy"] <= 1 for p in diverse["curve"] + plain["curve"])
