"""Apply, preview and replay recipe steps, with a change report for every step.

* ``apply_step(frame, step, fit=True)`` fits the step (recording what it learned in
  ``step.fitted``) or, with ``fit=False``, reuses ``step.fitted`` — the state goes through JSON
  first, so a fit and a later replay from the saved recipe compute exactly the same thing;
* ``preview_step`` shows the rows a step changes, before and after, without committing anything;
* ``replay(frame, recipe, mode)`` runs a whole recipe: ``'fit'`` refits every step, ``'transform'``
  reuses the fitted state (Monitor replays a reference's recipe on a new batch) and skips ``split``
  and the training-time steps (``rebalance``, ``augment_noise``: a new batch is never resampled).

Training-time steps run on the training rows only: the test rows pass through unchanged, and the
rows they add get fresh labels (never one of the raw table's) and are marked 'train' in the split.

Evaluation integrity, by construction: in ``'fit'`` mode the recipe's split is decided on the raw
rows *before* any step runs (:mod:`core.data.recipe.splitting`), wherever the split step sits, and
every learning step is fitted on the training rows only, then applied to all rows. The target (the
split step's ``target``, or the one passed to :func:`replay`) is left out of every step's default
column set — imputed, scaled, encoded or clipped only when a person names it explicitly.

The input frame is never modified.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from core.data.recipe._common import check_columns, is_number, is_text
from core.data.recipe.model import Recipe, Step, normalize_params, to_native
from core.data.recipe.registry import STEPS
from core.data.recipe.results import DATA_ERRORS, FitContext, ReplayResult, StepPreview, StepResult
from core.data.recipe.training import apply_training_step, training_preview
from core.errors import RecipeError

__all__ = ["FitContext", "ReplayResult", "StepPreview", "StepResult", "apply_step", "preview_step", "replay"]


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


_FITTED_COLUMN_KEYS = ("values", "bounds", "stats", "categories", "numeric", "columns", "dropped", "source")


def _check_fitted_columns(frame: pd.DataFrame, kind: str, fitted: dict) -> None:
    """A new batch must hold every column the step learned about (same schema as the reference)."""
    for key in _FITTED_COLUMN_KEYS:
        for col in fitted.get(key) or ():
            if col not in frame.columns:
                raise RecipeError(f"Column {col!r}, which {kind} learned from the reference table, is not in this "
                                  f"table. A new batch needs the reference's columns; check its header.")


def apply_step(frame: pd.DataFrame, step: Step, *, fit: bool = True, context: FitContext | None = None,
               split: pd.Series | None = None) -> StepResult:
    """Apply one step; with ``fit=True`` learn its state first (returned in ``result.step.fitted``).

    Args:
        context: the training rows a fit may see and the target to leave out of default column sets.
        split: for a ``split`` step inside a replay, the split already decided on the raw rows.

    Raises:
        RecipeError: unknown kind, bad parameter, missing column, or data the step cannot use.
    """
    spec = _spec(step)
    params = normalize_params(spec, step.params)
    context = context or FitContext()
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)  # changes and splits are tracked by row label
    _check_param_columns(frame, spec, params)
    if spec.training_only:
        return apply_training_step(frame, step, spec, params, fit, context)
    # the fit sees the target through a private key, so default column sets can leave it out
    fit_params = {**params, "_target": context.target} if context.target else params
    learn_from = frame
    if fit and spec.learns and context.train is not None:
        learn_from = frame.loc[frame.index.intersection(context.train)]
        if learn_from.empty:
            raise RecipeError(f"{step.kind} has no training row left to learn from: the steps before it removed "
                              "every row of the training part. Check the row filters.")
    if spec.learns and not fit:
        if step.fitted is None:
            raise RecipeError(f"The {step.kind} step has not been fitted yet; replay the recipe in 'fit' mode first.")
        fitted = json.loads(json.dumps(to_native(step.fitted)))
        _check_fitted_columns(frame, step.kind, fitted)
    else:
        try:
            learned = spec.fit(learn_from, fit_params) if spec.fit else {}
        except DATA_ERRORS as err:
            raise RecipeError(f"{step.kind} could not learn from this table ({type(err).__name__}: {err}). "
                              "Check the chosen columns and the steps before it.") from None
        fitted = json.loads(json.dumps(to_native(learned)))  # exactly what a saved recipe will hold
    if spec.check is not None:
        spec.check(frame, params, fitted)
    try:
        out = spec.transform(frame, params, fitted)
        if spec.splitter and fit:
            split = split.reindex(out.index) if split is not None else spec.splitter(out, params)
        else:
            split = None
    except DATA_ERRORS as err:
        raise RecipeError(f"{step.kind} could not be applied to this table ({type(err).__name__}: {err}).") from None
    new_step = Step(step.kind, params, fitted if spec.learns else None)
    result = _result(frame, out, new_step, split)
    summary = (spec.summarize(frame, out, fit_params, fitted, result.changes) if spec.summarize
               else f"Applied {step.kind}.")
    if spec.splitter and not fit:
        summary = "Skipped the split: a new batch keeps its rows together (transform mode)."
    elif fit and spec.learns and learn_from is not frame:
        summary += f" Fitted on the {len(learn_from):,} training rows only; applied to all {len(out):,}."
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


def preview_step(frame: pd.DataFrame, step: Step, n: int = 20, *, fit: bool = True,
                 context: FitContext | None = None) -> StepPreview:
    """Apply ``step`` to ``frame`` and return up to ``n`` changed or removed rows, before and after.

    Only the affected columns are shown (changed, added, removed); all columns when the step
    changes none (e.g. it only removes rows). ``context`` as in :func:`apply_step` (the page passes
    the training rows of the recipe's split, so the preview fits what the saved version will).
    """
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)
    result = apply_step(frame, step, fit=fit, context=context)
    if STEPS[step.kind].training_only:
        return training_preview(frame, result, n)
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
           on_progress: Callable[[int, int, str], None] | None = None, *, target: str | None = None,
           upto: int | None = None) -> ReplayResult:
    """Run every step of ``recipe`` on ``frame``.

    Args:
        mode: ``'fit'`` decides the split on the raw rows first, then refits every step on the
            training rows; ``'transform'`` reuses each step's fitted state (steps that remove rows
            still remove them; ``split`` is skipped).
        on_progress: called as ``on_progress(done, total, summary)`` after each step.
        target: the version's target (default: the split step's ``target``), left out of default column sets.
        upto: run only the first ``upto`` steps (the split is still the whole recipe's), e.g. the table
            just before a step being edited.

    Raises:
        RecipeError: naming the step (``Step 3 (impute): …``) that cannot apply.
    """
    from core.data.recipe.splitting import decide_split, recipe_target, split_step_of

    if mode not in ("fit", "transform"):
        raise RecipeError(f"The 'mode' parameter of replay must be 'fit' or 'transform'. Got {mode!r} instead.")
    results: list[StepResult] = []
    split = None
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)
    current = frame
    decided = None
    split_step = split_step_of(recipe)
    if mode == "fit" and split_step is not None:
        try:
            params = normalize_params(STEPS["split"], split_step.params)
            decided = decide_split(frame, params, recipe)
        except RecipeError as err:
            where = recipe.steps.index(split_step) + 1
            raise RecipeError(f"Step {where} (split): {err}") from None
    raw_decided = decided  # the split as decided on the raw rows (the summary counts those)
    context = FitContext(decided.train_index if decided is not None else None, recipe_target(recipe, target),
                         decided.labels.index if decided is not None else None)
    steps = recipe.steps if upto is None else recipe.steps[:upto]
    for i, step in enumerate(steps, start=1):
        try:
            result = apply_step(current, step, fit=mode == "fit", context=context,
                                split=decided.labels if decided is not None and step.kind == "split" else None)
        except RecipeError as err:
            raise RecipeError(f"Step {i} ({getattr(step, 'kind', '?')}): {err}") from None
        if decided is not None and step.kind == "split":
            result = replace(result, summary=_split_summary(raw_decided, result, current))
        if decided is not None and result.sources is not None and len(result.sources):
            # rows a training-time step added are training rows: the split and later fits must know them
            added = pd.Series("train", index=result.sources.index, name=decided.labels.name, dtype=object)
            decided = replace(decided, labels=pd.concat([decided.labels, added]))
            context = replace(context, train=decided.train_index, reserved=decided.labels.index)
        results.append(result)
        current = result.frame
        if result.split is not None:
            split = result.split
        if on_progress:
            on_progress(i, len(recipe.steps), result.summary)
    if decided is not None:
        split = decided.labels.reindex(current.index)
    elif split is not None:
        split = split.reindex(current.index)
    fitted = replace(recipe, steps=tuple(r.step for r in results) + tuple(recipe.steps[len(results):]))
    return ReplayResult(current, split, tuple(results), fitted)


def _split_summary(decided, result: StepResult, current: pd.DataFrame) -> str:  # noqa: ANN001
    raw_test = decided.n_test
    now = decided.labels.reindex(current.index)
    test = int((now == "test").sum())
    kept = f"; {test:,} of them remain after the row filters" if test != raw_test else ""
    how = result.step.params
    by = {"stratified": f"stratified on {how.get('target')!r}", "time": f"latest by {how.get('time_column')!r}",
          "random": "at random"}.get(decided.method, decided.method)
    return (f"Held out {raw_test:,} of the {len(decided.labels):,} raw rows as the test part ({by}, test_size="
            f"{how['test_size']:g}{decided.note}), decided before any step learned anything{kept}. "
            "Every learning step is fitted on the training rows only.")
