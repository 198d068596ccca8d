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


def test_retrain_cleans_a_raw_batch_file_and_skips_raw_versions(tmp_path, settings, tracker, capsys) -> None:
    """A raw CSV batch goes through the training data's recipe before it joins it (it used to join raw: every
    cleaned feature missing), and without --current the raw table behind the champion is not taken as a batch."""
    from core.monitor.retrain import RetrainPolicy, save_policy
    from core.tracking.datasets import load_dataset
    from tests.integration.deploy_fixtures import recipe_case, seed_recipe_model

    champion = seed_recipe_model(tracker, "linear", "classification", project="rt")
    save_policy(tracker, "rt", RetrainPolicy(n_trials=2))
    reference = load_dataset(tracker, champion.tags["workbench.data_version"])
    batch = recipe_case("classification", n=60)[0].iloc[::2]  # 30 new raw rows, labelled
    path = tmp_path / "batch.csv"
    batch.to_csv(path, index=False)

    assert main(["--project", "rt", "retrain", "--current", str(path)]) == 0
    out = capsys.readouterr()
    assert "Replayed the reference's cleaning recipe" in out.err
    run = tracker.runs("rt", stage="retrain")[0]
    data = load_dataset(tracker, _retrain_data(tracker, run))
    features = json.loads(champion.tags["workbench.features"])
    assert len(data) == len(reference) + 30
    assert data[features].tail(30).notna().all().all()  # the new rows have every cleaned feature

    assert main(["--project", "rt", "retrain"]) == 0  # newest versions: the retrain set and the raw table
    assert "new batch:" not in capsys.readouterr().err


def _retrain_data(tracker, run) -> str:  # noqa: ANN001
    """The training-set version a retrain run wrote (one of its inputs, a data run named 'retrain data …')."""
    return next(r for r in run.inputs if tracker.get_run(r).name.startswith("retrain data"))


def test_full_evidently_report_leaves_out_a_column_whose_type_differs(tmp_path, settings, tracker, capsys) -> None:
    """Dates are datetimes in a saved version but text in any CSV batch: the report is built without that column
    (a plain Evidently report fails with a validation error nobody can act on)."""
    from core.tracking.datasets import log_dataset_version

    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=300, freq="D"), "a": rng.normal(0, 1, 300),
                        "c": rng.choice(list("xyz"), 300)})
    with tracker.stage_run("rep", "data", name="ref") as rid:
        log_dataset_version(tracker, rid, "rep", ref, "daily")
    cur = ref.assign(a=rng.normal(0.5, 1, 300), when=ref["when"].dt.strftime("%Y-%m-%d"))
    cur.to_csv(tmp_path / "batch.csv", index=False)
    html = tmp_path / "report.html"
    assert main(["--project", "rep", "monitor", "--reference", "daily", "--current", str(tmp_path / "batch.csv"),
                 "--html", str(html)]) == 0
    assert len(html.read_text()) > 50_000 and "drift" in html.read_text().lower()
    assert "the Evidently report leaves out when" in capsys.readouterr().err


def test_a_batch_that_lost_a_column_fails_the_ci_gate_and_a_tiny_batch_is_flagged(tmp_path, settings, capsys) -> None:
    ref, cur = _files(tmp_path, 0.0)
    pd.read_parquet(cur).drop(columns="b").to_parquet(tmp_path / "lost.parquet", index=False)
    code = main(["monitor", "--reference", ref, "--current", str(tmp_path / "lost.parquet"), "--fail-on-drift",
                 "--no-record"])
    out = capsys.readouterr()
    assert code == 3 and "failing: the batch lacks b" in out.err
    pd.read_parquet(cur).head(12).to_parquet(tmp_path / "tiny.parquet", index=False)
    assert main(["monitor", "--reference", ref, "--current", str(tmp_path / "tiny.parquet"), "--no-record"]) == 0
    assert "only 12 rows" in capsys.readouterr().out
