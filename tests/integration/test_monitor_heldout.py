"""Model quality's baseline comes from the reference's held-out rows, never from the rows the model learned."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models import spec_from_tags
from core.monitor.check import Table, run_check
from core.monitor.demo import seed_example
from core.monitor.drift import DriftOptions
from core.monitor.heldout import held_out_reference
from core.monitor.service import ModelInput, check_and_record
from core.tracking.datasets import load_dataset, load_split
from core.tracking.models import load_sklearn_model

PROJECT = "heldout"


def _table(n: int, seed: int, noise: float = 0.8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, n), rng.normal(0, 1, n)
    y = np.where(x1 + x2 + rng.normal(0, noise, n) > 0, "yes", "no")  # noisy: a forest memorises its rows
    return pd.DataFrame({"x1": x1, "x2": x2, "y": y})


def _reference(tracker, version) -> Table:
    return Table(load_dataset(tracker, version.run_id), version.label, version.run_id, version.target)


def test_the_quality_baseline_is_scored_on_the_test_rows_only(tracker) -> None:
    version, mv = seed_example(tracker, PROJECT, _table(400, 0), "toy", "y", family="rf")
    reference = _reference(tracker, version)
    model = load_sklearn_model(tracker, mv)
    split = load_split(tracker, version.run_id).to_numpy()
    test_rows, train_rows = reference.frame[split == "test"], reference.frame[split == "train"]
    # hand-checked: accuracy of the model on the rows it was not trained on
    by_hand = float((model.predict(test_rows[["x1", "x2"]]) == test_rows["y"]).mean())
    on_training = float((model.predict(train_rows[["x1", "x2"]]) == train_rows["y"]).mean())
    assert on_training > by_hand + 0.05  # the forest memorised its rows: scoring them would flatter it

    rows = held_out_reference(tracker, reference, mv, "y")
    assert list(rows.frame.index) == list(test_rows.index) and rows.part == "test"
    assert "held-out (test) rows" in rows.note

    batch = Table(_table(300, 5), "new.csv")
    run = check_and_record(tracker, PROJECT, reference, batch, options=DriftOptions(), multivariate=False,
                           model=ModelInput.of(mv, model))
    q = run.result.quality
    assert q.n_reference == len(test_rows) and q.reference == by_hand
    metrics = tracker.client.get_run(run.run_id).data.metrics
    assert metrics["quality.reference_rows"] == len(test_rows)
    assert metrics["quality.reference_accuracy"] == by_hand


def test_the_reference_against_itself_scores_held_out_rows_on_both_sides(tracker) -> None:
    version, mv = seed_example(tracker, PROJECT, _table(400, 1), "toy", "y", family="rf")
    reference = _reference(tracker, version)
    run = check_and_record(tracker, PROJECT, reference, reference, options=DriftOptions(), multivariate=False,
                           model=ModelInput.of(mv, load_sklearn_model(tracker, mv)))
    q = run.result.quality
    n_test = int((load_split(tracker, version.run_id) == "test").sum())
    # the current side loses the training rows too, so the two sides are the same held-out rows
    assert q.n_rows == n_test == q.n_reference and q.drop == 0.0
    assert any("repeat rows" in f for f in run.result.findings)


def test_no_held_out_rows_left_says_so_instead_of_scoring_training_rows(tracker) -> None:
    version, mv = seed_example(tracker, PROJECT, _table(300, 2), "toy", "y", family="rf")
    model = load_sklearn_model(tracker, mv)
    train = load_dataset(tracker, version.run_id, "train")
    as_file = Table(train, "train.csv")  # a file: no recorded split, every row one the model learned
    rows = held_out_reference(tracker, as_file, mv, "y")
    assert rows.empty
    result = run_check(train, _table(200, 3), model=model, spec=spec_from_tags(mv.tags), target="y",
                       task="classification", multivariate=False, quality_reference=rows.frame)
    assert result.quality is None
    sentence = next(f for f in result.findings if f.startswith("Model quality was not checked"))
    assert "no held-out rows" in sentence and sentence.count(". ") <= 2


def test_the_timeline_scores_each_period_on_held_out_rows_and_records_every_check_per_step(tracker) -> None:
    from core.monitor.service import timeline_and_record
    from core.plan.charter import Charter

    frame = _table(800, 4)
    frame["group"] = np.where(np.arange(800) % 2, "a", "b")
    frame["when"] = pd.date_range("2024-01-01", periods=800, freq="D").strftime("%Y-%m-%d")
    version, mv = seed_example(tracker, PROJECT, frame, "dated", "y", family="rf")
    table = _reference(tracker, version)
    charter = Charter(problem="p", target="y", task="classification", metric="accuracy", threshold=0.5,
                      cost_fp=1.0, cost_fn=2.0, protected_column="group", max_gap=0.5)
    timeline, run_id = timeline_and_record(tracker, PROJECT, table, "when", "year", options=DriftOptions(),
                                           model=ModelInput.of(mv, load_sklearn_model(tracker, mv)),
                                           charter=charter)
    split = load_split(tracker, version.run_id).to_numpy()
    years = pd.to_datetime(table.frame["when"]).dt.year.astype(str).to_numpy()
    assert [p.period for p in timeline.points] == ["2025", "2026"] and not timeline.notes
    for p in timeline.points:  # only the period's test rows are scored; the target is not a drifting column
        assert p.scored_rows == int(((years == p.period) & (split == "test")).sum())
        assert "y" not in p.drifted_columns and timeline.summaries[0].n_columns == 3
        assert p.cost_per_row is not None and p.fairness_gap is not None and p.autoencoder_share is not None
    history = {k: tracker.client.get_metric_history(run_id, k) for k in
               ("kpi.cost_per_row", "fairness.gap", "autoencoder.share", "fairness.a")}
    assert all(len(h) == len(timeline.points) for h in history.values())
    assert [h.value for h in history["kpi.cost_per_row"]] == [p.cost_per_row for p in timeline.points]


def test_the_pipelines_check_scores_held_out_rows_and_reports_the_charters_findings(tracker, tmp_path) -> None:
    import os
    import time

    from core.plan.charter import Charter
    from core.plan.stages import check_batch, save_batch

    version, mv = seed_example(tracker, PROJECT, _table(400, 6), "toy", "y", family="rf")
    path = tmp_path / "old_batch.csv"
    _table(200, 7).to_csv(path, index=False)
    old = time.time() - 10 * 86400
    os.utime(path, (old, old))
    batch = save_batch(tracker, PROJECT, path)
    charter = Charter(problem="p", target="y", task="classification", metric="accuracy", threshold=0.5,
                      freshness_days=3, batch_size=500, quality_drop=0.5)
    outcome = check_batch(tracker, PROJECT, batch.run_id, charter)
    assert any(f.startswith("The batch is stale: its file is 10.0 days old") for f in outcome.findings)
    assert any("fewer than the charter's batch size of 500" in f for f in outcome.findings)
    metrics = tracker.client.get_run(outcome.run_id).data.metrics
    n_test = int((load_split(tracker, version.run_id) == "test").sum())
    assert metrics["quality.reference_rows"] == n_test and metrics["charter.stale"] == 1
