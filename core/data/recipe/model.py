"""The recipe as data: frozen ``Step`` / ``Recipe`` with a pure-JSON form, and the param schema.

A recipe is an ordered tuple of steps. Each step has a ``kind`` (a key of
:data:`core.data.recipe.registry.STEPS`), its ``params`` (complete: defaults are
filled in when the step is first applied) and, once applied in fit mode, its
``fitted`` state — everything it learned from the data (imputation values,
bounds, categories, selected columns, PCA components …) as plain JSON values,
so replaying the recipe on a new batch reproduces the same processing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from core.errors import RecipeError

ParamType = Literal["columns", "column", "choice", "multichoice", "float", "int", "bool", "text", "tokens"]
RECIPE_VERSION = 1


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a step, described so a page can render a widget for it generically.

    ``type``: ``columns`` (list of column names, ``None`` = the step's default set), ``column``
    (one name or ``None``), ``choice`` (one of ``choices``), ``multichoice`` (a list of ``choices``),
    ``float``/``int`` (within
    ``minimum``/``maximum``), ``bool``, ``text``, ``tokens`` (list of strings).
    """

    name: str
    type: ParamType
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = True  # False: the person must give a value (no usable default)


@dataclass(frozen=True)
class StepSpec:
    """A step kind: its title and schema, and the pure functions that fit / transform / describe it.

    ``fit(frame, params) -> fitted`` learns state (JSON values); ``transform(frame, params, fitted)``
    applies it and only uses pandas/numpy and plain workbench functions (its source, and theirs,
    is copied into exported Python code); ``summarize(before, after, params, fitted, changes) -> str``
    is one human sentence (``changes``: changed cells per column, only columns with changes).
    """

    kind: str
    title: str
    description: str
    params: tuple[ParamSpec, ...]
    transform: Callable[..., Any]
    fit: Callable[..., dict] | None = None
    summarize: Callable[..., str] | None = None
    learns: bool = False  # True when fit() records state that transform mode reuses
    splitter: Callable[..., Any] | None = None  # split only: (frame, params) -> Series of 'train' / 'test'
    # training-time steps (rebalance, augment): (train rows, params, fitted) -> (kept rows, added rows); the
    # engine runs it on the training part only, labels the added rows as training rows, and skips it on replay
    resample: Callable[..., Any] | None = None
    # (frame, params, fitted) -> None, raising a RecipeError sentence for data the transform cannot use; run
    # before every transform (fit and replay) and never copied into exported code
    check: Callable[..., Any] | None = None

    @property
    def training_only(self) -> bool:
        """True for steps that change the training rows only (a new batch passes through unchanged)."""
        return self.resample is not None

    def param(self, name: str) -> ParamSpec:
        return next(p for p in self.params if p.name == name)


def to_native(value: Any) -> Any:
    """Turn numpy / pandas scalars and arrays into plain JSON values (NaN → None)."""
    import numpy as np

    if isinstance(value, Mapping):
        return {str(k): to_native(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_native(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_native(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None  # strict JSON has no NaN / Infinity
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):  # Timestamp, datetime, date
        return value.isoformat()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


@dataclass(frozen=True)
class Step:
    """One cleaning step: ``kind``, its ``params`` and (after a fit) its learned ``fitted`` state."""

    kind: str
    params: dict = field(default_factory=dict)
    fitted: dict | None = None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind, "params": to_native(self.params)}
        if self.fitted is not None:
            out["fitted"] = to_native(self.fitted)
        return out

    @classmethod
    def from_dict(cls, data: Any, position: int | None = None) -> Step:
        where = f"Step {position}" if position is not None else "The step"
        if not isinstance(data, Mapping) or not isinstance(data.get("kind"), str):
            raise RecipeError(
                f"{where} must be an object with a 'kind' string and a 'params' object. Got {data!r:.80} instead."
            )
        params = data.get("params") or {}
        fitted = data.get("fitted")
        if not isinstance(params, Mapping) or (fitted is not None and not isinstance(fitted, Mapping)):
            raise RecipeError(f"{where} ({data['kind']}) must have 'params' (and 'fitted', if any) as JSON objects.")
        return cls(data["kind"], dict(params), dict(fitted) if fitted is not None else None)

    def unfitted(self) -> Step:
        return replace(self, fitted=None)


@dataclass(frozen=True)
class Recipe:
    """An ordered, immutable list of steps. Edits return a new recipe."""

    steps: tuple[Step, ...] = ()
    version: int = RECIPE_VERSION

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def is_fitted(self) -> bool:
        """True when every step that learns from data carries its fitted state."""
        from core.data.recipe.registry import STEPS

        return all(s.fitted is not None for s in self.steps if STEPS[s.kind].learns)

    # --- editing -----------------------------------------------------------------------------
    def _index(self, i: int, name: str = "i") -> int:
        if not isinstance(i, int) or not -len(self.steps) <= i < len(self.steps):
            raise RecipeError(f"The '{name}' position must be an int in [0, {len(self.steps) - 1}]. Got {i!r} instead.")
        return i % len(self.steps)

    def with_step(self, step: Step) -> Recipe:
        return replace(self, steps=(*self.steps, step))

    def without(self, i: int) -> Recipe:
        i = self._index(i)
        return replace(self, steps=self.steps[:i] + self.steps[i + 1:])

    def replace(self, i: int, step: Step) -> Recipe:
        i = self._index(i)
        return replace(self, steps=self.steps[:i] + (step,) + self.steps[i + 1:])

    def move(self, i: int, j: int) -> Recipe:
        i, j = self._index(i), self._index(j, "j")
        steps = list(self.steps)
        steps.insert(j, steps.pop(i))
        return replace(self, steps=tuple(steps))

    def unfitted(self) -> Recipe:
        return replace(self, steps=tuple(s.unfitted() for s in self.steps))

    # --- JSON --------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"version": self.version, "steps": [s.to_dict() for s in self.steps]}

    def to_json(self, indent: int | None = 2) -> str:
        """Pure JSON (no NaN, no numpy): safe to log as an MLflow artifact and to read anywhere."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any) -> Recipe:
        from core.data.recipe.registry import STEPS

        if isinstance(data, list):  # a bare list of steps is accepted too
            data = {"version": RECIPE_VERSION, "steps": data}
        if not isinstance(data, Mapping) or not isinstance(data.get("steps", []), list):
            raise RecipeError(
                "A recipe must be a JSON object with a 'steps' list. Got something else; export one from the Data page."
            )
        version = data.get("version", RECIPE_VERSION)
        if version != RECIPE_VERSION:
            raise RecipeError(f"The recipe 'version' must be {RECIPE_VERSION}. Got {version!r} instead.")
        steps = []
        for n, raw in enumerate(data.get("steps", []), start=1):
            step = Step.from_dict(raw, n)
            if step.kind not in STEPS:
                raise RecipeError(f"Step {n} has an unknown kind {step.kind!r}; known kinds are {', '.join(STEPS)}.")
            try:
                normalize_params(STEPS[step.kind], step.params)
            except RecipeError as err:
                raise RecipeError(f"Step {n}: {err}") from None
            steps.append(step)
        return cls(tuple(steps), version)

    @classmethod
    def from_json(cls, text: str | bytes) -> Recipe:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as err:
            raise RecipeError(f"The recipe is not valid JSON ({err}). Check the file or export it again.") from None
        return cls.from_dict(data)


# --- parameter validation ------------------------------------------------------------------------
def _check_value(kind: str, p: ParamSpec, value: Any) -> Any:
    def bad(expected: str) -> RecipeError:
        return RecipeError(f"The '{p.name}' parameter of {kind} must be {expected}. Got {value!r} instead.")

    if value is None:
        if not p.optional:
            raise RecipeError(f"The '{p.name}' parameter of {kind} is required ({p.help or p.type}). Got None instead.")
        return None
    if p.type in ("columns", "tokens"):
        if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
            raise bad("a list of " + ("column names" if p.type == "columns" else "strings"))
        return list(value)
    if p.type in ("column", "text"):
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if p.type == "multichoice":
        if isinstance(value, str) or not isinstance(value, Sequence) or not value or any(
                v not in p.choices for v in value):
            raise bad("a non-empty list of " + ", ".join(map(repr, p.choices)))
        return list(dict.fromkeys(value))
    if p.type == "choice":
        if value not in p.choices:
            raise bad("one of " + ", ".join(map(repr, p.choices)))
        return value
    if p.type == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if p.type in ("int", "float"):
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if p.type == "int" and not (numeric and float(value).is_integer()):
            raise bad(f"an int in [{p.minimum}, {p.maximum}]")
        if not numeric or math.isnan(value):
            raise bad(f"a number in [{p.minimum}, {p.maximum}]")
        if (p.minimum is not None and value < p.minimum) or (p.maximum is not None and value > p.maximum):
            raise bad(f"{'an int' if p.type == 'int' else 'a number'} in [{p.minimum}, {p.maximum}]")
        return int(value) if p.type == "int" else float(value)
    raise bad(p.type)  # pragma: no cover - schema typo


def normalize_params(spec: StepSpec, params: Mapping[str, Any]) -> dict:
    """Check ``params`` against the schema and return them complete (defaults filled in)."""
    unknown = sorted(set(params) - {p.name for p in spec.params})
    if unknown:
        raise RecipeError(
            f"{spec.kind} has no parameter {unknown[0]!r}; its parameters are {', '.join(p.name for p in spec.params)}."
        )
    return {p.name: _check_value(spec.kind, p, params.get(p.name, p.default)) for p in spec.params}
