"""AppTest of the Label page on a seeded dataset version (real SQLite store, real label log)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.label.labellog import LabelLog
from core.tracking.datasets import log_dataset_version
from tests.ui.conftest import app_test


def _seed(tracker, frame: pd.DataFrame, name: str = "blobs"):  # noqa: ANN001, ANN202
    with tracker.stage_run("default", "data", name=name) as rid:
        return log_dataset_version(tracker, rid, "default", frame, name)


def _blobs(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-3, 0.5, n // 2), rng.normal(3, 0.5, n // 2)]
    kind = pd.Series([None] * n, dtype=object)
    kind[[0, 1, n // 2, n // 2 + 1]] = ["left", "left", "right", "right"]
    return pd.DataFrame({"x": x, "y": rng.normal(size=n), "kind": kind})


def _shown(at) -> int:  # noqa: ANN001
    """The row on screen (the class keys act on it)."""
    return int(at.session_state["label_cursor"])


def _run(at):  # noqa: ANN001, ANN202
    at.session_state["label_no_warmup"] = True
    return at.run()


def test_empty_project_points_to_data(settings) -> None:  # noqa: ANN001
    at = _run(app_test("pages/label.py"))
    assert not at.exception
    assert any("no dataset version" in i.value for i in at.info)


def test_queue_click_is_durable_and_updates_progress(settings, tracker) -> None:  # noqa: ANN001
    version = _seed(tracker, _blobs())
    at = _run(app_test("pages/label.py"))
    assert not at.exception, at.exception
    assert at.selectbox(key=f"label_{version.run_id[:8]}_col").value == "kind"
    buttons = [b for b in at.button if b.key and b.key.startswith("label_btn_") and b.label == "left"]
    assert len(buttons) == 1  # one row on screen at a time, the batch behind it
    row = _shown(at)
    assert len(at.session_state["label_batch"]["ranking"].rows) == 20  # the batch of 10 and 10 to bridge a refit
    buttons[0].click().run()
    assert not at.exception
    log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "kind")
    events = log.events()
    assert [(e.row, e.label, e.source) for e in events] == [(row, "left", "queue")]
    assert _shown(at) != row  # the next row of the batch is on screen
    assert log.session()["classes"] == ["left", "right"]
    # A fresh session (a reload) sees the label: it comes from the log, not from session state.
    again = app_test("pages/label.py")
    again.session_state["label_tab"] = "Progress"
    _run(again)
    labelled = [m for m in again.metric if m.label == "Labelled"][0]
    assert labelled.value == "5"  # 4 from the table + 1 from the log

    # a newer version appears (e.g. a retraining set): a reload still opens the version being labelled
    _seed(tracker, _blobs(40), name="newer")
    reopened = _run(app_test("pages/label.py"))
    assert not reopened.exception
    assert reopened.selectbox(key="label_dataset").value.run_id == version.run_id


def test_a_new_label_column_without_classes_asks_for_them_without_an_error(settings, tracker) -> None:  # noqa: ANN001
    _seed(tracker, _blobs().drop(columns="kind"))
    at = _run(app_test("pages/label.py"))
    assert not at.exception and not at.error
    assert any("type at least two class names" in i.value for i in at.info)


def test_finishing_a_batch_adds_a_learning_curve_point(settings, tracker) -> None:  # noqa: ANN001
    version = _seed(tracker, _blobs())
    at = app_test("pages/label.py")
    at.session_state["label_no_warmup"] = True
    at.session_state[f"label_{version.run_id[:8]}_batch"] = 3
    at.run()
    first = at.session_state["label_batch"]["ranking"]
    for _ in range(3):
        row = _shown(at)
        label = "left" if float(_blobs()["x"][row]) < 0 else "right"
        at.button(key=f"label_btn_{label}").click().run()
        assert not at.exception, at.exception
    # the round (refit, next ranking, curve point) runs in the background; the queue goes on meanwhile
    assert _shown(at) in first.rows[3:]
    at.session_state["label_round"]["future"].result(timeout=60)
    curve = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "kind").curve()
    assert [p.labels for p in curve] == [7] and 0.5 <= curve[0].accuracy <= 1.0
    at.run()
    status = next(m.value for m in at.markdown if "Batch:" in m.value)
    assert "0 of 3" in status  # the next batch is open …
    assert "New ranking swapped in" in status and "7 labels" in status  # … and the page says where it came from


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"x": np.arange(30.0), "kind": ["a"] * 3 + [None] * 27}), "at least two classes"),
    (pd.DataFrame({"x": [np.nan] + list(np.arange(29.0)), "kind": ["a", "b"] + [None] * 28}), "missing values"),
    (pd.DataFrame({"name": ["n"] * 30, "kind": ["a", "b"] + [None] * 28}), "No numeric feature"),
])
def test_bad_input_is_one_sentence(settings, tracker, frame: pd.DataFrame, message: str) -> None:  # noqa: ANN001
    _seed(tracker, frame)
    at = _run(app_test("pages/label.py"))
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_save_label_set_from_the_page(settings, tracker) -> None:  # noqa: ANN001
    version = _seed(tracker, _blobs())
    at = _run(app_test("pages/label.py"))
    assert not [b for b in at.button if b.key == "label_save"]  # a closed tab does not run
    at.session_state["label_tab"] = "Save"
    at.run()
    at.button(key="label_save").click().run()
    assert not at.exception, at.exception
    assert any("Saved 4 labels" in s.value for s in at.success)
    from core.tracking.datasets import dataset_versions

    saved = dataset_versions(tracker, "default", "blobs-labels")
    assert len(saved) == 1 and saved[0].rows == 4 and saved[0].target == "kind"
    assert tracker.get_run(saved[0].run_id).tags["workbench.inputs"] == version.run_id


def test_a_wide_row_is_shown_whole_as_a_feature_value_table() -> None:
    from ui.label import row_table

    cols = [f"f{i}" for i in range(40)]
    frame = pd.DataFrame([np.arange(40, dtype=float) / 3, np.arange(40, dtype=float)], columns=cols)
    frame.loc[1, "f39"] = np.nan
    frame["city"] = ["Oslo", None]
    table = row_table(frame, 1, (*cols, "city"))
    assert list(table.index) == [*cols, "city"] and table.index.name == "row 1"  # every feature, last ones too
    assert table.loc["f2", "value"] == "2" and table.loc["f39", "value"] == "—" and table.loc["city", "value"] == "—"
    assert row_table(frame, 0, ("f1",)).loc["f1", "value"] == "0.333333"


def _queued(at) -> list[int]:  # noqa: ANN001
    return sorted(at.session_state["label_batch"]["ranking"].rows)


def test_two_sessions_get_different_rows_and_a_stale_click_asks_before_overwriting(settings, tracker) -> None:  # noqa: ANN001
    from core.label.labellog import LabelEvent, latest_labels

    version = _seed(tracker, _blobs())
    first, second = _run(app_test("pages/label.py")), _run(app_test("pages/label.py"))
    assert not first.exception and not second.exception
    mine, theirs = _queued(first), _queued(second)
    assert len(mine) == len(theirs) == 20 and not set(mine) & set(theirs)  # held rows are not offered twice

    # Someone else labels one of my queued rows while my page still shows it; then I click it.
    log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "kind")
    row = _shown(first)
    log.append([LabelEvent(row, "right", 1.0, "someone-else")])
    first.button(key="label_btn_left").click().run()
    assert not first.exception
    assert any(f"Row {row} is already labelled as **right** by another session" in w.value for w in first.warning)
    assert latest_labels(log.events())[0] == {row: "right"}  # nothing replaced yet
    first.button(key=f"label_overwrite_{row}").click().run()
    assert not first.exception
    assert latest_labels(log.events())[0] == {row: "left"}
    assert [e.label for e in log.events()] == ["right", "left"]  # both answers are in the log
    assert not any("already labelled" in w.value for w in first.warning)

    # "Keep" leaves the other session's label alone.
    row = _shown(first)
    log.append([LabelEvent(row, "right", 2.0, "someone-else")])
    first.button(key="label_btn_left").click().run()
    first.button(key=f"label_keep_{row}").click().run()
    assert not first.exception and not any("already labelled" in w.value for w in first.warning)
    assert latest_labels(log.events())[0][row] == "right"


def test_a_reload_reopens_the_version_this_person_labelled_not_someone_elses(settings, tracker) -> None:  # noqa: ANN001
    from ui.identity import KEY

    def browser(who: str, run_id: str | None = None):  # noqa: ANN202
        at = app_test("pages/label.py")
        at.session_state[KEY] = who * 32
        if run_id:
            at.session_state["label_dataset"] = next(v for v in at_versions if v.run_id == run_id)
        return _run(at)

    from core.tracking.datasets import dataset_versions

    mine = _seed(tracker, _blobs(), name="mine")
    theirs = _seed(tracker, _blobs(40), name="theirs")
    at_versions = dataset_versions(tracker, "default")
    a = browser("a", mine.run_id)
    assert a.selectbox(key="label_dataset").value.run_id == mine.run_id
    next(b for b in a.button if b.key and b.key.startswith("label_btn_") and b.label == "left").click().run()
    b = browser("b", theirs.run_id)
    next(b for b in b.button if b.key and b.key.startswith("label_btn_") and b.label == "left").click().run()
    assert not a.exception and not b.exception
    # theirs now has the newest label log; each person's reload still opens their own version
    assert browser("a").selectbox(key="label_dataset").value.run_id == mine.run_id
    assert browser("b").selectbox(key="label_dataset").value.run_id == theirs.run_id
    assert browser("c").selectbox(key="label_dataset").value.run_id == theirs.run_id  # newcomer: the newest log


def test_undo_relabel_and_remove_from_the_page_are_log_events(settings, tracker) -> None:  # noqa: ANN001
    from core.label.labellog import latest_labels

    version = _seed(tracker, _blobs())
    at = _run(app_test("pages/label.py"))
    first = _shown(at)
    at.button(key="label_btn_left").click().run()
    second = _shown(at)
    at.button(key="label_btn_right").click().run()
    at.button(key="label_undo").click().run()
    assert not at.exception, at.exception
    assert _shown(at) == second  # the undone row is back on screen
    log = LabelLog.for_version(settings.labels_dir, "default", version.run_id, "kind")
    assert latest_labels(log.events())[0] == {first: "left"}
    assert any(f"Undid the label 'right' of row {second}" in m.value for m in at.markdown)

    at.session_state["label_tab"] = "History"
    at.run()
    at.number_input(key="label_hist_row").set_value(first).run()
    at.selectbox(key="label_hist_class").set_value("right").run()
    at.button(key="label_hist_relabel").click().run()
    assert latest_labels(log.events())[0] == {first: "right"}
    table = at.dataframe[0].value
    assert table.iloc[0]["row"] == first and table.iloc[0]["label"] == "right" and table.iloc[0]["how"] == "relabel"
    at.number_input(key="label_hist_row").set_value(0).run()  # a table value: removing it hides it
    at.button(key="label_hist_remove").click().run()
    assert not at.exception, at.exception
    assert [e.source for e in log.events()] == ["queue", "queue", "undo", "relabel", "remove"]
    at.session_state["label_tab"] = "Progress"
    at.run()
    labelled = [m for m in at.metric if m.label == "Labelled"][0]
    assert labelled.value == "4"  # 4 table values - 1 removed + 1 relabelled row

    # a class typed that does not exist asks to add it; confirmed, it is a class of the session
    at.session_state["label_tab"] = "History"
    at.run()
    # (AppTest cannot type a new option into a select box: the relabel's question is set as _relabel sets it)
    at.session_state["label_hist_new_class"] = (first, "middle")
    at.run()
    assert not at.exception, at.exception
    assert any("no class **middle**" in w.value for w in at.warning)
    assert latest_labels(log.events())[0].get(first) == "right"  # nothing written before the confirmation
    at.button(key="label_hist_add_class").click().run()
    assert not at.exception, at.exception
    assert latest_labels(log.events())[0][first] == "middle"
    assert log.session()["classes"] == ["left", "right", "middle"]
    assert not at.warning


def test_the_undo_notice_goes_with_the_next_answer(settings, tracker) -> None:  # noqa: ANN001
    _seed(tracker, _blobs())
    at = _run(app_test("pages/label.py"))
    at.button(key="label_btn_left").click().run()
    at.button(key="label_undo").click().run()
    assert any("Undid the label 'left'" in m.value for m in at.markdown)
    at.button(key="label_btn_right").click().run()
    assert not at.exception, at.exception
    assert not any("Undid the" in m.value for m in at.markdown)  # it spoke of the row before this one


def test_a_cold_batch_says_what_comes_once_two_classes_have_labels() -> None:
    from core.label.rounds import Ranking
    from ui.label_queue import QueueView, no_model_caption, status_line

    cold = Ranking(rows=tuple(range(20)), batch=10, strategy="margin", cold=True, shared=False, trained_on=0,
                   model=None)
    view = QueueView(cold, tuple(range(3, 20)), 3, pending=False)
    assert "the model needs two classes first" in status_line(view, two_classes=False)
    after = status_line(view, two_classes=True)
    assert "the first model trains when this batch is done" in after and "needs two classes" not in after
    assert "3 of 10 done" in after
    assert no_model_caption(True) == "No model yet: the first one trains when this batch is done."
    pending = status_line(QueueView(cold, tuple(range(10, 20)), 10, pending=True), two_classes=True)
    assert "its ranking comes in with your next answer" in pending and "refitting" not in pending
