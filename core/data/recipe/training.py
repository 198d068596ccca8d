"""Training-time steps inside the engine: resample the training rows only, keep the split consistent.

The step's ``resample`` sees the training part alone; the test rows pass through unchanged, the
rows it adds get labels no raw row ever had (so a removed held-out row's label never returns as a
training row), and :func:`core.data.recipe.engine.replay` marks them 'train' in the split.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core.data.recipe.model import Step, to_native
from core.data.recipe.results import DATA_ERRORS, FitContext, StepPreview, StepResult
from core.errors import RecipeError


def _fresh_labels(frame: pd.DataFrame, context: FitContext, n: int) -> pd.Index:
    """``n`` labels used by no row of ``frame``, the training rows or the raw table (integers after the largest)."""
    used = frame.index
    for more in (context.train, context.reserved):
        if more is not None:
            used = used.append(pd.Index(more))
    if pd.api.types.is_integer_dtype(used.dtype) or used.empty:
        start = int(used.max()) + 1 if len(used) else 0
        return pd.RangeIndex(start, start + n)
    taken = set(used)
    fresh, i = [], 0
    while len(fresh) < n:
        if (label := f"added-{i}") not in taken:
            fresh.append(label)
        i += 1
    return pd.Index(fresh)


def apply_training_step(frame: pd.DataFrame, step: Step, spec, params: dict, fit: bool,  # noqa: ANN001
                         context: FitContext) -> StepResult:
    """Resample the training rows only; the other rows pass through unchanged, added rows get fresh labels."""
    empty = pd.Index([], dtype=frame.index.dtype)
    if not fit:  # replay on a new batch: a training-time step never runs on it
        return StepResult(frame, step, None, len(frame), len(frame), 0, 0, (), (),
                          f"Skipped {step.kind}: it changes the training rows only; a new batch passes through "
                          "unchanged (transform mode).", changed_index=empty, changes={})
    is_train = frame.index.isin(context.train) if context.train is not None else np.ones(len(frame), dtype=bool)
    train = frame[is_train]
    if train.empty:
        raise RecipeError(f"{step.kind} has no training row left to work on: the steps before it removed every row "
                          "of the training part. Check the row filters.")
    fit_params = {**params, "_target": context.target} if context.target else params
    try:
        fitted = json.loads(json.dumps(to_native(spec.fit(train, fit_params))))
        kept, added = spec.resample(train, fit_params, fitted)
    except DATA_ERRORS as err:
        raise RecipeError(f"{step.kind} could not resample the training rows ({type(err).__name__}: {err}). "
                          "Check the chosen columns and the steps before it.") from None
    labels = _fresh_labels(frame, context, len(added))
    sources = pd.Series(added.index.to_numpy(), index=labels, dtype=object)
    added = added.set_axis(labels)
    out = frame[~is_train | frame.index.isin(kept.index)]
    if len(added):
        out = pd.concat([out, added[list(frame.columns)]])
    new_step = Step(step.kind, params, fitted)
    n_test = int((~is_train).sum())
    marked = f"; the {len(added):,} added rows are marked as training rows" if len(added) else ""
    where = (f" Applied to the {len(train):,} training rows only; the {n_test:,} test rows pass through "
             f"unchanged{marked}." if context.train is not None else
             f" No split yet, so all {len(train):,} rows count as training rows; a saved version holds out its test "
             "part first and resamples only its training part.")
    summary = spec.summarize(train, out, fit_params, fitted, {}) + where
    if len(added):  # copies / neighbours of one row can land in several folds of a cross-validation
        summary += (" Cross-validation inside the training part sees rows made from the same row in several folds, "
                    "so cv scores read optimistic; the held-out test score is not affected.")
    removed = len(train) - len(kept)
    return StepResult(out, new_step, None, len(frame), len(out), 0, len(added) + removed, (), (), summary,
                      changed_index=labels, changes={}, sources=sources)


def training_preview(frame: pd.DataFrame, result: StepResult, n: int) -> StepPreview:
    """Class counts of the training rows before / after for a rebalance; otherwise rows copied and their copies."""
    fitted = result.step.fitted or {}
    if "classes" in fitted:
        classes = [str(c) for c in fitted["classes"]]
        before = pd.DataFrame({fitted["target"]: classes, "training rows": fitted["before"]})
        after = pd.DataFrame({fitted["target"]: classes, "training rows": fitted["after"]})
        return StepPreview(result, before, after)
    sources = result.sources.iloc[:n] if result.sources is not None else pd.Series(dtype=object)
    after = result.frame.loc[sources.index]
    before = frame.loc[[s for s in sources if s in frame.index]]
    return StepPreview(result, before, after)
