"""Everything *Save version* does before it writes: a held-out part, a refit on training rows, feature advice.

The page and ``python -m core save`` both call :func:`prepare_version` and then
:func:`core.data.versions.save_version`, so a version made headless is the same as one made in the
browser: it always has a test part (stratified 80/20 for a classification target, random for
regression or no target, by time when a time column is chosen), decided on the raw rows before
anything is learned; every learning step is fitted on the training rows; the target is protected;
and the columns that would leak are named.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from core.data.recipe import Recipe, Step, replay
from core.data.recipe.splitting import split_step_of
from core.errors import DataError, RecipeError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.data.leakage import FeatureAdvice
    from core.data.recipe.engine import ReplayResult

SplitMethod = Literal["auto", "stratified", "random", "time"]
SPLIT_METHODS = ("auto", "stratified", "random", "time")
DEFAULT_TEST_SIZE = 0.2


@dataclass(frozen=True)
class PreparedVersion:
    """The cleaned table with its split, the fitted recipe that made it, and what the person should know."""

    frame: pd.DataFrame
    split: pd.Series
    recipe: Recipe
    replayed: ReplayResult
    advice: FeatureAdvice
    target: str
    notes: tuple[str, ...] = ()


def _task_of(raw: pd.DataFrame, target: str) -> str:
    import pandas as pd

    from core.models import infer_task

    values = raw[target]
    numbers = pd.to_numeric(values, errors="coerce")
    present = values.notna() & values.astype(str).str.strip().ne("")
    if present.any() and numbers[present].notna().mean() > 0.95:
        return infer_task(numbers.dropna())
    return "classification"


def with_split(recipe: Recipe, raw: pd.DataFrame, *, target: str = "", method: SplitMethod = "auto",
               test_size: float = DEFAULT_TEST_SIZE, seed: int = 0, time_column: str | None = None) -> tuple[Recipe, str]:
    """``recipe`` with a split step (added first when it has none), and a sentence when one was added.

    A split step already in the recipe is kept; an empty ``target`` of it takes the version's target.

    Raises:
        DataError: an unknown method, a target or time column that is not in the raw table, or a split
            step that stratifies on another column than the version's target.
    """
    if method not in SPLIT_METHODS:
        raise DataError(f"The split method must be one of {', '.join(SPLIT_METHODS)}. Got {method!r} instead.")
    for what, col in (("target", target), ("time column", time_column)):
        if col and col not in raw.columns:
            raise DataError(f"The {what} {col!r} is not a column of the raw table.")
    existing = split_step_of(recipe)
    if existing is not None:
        own = existing.params.get("target")
        if target and own and own != target:
            raise DataError(f"The recipe's split step names the target {own!r} but the version's target is "
                            f"{target!r}; make them the same (edit the split step or the target).")
        if target and not own:
            i = recipe.steps.index(existing)
            recipe = recipe.replace(i, Step("split", {**existing.params, "target": target}))
        return recipe, ""
    if method == "auto":
        method = "time" if time_column else (
            "stratified" if target and _task_of(raw, target) == "classification" else "random")
    if method == "time" and not time_column:
        raise DataError("A time split needs the time column: choose the column that says when each row happened.")
    params = {"method": method, "test_size": float(test_size), "seed": int(seed)}
    if target:
        params["target"] = target
    if time_column:
        params["time_column"] = time_column
    how = {"stratified": f"stratified on {target!r}", "random": "at random",
           "time": f"the latest rows by {time_column!r}"}[method]
    note = (f"The recipe had no split step, so a held-out part was added first: {how}, "
            f"{1 - test_size:.0%} train / {test_size:.0%} test, decided on the raw rows before anything is learned.")
    return replace(recipe, steps=(Step("split", params), *recipe.steps)), note


def split_rows(table: pd.DataFrame, target: str = "", method: SplitMethod = "auto") -> pd.Series:
    """A held-out part for a table nothing was learned from (a label set, a table saved without a recipe).

    Stratified on ``target`` when it is a classification target and the classes allow it, random otherwise.

    Raises:
        RecipeError: too few rows for a train and a test part.
    """
    from core.data.recipe import STEPS
    from core.data.recipe.model import normalize_params
    from core.data.recipe.splitting import decide_split

    target = target if target in table.columns else ""
    recipe, _ = with_split(Recipe(), table, target=target, method=method)
    try:
        return decide_split(table, normalize_params(STEPS["split"], recipe.steps[0].params), recipe).labels
    except RecipeError:
        if recipe.steps[0].params.get("method") != "stratified":
            raise
        recipe, _ = with_split(Recipe(), table, target=target, method="random")
        return decide_split(table, normalize_params(STEPS["split"], recipe.steps[0].params), recipe).labels


def prepare_version(raw: pd.DataFrame, recipe: Recipe, *, target: str = "", method: SplitMethod = "auto",
                    test_size: float = DEFAULT_TEST_SIZE, seed: int = 0, time_column: str | None = None,
                    on_progress=None) -> PreparedVersion:  # noqa: ANN001
    """Give ``recipe`` its held-out part, refit it on the training rows of ``raw`` and advise on features.

    Raises:
        DataError / RecipeError: one sentence naming what cannot be done.
    """
    from core.data.leakage import suggest_features

    recipe, note = with_split(recipe, raw, target=target, method=method, test_size=test_size, seed=seed,
                              time_column=time_column)
    try:
        result = replay(raw, recipe, "fit", on_progress, target=target or None)
    except RecipeError:
        raise
    if result.frame.empty or result.frame.shape[1] == 0:
        raise DataError("The cleaned table is empty; undo the step that removed everything before saving.")
    if target and target not in result.frame.columns:
        raise DataError(f"The target {target!r} is not a column of the cleaned table (a step removed it).")
    split = result.split
    if split is None or not (split == "test").any() or not (split == "train").any():
        raise DataError("No held-out rows remain after the recipe's row filters: every test row was removed. "
                        "Loosen the filters or raise test_size.")
    advice = suggest_features(result.frame[split == "train"], target or None, raw=raw)
    notes = tuple(n for n in (note, advice.note) if n)
    return PreparedVersion(result.frame, split, result.recipe, result, advice, target, notes)
