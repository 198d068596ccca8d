"""Seams of the Monitor page found by an outsider's tour, pinned on a real SQLite store.

1. A label set keeps its source version's recipe but not its raw rows: the "raw units" view of a label set
   must not be its source's whole raw table (it drew the 344-row penguins table for a 10-row label set).
2. A batch that shares no column with the reference cannot be tested at all: one sentence, no "no drift"
   verdict and no monitor run recorded.
"""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.versions import save_version
from core.errors import MonitorError
from core.label.labellog import LabelLog
from core.label.save import save_label_set
from core.monitor.check import Table
from core.monitor.drift import DriftOptions
from core.monitor.records import monitor_runs
from core.monitor.service import check_and_record, raw_table
from core.tracking.datasets import load_dataset

PROJECT = "tour"


def _saved(tracker):  # noqa: ANN001, ANN202
    raw = pd.DataFrame({"a": ["1", "NA", "3", "4"] * 10, "b": ["x", "y", "z", "z"] * 10})
    cleaned = pd.DataFrame({"a": [1.0, None, 3.0, 4.0] * 10, "b": ["x", "y", "z", "z"] * 10})
    recipe = {"version": 1, "steps": [{"kind": "missing_tokens", "params": {"tokens": ["NA"]}}]}
    split = pd.Series(["train", "train", "train", "test"] * 10)
    return raw, save_version(tracker, PROJECT, name="toy", raw=raw, cleaned=cleaned, recipe_json=recipe,
                             split=split, target="b")


def test_a_label_set_has_no_raw_view_of_its_source_s_whole_table(settings, tracker) -> None:  # noqa: ANN001
    raw, saved = _saved(tracker)
    frame, why = raw_table(tracker, saved.cleaned.run_id)  # the cleaned version: its own raw table
    pd.testing.assert_frame_equal(frame, raw)
    assert why == ""

    source = load_dataset(tracker, saved.cleaned.run_id)
    log = LabelLog.for_version(settings.labels_dir, PROJECT, saved.cleaned.run_id, "lab")
    framed = source.assign(lab=None)
    labels = {i: ("p" if i % 2 else "q") for i in range(6)}
    labelled = save_label_set(tracker, PROJECT, saved.cleaned, framed, "lab", labels, log=log, classes=("p", "q"),
                              features=("a",), strategy="margin", learner="logreg")
    frame, why = raw_table(tracker, labelled.version.run_id)
    assert frame is None
    assert why.startswith(f"{labelled.version.label} was made from {saved.cleaned.label}") and "cleaned view" in why


def test_a_batch_sharing_no_column_is_one_sentence_and_no_run(tracker) -> None:  # noqa: ANN001
    _raw, saved = _saved(tracker)
    reference = Table(load_dataset(tracker, saved.cleaned.run_id), saved.cleaned.label, saved.cleaned.run_id, "b")
    before = len(monitor_runs(tracker, PROJECT))
    other = Table(pd.DataFrame({"temp": [1.0, 2.0, 3.0] * 20, "wind": [0.5, 0.1, 0.2] * 20}), "weather.csv")
    with pytest.raises(MonitorError, match=r"^The current batch shares no column with the reference"):
        check_and_record(tracker, PROJECT, reference, other, options=DriftOptions(), multivariate=False)
    assert len(monitor_runs(tracker, PROJECT)) == before

    same = Table(reference.frame.copy(), "again.csv")  # the path still records a check that can run
    run = check_and_record(tracker, PROJECT, reference, same, options=DriftOptions(), multivariate=False)
    assert run.run_id and len(monitor_runs(tracker, PROJECT)) == before + 1
