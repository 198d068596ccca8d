"""The Monitor stage on a real temporary store: a recorded check and the retraining loop to the gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import MonitorError
from core.monitor.check import Table, load_stored_report, load_table, prepare_current, record_check, run_check
from core.monitor.demo import seed_example
from core.monitor.retrain import RetrainPolicy, load_policy, queue_for_labelling, retrain, save_policy, should_retrain
from core.tracking.datasets import load_dataset
from core.tracking.models import get_model_version, model_versions
from core.tracking.monitor import project_tags


def _table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    color = rng.choice(["red", "blue"], n)
    y = np.where(x1 + 0.5 * x2 + (color == "red") > 0.5, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "y": y})


def test_check_is_recorded_with_lineage(tracker) -> None:
    version, mv = seed_example(tracker, "mon", _table(300, 0), "toy", "y")
    from core.models import spec_from_tags
    from core.tracking.models import load_sklearn_model

    current = _table(200, 1, shift=1.5)
    model = load_sklearn_model(tracker, mv)
    result = run_check(load_dataset(tracker, version.run_id), current, model=model, spec=spec_from_tags(mv.tags),
                       target="y", task="classification")
    assert result.drift.column("x1").drifted and result.prediction is not None and result.quality is not None
    from core.monitor.quality import labelled_predictions

    lp = labelled_predictions(model, spec_from_tags(mv.tags), "y", current)
    assert list(lp.columns) == ["y", "prediction"] and len(lp) == 200 and set(lp["prediction"]) <= {"yes", "no"}
    ref = load_table(tracker, "mon", "toy:v1")
    run_id = record_check(tracker, "mon", result, reference=ref, current=Table(current, "upload.csv"),
                          model_run=mv.run_id, model_label=mv.label, html="<html>report</html>", report_json="{}")
    run = tracker.get_run(run_id)
    assert run.stage == "monitor" and set(run.inputs) == {version.run_id, mv.run_id}
    assert run.metrics["drift_share"] == pytest.approx(result.drift.drift_share)
    assert run.metrics["n_drifted"] == result.drift.n_drifted and "drift.x1.score" in run.metrics
    assert run.tags["dataset_drift"] == str(result.drift.dataset_drift).lower()
    assert load_stored_report(tracker, run_id) == "<html>report</html>"
    note = prepare_current(tracker, version.run_id, current)[1]
    assert "no cleaning recipe" in note


def test_retrain_loop_reaches_the_gate(tracker) -> None:
    version, champion = seed_example(tracker, "loop", _table(240, 0), "toy", "y")
    save_policy(tracker, "loop", RetrainPolicy(max_drift_share=0.3, n_trials=2))
    assert load_policy(tracker, "loop").n_trials == 2
    assert "workbench.retrain_policy" in project_tags(tracker, "loop")

    calm = retrain(tracker, "loop", current=_table(120, 5).drop(columns="y"), if_drift=True)
    assert not calm.triggered and tracker.get_run(calm.run_id).tags["workbench.retrain.decision"] == "skipped"

    drifted = _table(150, 7, shift=2.0)  # labelled and shifted
    result = retrain(tracker, "loop", current=drifted, if_drift=True)
    assert result.triggered and "drift share" in result.reason
    assert result.challenger is not None and result.challenger.version > champion.version
    assert result.decision is not None and result.decision.run_id
    gate = tracker.get_run(result.decision.run_id)
    assert gate.stage == "compare" and gate.tags["workbench.gate.decision"] in ("passed", "refused")
    run = tracker.get_run(result.run_id)
    assert run.stage == "retrain" and run.tags["workbench.retrain.decision"] in ("promoted", "refused")
    assert result.decision.run_id in run.inputs and champion.run_id in run.inputs
    data = load_dataset(tracker, result.data_version)
    assert len(data) == 240 + 150  # reference + newly labelled rows
    from core.tracking.datasets import load_split

    split = load_split(tracker, result.data_version)
    assert (split.iloc[240:] == "test").sum() == 30  # 20 % of the new rows are held out for the gate
    aliases = {a for mv in model_versions(tracker, "loop-y") for a in mv.aliases}
    assert "champion" in aliases
    new = get_model_version(tracker, "loop-y", result.challenger.version)
    assert ("champion" in new.aliases) == result.decision.passed
    assert new.tags["workbench.family"] == "linear"
    assert result.decision.metric == "accuracy" and result.decision.test is not None


def test_retrain_on_a_batch_repeating_the_reference_scores_only_held_out_rows(tracker) -> None:
    """A batch that repeats the reference's rows: counted, and the gate never scores a row a model trained on."""
    from core.tracking.models import set_promotion_metric

    reference = _table(240, 0)
    version, champion = seed_example(tracker, "dup", reference, "toy", "y")
    set_promotion_metric(tracker, champion.name, "f1_macro")  # the champion was promoted on F1
    save_policy(tracker, "dup", RetrainPolicy(n_trials=2, gate_metric="accuracy"))
    batch = pd.concat([reference.head(100), _table(50, 9)], ignore_index=True)
    result = retrain(tracker, "dup", current=batch)
    assert result.triggered and result.decision is not None
    assert result.decision.metric == "f1_macro"  # the promotion metric, not the policy's accuracy
    run = tracker.get_run(result.run_id)
    assert run.metrics["new_rows_repeating_reference"] == 100
    assert result.decision.removed_rows > 0  # repeated reference test rows are training rows of the challenger
    assert result.decision.challenger_score < 1.0 or result.decision.cautions


def test_policy_rules_and_label_queue(tracker) -> None:
    p = RetrainPolicy(interval_days=7, max_drift_share=0.5, max_quality_drop=0.05)
    assert should_retrain(p, drift_share=0.6)[0]
    assert should_retrain(p, quality_drop=0.1)[0]
    assert not should_retrain(p, drift_share=0.1, last_retrain_ms=1_000, now_ms=1_000 + 86_400_000)[0]
    assert should_retrain(p, last_retrain_ms=0, now_ms=8 * 86_400_000)[0]
    with pytest.raises(MonitorError, match="trial budget"):
        RetrainPolicy(n_trials=0)
    with pytest.raises(MonitorError, match="no champion"):
        retrain(tracker, "nothing-here")
    rid = queue_for_labelling(tracker, "q", _table(10, 1), "y", "to-label")
    queued = load_dataset(tracker, rid)
    assert len(queued) == 10 and queued["y"].isna().all()


def test_reference_recipe_is_replayed_on_a_raw_batch(tracker) -> None:
    """The Data stage's recipe (drop a column, impute with the reference's median) runs on the current batch."""
    import json

    from core.data.recipe import Recipe, Step, replay
    from core.data.versions import save_version

    raw = _table(200, 0)
    raw["junk"] = "x"
    raw.loc[:9, "x1"] = np.nan
    fitted = replay(raw, Recipe((Step("drop_columns", {"columns": ["junk"]}), Step("impute", {"columns": ["x1"]}))),
                    mode="fit")
    from core.data.prepare import prepare_version

    prepared = prepare_version(raw, fitted.recipe.unfitted(), target="y")
    fitted = prepared.replayed
    saved = save_version(tracker, "rec", name="toy", raw=raw, cleaned=prepared.frame, split=prepared.split,
                         recipe_json=json.loads(prepared.recipe.to_json()), target="y")
    batch = _table(50, 3)
    batch["junk"] = "y"
    batch.loc[:4, "x1"] = np.nan
    frame, note = prepare_current(tracker, saved.cleaned.run_id, batch)
    assert "Replayed" in note and "junk" not in frame.columns
    assert frame["x1"].notna().all()
    learned = next(st.fitted for st in prepared.recipe.steps if st.kind == "impute")["values"]["x1"]
    train = prepared.split == "train"
    assert learned == pytest.approx(raw.loc[train.index[train], "x1"].median())  # the training rows' median
    assert frame.loc[0, "x1"] == pytest.approx(learned)
    assert prepare_current(tracker, saved.cleaned.run_id, batch, raw=False)[0] is batch
