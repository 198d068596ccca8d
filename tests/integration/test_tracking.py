"""Tracking on a real temporary SQLite MLflow store."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import TrackingError
from core.tracking.datasets import dataset_versions, load_dataset, log_dataset_version, resolve_dataset
from core.tracking.models import get_model_version, log_sklearn_model, model_versions, register_model, set_alias


def test_project_and_stage_run_with_lineage(tracker) -> None:
    a = tracker.start_run("p1", "data", name="raw")
    tracker.end_run(a)
    with tracker.stage_run("p1", "label", inputs=[a], params={"k": 3}) as b:
        tracker.log_metrics(b, {"acc": 0.5})
    runs = tracker.runs("p1")
    assert {r.run_id for r in runs} == {a, b}
    chain = tracker.lineage(b)
    assert [r.run_id for r in chain] == [b, a]
    assert chain[0].stage == "label" and chain[0].params["k"] == "3"
    assert "p1" in tracker.projects()


def test_failed_stage_run_is_marked_failed(tracker) -> None:
    with pytest.raises(ValueError), tracker.stage_run("p1", "tune") as rid:
        raise ValueError("boom")
    assert tracker.get_run(rid).status == "FAILED"


def test_unknown_stage_and_run_are_clear_errors(tracker) -> None:
    with pytest.raises(TrackingError, match="stage must be one of"):
        tracker.start_run("p1", "nope")
    with pytest.raises(TrackingError, match="No MLflow run"):
        tracker.get_run("0" * 32)


def test_dataset_versions_round_trip(tracker) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": ["a", "b", "a", "b"]})
    split = pd.Series(["train", "train", "train", "test"])
    with tracker.stage_run("p", "data") as rid:
        v1 = log_dataset_version(tracker, rid, "p", frame, "toy table", split=split, target="y")
    with tracker.stage_run("p", "data", inputs=[rid]) as rid2:
        v2 = log_dataset_version(tracker, rid2, "p", frame.head(2), "toy table")
    assert (v1.name, v1.version, v1.rows, v1.has_split, v1.target) == ("toy-table", 1, 4, True, "y")
    assert v2.version == 2 and v2.rows == 2
    assert [v.version for v in dataset_versions(tracker, "p")] == [2, 1]
    assert resolve_dataset(tracker, "p", "toy-table").run_id == rid2
    assert resolve_dataset(tracker, "p", "toy-table:v1").run_id == rid
    assert resolve_dataset(tracker, "p", rid).version == 1
    pd.testing.assert_frame_equal(load_dataset(tracker, rid), frame)
    assert len(load_dataset(tracker, rid, "train")) == 3
    assert load_dataset(tracker, rid, "test")["x"].tolist() == [4.0]
    with pytest.raises(TrackingError, match="no test split"):
        load_dataset(tracker, rid2, "test")
    with pytest.raises(TrackingError, match="Known versions"):
        resolve_dataset(tracker, "p", "toy-table:v9")
    run = tracker.client.get_run(rid)
    assert run.inputs.dataset_inputs[0].dataset.digest


def test_model_register_alias_and_load(tracker) -> None:
    from sklearn.ensemble import RandomForestClassifier

    from core.models import build_pipeline, feature_spec, prepare_xy
    from core.tracking.models import load_sklearn_model

    frame = pd.DataFrame({"a": range(40), "b": ["x", "y"] * 20, "t": [0, 1] * 20})
    from core.errors import DataError

    with pytest.raises(DataError, match="Left out as leaks: 'a', 'b'"):  # a row number and a copy of the target
        feature_spec(frame, "t")
    spec = feature_spec(frame, "t", ["a", "b"])  # named explicitly: used
    X, y = prepare_xy(frame, "t", spec)
    model = build_pipeline("rf", "classification", spec, {"n_estimators": 5}).fit(X, y)
    assert isinstance(model.named_steps["model"], RandomForestClassifier)
    with tracker.stage_run("p", "tune") as rid:
        log_sklearn_model(tracker, rid, model, X)
        mv = register_model(tracker, "p", rid, tags={"workbench.target": "t"})
    set_alias(tracker, "p", "champion", mv.version)
    found = get_model_version(tracker, "p", "champion")
    assert found.version == mv.version and found.aliases == ("champion",)
    assert model_versions(tracker, "p")[0].tags["workbench.target"] == "t"
    loaded = load_sklearn_model(tracker, found)
    assert (loaded.predict(X) == model.predict(X)).all()
