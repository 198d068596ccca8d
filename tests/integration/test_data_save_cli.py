"""``python -m core save`` makes what Save version makes: raw + cleaned runs, fitted recipe, profile, held-out part.

The recipe learns (impute, scale) and carries its split step LAST: the saved version's learned values must
be the ones of its training rows, the target must be untouched, and the leaky columns named.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _table(path: Path) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 120
    frame = pd.DataFrame({"row_id": np.arange(n) + 1, "x": rng.normal(10, 3, n).round(3),
                          "y": rng.choice(["a", "b"], n)})
    frame.loc[::9, "x"] = np.nan
    frame["y_code"] = frame["y"].map({"a": 0, "b": 1})  # a relabelled copy of the target: a leak
    frame.to_csv(path, index=False)
    return frame


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"WORKBENCH_HOME": str(home), "PATH": "/usr/bin:/bin", "MLFLOW_DISABLE_TELEMETRY": "true"}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture()
def home(settings) -> Path:  # noqa: ANN001 - the migrated template store, copied
    return settings.home


def test_save_writes_two_linked_runs_with_a_held_out_part_fitted_on_training_rows(home: Path, tracker,
                                                                                 tmp_path: Path) -> None:
    from core.data.versions import load_recipe_json, raw_input_of
    from core.tracking.datasets import load_dataset, load_split, resolve_dataset

    raw = _table(tmp_path / "toy.csv")
    recipe = {"version": 1, "steps": [{"kind": "impute", "params": {"strategy": "mean"}},
                                      {"kind": "scale", "params": {"method": "zscore"}},
                                      {"kind": "split", "params": {"method": "stratified", "target": "y",
                                                                   "test_size": 0.25, "seed": 4}}]}
    (tmp_path / "recipe.json").write_text(json.dumps(recipe))
    out = _run(home, "save", str(tmp_path / "toy.csv"), "--name", "toy", "--recipe", str(tmp_path / "recipe.json"),
               "--target", "y", "--json", str(tmp_path / "saved.json"))
    assert out.returncode == 0, out.stderr
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert (saved["train_rows"], saved["test_rows"]) == (90, 30)
    assert "y_code" in saved["excluded_features"] and "row_id" in saved["excluded_features"]
    version = resolve_dataset(tracker, "default", "toy")
    assert version.has_split and version.target == "y"
    assert raw_input_of(tracker, version.run_id) == saved["raw_run_id"]  # the raw half, linked
    stored = load_recipe_json(tracker, version.run_id)
    split = load_split(tracker, version.run_id)
    train_raw = raw[split.to_numpy() == "train"]
    assert stored["steps"][0]["fitted"]["values"]["x"] == pytest.approx(train_raw["x"].mean())  # train rows only
    mean, std = stored["steps"][1]["fitted"]["stats"]["x"]
    filled = raw["x"].fillna(train_raw["x"].mean())
    assert mean == pytest.approx(filled[split.to_numpy() == "train"].mean())
    assert "y" not in stored["steps"][1]["fitted"]["stats"]  # the target is never scaled
    test = load_dataset(tracker, version.run_id, "test")
    assert len(test) == 30 and set(test["y"]) == {"a", "b"}
    # the same file again: the raw run is reused, a new cleaned version is made
    again = _run(home, "save", str(tmp_path / "toy.csv"), "--name", "toy", "--target", "y")
    assert again.returncode == 0 and "(reused)" in again.stdout and "toy v2" in again.stdout


BAD = [
    (("--target", "nope"), "The target 'nope' is not a column of the raw table."),
    (("--split", "time"), "A time split needs the time column"),
    (("--test-size", "1.5"), "--test-size must be between 0 and 1"),
    (("--recipe", "missing.json"), "The recipe file 'missing.json' does not exist."),
]


def test_save_bad_input_is_one_sentence(home: Path, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _table(tmp_path / "toy.csv")
    with ThreadPoolExecutor(4) as pool:  # each case pays the imports: run them side by side
        outs = list(pool.map(lambda case: _run(home, "save", str(tmp_path / "toy.csv"), *case[0]), BAD))
    for (args, fragment), out in zip(BAD, outs, strict=True):
        assert out.returncode == 2, args
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], out.stderr
