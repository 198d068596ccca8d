"""``python -m core clean`` as a subprocess: success, code export, and bad input as one ``error:`` line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.data.io import read_table
from core.data.recipe import Recipe, replay

ROOT = Path(__file__).resolve().parents[2]
RAW = "id,size,colour\n1,12,red\n2,NA,blue\n3,14,red\n3,14,red\n4,?,green\n5,30,blue\n"
RECIPE = {"version": 1, "steps": [
    {"kind": "missing_tokens", "params": {"tokens": ["NA", "?"]}},
    {"kind": "drop_duplicates", "params": {}},
    {"kind": "impute", "params": {"columns": ["size"], "strategy": "mean"}},
    {"kind": "encode", "params": {"columns": ["colour"]}},
    {"kind": "split", "params": {"test_size": 0.4, "seed": 0}},
]}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBENCH_HOME": str(cwd / "home")}
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600)


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / "raw.csv").write_text(RAW)
    (tmp_path / "recipe.json").write_text(json.dumps(RECIPE))
    return tmp_path


def test_clean_fits_writes_parquet_code_and_fitted_recipe_then_transforms_a_new_batch(files: Path) -> None:
    run = cli("clean", "raw.csv", "--recipe", "recipe.json", "--out", "out.parquet", "--code", "clean.py",
              "--fitted-recipe", "fitted.json", "--split-column", "part", cwd=files)
    assert run.returncode == 0, run.stderr
    assert "mode: fit" in run.stdout and "3. impute: Filled 2 missing cells in 1 column (mean)." in run.stdout
    out = pd.read_parquet(files / "out.parquet")
    expected = replay(read_table(files / "raw.csv").frame, Recipe.from_dict(RECIPE), "fit")
    pd.testing.assert_frame_equal(out.drop(columns="part"), expected.frame)
    assert out["part"].tolist() == expected.split.tolist()
    fitted = Recipe.from_json((files / "fitted.json").read_text())
    # the mean is learned from the training rows only (the split is decided on the raw rows first)
    sizes = pd.to_numeric(read_table(files / "raw.csv").frame["size"], errors="coerce")
    train_mean = sizes.loc[expected.split.index[expected.split == "train"]].mean()
    assert fitted.steps[2].fitted["values"]["size"] == pytest.approx(train_mean)
    assert fitted.is_fitted

    # the exported script reproduces the table on its own
    script = subprocess.run([sys.executable, "clean.py", "raw.csv", "script.parquet"], capture_output=True, text=True,
                            cwd=files, timeout=600)
    assert script.returncode == 0, script.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(files / "script.parquet"), expected.frame)

    # a new batch in transform mode (auto: the recipe is fitted) reuses the reference's mean and categories
    (files / "batch.csv").write_text("id,size,colour\n9,NA,purple\n10,20,red\n")
    batch = cli("clean", "batch.csv", "--recipe", "fitted.json", "--out", "batch.parquet", cwd=files)
    assert batch.returncode == 0, batch.stderr
    assert "mode: transform" in batch.stdout and "Skipped the split" in batch.stdout
    new = pd.read_parquet(files / "batch.parquet")
    assert new["size"].tolist() == pytest.approx([train_mean, 20.0])
    assert new.loc[0, ["colour_blue", "colour_green", "colour_red"]].tolist() == [0, 0, 0]


def test_a_recipe_that_learns_nothing_is_still_fitted_so_its_split_happens(files: Path) -> None:
    """Auto mode used to call a recipe without learning steps "fitted" and replay it: the split was skipped."""
    (files / "plain.json").write_text(json.dumps({"steps": [
        {"kind": "drop_columns", "params": {"columns": ["colour"]}},
        {"kind": "split", "params": {"test_size": 0.5, "seed": 1}}]}))
    done = cli("clean", "raw.csv", "--recipe", "plain.json", "--out", "out.csv", "--split-column", "part", cwd=files)
    assert done.returncode == 0, done.stderr
    assert sorted(pd.read_csv(files / "out.csv")["part"].value_counts().to_dict().items()) == [("test", 3),
                                                                                                ("train", 3)]
    again = cli("clean", "raw.csv", "--recipe", "plain.json", "--out", "out2.csv", "--split-column", "part",
                "--mode", "transform", cwd=files)
    assert again.returncode == 0 and "transform mode skips the split step" in again.stderr
    assert "part" not in pd.read_csv(files / "out2.csv").columns


@pytest.mark.parametrize(("recipe", "message"), [
    ("{oops", "error: The recipe is not valid JSON"),
    ('{"steps": [{"kind": "bake"}]}', "error: Step 1 has an unknown kind 'bake'"),
    ('{"steps": [{"kind": "drop_columns", "params": {"columns": ["weight"]}}]}',
     "error: Step 1 (drop_columns): Column 'weight' in the 'columns' parameter of drop_columns is not in the table"),
    ('{"steps": [{"kind": "impute", "params": {"columns": ["colour"], "strategy": "constant"}}]}',
     "error: Step 1 (impute): The 'fill_value' parameter of impute is required for strategy 'constant'."),
])
def test_bad_recipe_is_one_error_line_and_exit_2(files: Path, recipe: str, message: str) -> None:
    (files / "bad.json").write_text(recipe)
    run = cli("clean", "raw.csv", "--recipe", "bad.json", "--out", "out.parquet", cwd=files)
    assert run.returncode == 2
    assert run.stderr.startswith(message) and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert not (files / "out.parquet").exists()


@pytest.mark.parametrize(("args", "message"), [
    (("missing.csv", "--recipe", "recipe.json"), "error: The input file 'missing.csv' does not exist"),
    (("raw.csv", "--recipe", "nope.json"), "error: The recipe file 'nope.json' does not exist"),
    (("empty.csv", "--recipe", "recipe.json"), "error: 'empty.csv' is empty (0 bytes)"),
])
def test_bad_files_are_one_error_line_and_exit_2(files: Path, args: tuple[str, ...], message: str) -> None:
    (files / "empty.csv").write_bytes(b"")
    run = cli("clean", *args, "--out", "out.parquet", cwd=files)
    assert run.returncode == 2 and run.stderr.startswith(message), run.stderr
    assert run.stderr.count("\n") == 1


def test_csv_outputs_escape_formula_cells_from_the_cli_and_the_generated_script(tmp_path: Path) -> None:
    raw = 'id,amount,note\n1,-3,"=HYPERLINK(""http://evil"",""x"")"\n2,5,+SUM(A1)\n3,-1.5,@cmd\n4,2,plain\n'
    (tmp_path / "raw.csv").write_text(raw)
    (tmp_path / "recipe.json").write_text(json.dumps({"version": 1, "steps": [{"kind": "drop_duplicates",
                                                                                "params": {}}]}))
    run = cli("clean", "raw.csv", "--recipe", "recipe.json", "--out", "out.csv", "--code", "clean.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    script = subprocess.run([sys.executable, "clean.py", "raw.csv", "script.csv"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=600)
    assert script.returncode == 0, script.stderr
    for name in ("out.csv", "script.csv"):
        out = pd.read_csv(tmp_path / name, dtype=str, keep_default_na=False)
        assert out["note"].tolist() == ["'=HYPERLINK(\"http://evil\",\"x\")", "'+SUM(A1)", "'@cmd", "plain"], name
        assert out["amount"].tolist() == ["-3.0", "5.0", "-1.5", "2.0"], name  # negative numbers untouched
