"""``STEPS``: every step kind, in the order a page offers them (roughly the order they are used)."""

from __future__ import annotations

from core.data.recipe.model import StepSpec
from core.data.recipe.steps_features import FEATURE_STEPS
from core.data.recipe.steps_rows import ROW_STEPS
from core.data.recipe.steps_select import SELECT_STEPS
from core.data.recipe.steps_text import TEXT_STEPS

STEPS: dict[str, StepSpec] = {**TEXT_STEPS, **ROW_STEPS, **FEATURE_STEPS, **SELECT_STEPS}
