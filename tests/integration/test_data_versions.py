"""Saving and comparing dataset versions on a real SQLite MLflow store."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.versions import compare_versions, load_recipe_json, raw_input_of, save_version
from core.errors import DataError
from core.tracking.datasets import dataset_versions, load_dataset


def _raw() -> pd.DataFrame:
    return pd.DataFrame({"a": ["1", "NA", "3", "3"], "b": ["x", "y", "z", "z"]})


def test_save_links_clean_to_raw_and_reuses_raw(tracker) -> None:
    raw = _raw()
    cleaned = pd.DataFrame({"a": [1.0, None, 3.0], "b": ["x", "y", "z"]})
    recipe = {"version": 1, "steps": [{"kind": "missing_tokens", "params": {"tokens": ["NA"]}}]}
    split = pd.Series(["train", "train", "test"])
    s1 = save_version(tracker, "p", name="toy", raw=raw, cleaned=cleaned, recipe_json=recipe,
                      recipe_code="print(1)\n", profile_json={"rows": 4}, split=split, target="b")
    assert not s1.raw_reused and s1.cleaned.version == 1 and s1.cleaned.has_split
    assert raw_input_of(tracker, s1.cleaned.run_id) == s1.raw.run_id
    assert load_recipe_json(tracker, s1.cleaned.run_id) == recipe
    assert load_recipe_json(tracker, s1.raw.run_id) is None
    pd.testing.assert_frame_equal(load_dataset(tracker, s1.raw.run_id), raw)
    chain = tracker.lineage(s1.cleaned.run_id)
    assert [r.run_id for r in chain] == [s1.cleaned.run_id, s1.raw.run_id]

    s2 = save_version(tracker, "p", name="toy", raw=raw, cleaned=cleaned.head(2))
    assert s2.raw_reused and s2.raw.run_id == s1.raw.run_id and s2.cleaned.version == 2
    names = {(v.name, v.version) for v in dataset_versions(tracker, "p")}
    assert names == {("toy-raw", 1), ("toy", 1), ("toy", 2)}


def test_compare_versions_reports_differences(tracker) -> None:
    raw = _raw()
    s1 = save_version(tracker, "p", name="t", raw=raw, cleaned=raw)
    cleaned = pd.DataFrame({"a": [1.0, None, 3.0], "c": [1, 2, 3]})
    s2 = save_version(tracker, "p", name="t", raw=raw, cleaned=cleaned)
    diff = compare_versions(tracker, s1.cleaned, s2.cleaned)
    assert diff.rows == (4, 3) and diff.columns == (2, 2)
    assert diff.added_columns == ("c",) and diff.removed_columns == ("b",)
    assert diff.retyped_columns == (("a", "object", "float64"),)
    row = diff.missing_share.set_index("column").loc["a"]
    assert row["change"] == pytest.approx(1 / 3)


def test_refuses_empty_table_and_unknown_target(tracker) -> None:
    with pytest.raises(DataError, match="empty"):
        save_version(tracker, "p", name="t", raw=_raw(), cleaned=_raw().iloc[0:0])
    with pytest.raises(DataError, match="target 'zz'"):
        save_version(tracker, "p", name="t", raw=_raw(), cleaned=_raw(), target="zz")
    assert dataset_versions(tracker, "p") == []


def test_find_recipe_walks_back_from_a_derived_version(tracker) -> None:
    from core.data.versions import find_recipe
    from core.tracking.datasets import log_dataset_version

    raw = _raw()
    recipe = {"version": 1, "steps": [{"kind": "drop_duplicates", "params": {}}]}
    saved = save_version(tracker, "p", name="t", raw=raw, cleaned=raw.drop_duplicates(), recipe_json=recipe)
    with tracker.stage_run("p", "label", inputs=[saved.cleaned.run_id]) as label_run:
        log_dataset_version(tracker, label_run, "p", raw.drop_duplicates().assign(y=["a", "b", "a"]), "t-labels")
    own = find_recipe(tracker, saved.cleaned.run_id)
    derived = find_recipe(tracker, label_run)
    assert own is not None and own.recipe == recipe and own.version_run_id == saved.cleaned.run_id
    assert derived is not None and derived.version_run_id == saved.cleaned.run_id and derived.version_label == "t v1"
    assert find_recipe(tracker, saved.raw.run_id) is None
