"""Feature extraction steps (group_stats, rolling, fourier): hand-computed values, replay, code export, sentences."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.recipe import Recipe, Step, apply_step, replay, to_python
from core.data.recipe.engine import FitContext
from core.errors import RecipeError


@pytest.fixture()
def shops() -> pd.DataFrame:
    return pd.DataFrame({"shop": ["a", "a", "b", "b", "b", "c"], "sales": [1.0, 3.0, 2.0, 4.0, 9.0, 100.0],
                         "y": [0, 1, 0, 1, 1, 0]})


def test_group_stats_are_learnt_on_the_training_rows_and_joined_back(shops) -> None:
    step = Step("group_stats", {"column": "sales", "by": "shop", "stats": ["mean", "median", "std", "min", "max",
                                                                          "count"]})
    train = pd.Index([0, 1, 2, 3])  # rows 4 ('b', 9) and 5 (the only 'c') are held out
    result = apply_step(shops, step, context=FitContext(train, "y"))
    out = result.frame
    assert out["sales_mean_by_shop"].tolist() == [2.0, 2.0, 3.0, 3.0, 3.0, 2.5]  # 'c' unseen: global training mean
    assert out["sales_median_by_shop"].tolist() == [2.0, 2.0, 3.0, 3.0, 3.0, 2.5]
    assert out["sales_std_by_shop"].tolist() == [1.0, 1.0, 1.0, 1.0, 1.0, pytest.approx(np.std([1, 3, 2, 4]))]
    assert out["sales_min_by_shop"].tolist() == [1.0, 1.0, 2.0, 2.0, 2.0, 1.0]
    assert out["sales_max_by_shop"].tolist() == [3.0, 3.0, 4.0, 4.0, 4.0, 4.0]
    assert out["sales_count_by_shop"].tolist() == [2.0, 2.0, 2.0, 2.0, 2.0, 0.0]  # count of an unseen group: 0
    assert "1 row with a group unseen in training got the global training statistic" in result.summary
    missing = apply_step(shops, Step("group_stats", {**step.params, "unseen": "missing"}),
                         context=FitContext(train, "y")).frame
    assert missing.loc[5, ["sales_mean_by_shop", "sales_count_by_shop"]].isna().all()
    assert missing.loc[:4, "sales_mean_by_shop"].tolist() == out.loc[:4, "sales_mean_by_shop"].tolist()


def test_group_stats_bad_inputs_are_sentences(shops) -> None:
    with pytest.raises(RecipeError, match=r"group_stats: every value of 'id' occurs once in the training rows "
                                          r"\(6 groups for 6 rows\)"):
        apply_step(shops.assign(id=range(6)), Step("group_stats", {"column": "sales", "by": "id"}))
    with pytest.raises(RecipeError, match="group_stats on the target 'y' would put the target into the features"):
        apply_step(shops, Step("group_stats", {"column": "y", "by": "shop"}), context=FitContext(None, "y"))
    with pytest.raises(RecipeError, match=r"group_stats \(statistics\) needs numeric columns; 'shop' is object"):
        apply_step(shops.assign(k=[1, 1, 2, 2, 2, 2]), Step("group_stats", {"column": "shop", "by": "k"}))
    with pytest.raises(RecipeError, match="The 'stats' parameter of group_stats must be a non-empty list of 'mean'"):
        apply_step(shops, Step("group_stats", {"column": "sales", "by": "shop", "stats": ["mode"]}))


def test_rolling_orders_by_time_and_keeps_the_row_order() -> None:
    frame = pd.DataFrame({"t": [3, 1, 4, 2, 5], "x": [30.0, 10.0, 40.0, 20.0, 50.0], "y": [1, 0, 1, 0, 1]})
    step = Step("rolling", {"time_column": "t", "window": 2, "stats": ["mean", "max", "sum"]})
    result = apply_step(frame, step, context=FitContext(None, "y"))
    out = result.frame
    assert result.step.fitted["source"] == ["x"]  # neither the time column nor the target
    assert np.isnan(out.loc[1, "x_roll2_mean"])  # t=1 has no earlier row
    assert out["x_roll2_mean"].tolist()[0] == 25.0 and out["x_roll2_mean"].tolist()[4] == 45.0
    assert out["x_roll2_max"].tolist()[2] == 40.0 and out["x_roll2_sum"].tolist()[3] == 30.0
    assert out.index.tolist() == [0, 1, 2, 3, 4] and out["x"].tolist() == frame["x"].tolist()
    early = apply_step(frame, Step("rolling", {**step.params, "min_periods": 1})).frame
    assert early.loc[1, "x_roll2_mean"] == 10.0


def test_rolling_bad_inputs_are_sentences() -> None:
    frame = pd.DataFrame({"t": range(5), "x": np.arange(5.0), "y": [0, 1, 0, 1, 0]})
    with pytest.raises(RecipeError, match=r"rolling: window=10 \(min_periods=10\) is longer than the table \(5 "
                                          r"training rows\), so every rolling value would be missing"):
        apply_step(frame, Step("rolling", {"time_column": "t", "window": 10}))
    with pytest.raises(RecipeError, match="rolling over the target 'y' would put each row's own target"):
        apply_step(frame, Step("rolling", {"time_column": "t", "columns": ["x", "y"]}), context=FitContext(None, "y"))
    with pytest.raises(RecipeError, match="rolling orders rows by the time column 'when', which is object"):
        apply_step(frame.assign(when=list("abcde")), Step("rolling", {"time_column": "when", "columns": ["x"]}))


def _signal(freq: int, n: int = 16, amplitude: float = 2.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * freq * np.arange(n) / n)


def test_fourier_finds_the_strongest_frequency_of_each_sequence() -> None:
    frame = pd.DataFrame({
        "sig": [" ".join(f"{v:.6f}" for v in _signal(2)), "[" + ", ".join(f"{v:.6f}" for v in _signal(5)) + "]",
                ";".join(f"{v:.6f}" for v in _signal(3) + 0.5 * _signal(6)), None],
        "y": [0, 1, 0, 1],
    })
    result = apply_step(frame, Step("fourier", {"column": "sig", "k": 2}))
    out = result.frame
    assert "sig" not in out.columns and result.step.fitted["length"] == 16
    assert out["sig_freq1"].tolist()[:3] == [2 / 16, 5 / 16, 3 / 16]
    assert out["sig_mag1"].tolist()[:3] == pytest.approx([2.0, 2.0, 2.0], abs=1e-4)
    assert out.loc[2, "sig_freq2"] == 6 / 16 and out.loc[2, "sig_mag2"] == pytest.approx(1.0, abs=1e-4)
    assert out.loc[3, ["sig_freq1", "sig_mag1"]].isna().all()  # an empty cell has no signal
    kept = apply_step(frame, Step("fourier", {"column": "sig", "k": 1, "keep_column": True})).frame
    assert kept["sig"].equals(frame["sig"])


def test_fourier_on_a_window_over_a_time_column() -> None:
    n = 40
    frame = pd.DataFrame({"t": np.arange(n)[::-1], "x": _signal(1, n=8, amplitude=3.0).tolist() * 5})
    frame["x"] = frame["x"].to_numpy()[::-1]  # in time order the signal is the sine (rows stored newest first)
    out = apply_step(frame, Step("fourier", {"column": "x", "mode": "window", "time_column": "t", "window": 8,
                                             "k": 1})).frame
    by_time = out.sort_values("t")
    assert by_time["x_freq1"].iloc[:7].isna().all()  # fewer than 8 rows of history
    assert (by_time["x_freq1"].iloc[7:] == 1 / 8).all()
    assert by_time["x_mag1"].iloc[7:].to_numpy() == pytest.approx(3.0)


def test_fourier_unequal_lengths_are_refused_or_zero_padded() -> None:
    frame = pd.DataFrame({"sig": ["1 2 3 4 5 6 7 8", "1 2 3 4", "4 3 2 1 0 1 2 3"]})
    with pytest.raises(RecipeError, match=r"fourier needs signals of one length; 'sig' holds lengths from 4 to 8 in "
                                          r"the training rows\. Set unequal='zero_pad'"):
        apply_step(frame, Step("fourier", {"column": "sig", "k": 2}))
    padded = apply_step(frame, Step("fourier", {"column": "sig", "k": 2, "unequal": "zero_pad"}))
    expected = np.abs(np.fft.rfft([1, 2, 3, 4, 0, 0, 0, 0]))[1:] * 2 / 8
    assert padded.frame.loc[1, "sig_mag1"] == pytest.approx(expected.max())
    assert "shorter ones zero-padded" in padded.summary
    fitted = replay(frame.head(1), Recipe((Step("fourier", {"column": "sig", "k": 2}),)), "fit").recipe
    with pytest.raises(RecipeError, match=r"fourier learnt signals of 8 values, but row 1 of 'sig' holds 4"):
        replay(frame, fitted, "transform")
    with pytest.raises(RecipeError, match=r"could not read row 0 of 'sig' as a sequence of numbers \(got 'a b'\)"):
        apply_step(pd.DataFrame({"sig": ["a b", "1 2"]}), Step("fourier", {"column": "sig", "k": 1}))
    with pytest.raises(RecipeError, match=r"The 'k' parameter of fourier must be at most 4 .* Got 5 instead"):
        apply_step(frame.head(1), Step("fourier", {"column": "sig", "k": 5}))


RECIPE = Recipe((
    Step("split", {"method": "random", "test_size": 0.25, "seed": 2}),
    Step("group_stats", {"column": "x", "by": "g", "stats": ["mean", "std", "count"]}),
    Step("rolling", {"time_column": "t", "columns": ["x"], "window": 3, "stats": ["mean", "min"]}),
    Step("fourier", {"column": "sig", "k": 2}),
    Step("fourier", {"column": "x", "mode": "window", "time_column": "t", "window": 4, "k": 1}),
    Step("scale", {"columns": ["x_mean_by_g", "sig_mag1"]}),
))


@pytest.fixture()
def table() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 24
    return pd.DataFrame({"t": rng.permutation(n), "g": rng.choice(["u", "v", "w"], n), "x": rng.normal(size=n),
                         "sig": [" ".join(f"{v:.4f}" for v in _signal(i % 4 + 1, n=12)) for i in range(n)]})


def test_extraction_steps_replay_to_the_same_frame_and_reuse_the_reference_state(table) -> None:
    fitted = replay(table, RECIPE, "fit")
    saved = Recipe.from_json(fitted.recipe.to_json())
    again = replay(table, saved, "transform")
    pd.testing.assert_frame_equal(again.frame, fitted.frame)
    batch = table.head(6).assign(x=100.0)  # a new batch: the group statistics stay the reference's
    out = replay(batch, saved, "transform").frame
    assert out["x_roll3_mean"].dropna().eq(100.0).all()  # the window runs over the batch's own rows
    reference_means = fitted.frame.set_index("g")["x_mean_by_g"].groupby(level=0).first()  # already scaled
    expected = batch["g"].map(reference_means)
    assert out["x_mean_by_g"].to_numpy() == pytest.approx(expected.to_numpy())


def test_exported_code_reproduces_the_extraction_steps(table, tmp_path: Path) -> None:
    fitted = replay(table, RECIPE, "fit")
    code = to_python(fitted.recipe)
    assert "np.fft.rfft" in code and "core." not in code
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), ns)  # noqa: S102
    pd.testing.assert_frame_equal(ns["clean"](table), fitted.frame)
    raw, out, script = tmp_path / "raw.parquet", tmp_path / "out.parquet", tmp_path / "clean.py"
    table.to_parquet(raw)
    script.write_text(code)
    run = subprocess.run([sys.executable, str(script), str(raw), str(out)], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out), fitted.frame)


def test_the_onnx_plan_names_the_extraction_steps_outside_the_graph(table) -> None:
    from core.deploy.recipe import kinds_of, plan_recipe

    fitted = replay(table, RECIPE, "fit").recipe
    plan = plan_recipe(fitted, kinds_of(table))
    reasons = dict(plan.outside_reasons)
    assert "per-group statistics" in reasons["step 2 group_stats"]
    assert "rows before it in time" in reasons["step 3 rolling on x"]
    assert "FFT" in reasons["step 5 fourier"]
    assert [s.kind for s in plan.inside] == ["scale"]  # the scaling of extracted columns still compiles
