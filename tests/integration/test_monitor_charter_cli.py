"""``python -m core monitor`` follows the project charter: its thresholds, data needs, freshness, fairness, cost.

Read back from ``--json`` and from the check run with the plain MlflowClient.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pandas as pd

from core.cli import main
from core.monitor.demo import seed_example
from core.plan.charter import Charter, save_charter

PROJECT = "chartered"


def _table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    group = rng.choice(["a", "b"], n)
    y = np.where(x1 + 0.5 * x2 > 0.3, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "group": group, "y": y})


def _charter(**changes) -> Charter:
    return Charter(problem="Who says yes", target="y", task="classification", metric="accuracy", threshold=0.7,
                   cost_fp=1.0, cost_fn=4.0, positive_class="yes", expected_columns=("x1", "x2", "group", "zip"),
                   batch_size=500, freshness_days=2, protected_column="group", max_gap=0.5, drift_share=0.3,
                   quality_drop=0.2, **changes)


def test_the_charter_sets_the_thresholds_and_its_findings_reach_the_json_and_the_run(tracker, tmp_path,
                                                                                      capsys) -> None:
    _version, mv = seed_example(tracker, PROJECT, _table(400, 0), "toy", "y")
    save_charter(tracker, PROJECT, _charter())
    batch = tmp_path / "batch.csv"
    _table(300, 1, shift=0.3).to_csv(batch, index=False)
    old = time.time() - 5 * 86400
    os.utime(batch, (old, old))  # the file is five days old; the charter wants two
    out_json = tmp_path / "check.json"
    assert main(["--project", PROJECT, "monitor", "--reference", "toy", "--current", str(batch),
                 "--model", f"{mv.name}@champion", "--json", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert "thresholds from the charter: drift share 0.3, quality drop 0.2" in printed
    assert "business KPI: cost per row" in printed and "fairness: accuracy gap" in printed
    assert "autoencoder drift:" in printed

    data = json.loads(out_json.read_text())
    assert data["share_threshold"] == 0.3 and data["quality_drop_threshold"] == 0.2
    assert data["thresholds_from"] == "the charter"
    findings = " ".join(data["findings"])
    assert "expected column(s) zip" in findings and "fewer than the charter's batch size of 500" in findings
    assert "The batch is stale: its file is 5.0 days old" in findings
    assert data["charter"]["stale"] is True and data["charter"]["age_from"] == "file time"
    assert set(data["fairness"]["by_group"]) == {"a", "b"}
    assert data["kpi"]["cost_per_row"] >= 0 and data["kpi"]["n_rows"] == 300
    assert data["autoencoder"]["n_rows"] == 300 and 0 <= data["autoencoder"]["p_value"] <= 1

    run = tracker.client.get_run(tracker.runs(PROJECT, stage="monitor")[0].run_id)
    m, tags, params = run.data.metrics, run.data.tags, run.data.params
    assert m["charter.missing_columns"] == 1 and m["charter.batch_rows_short"] == 1 and m["charter.stale"] == 1
    assert m["kpi.cost_per_row"] == data["kpi"]["cost_per_row"]
    assert m["fairness.gap"] == data["fairness"]["gap"]
    assert m["autoencoder.share"] == data["autoencoder"]["share"] and "autoencoder.p_value" in m
    assert tags["stale_batch"] == "true" and "zip" in tags["charter_findings"]
    assert tags["autoencoder_drift"] in ("true", "false")
    assert params["drift_share_threshold"] == "0.3" and params["thresholds_from"] == "the charter"


def test_command_line_thresholds_override_the_charter_for_one_check(tracker, tmp_path) -> None:
    seed_example(tracker, PROJECT, _table(400, 0), "toy", "y")
    save_charter(tracker, PROJECT, _charter())
    batch = tmp_path / "b.csv"
    _table(200, 2).to_csv(batch, index=False)
    out_json = tmp_path / "c.json"
    assert main(["--project", PROJECT, "monitor", "--reference", "toy", "--current", str(batch),
                 "--drift-share", "0.6", "--json", str(out_json)]) == 0
    data = json.loads(out_json.read_text())
    assert data["share_threshold"] == 0.6 and data["quality_drop_threshold"] == 0.2  # the charter's drop stays
    assert data["thresholds_from"] == "the command line"
