"""Cleaning as a recipe: an ordered list of JSON steps that fit once and replay anywhere.

Public API::

    Step, Recipe, RecipeError                     the recipe as data (model.py)
    STEPS: dict[kind, StepSpec]                   step kinds with a param schema a page can render
    describe_step(step)                           one line for a recipe list
    apply_step, preview_step, replay              engine.py → StepResult, StepPreview, ReplayResult
    suggest_missing_tokens(frame)                 candidate missing tokens with their cell counts
    to_python(recipe, source_path)                a standalone script reproducing the cleaned table

Step modules: steps_text (tokens, types, case), steps_rows (columns, duplicates, impute, outliers),
steps_features (scale, encode, PCA), steps_extract (group / rolling / Fourier features), steps_select
(selection, split) and steps_train (rebalance, noise augmentation: training rows only, see training.py).

Typical page flow::

    tokens = suggest_missing_tokens(raw)                          # {'NA': 19, '': 3}
    step = Step("missing_tokens", {"tokens": list(tokens)})
    preview = preview_step(current, step)                         # .result.summary, .before, .after
    recipe = recipe.with_step(preview.result.step)                # the step with its fitted state
    done = replay(raw, recipe, "fit")                             # after an edit / undo: refit all
    done.frame, done.split, done.recipe.to_json(), to_python(done.recipe, name)
"""

from __future__ import annotations

from core.data.recipe.codegen import to_python
from core.data.recipe.engine import ReplayResult, StepPreview, StepResult, apply_step, preview_step, replay
from core.data.recipe.model import ParamSpec, Recipe, Step, StepSpec
from core.data.recipe.registry import STEPS, describe_step
from core.data.recipe.steps_text import DEFAULT_MISSING_TOKENS, suggest_missing_tokens
from core.errors import RecipeError

__all__ = [
    "DEFAULT_MISSING_TOKENS", "STEPS", "ParamSpec", "Recipe", "RecipeError", "ReplayResult", "Step", "StepPreview",
    "StepResult", "StepSpec", "apply_step", "describe_step", "preview_step", "replay", "suggest_missing_tokens",
    "to_python",
]
