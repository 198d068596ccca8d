"""Save label set → an MLflow `label` run on a real SQLite store, with lineage and every artifact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import LabelError
from core.label.embed import embedding_path, save_embedding
from core.label.labellog import CurvePoint, LabelEvent, LabelLog
from core.label.save import save_label_set
from core.label.session import label_state, prepare_pool
from core.tracking.datasets import dataset_versions, load_dataset, log_dataset_version


def _version(tracker):  # noqa: ANN001, ANN202
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=40), "y": rng.normal(size=40), "t": [1.0, 2.0] + [np.nan] * 38})
    with tracker.stage_run("default", "data", name="pts") as rid:
        return frame, log_dataset_version(tracker, rid, "default", frame, "pts")


def test_save_writes_version_log_counts_curve_params_and_embedding(settings, tracker) -> None:  # noqa: ANN001
    frame, version = _version(tracker)
    pool = prepare_pool(frame, "t", ["x", "y"], ["3"])
    log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "t")
    log.append([LabelEvent(5, "3", 1.0, "tab"), LabelEvent(6, "2", 2.0, "tab", "lasso"),
                LabelEvent(0, "3", 3.0, "tab")])  # relabels a table value
    log.append_curve(CurvePoint(4, 0.5))
    log.append_curve(CurvePoint(5, 0.8))
    emb = save_embedding(embedding_path(settings.cache_dir, version.run_id, pool.features), np.zeros((40, 2)))
    state = label_state(pool, log.events())
    saved = save_label_set(tracker, "default", version, frame, "t", state.labels, log=log, classes=pool.classes,
                           features=pool.features, strategy="margin", learner="rf", curve=log.curve(),
                           embedding=emb)

    assert saved.labelled == 4 and dict(saved.counts) == {"1": 0, "2": 2, "3": 2}
    run = tracker.get_run(saved.run_id)
    assert run.stage == "label" and run.tags["workbench.inputs"] == version.run_id
    assert run.params["strategy"] == "margin" and run.params["learner"] == "rf"
    assert run.metrics["labels.3"] == 2 and run.metrics["labels_total"] == 4
    history = tracker.client.get_metric_history(saved.run_id, "label_accuracy")
    assert sorted((m.step, m.value) for m in history) == [(4, 0.5), (5, 0.8)]
    arts = set(tracker.list_artifacts(saved.run_id, "labels")) | set(tracker.list_artifacts(saved.run_id, "embedding"))
    assert {f"labels/{log.path.name}", f"labels/{log.curve_path.name}", f"embedding/{emb.name}"} <= arts

    versions = dataset_versions(tracker, "default", "pts-labels")
    assert [v.version for v in versions] == [1] and versions[0].target == "t"
    table = load_dataset(tracker, saved.version.run_id)
    assert len(table) == 4 and table["t"].tolist() == [3, 2, 3, 2]  # rows 0, 1, 5, 6; numeric column stays numeric
    assert table[["x", "y"]].to_numpy() == pytest.approx(frame.loc[[0, 1, 5, 6], ["x", "y"]].to_numpy())


def test_nothing_to_save_is_one_sentence(settings, tracker) -> None:  # noqa: ANN001
    frame, version = _version(tracker)
    log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "t")
    with pytest.raises(LabelError, match="no labels to save"):
        save_label_set(tracker, "default", version, frame, "t", {}, log=log, classes=("1", "2"), features=("x",),
                       strategy="margin", learner="logreg")
