"""The held-out part of a version, decided on the raw rows before any step learns anything.

A recipe's ``split`` step says *how* to split (random, stratified by the target, or the latest
rows by a time column); wherever it sits in the recipe, :func:`decide_split` applies it to the
raw table first, and the engine then fits every learning step on the training rows only. Rows
that later steps remove simply leave whichever part they were in.

Stratification reads the raw target as text (trimmed; missing cells and missing-value tokens form
their own stratum; classes with a single row are pooled), so a dirty target column still splits
the way its cleaned values will. A time split parses the raw time column (with the format of a
``fix_types`` step on that column, when the recipe has one); rows whose time cannot be read go
to the training part and are counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import RecipeError

MISSING_STRATUM = "(missing)"
RARE_STRATUM = "(rare)"


@dataclass(frozen=True)
class SplitDecision:
    """'train' / 'test' per raw row (indexed like the raw table) and what was done, in words."""

    labels: pd.Series
    method: str
    note: str = ""

    @property
    def train_index(self) -> pd.Index:
        return self.labels.index[self.labels.to_numpy() == "train"]

    @property
    def n_test(self) -> int:
        return int((self.labels.to_numpy() == "test").sum())


def split_step_of(recipe) -> object | None:  # noqa: ANN001 - a Recipe (avoids an import cycle)
    """The recipe's split step (the first one), or None."""
    return next((s for s in recipe.steps if s.kind == "split"), None)


def recipe_target(recipe, explicit: str | None = None) -> str | None:  # noqa: ANN001
    """The target a recipe protects: the one given, else its split step's ``target``."""
    if explicit:
        return explicit
    step = split_step_of(recipe)
    return (step.params.get("target") or None) if step is not None else None


def _tokens(recipe) -> set[str]:  # noqa: ANN001
    from core.data.io import DEFAULT_MISSING_TOKENS

    found: set[str] = set(DEFAULT_MISSING_TOKENS)
    for s in recipe.steps:
        if s.kind == "missing_tokens":
            found |= set(s.params.get("tokens") or ())
    return found


def strata(values: pd.Series, tokens: set[str]) -> pd.Series:
    """Raw target cells as strata: trimmed text, missing / token cells pooled, single-row classes pooled."""
    text = values.astype("object").where(values.notna(), None)
    text = text.map(lambda v: MISSING_STRATUM if v is None else (str(v).strip() or MISSING_STRATUM))
    text = text.where(~text.isin(tokens), MISSING_STRATUM)
    counts = text.value_counts()
    rare = counts.index[counts < 2]
    if len(rare):
        text = text.where(~text.isin(rare), RARE_STRATUM)
        counts = text.value_counts()
        if counts.get(RARE_STRATUM, 0) == 1:  # a single rare row joins the largest class
            text = text.where(text != RARE_STRATUM, counts.drop(RARE_STRATUM).idxmax())
    return text


def _time_values(raw: pd.DataFrame, col: str, recipe) -> pd.Series:  # noqa: ANN001
    when = raw[col]
    if pd.api.types.is_datetime64_any_dtype(when.dtype) or pd.api.types.is_numeric_dtype(when.dtype):
        return when
    fmt = next((s.params.get("format") for s in recipe.steps if s.kind == "fix_types"
                and s.params.get("to") == "datetime" and col in (s.params.get("columns") or ())), None)
    parsed = pd.to_datetime(when, format=fmt or None, errors="coerce")
    if parsed.notna().sum() == 0:
        numbers = pd.to_numeric(when, errors="coerce")
        if numbers.notna().any():
            return numbers
    return parsed


def decide_split(raw: pd.DataFrame, params: dict, recipe) -> SplitDecision:  # noqa: ANN001
    """Assign each raw row to 'train' or 'test' with the split step's ``params`` (already normalised).

    Raises:
        RecipeError: too few rows, a missing stratify / time column, or a time column with no readable value.
    """
    n = len(raw)
    n_test = math.ceil(params["test_size"] * n)
    if n_test < 1 or n_test >= n:
        raise RecipeError(f"split needs at least one train and one test row; {n} rows with test_size="
                          f"{params['test_size']:g} gives {n_test} test rows. Change test_size.")
    method = params["method"]
    note = ""
    labels = np.full(n, "train", dtype=object)
    if method == "random":
        labels[np.random.default_rng(params["seed"]).permutation(n)[:n_test]] = "test"
    elif method == "stratified":
        target = params.get("target")
        if not target:
            raise RecipeError("The 'target' parameter of split is required for method 'stratified'. Got None instead.")
        if target not in raw.columns:
            raise RecipeError(f"split (stratified) needs the target {target!r} in the raw table; it is not one of its "
                              "columns. Use a random split or choose another target.")
        from sklearn.model_selection import train_test_split

        y = strata(raw[target], _tokens(recipe))
        if y.nunique() > 1:
            if n_test < y.nunique() or n - n_test < y.nunique():
                raise RecipeError(f"split (stratified) needs at least one row of each of the {y.nunique()} classes "
                                  f"of {target!r} in both parts; test_size={params['test_size']:g} gives {n_test} "
                                  "test rows. Change test_size.")
            _, test = train_test_split(np.arange(n), test_size=n_test, stratify=y.to_numpy(),
                                       random_state=params["seed"])
        else:
            test = np.random.default_rng(params["seed"]).permutation(n)[:n_test]
            note = f" ({target!r} holds a single class in the raw rows, so the split is random)"
        labels[test] = "test"
    else:
        col = params.get("time_column")
        if not col or col not in raw.columns:
            raise RecipeError(f"split (time) needs a time column of the raw table; got {col!r}. Choose the column "
                              "that says when each row happened.")
        when = _time_values(raw, col, recipe)
        known = np.flatnonzero(when.notna().to_numpy())
        if len(known) < 2:
            raise RecipeError(f"split (time) could not read a time in {col!r} for at least two rows; fix the column's "
                              "type first (fix_types → datetime) or use another split.")
        k = min(n_test, len(known) - 1)
        order = known[np.argsort(when.to_numpy()[known], kind="stable")]
        labels[order[len(order) - k:]] = "test"
        unknown = n - len(known)
        if unknown:
            note = f"; {unknown:,} row(s) without a readable time stay in train"
    return SplitDecision(pd.Series(labels, index=raw.index, name="split"), method, note)
