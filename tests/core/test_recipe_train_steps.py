"""Training-time steps (rebalance, augment_noise): the training rows only, skipped on replay and in exported code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data.recipe import Recipe, Step, preview_step, replay, to_python
from core.errors import RecipeError

SPLIT = Step("split", {"method": "stratified", "test_size": 0.25, "target": "y", "seed": 1})


@pytest.fixture()
def skewed() -> pd.DataFrame:
    """40 rows, 32 'p' and 8 'q', two numbers and a category."""
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "a": rng.normal(size=40), "b": rng.normal(10, 2, size=40), "c": rng.choice(["x", "y", "z"], 40),
        "y": ["p"] * 32 + ["q"] * 8,
    })


def _fit(frame: pd.DataFrame, *steps: Step):
    return replay(frame, Recipe((SPLIT, *steps)), "fit")


def _assert_test_rows_untouched(frame: pd.DataFrame, result) -> pd.Index:
    """The test rows are exactly the raw test rows, every added row is a fresh label marked 'train'."""
    plain = _fit(frame)  # the same split without the training-time step
    test = plain.split.index[plain.split == "test"]
    assert (result.split.reindex(test) == "test").all()
    pd.testing.assert_frame_equal(result.frame.loc[test], frame.loc[test], check_dtype=False)
    added = result.frame.index.difference(frame.index)
    assert not added.isin(frame.index).any() and (result.split.loc[added] == "train").all()
    assert result.split.index.equals(result.frame.index) and result.frame.index.is_unique
    return added


@pytest.mark.parametrize(("method", "rows", "per_class"), [("oversample", 58, 24), ("undersample", 22, 6),
                                                           ("smote", 58, 24)])
def test_rebalance_changes_the_training_rows_only_with_counts_before_and_after(skewed, method, rows, per_class) -> None:
    result = _fit(skewed, Step("rebalance", {"method": method, "k_neighbors": 3}))
    added = _assert_test_rows_untouched(skewed, result)
    assert len(result.frame) == rows and (result.split == "test").sum() == 10
    train = result.frame[result.split == "train"]
    assert train["y"].value_counts().to_dict() == {"p": per_class, "q": per_class}
    fitted = result.recipe.steps[1].fitted
    assert fitted["classes"] == ["p", "q"] and fitted["before"] == [24, 6] and fitted["after"] == [per_class] * 2
    summary = result.results[1].summary
    assert f"p: 24 → {per_class}, q: 6 → {per_class}" in summary
    assert "Applied to the 30 training rows only; the 10 test rows pass through unchanged" in summary
    optimistic = "so cv scores read optimistic; the held-out test score is not affected" in summary
    if method == "undersample":
        assert added.empty and result.frame.index.isin(skewed.index).all() and not optimistic
    else:
        assert len(added) == 18 and (result.frame.loc[added, "y"] == "q").all() and optimistic


def test_random_oversampling_copies_training_rows_and_smote_interpolates_within_the_minority(skewed) -> None:
    over = _fit(skewed, Step("rebalance", {"method": "oversample"}))
    train_q = over.frame[(over.split == "train") & (over.frame["y"] == "q")]
    originals = train_q.loc[train_q.index.isin(skewed.index)]
    copies = train_q.loc[~train_q.index.isin(skewed.index)]
    merged = copies.merge(originals.drop_duplicates(), on=list(skewed.columns), how="left", indicator=True)
    assert (merged["_merge"] == "both").all()  # every added row is a copy of a training row of the minority
    smote = _fit(skewed, Step("rebalance", {"method": "smote", "k_neighbors": 3}))
    fitted = smote.recipe.steps[1].fitted
    assert fitted["sampler"] == "SMOTE-NC" and fitted["categorical"] == ["c"]
    added = smote.frame.loc[smote.frame.index.difference(skewed.index)]
    for col in ("a", "b"):  # interpolated between minority neighbours: inside their range
        assert added[col].between(originals[col].min(), originals[col].max()).all()
    assert set(added["c"]) <= set(originals["c"])
    numeric = _fit(skewed.drop(columns=["c"]), Step("rebalance", {"method": "smote", "k_neighbors": 3}))
    assert numeric.recipe.steps[1].fitted["sampler"] == "SMOTE"


def test_the_same_seed_gives_the_same_rows_and_replay_in_fit_mode_is_stable(skewed) -> None:
    step = Step("rebalance", {"method": "smote", "k_neighbors": 3, "seed": 4})
    first, again = _fit(skewed, step), _fit(skewed, step)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    saved = Recipe.from_json(first.recipe.to_json())
    pd.testing.assert_frame_equal(replay(skewed, saved, "fit").frame, first.frame)
    other = _fit(skewed, Step("rebalance", {"method": "smote", "k_neighbors": 3, "seed": 5}))
    assert not other.frame.equals(first.frame)


def test_later_learning_steps_are_fitted_on_the_training_rows_including_the_added_ones(skewed) -> None:
    result = _fit(skewed, Step("rebalance", {"method": "oversample"}), Step("scale", {"columns": ["a"]}))
    before_scale = _fit(skewed, Step("rebalance", {"method": "oversample"}))
    train = before_scale.frame.loc[before_scale.split == "train", "a"]
    center, spread = result.recipe.steps[2].fitted["stats"]["a"]
    assert center == pytest.approx(train.mean()) and spread == pytest.approx(train.std(ddof=0))
    assert "Fitted on the 48 training rows only; applied to all 58." in result.results[2].summary


def test_added_rows_never_reuse_the_label_of_a_removed_test_row(skewed) -> None:
    plain = _fit(skewed)
    last_test = plain.split.index[plain.split == "test"].max()
    recipe = Recipe((SPLIT, Step("drop_duplicates"), Step("rebalance", {"method": "oversample"})))
    frame = skewed.copy()
    frame.loc[last_test] = frame.loc[0]  # a duplicate of row 0 … and it is a held-out row: removed
    result = replay(frame, recipe, "fit")
    assert last_test not in result.frame.index
    added = result.frame.index.difference(frame.index)
    assert added.min() > frame.index.max() and (result.split.loc[added] == "train").all()


def test_augment_noise_adds_seeded_jittered_copies_of_training_rows(skewed) -> None:
    step = Step("augment_noise", {"scale": 0.1, "copies": 2, "seed": 3})
    result = _fit(skewed, step)
    added = _assert_test_rows_untouched(skewed, result)
    assert len(added) == 60 and len(result.frame) == 100
    spread = result.recipe.steps[1].fitted["spread"]
    train = skewed.loc[_fit(skewed).split == "train"]
    assert spread["b"] == pytest.approx(train["b"].std(ddof=0)) and set(spread) == {"a", "b"}
    copies = result.frame.loc[added]
    sources = pd.concat([train, train])  # the first copy of every training row, then the second
    diff = copies["b"].to_numpy() - sources["b"].to_numpy()
    assert 0 < np.abs(diff).max() < 6 * 0.1 * spread["b"]  # noise of std 0.1 × spread, never nothing
    assert np.std(diff) == pytest.approx(0.1 * spread["b"], rel=0.35)
    assert (copies["c"].to_numpy() == sources["c"].to_numpy()).all()  # other columns are copied
    assert "Added 2 jittered copies of each training row" in result.results[1].summary
    pd.testing.assert_frame_equal(_fit(skewed, step).frame, result.frame)  # the same seed, the same rows


def test_replay_on_a_new_batch_skips_training_time_steps(skewed) -> None:
    recipe = Recipe((SPLIT, Step("impute", {"columns": ["a"]}), Step("rebalance", {"method": "smote", "k_neighbors": 3}),
                     Step("augment_noise")))
    fitted = replay(skewed, recipe, "fit").recipe
    batch = skewed.head(7).copy()
    batch.loc[2, "a"] = np.nan
    out = replay(batch, Recipe.from_json(fitted.to_json()), "transform")
    assert out.frame.index.tolist() == list(range(7)) and out.frame["y"].tolist() == batch["y"].tolist()
    assert out.frame.loc[2, "a"] == fitted.steps[1].fitted["values"]["a"]  # the steps around them still run
    assert out.results[2].summary.startswith("Skipped rebalance: it changes the training rows only")
    assert out.results[3].summary.startswith("Skipped augment_noise")


def test_exported_code_skips_training_time_steps_and_gives_the_replayed_frame(skewed) -> None:
    recipe = Recipe((SPLIT, Step("impute", {"columns": ["a"]}), Step("rebalance", {"method": "oversample"}),
                     Step("scale", {"columns": ["b"]})))
    fitted = replay(skewed, recipe, "fit")
    code = to_python(fitted.recipe)
    assert "# (rebalance changes the training rows only" in code and "imblearn" not in code
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), ns)  # noqa: S102
    expected = replay(skewed, fitted.recipe, "transform").frame
    pd.testing.assert_frame_equal(ns["clean"](skewed), expected)


def test_preview_shows_class_counts_and_says_the_test_rows_are_untouched(skewed) -> None:
    train = _fit(skewed).split
    from core.data.recipe.engine import FitContext

    context = FitContext(train.index[train == "train"], "y")
    preview = preview_step(skewed, Step("rebalance", {"method": "undersample"}), context=context)
    assert preview.before.to_dict("list") == {"y": ["p", "q"], "training rows": [24, 6]}
    assert preview.after.to_dict("list") == {"y": ["p", "q"], "training rows": [6, 6]}
    assert "the 10 test rows pass through unchanged" in preview.result.summary
    noisy = preview_step(skewed, Step("augment_noise"), n=5, context=context)
    assert len(noisy.after) == 5 and noisy.before.index.isin(context.train).all()
    assert (noisy.before["c"].to_numpy() == noisy.after["c"].to_numpy()).all()
    alone = preview_step(skewed, Step("rebalance", {"target": "y"}))  # no split yet: every row is training
    assert "No split yet, so all 40 rows count as training rows" in alone.result.summary


def test_smote_on_a_class_smaller_than_its_neighbours_suggests_random_oversampling(skewed) -> None:
    with pytest.raises(RecipeError, match=r"SMOTE needs more training rows than k_neighbors=10 in every class it "
                                          r"over-samples; class 'q' of 'y' has 6\. Lower k_neighbors to 5 or use "
                                          r"random over-sampling \(method 'oversample'\)"):
        _fit(skewed, Step("rebalance", {"method": "smote", "k_neighbors": 10}))


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.assign(y=[None] + ["p"] * 31 + ["q"] * 8), "needs a target without missing values"),
    (lambda f: f.assign(y="p"), "needs at least 2 classes in 'y'"),
    (lambda f: f.assign(y=np.arange(40) * 1.5), "looks like a regression target"),
    (lambda f: f.assign(when=pd.date_range("2024-01-01", periods=40)), "cannot interpolate column 'when'"),
    (lambda f: f.assign(a=[np.nan] + [1.0] * 39), "cannot interpolate missing values; column 'a'"),
])
def test_rebalance_bad_inputs_are_sentences(skewed, change, message) -> None:
    frame = change(skewed)
    with pytest.raises(RecipeError, match=message):
        replay(frame, Recipe((Step("rebalance", {"method": "smote", "target": "y", "k_neighbors": 3}),)), "fit")


def test_rebalance_without_a_target_and_noise_without_numbers_are_sentences(skewed) -> None:
    with pytest.raises(RecipeError, match="rebalance \\(oversample\\) needs the target column to balance"):
        replay(skewed, Recipe((Step("rebalance"),)), "fit")
    with pytest.raises(RecipeError, match="augment_noise needs numeric columns to jitter and found none"):
        replay(skewed[["c", "y"]], Recipe((Step("augment_noise"),)), "fit")


def test_the_onnx_plan_lists_training_time_steps_as_training_only(skewed) -> None:
    from core.deploy.recipe import kinds_of, plan_recipe

    recipe = Recipe((SPLIT, Step("rebalance", {"method": "oversample"}), Step("augment_noise"),
                     Step("scale", {"columns": ["a", "b"]})))
    fitted = replay(skewed, recipe, "fit").recipe
    plan = plan_recipe(fitted, kinds_of(skewed))
    assert [s.kind for s in plan.inside] == ["scale"] and plan.before == ()
    reasons = dict(plan.training_only)
    assert "re-samples the training rows" in reasons["step 2 rebalance (oversample)"]
    assert "jittered copies" in reasons["step 3 augment_noise"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(minority=st.integers(6, 20), majority=st.integers(21, 60), seed=st.integers(0, 1000),
       method=st.sampled_from(["oversample", "undersample", "smote"]), ratio=st.sampled_from([0.5, 0.8, 1.0]))
def test_property_test_rows_never_change_and_every_added_row_is_a_training_row(minority, majority, seed, method,
                                                                               ratio) -> None:
    rng = np.random.default_rng(seed)
    n = minority + majority
    frame = pd.DataFrame({"a": rng.normal(size=n), "y": ["q"] * minority + ["p"] * majority}).sample(
        frac=1.0, random_state=seed).reset_index(drop=True)
    split = Step("split", {"method": "stratified", "test_size": 0.25, "target": "y", "seed": seed})
    plain = replay(frame, Recipe((split,)), "fit").split
    result = replay(frame, Recipe((split, Step("rebalance", {"method": method, "ratio": ratio, "k_neighbors": 3,
                                                             "seed": seed}))), "fit")
    test = plain.index[plain == "test"]
    assert result.split.reindex(test).eq("test").all() and (result.split == "test").sum() == len(test)
    pd.testing.assert_frame_equal(result.frame.loc[test], frame.loc[test])
    added = result.frame.index.difference(frame.index)
    assert result.split.loc[added].eq("train").all() and not added.isin(frame.index).any()
    counts = result.frame.loc[result.split == "train", "y"].value_counts()
    if method == "undersample":
        assert counts.min() / counts.max() >= ratio - 1 / counts.max()
    else:
        assert counts.min() >= np.ceil(ratio * counts.max()) - 1e-9
