"""Seams of the loop found by the Chromium journey (tests/e2e/test_loop.py), pinned on a real SQLite store."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.label.labellog import LabelLog
from core.label.save import save_label_set
from core.tracking.datasets import load_dataset, load_split, log_dataset_version


def test_label_set_keeps_the_data_split_for_the_rows_it_saves(settings, tracker) -> None:  # noqa: ANN001
    """Tune trains on a version's train rows and Compare gates on its test rows: a label set made from a
    split version must carry that split (only the kept rows), not silently become one unsplit table."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=12), "t": ["a", "b"] * 4 + [None] * 4})
    split = pd.Series(["train", "test", "train", "train"] * 3)
    with tracker.stage_run("default", "data", name="pts") as rid:
        version = log_dataset_version(tracker, rid, "default", frame, "pts", split=split, target="t")
    log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "t")
    labels = {i: frame.loc[i, "t"] for i in range(8)} | {9: "a"}  # row 9 labelled, 8/10/11 left empty
    saved = save_label_set(tracker, "default", version, frame, "t", labels, log=log, classes=("a", "b"),
                           features=("x",), strategy="margin", learner="logreg")
    assert saved.version.has_split
    kept = [*range(8), 9]
    assert load_split(tracker, saved.version.run_id).tolist() == split.iloc[kept].tolist()
    test = load_dataset(tracker, saved.version.run_id, "test")
    assert test["x"].tolist() == frame.loc[[i for i in kept if split[i] == "test"], "x"].tolist()

    everything = save_label_set(tracker, "default", version, frame, "t", labels, log=log, classes=("a", "b"),
                                features=("x",), strategy="margin", learner="logreg", only_labelled=False)
    assert load_split(tracker, everything.version.run_id).tolist() == split.tolist()


def test_label_set_of_an_unsplit_version_stays_unsplit(settings, tracker) -> None:  # noqa: ANN001
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "t": ["a", "b", None, None]})
    with tracker.stage_run("default", "data", name="pts") as rid:
        version = log_dataset_version(tracker, rid, "default", frame, "pts")
    log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "t")
    saved = save_label_set(tracker, "default", version, frame, "t", {0: "a", 1: "b", 2: "a"}, log=log,
                           classes=("a", "b"), features=("x",), strategy="margin", learner="logreg")
    assert not saved.version.has_split and load_split(tracker, saved.version.run_id) is None
