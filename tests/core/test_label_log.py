"""The label log: durable appends, killed writers, concurrent processes, latest wins."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import LabelError
from core.label.labellog import CurvePoint, LabelEvent, LabelLog, latest_labels
from core.label.session import cv_accuracy, image_side, label_state, labelled_table, parse_classes, prepare_pool


def _log(tmp_path: Path) -> LabelLog:
    return LabelLog.for_version(tmp_path, "proj", "a" * 32, "label")


def test_write_and_reopen_latest_event_wins(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append([LabelEvent(1, "cat", 1.0, "t1"), LabelEvent(2, "dog", 2.0, "t1")])
    log.append([LabelEvent(1, "dog", 3.0, "t2", "lasso"), LabelEvent(3, None, 4.0, "t1", "skip")])
    again = LabelLog.for_version(tmp_path, "proj", "a" * 32, "label")
    labels, skipped = latest_labels(again.events())
    assert labels == {1: "dog", 2: "dog"} and skipped == {3}


def test_skip_never_erases_a_label_and_a_later_label_clears_the_skip(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append([LabelEvent(1, "cat", 1, "a"), LabelEvent(1, None, 2, "b", "skip"),
                LabelEvent(2, None, 3, "a", "skip"), LabelEvent(2, "dog", 4, "b")])
    assert latest_labels(log.events()) == ({1: "cat", 2: "dog"}, set())


def test_a_killed_writer_loses_only_its_partial_line(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append([LabelEvent(i, "cat", float(i), "t") for i in range(5)])
    with log.path.open("ab") as fh:  # a process killed mid-write: half a JSON line, no newline
        fh.write(b'{"row":99,"label":"d')
    assert [e.row for e in log.events()] == [0, 1, 2, 3, 4]
    log.append([LabelEvent(5, "dog", 6.0, "t")])  # the next writer starts on a fresh line
    assert [e.row for e in log.events()] == [0, 1, 2, 3, 4, 5]
    assert log.path.read_bytes().endswith(b"\n")


def _writer(path: str, worker: int, n: int) -> None:
    log = LabelLog(Path(path))
    for i in range(n):
        log.append([LabelEvent(worker * 10_000 + i, f"w{worker}", float(i), f"proc{worker}")])


def test_two_processes_appending_lose_no_event(tmp_path: Path) -> None:
    log = _log(tmp_path)
    ctx = mp.get_context("fork")  # spawn re-runs __main__, which is a page script after an AppTest in this process
    procs = [ctx.Process(target=_writer, args=(str(log.path), w, 150)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    events = log.events()
    assert len(events) == 300
    assert {e.row for e in events} == {w * 10_000 + i for w in (1, 2) for i in range(150)}
    assert len(log.path.read_text().splitlines()) == 300  # no interleaved or torn lines


def test_curve_and_session_sidecars(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append_curve(CurvePoint(10, 0.5))
    log.append_curve(CurvePoint(20, 0.75), strategy="margin")
    log.write_session({"classes": ["a", "b"]})
    assert log.curve() == [CurvePoint(10, 0.5), CurvePoint(20, 0.75)]
    assert log.session() == {"classes": ["a", "b"]}
    with pytest.raises(LabelError, match="source"):
        log.append([LabelEvent(1, "a", 0, "t", "telepathy")])


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x1": rng.normal(size=30), "x2": rng.normal(size=30), "name": ["n"] * 30,
                         "label": ["a", "b", None] + [None] * 27})


def test_prepare_pool_and_state_overlay_the_log() -> None:
    f = _frame()
    pool = prepare_pool(f, "label", ["x1", "x2"])
    assert pool.classes == ("a", "b") and dict(pool.table_labels) == {0: "a", 1: "b"}
    state = label_state(pool, [LabelEvent(0, "b", 1, "t"), LabelEvent(5, "a", 2, "t"), LabelEvent(99, "a", 3, "t")])
    assert dict(state.labels) == {0: "b", 1: "b", 5: "a"}  # log wins; rows outside the table ignored
    assert state.counts(pool.classes) == {"a": 1, "b": 2}
    assert 0 not in state.unlabelled(pool) and len(state.unlabelled(pool)) == 27


@pytest.mark.parametrize(("change", "kwargs", "message"), [
    (lambda f: f.assign(label=["a"] + [None] * 29), {}, "at least two classes"),
    (lambda f: f.assign(label=["a", "b"] * 15), {}, "already has a label"),
    (lambda f: pd.concat([f, f], ignore_index=True).assign(label=[f"c{i}" for i in range(60)]), {},
     "60 distinct values"),
    (lambda f: f, {"features": ["name"]}, "numeric features only"),
    (lambda f: f, {"features": []}, "No numeric feature"),
    (lambda f: f.assign(x1=[np.nan] + [1.0] * 29), {}, "missing values"),
    (lambda f: f, {"column": "fresh"}, "at least two classes"),
])
def test_bad_set_ups_are_one_sentence(change, kwargs, message) -> None:  # noqa: ANN001
    with pytest.raises(LabelError, match=message):
        prepare_pool(change(_frame()), kwargs.get("column", "label"), kwargs.get("features", ["x1", "x2"]))


def test_new_column_impute_with_consent_and_saved_table() -> None:
    f = _frame().assign(x1=[np.nan] + [1.0] * 29)
    pool = prepare_pool(f, "kind", ["x1", "x2"], parse_classes("cat, dog\ncat"), impute=True)
    assert pool.new_column and pool.classes == ("cat", "dog") and pool.imputed_cells == 1
    assert np.isfinite(pool.X).all()
    table = labelled_table(f, "kind", {3: "cat", 4: "dog"})
    assert table["kind"].tolist() == ["cat", "dog"] and len(table) == 2
    numeric = labelled_table(f.assign(t=np.nan), "t", {1: "3", 2: "4"}, only_labelled=False)
    assert numeric["t"].dropna().tolist() == [3, 4] and len(numeric) == 30


def test_image_side_and_cv_accuracy() -> None:
    assert image_side([f"pixel_{i // 8}_{i % 8}" for i in range(64)]) == 8
    assert image_side([f"feat{i}" for i in range(64)]) is None
    assert image_side([f"feat{i}" for i in range(64)], force=True) == 8
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-3, 0.3, (10, 2)), rng.normal(3, 0.3, (10, 2))])
    y = np.array(["a"] * 10 + ["b"] * 10)
    assert cv_accuracy(X, y) == 1.0
    assert cv_accuracy(X[:3], y[:3]) is None
