"""Apply, preview and replay recipe steps, with a change report for every step.

* ``apply_step(frame, step, fit=True)`` fits the step (recording what it learned in
  ``step.fitted``) or, with ``fit=False``, reuses ``step.fitted`` — the state goes through JSON
  first, so a fit and a later replay from the saved recipe compute exactly the same thing;
* ``preview_step`` shows the rows a step changes, before and after, without committing anything;
* ``replay(frame, recipe, mode)`` runs a whole recipe: ``'fit'`` refits every step, ``'transform'``
  reuses the fitted state (Monitor replays a reference's recipe on a new batch) and skips ``split``.

The input frame is never modified.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from core.data.recipe._common import check_columns, is_number, is_text
from core.data.recipe.model import Recipe, Step, normalize_params, to_native
from core.data.recipe.registry import STEPS
from core.errors import RecipeError


@dataclass(frozen=True)
class StepResult:
    """What one step did. ``changed_cells`` counts cells of columns present before and after whose
    value changed (a text number that became the same number is not a change); ``changed_rows``
    also counts rows touched through added or removed columns. Removed rows are
    ``rows_before - rows_after``."""

    frame: pd.DataFrame
    step: Step
    split: pd.Series | None
    rows_before: int
    rows_after: int
    changed_cells: int
    changed_rows: int
    added_columns: tuple[str, ...]
    removed_columns: tuple[str, ...]
    summary: str
    changed_columns: tuple[str, ...] = ()
    changed_index: pd.Index | None = None  # labels of kept rows that changed (for previews)
    changes: dict | None = None  # changed cells per column (columns with changes only)


@dataclass(frozen=True)
class StepPreview:
    """``before``: up to n changed or removed rows (affected columns only); ``after``: the same rows after."""

    result: StepResult
    before: pd.DataFrame
    after: pd.DataFrame


@dataclass(frozen=True)
class ReplayResult:
    frame: pd.DataFrame
    split: pd.Series | None
    results: tuple[StepResult, ...]
    recipe: Recipe  # the recipe with every step's fitted state (the one to save)


# what pandas / numpy / scikit-learn raise on data they cannot use (RecipeError is not among them)
_DATA_ERRORS = (KeyError, ValueError, TypeError, IndexError, ArithmeticError, np.linalg.LinAlgError)


def _spec(step: Step):
    if not isinstance(step, Step):
        raise RecipeError(f"A recipe step must be a Step. Got {type(step).__name__} instead.")
    if step.kind not in STEPS:
        raise RecipeError(f"Unknown step kind {step.kind!r}; known kinds are {', '.join(STEPS)}.")
    return STEPS[step.kind]


def _check_param_columns(frame: pd.DataFrame, spec, params: dict) -> None:
    for p in spec.params:
        value = params.get(p.name)
        if p.type == "columns" and value:
            check_columns(frame, spec.kind, p.name, value)
        elif p.type == "column" and value is not None:
            check_columns(frame, spec.kind, p.name, [value])


_FITTED_COLUMN_KEYS = ("values", "bounds", "stats", "categories", "numeric", "columns", "dropped")


def _check_fitted_columns(frame: pd.DataFrame, kind: str, fitted: dict) -> None:
    """A new batch must hold every column the step learned about (same schema as the reference)."""
    for key in _FITTED_COLUMN_KEYS:
        for col in fitted.get(key) or ():
            if col not in frame.columns:
                raise RecipeError(f"Column {col!r}, which {kind} learned from the reference table, is not in this "
                                  f"table. A new batch needs the reference's columns; check its header.")


def apply_step(frame: pd.DataFrame, step: Step, *, fit: bool = True) -> StepResult:
    """Apply one step; with ``fit=True`` learn its state first (returned in ``result.step.fitted``).

    Raises:
        RecipeError: unknown kind, bad parameter, missing column, or data the step cannot use.
    """
    spec = _spec(step)
    params = normalize_params(spec, step.params)
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)  # changes and splits are tracked by row label
    _check_param_columns(frame, spec, params)
    if spec.learns and not fit:
        if step.fitted is None:
            raise RecipeError(f"The {step.kind} step has not been fitted yet; replay the recipe in 'fit' mode first.")
        fitted = json.loads(json.dumps(to_native(step.fitted)))
        _check_fitted_columns(frame, step.kind, fitted)
    else:
        try:
            learned = spec.fit(frame, params) if spec.fit else {}
        except _DATA_ERRORS as err:
            raise RecipeError(f"{step.kind} could not learn from this table ({type(err).__name__}: {err}). "
                              "Check the chosen columns and the steps before it.") from None
        fitted = json.loads(json.dumps(to_native(learned)))  # exactly what a saved recipe will hold
    try:
        out = spec.transform(frame, params, fitted)
        split = spec.splitter(out, params) if spec.splitter and fit else None
    except _DATA_ERRORS as err:
        raise RecipeError(f"{step.kind} could not be applied to this table ({type(err).__name__}: {err}).") from None
    new_step = Step(step.kind, params, fitted if spec.learns else None)
    result = _result(frame, out, new_step, split)
    summary = spec.summarize(frame, out, params, fitted, result.changes) if spec.summarize else f"Applied {step.kind}."
    if spec.splitter and not fit:
        summary = "Skipped the split: a new batch keeps its rows together (transform mode)."
    return replace(result, summary=summary)


def _same(before: pd.Series, after: pd.Series) -> bool:
    """Cheap check first: an untouched column shares memory with the input, or is equal as a whole."""
    if before.dtype != after.dtype:
        return False
    if isinstance(before.dtype, np.dtype):
        b, a = before.to_numpy(copy=False), after.to_numpy(copy=False)
        if b.shape == a.shape and np.shares_memory(b, a):
            return True
    return before.equals(after)


def _changed_mask(before: pd.Series, after: pd.Series) -> np.ndarray:
    if _same(before, after):
        return np.zeros(len(after), dtype=bool)
    na_b, na_a = before.isna().to_numpy(), after.isna().to_numpy()
    if is_number(after) and (is_number(before) or is_text(before)):
        bv = pd.to_numeric(before, errors="coerce") if is_text(before) else before
        bv, av = bv.to_numpy(dtype=float, na_value=np.nan), after.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            eq = bv == av
    else:
        bv, av = before.astype(object).to_numpy(copy=True), after.astype(object).to_numpy(copy=True)
        bv[na_b], av[na_a] = None, None
        eq = np.asarray(bv == av, dtype=bool)
    return ~((eq & ~na_a & ~na_b) | (na_a & na_b))


def _truthy(extra: pd.DataFrame) -> np.ndarray:
    """Rows where an added column says something: non-missing, and non-zero / True when numeric."""
    flags = []
    for col in extra.columns:
        s = extra[col]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            flags.append(s.to_numpy(dtype=float, na_value=0.0) != 0)
        else:
            flags.append(s.notna().to_numpy())
    return np.column_stack(flags).any(axis=1)


def _result(frame: pd.DataFrame, out: pd.DataFrame, step: Step, split) -> StepResult:
    common = [c for c in out.columns if c in frame.columns]
    added = tuple(c for c in out.columns if c not in frame.columns)
    removed = tuple(c for c in frame.columns if c not in out.columns)
    kept = out.index
    before = frame.loc[kept] if len(kept) != len(frame) else frame
    masks = {c: _changed_mask(before[c], out[c]) for c in common}
    cells = np.column_stack(list(masks.values())) if masks else np.zeros((len(kept), 0), dtype=bool)
    rows = cells.any(axis=1) if cells.shape[1] else np.zeros(len(kept), dtype=bool)
    changes = {c: int(n) for c, n in zip(masks, cells.sum(axis=0)) if n}
    if added:
        rows = rows | _truthy(out[list(added)])
    if removed:
        rows = rows | before[list(removed)].notna().to_numpy().any(axis=1)
    return StepResult(
        frame=out, step=step, split=split, rows_before=len(frame), rows_after=len(out),
        changed_cells=int(cells.sum()), changed_rows=int(rows.sum()), added_columns=added, removed_columns=removed,
        summary="", changed_columns=tuple(changes), changed_index=kept[rows], changes=changes,
    )


def preview_step(frame: pd.DataFrame, step: Step, n: int = 20, *, fit: bool = True) -> StepPreview:
    """Apply ``step`` to ``frame`` and return up to ``n`` changed or removed rows, before and after.

    Only the affected columns are shown (changed, added, removed); all columns when the step
    changes none (e.g. it only removes rows).
    """
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)
    result = apply_step(frame, step, fit=fit)
    kept = frame.index.isin(result.frame.index)
    touched = ~kept | frame.index.isin(result.changed_index)
    labels = list(frame.index[touched][:n])
    cols_before = [c for c in frame.columns if c in result.changed_columns or c in result.removed_columns]
    cols_after = [c for c in result.frame.columns if c in result.changed_columns or c in result.added_columns]
    if not cols_before and not cols_after:
        cols_before, cols_after = list(frame.columns), list(result.frame.columns)
    before = frame.loc[labels, cols_before]
    after = result.frame.loc[[label for label in labels if label in result.frame.index], cols_after]  # ≤ n labels
    return StepPreview(result, before, after)


def replay(frame: pd.DataFrame, recipe: Recipe, mode: Literal["fit", "transform"] = "transform",
           on_progress: Callable[[int, int, str], None] | None = None) -> ReplayResult:
    """Run every step of ``recipe`` on ``frame``.

    Args:
        mode: ``'fit'`` refits every step; ``'transform'`` reuses each step's fitted state (steps
            that remove rows still remove them; ``split`` is skipped).
        on_progress: called as ``on_progress(done, total, summary)`` after each step.

    Raises:
        RecipeError: naming the step (``Step 3 (impute): …``) that cannot apply.
    """
    if mode not in ("fit", "transform"):
        raise RecipeError(f"The 'mode' parameter of replay must be 'fit' or 'transform'. Got {mode!r} instead.")
    results: list[StepResult] = []
    split = None
    current = frame
    for i, step in enumerate(recipe.steps, start=1):
        try:
            result = apply_step(current, step, fit=mode == "fit")
        except RecipeError as err:
            raise RecipeError(f"Step {i} ({getattr(step, 'kind', '?')}): {err}") from None
        results.append(result)
        current = result.frame
        if result.split is not None:
            split = result.split
        if on_progress:
            on_progress(i, len(recipe.steps), result.summary)
    if split is not None:
        split = split.reindex(current.index)
    fitted = replace(recipe, steps=tuple(r.step for r in results))
    return ReplayResult(current, split, tuple(results), fitted)
