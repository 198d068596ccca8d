"""AppTest of the Data page's step form for the new steps: rebalance (training rows only) and group statistics."""

from __future__ import annotations

from core.tracking.datasets import dataset_versions, load_dataset, load_split
from tests.ui.conftest import app_test
from ui.data import TAB
from ui.identity import KEY as BROWSER_KEY


def _button(at, label: str):  # noqa: ANN001, ANN202
    return next(b for b in at.button if b.label == label)


def _widget(widgets, label: str):  # noqa: ANN001, ANN202
    return next(w for w in widgets if w.label.rstrip(" *") == label)


def _open_penguins(at):  # noqa: ANN001, ANN202
    at.session_state[BROWSER_KEY] = "c" * 32
    at.run()
    at.selectbox(key="data_bundled").set_value(next(o for o in at.selectbox(key="data_bundled").options
                                                    if "enguin" in o))
    at.button(key="data_open_bundled").click()
    at.session_state[TAB] = "Clean"  # only the open tab runs
    at.run()
    for kind in ("missing_tokens", "impute"):
        at.selectbox(key="data_kind_None").set_value(kind).run()
        _button(at, "Preview").click().run()
        _button(at, "Apply step").click().run()
        assert not at.exception
    return at


def test_rebalance_previews_class_counts_on_the_training_rows_and_the_saved_test_part_is_untouched(
        settings, tracker) -> None:  # noqa: ANN001
    at = _open_penguins(app_test("pages/data.py"))
    at.selectbox(key="data_kind_None").set_value("rebalance").run()
    _widget(at.selectbox, "Method").set_value("smote")
    _widget(at.selectbox, "Target").set_value("species")
    _button(at, "Preview").click().run()
    assert not at.exception
    summary = at.success[-1].value
    assert "Rebalanced 'species' by SMOTE-NC" in summary and "Adelie: 152 → 152" in summary
    assert "No split yet, so all 344 rows count as training rows" in summary
    before, after = [d.value for d in at.dataframe if "training rows" in d.value.columns][:2]  # the preview
    assert before["training rows"].tolist() == [152, 68, 124] and after["training rows"].tolist() == [152, 152, 152]
    _button(at, "Apply step").click().run()
    assert not at.exception
    at.session_state[TAB] = "Versions"
    _button(at.run(), "Save version").click().run()
    assert not at.exception, at.exception
    version = next(v for v in dataset_versions(tracker, "default") if v.name == "penguins")
    table, split = load_dataset(tracker, version.run_id), load_split(tracker, version.run_id)
    raw_rows = 344
    test = split[split == "test"]
    assert len(table) > raw_rows and test.index.max() < raw_rows  # the added rows are all training rows
    train = table.loc[split[split == "train"].index]
    assert train["species"].value_counts().nunique() == 1  # balanced in the training part …
    assert table.loc[test.index, "species"].value_counts().nunique() > 1  # … and the test part left as it was


def test_group_statistics_form_has_its_parameters_and_previews_the_added_columns(settings) -> None:  # noqa: ANN001
    at = _open_penguins(app_test("pages/data.py"))
    at.selectbox(key="data_kind_None").set_value("group_stats").run()
    _widget(at.selectbox, "Column").set_value("body_mass_g")
    _widget(at.selectbox, "By").set_value("island")
    _widget(at.multiselect, "Stats").set_value(["mean", "count"])
    assert _widget(at.selectbox, "Unseen").options == ["global", "missing"]
    _button(at, "Preview").click().run()
    assert not at.exception
    assert at.success[-1].value.startswith("Added mean, count of 'body_mass_g' per 'island' (3 groups")
    added = ["body_mass_g_mean_by_island", "body_mass_g_count_by_island"]
    assert any(set(added) <= set(d.value.columns) for d in at.dataframe)  # the preview shows the added columns
