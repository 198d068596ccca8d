"""``python -m core monitor`` / ``retrain`` exit codes and outputs (in-process, real files and store)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core.cli import main


def _files(tmp_path, shift: float):
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"a": rng.normal(0, 1, 400), "b": rng.normal(0, 1, 400), "c": rng.choice(list("xyz"), 400)})
    cur = pd.DataFrame({"a": rng.normal(shift, 1, 300), "b": rng.normal(shift, 1, 300), "c": rng.choice(list("xyz"), 300)})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_parquet(tmp_path / "cur.parquet", index=False)
    return str(tmp_path / "ref.csv"), str(tmp_path / "cur.parquet")


def test_monitor_files_fail_on_drift(tmp_path, settings, capsys) -> None:
    ref, cur = _files(tmp_path, 1.0)
    out = tmp_path / "drift.json"
    code = main(["monitor", "--reference", ref, "--current", cur, "--json", str(out), "--fail-on-drift"])
    assert code == 3
    data = json.loads(out.read_text())
    assert data["dataset_drift"] is True and data["drift_share"] == 2 / 3
    assert {c["name"]: c["drifted"] for c in data["columns"]} == {"a": True, "b": True, "c": False}
    assert set(data["columns"][0]) >= {"name", "test", "statistic", "threshold", "drifted"}
    assert main(["monitor", "--reference", ref, "--current", cur]) == 0  # no --fail-on-drift → 0


def test_monitor_no_drift_and_recorded(tmp_path, settings, tracker) -> None:
    ref, cur = _files(tmp_path, 0.0)
    assert main(["--project", "cli", "monitor", "--reference", ref, "--current", cur, "--fail-on-drift"]) == 0
    runs = tracker.runs("cli", stage="monitor")
    assert len(runs) == 1 and runs[0].tags["dataset_drift"] == "false"


def test_bad_input_is_one_error_line(tmp_path, settings, capsys) -> None:
    ref, _ = _files(tmp_path, 0.0)
    assert main(["monitor", "--reference", ref, "--current", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "missing.csv" in err[0]
    assert main(["monitor", "--reference", ref, "--current", "nope:v9"]) == 2
    assert main(["monitor", "--reference", ref, "--current", ref, "--method", "bogus"]) == 2
    (tmp_path / "empty.csv").write_text("a,b,c\n")
    assert main(["monitor", "--reference", ref, "--current", str(tmp_path / "empty.csv")]) == 2
    assert "no rows" in capsys.readouterr().err
    assert main(["retrain", "--project", "none"]) == 2
    assert "no champion" in capsys.readouterr().err
