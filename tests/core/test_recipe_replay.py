"""Fit vs transform, replay equality, previews and the exported Python code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.io import read_table
from core.data.recipe import Recipe, Step, preview_step, replay, to_python
from core.errors import RecipeError

RAW_CSV = """id,size,price,colour,city,when
1,12,"1,200",red, Paris ,2024-01-01
2,NA,900,blue,Paris,2024-01-02
3,14,n/a,red,  Lyon,2024-01-03
4,15,1100,-,Lyon,2024-01-04
5,13,1000,green,Nice,2024-01-05
5,13,1000,green,Nice,2024-01-05
6,?,950,blue,Nice,2024-01-06
7,16,"1,050",red,Paris,2024-01-07
8,300,990,blue,Lyon,2024-01-08
9,11,1010,green,Paris,2024-01-09
"""

RECIPE = Recipe((
    Step("missing_tokens", {"tokens": ["NA", "n/a", "-", "?", ""]}),
    Step("fix_types", {"columns": ["price"], "to": "numeric"}),
    Step("fix_types", {"columns": ["when"], "to": "datetime"}),
    Step("trim_case", {"columns": ["city"], "case": "lower"}),
    Step("drop_duplicates", {}),
    Step("impute", {"columns": ["size"], "strategy": "median"}),
    Step("impute", {"columns": ["colour"], "strategy": "most_frequent"}),
    Step("impute", {"columns": ["price"], "strategy": "knn", "n_neighbors": 2}),
    Step("outliers", {"columns": ["size"], "action": "remove"}),
    Step("encode", {"columns": ["colour"], "method": "onehot"}),
    Step("encode", {"columns": ["city"], "method": "ordinal"}),
    Step("scale", {"columns": ["price"], "method": "minmax"}),
    Step("split", {"test_size": 0.25, "seed": 3}),
))


def read_raw(path: Path) -> pd.DataFrame:
    return read_table(path).frame


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    path = tmp_path / "raw.csv"
    path.write_text(RAW_CSV)
    return path


@pytest.fixture()
def fitted(raw: Path):
    return replay(read_raw(raw), RECIPE, "fit")


def test_fit_replay_cleans_and_records_state(fitted) -> None:
    out = fitted.frame
    # the split is decided on the 10 raw rows first (3 test rows at seed 3); the duplicate row 5 and
    # the rows outside the training rows' IQR bounds of size (300 and 11) are gone
    assert out.index.tolist() == [0, 1, 2, 3, 4, 6, 7]
    assert fitted.split.to_dict() == {0: "test", 1: "train", 2: "train", 3: "train", 4: "train", 6: "test", 7: "train"}
    assert list(out.columns) == ["id", "size", "price", "colour_blue", "colour_green", "colour_red", "city", "when"]
    assert fitted.recipe.steps[5].fitted == {"values": {"size": 15.0}}  # median of the training rows' sizes
    assert out["size"].tolist() == [12.0, 15.0, 14.0, 15.0, 13.0, 15.0, 16.0]
    assert out["city"].tolist() == [2.0, 2.0, 0.0, 0.0, 1.0, 1.0, 2.0]  # lyon, nice, paris
    train = out[fitted.split == "train"]
    assert train["price"].min() == 0.0 and train["price"].max() == 1.0  # min-max of the training rows
    assert fitted.recipe.is_fitted and len(fitted.results) == len(RECIPE.steps)
    assert fitted.results[0].summary.startswith("Replaced 4 cells in 3 columns with missing; 1 column became numeric")
    assert "Fitted on the 6 training rows only; applied to all 9." in fitted.results[5].summary
    assert fitted.results[-1].summary.startswith("Held out 3 of the 10 raw rows as the test part")


def test_every_learning_step_is_fitted_on_the_training_part_alone(fitted, raw: Path) -> None:
    """Wherever the split step sits, a step's fitted state is what it learns from the training rows only."""
    from core.data.recipe.engine import apply_step
    from core.data.recipe.model import normalize_params
    from core.data.recipe.registry import STEPS
    from core.data.recipe.splitting import decide_split

    frame = read_raw(raw)
    decided = decide_split(frame, normalize_params(STEPS["split"], RECIPE.steps[-1].params), RECIPE)
    train = decided.train_index  # the raw rows' training part, decided before any step
    assert decided.n_test == 3 and fitted.split.reindex(train.intersection(fitted.split.index)).eq("train").all()
    for k, step in enumerate(RECIPE.steps):
        if not STEPS[step.kind].learns:
            continue
        before = replay(frame, RECIPE, "fit", upto=k).frame
        alone = apply_step(before.loc[before.index.intersection(train)], step).step.fitted
        assert fitted.recipe.steps[k].fitted == alone, step.kind
    moved = Recipe((RECIPE.steps[-1], *RECIPE.steps[:-1]))  # the split first instead of last: the same numbers
    pd.testing.assert_frame_equal(replay(frame, moved, "fit").frame, fitted.frame)


def test_the_target_is_never_scaled_imputed_or_encoded_unless_named() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, None, 4.0, 5.0, 6.0, 7.0, 8.0], "kind": ["a", "b", None, "a", "b", "a", "b", "a"],
                          "y": [0.0, 1.0, None, 1.0, 0.0, 1.0, 0.0, 1.0]})
    recipe = Recipe((Step("split", {"method": "random", "test_size": 0.25, "target": "y"}), Step("impute"),
                     Step("encode"), Step("scale")))
    result = replay(frame, recipe, "fit")
    assert result.frame["y"].isna().sum() == 1 and set(result.frame["y"].dropna()) == {0.0, 1.0}  # untouched
    assert "y" not in result.recipe.steps[3].fitted["stats"] and "x" in result.recipe.steps[3].fitted["stats"]
    assert "left the target 'y' alone" in result.results[3].summary
    named = replay(frame, Recipe((*recipe.steps[:3], Step("scale", {"columns": ["x", "y"]}))), "fit")
    assert "y" in named.recipe.steps[3].fitted["stats"]
    assert "the target 'y' included, as asked" in named.results[3].summary
    # a target given by the version (no split step) is protected the same way
    plain = replay(frame, Recipe((Step("scale"),)), "fit", target="y")
    assert "y" not in plain.recipe.steps[0].fitted["stats"]


def test_transform_replay_of_saved_recipe_on_the_same_file_is_identical(fitted, raw: Path) -> None:
    saved = Recipe.from_json(fitted.recipe.to_json())
    again = replay(read_raw(raw), saved, "transform")
    pd.testing.assert_frame_equal(again.frame, fitted.frame)
    assert again.split is None  # split is skipped in transform mode
    refit = replay(read_raw(raw), saved, "fit")
    pd.testing.assert_frame_equal(refit.frame, fitted.frame)


def test_transform_on_a_new_batch_reuses_the_reference_state(fitted) -> None:
    batch = pd.DataFrame({
        "id": [20, 21, 22], "size": ["NA", "500", "12"], "price": ["2,000", "800", "?"],
        "colour": ["purple", "red", "-"], "city": ["Rome", " PARIS", "nice"],
        "when": ["2025-01-01", "2025-01-02", "2025-01-03"],
    })
    out = replay(batch, fitted.recipe, "transform").frame
    assert out.index.tolist() == [0, 2]  # size 500 is outside the reference's IQR bounds → removed
    assert out["size"].tolist() == [15.0, 12.0]  # the reference's training median, not the batch's
    assert out.loc[0, ["colour_blue", "colour_green", "colour_red"]].tolist() == [0, 0, 0]  # unseen category
    assert fitted.recipe.steps[6].fitted == {"values": {"colour": "blue"}}  # blue and red tie at 3: first in order
    assert out.loc[2, ["colour_blue", "colour_green", "colour_red"]].tolist() == [1, 0, 0]  # '-' → reference mode
    assert pd.isna(out.loc[0, "city"]) and out.loc[2, "city"] == 1.0  # 'rome' unseen → missing ordinal
    scale = fitted.recipe.steps[11].fitted["stats"]["price"]
    assert out.loc[0, "price"] == pytest.approx((2000 - scale[0]) / scale[1])  # > 1: reference min-max, not refitted


def test_replay_errors_name_the_step(fitted) -> None:
    batch = pd.DataFrame({"id": [1], "size": [1]})
    with pytest.raises(RecipeError, match=r"^Step 2 \(fix_types\): Column 'price' in the 'columns' parameter"):
        replay(batch, fitted.recipe, "transform")
    no_size = pd.DataFrame({"id": [1], "price": ["1"], "colour": ["red"], "city": ["Nice"], "when": ["2024-01-01"]})
    with pytest.raises(RecipeError, match=r"^Step 1 \(missing_tokens\): Column 'size', which missing_tokens learned "
                                          r"from the reference table, is not in this table"):
        replay(no_size, fitted.recipe, "transform")


def test_preview_shows_changed_rows_before_and_after(raw: Path) -> None:
    frame = read_raw(raw)
    preview = preview_step(frame, Step("missing_tokens", {"tokens": ["NA", "n/a", "-", "?"]}), n=2)
    assert preview.before.index.tolist() == [1, 2] == preview.after.index.tolist()
    assert preview.before.loc[1, "size"] == "NA" and pd.isna(preview.after.loc[1, "size"])
    removed = preview_step(frame, Step("drop_duplicates"))
    assert removed.before.index.tolist() == [5] and removed.after.empty and removed.result.rows_after == 9
    assert frame.equals(read_raw(raw))  # the input is never modified


def test_exported_code_reproduces_the_replay(fitted, raw: Path, tmp_path: Path) -> None:
    code = to_python(fitted.recipe, str(raw))
    assert "import sklearn" not in code and "from sklearn.impute import KNNImputer" in code  # KNN only
    assert "core." not in code  # standalone: the loader's conversion functions are copied, not imported
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), ns)  # noqa: S102
    pd.testing.assert_frame_equal(ns["clean"](ns["read_raw"](raw)), fitted.frame)
    script, out = tmp_path / "clean.py", tmp_path / "out.parquet"
    script.write_text(code)
    run = subprocess.run([sys.executable, str(script), str(raw), str(out)], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out), fitted.frame)


def test_exported_code_with_pca_and_selection_needs_no_sklearn(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(30, 4)), columns=list("abcd"))
    frame["e"] = frame["a"] * 2
    recipe = Recipe((Step("select_filter", {"correlation_threshold": 0.99}),
                     Step("pca", {"n_components": 2}), Step("scale", {"method": "robust"})))
    result = replay(frame, recipe, "fit")
    code = to_python(result.recipe)
    assert "sklearn" not in code
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), ns)  # noqa: S102
    pd.testing.assert_frame_equal(ns["clean"](frame), result.frame)


def test_export_of_an_unfitted_recipe_is_refused() -> None:
    with pytest.raises(RecipeError, match="The impute step has not been fitted yet"):
        to_python(Recipe((Step("impute"),)))


def test_exported_code_reads_like_the_loader_semicolon_cp1252_booleans(tmp_path: Path) -> None:
    raw = tmp_path / "eu.csv"
    raw.write_bytes("\ufeffname;ok;amount;empty;name\nCafé;true;1.234,5;;x\nNaïve;FALSE;-;;y\n Zoë ;true;12;;z\n"
                    .encode("utf-8"))
    loaded = read_table(raw)
    assert loaded.delimiter == ";" and list(loaded.frame.columns) == ["name", "ok", "amount", "empty", "name_2"]
    recipe = Recipe((Step("missing_tokens", {"tokens": ["-"]}),
                     Step("fix_types", {"columns": ["amount"], "to": "numeric", "decimal": ","}),
                     Step("trim_case", {"columns": ["name"], "case": "upper"})))
    result = replay(loaded.frame, recipe, "fit")
    assert result.frame["amount"].tolist()[0] == 1234.5 and result.frame["name"].tolist()[2] == "ZOË"
    code = to_python(result.recipe, str(raw), delimiter=loaded.delimiter, encoding=loaded.encoding)
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), ns)  # noqa: S102
    pd.testing.assert_frame_equal(ns["clean"](ns["read_raw"](raw)), result.frame)


def test_exported_code_on_a_parquet_source(tmp_path: Path) -> None:
    raw = tmp_path / "raw.parquet"
    pd.DataFrame({"x": ["1", "NA", "3"], "c": ["a", "b", None]}).to_parquet(raw)
    frame = read_table(raw).frame
    result = replay(frame, Recipe((Step("missing_tokens", {"tokens": ["NA"]}), Step("impute", {"strategy": "mean"}))),
                    "fit")
    assert result.frame["x"].tolist() == [1.0, 2.0, 3.0]
    ns: dict = {"__name__": "exported"}
    exec(compile(to_python(result.recipe, str(raw)), "exported", "exec"), ns)  # noqa: S102
    pd.testing.assert_frame_equal(ns["clean"](ns["read_raw"](raw)), result.frame)


def test_exported_code_falls_back_to_the_loader_when_it_cannot_be_copied(monkeypatch, raw: Path, fitted) -> None:
    from core.data import io

    monkeypatch.delattr(io, "convert_text_columns")
    code = to_python(fitted.recipe, str(raw))
    assert "from core.data.io import read_table" in code
    monkeypatch.undo()
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), ns)  # noqa: S102
    pd.testing.assert_frame_equal(ns["clean"](ns["read_raw"](raw)), fitted.frame)
