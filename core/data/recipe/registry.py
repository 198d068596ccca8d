"""``STEPS``: every step kind, in the order a page offers them (roughly the order they are used)."""

from __future__ import annotations

from core.data.recipe.model import StepSpec
from core.data.recipe.steps_extract import EXTRACT_STEPS
from core.data.recipe.steps_features import FEATURE_STEPS
from core.data.recipe.steps_rows import ROW_STEPS
from core.data.recipe.steps_select import SELECT_STEPS
from core.data.recipe.steps_text import TEXT_STEPS
from core.data.recipe.steps_train import TRAIN_STEPS

STEPS: dict[str, StepSpec] = {**TEXT_STEPS, **ROW_STEPS, **FEATURE_STEPS, **EXTRACT_STEPS, **SELECT_STEPS,
                               **TRAIN_STEPS}


def describe_step(step) -> str:  # noqa: ANN001 - a Step
    """One line for a recipe list: the step's title and the parameters that differ from their defaults."""
    spec = STEPS.get(step.kind)
    if spec is None:
        return f"Unknown step {step.kind!r}"
    shown = []
    for p in spec.params:
        value = step.params.get(p.name, p.default)
        if value == p.default or value is None:
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, value[:4])) + (f" (+{len(value) - 4})" if len(value) > 4 else "")
        shown.append(f"{p.name}={value}")
    return spec.title + (f" — {'; '.join(shown)}" if shown else "")
