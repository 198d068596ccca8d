"""What applying, previewing and replaying steps returns (frozen results), and what a fit may see."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.recipe.model import Recipe, Step


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
    sources: pd.Series | None = None  # training-time steps: label of each added row → the row it came from


@dataclass(frozen=True)
class FitContext:
    """What a fit may learn from: the training rows (labels of the frame's index; None = all) and the target.

    ``reserved``: every label the raw table used (rows added by a training-time step never reuse one, so a
    removed held-out row's label can never come back as a training row)."""

    train: pd.Index | None = None
    target: str | None = None
    reserved: pd.Index | None = None


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
DATA_ERRORS = (KeyError, ValueError, TypeError, IndexError, ArithmeticError, np.linalg.LinAlgError)
