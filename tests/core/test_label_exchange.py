"""Label exchange: CSV and Label Studio JSON round trips; an import is counted before anything is applied."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import LabelError
from core.label import exchange as ex
from core.label.history import HistoryEntry, history_table
from core.label.labellog import LabelEvent, LabelLog, latest_labels

ENTRIES = [HistoryEntry(3, "cat", 1_700_000_000.0, "tab-a", "queue"), HistoryEntry(0, "dog", 0.0, "", "table value")]


@pytest.mark.parametrize("fmt", ["csv", "labelstudio"])
def test_an_export_reads_back_as_the_same_labels(fmt: str) -> None:
    frame = pd.DataFrame({"x": [0.5, np.nan, 2.0, 3.25], "name": ["a", "b", "c", "d"]})
    text = ex.export_csv(ENTRIES) if fmt == "csv" else ex.export_labelstudio(ENTRIES, frame, ["x", "name"])
    preview = ex.read_import(text, fmt, rows=4, classes=["cat", "dog"], current={})
    assert preview.matched == ((0, "dog"), (3, "cat")) and preview.unmatched_rows == 0 and not preview.unknown_classes


def test_the_label_studio_export_is_tasks_with_choices() -> None:
    frame = pd.DataFrame({"x": [0.5, np.nan, 2.0, 3.25]})
    tasks = json.loads(ex.export_labelstudio(ENTRIES, frame, ["x"]))
    assert tasks[1] == {"id": 4, "data": {"row": 3, "x": 3.25}, "annotations": [{
        "result": [{"from_name": "label", "to_name": "row", "type": "choices", "value": {"choices": ["cat"]}}],
        "was_cancelled": False, "created_at": "2023-11-14T22:13:20+00:00", "completed_by": "tab-a"}]}


def test_a_label_studio_file_takes_the_latest_annotation_that_was_not_cancelled() -> None:
    task = {"data": {"row": 1}, "annotations": [
        {"result": [{"type": "choices", "value": {"choices": ["cat"]}}]},
        {"result": [{"type": "choices", "value": {"choices": ["dog"]}}], "was_cancelled": True}]}
    assert ex.read_import(json.dumps([task]), "labelstudio", rows=2, classes=["cat", "dog"],
                          current={}).matched == ((1, "cat"),)


def test_a_bad_import_is_counted_and_nothing_is_applied(tmp_path: Path) -> None:
    text = "row,label\n1,cat\n1,dog\n2,zebra\n99,cat\nabc,cat\n4,\n5,cat\n"
    preview = ex.read_import(text, "csv", rows=10, classes=["cat", "dog"], current={1: "cat", 5: "cat"})
    assert preview.matched == ((1, "dog"), (5, "cat"))  # the file's last entry for a row wins
    assert preview.unmatched_rows == 3 and preview.unknown_classes == {"zebra": 1}
    assert (preview.changed, preview.unchanged) == (1, 1)
    assert "2 label(s) match" in preview.summary and "'zebra' (1)" in preview.summary
    log = LabelLog.for_version(tmp_path, "p", "r" * 32, "label")
    assert not log.path.exists()  # reading wrote nothing
    assert ex.apply_import(log, preview, "me", ts=1.0) == 2
    assert [(e.row, e.label, e.source) for e in log.events()] == [(1, "dog", "import"), (5, "cat", "import")]
    assert ex.apply_import(log, preview, "me", ts=2.0) == 0  # applying twice changes nothing


def test_a_file_that_is_not_a_label_export_is_one_sentence() -> None:
    with pytest.raises(LabelError, match="needs the columns 'row' and 'label'"):
        ex.read_import("id,class\n1,a\n", "csv", rows=3, classes=["a"], current={})
    with pytest.raises(LabelError, match="not valid JSON"):
        ex.read_import("{nope", "labelstudio", rows=3, classes=["a"], current={})


def test_cli_export_then_import_into_another_column(settings, tracker, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from core.cli import main
    from core.tracking.datasets import log_dataset_version

    frame = pd.DataFrame({"x": np.arange(8.0), "kind": ["a", "b"] + [None] * 6})
    with tracker.stage_run("default", "data", name="t") as rid:
        version = log_dataset_version(tracker, rid, "default", frame, "t")
    log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "kind")
    log.append([LabelEvent(4, "b", 1.0, "me"), LabelEvent(5, "a", 2.0, "me"), LabelEvent(5, None, 3.0, "me", "undo")])
    out = tmp_path / "labels.json"
    assert main(["label", "export", version.run_id, str(out), "--column", "kind"]) == 0
    assert sorted(t["data"]["row"] for t in json.loads(out.read_text())) == [0, 1, 4]
    other = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "kind2")
    other.write_session({"classes": ["a", "b"]})
    assert main(["label", "import", version.run_id, str(out), "--column", "kind2"]) == 0
    assert "3 label(s) match" in capsys.readouterr().out and not other.path.exists()  # counted, not applied
    assert main(["label", "import", version.run_id, str(out), "--column", "kind2", "--yes"]) == 0
    assert latest_labels(other.events())[0] == {0: "a", 1: "b", 4: "b"}
    assert history_table(other.events())[0].source == "import"
