"""Search spaces: what a study may vary, per model family, as plain data.

A space is a ``dict[str, ParamSpec]`` keyed by the parameter name that
:func:`core.models.make_estimator` reads. It travels as JSON (in the study's
user attributes and as an MLflow param), so a worker process needs nothing else.

JSON form (one object per parameter; short forms accepted by :func:`parse_space`)::

    {"C":       {"kind": "float", "low": 0.001, "high": 100, "log": true},
     "weights": {"kind": "categorical", "choices": ["uniform", "distance"]},
     "max_iter": {"kind": "fixed", "value": 200}}
    # short forms: [a, b, c] -> categorical, a scalar -> fixed

The grid sampler needs a finite grid: :func:`grid_points` keeps categoricals and
fixed values as they are and takes ``GRID_POINTS`` evenly spaced points (geometric
on log ranges) across each numeric range, integers rounded and de-duplicated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from core.errors import TuneError
from core.models import FAMILIES, default_params

if TYPE_CHECKING:  # pragma: no cover
    import optuna

Kind = Literal["float", "int", "categorical", "fixed"]
KINDS = ("float", "int", "categorical", "fixed")
GRID_POINTS = 3
Space = dict[str, "ParamSpec"]


@dataclass(frozen=True)
class ParamSpec:
    """One searchable (or fixed) parameter."""

    name: str
    kind: Kind
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("name")
        if self.kind in ("float", "int"):
            return {"kind": self.kind, "low": self.low, "high": self.high, "log": self.log}
        if self.kind == "categorical":
            return {"kind": "categorical", "choices": list(self.choices)}
        return {"kind": "fixed", "value": d["value"]}

    def describe(self) -> str:
        """Short human text, e.g. ``0.001 – 100 (log)``."""
        if self.kind in ("float", "int"):
            return f"{self.low:g} – {self.high:g}{' (log)' if self.log else ''}"
        if self.kind == "categorical":
            return " | ".join(map(str, self.choices))
        return f"= {self.value}"


def _f(name: str, low: float, high: float, log: bool = False) -> ParamSpec:
    return ParamSpec(name, "float", low, high, log)


def _i(name: str, low: int, high: int, log: bool = False) -> ParamSpec:
    return ParamSpec(name, "int", low, high, log)


def _c(name: str, *choices: Any) -> ParamSpec:
    return ParamSpec(name, "categorical", choices=tuple(choices))


def default_space(family: str, task: str) -> Space:
    """The default search space of ``family`` for ``task`` (centred on core.models defaults)."""
    if family not in FAMILIES:
        raise TuneError(f"The model family must be one of {', '.join(FAMILIES)}. Got {family!r} instead.")
    clf = task == "classification"
    specs = {
        "linear": [_f("C", 1e-3, 1e2, True)] if clf else [_f("alpha", 1e-3, 1e2, True)],
        "rf": [_i("n_estimators", 20, 150), _i("max_depth", 2, 16), _i("min_samples_leaf", 1, 10)],
        "hgb": [_f("learning_rate", 0.01, 0.3, True), _i("max_iter", 30, 200), _i("max_leaf_nodes", 8, 64, True)],
        "svm": [_f("C", 1e-2, 1e2, True), _c("gamma", "scale", "auto")],
        "knn": [_i("n_neighbors", 1, 30), _c("weights", "uniform", "distance")],
        "mlp": [_i("hidden_layer_sizes", 16, 128, True), _f("alpha", 1e-5, 1e-1, True),
                _f("learning_rate_init", 1e-4, 1e-1, True)],
    }[family]
    return {s.name: s for s in specs}


def _spec_from(name: str, raw: Any) -> ParamSpec:
    if isinstance(raw, ParamSpec):
        return raw
    if isinstance(raw, list):
        return ParamSpec(name, "categorical", choices=tuple(raw))
    if not isinstance(raw, Mapping):
        return ParamSpec(name, "fixed", value=raw)
    kind = raw.get("kind") or raw.get("type")
    if kind not in KINDS:
        raise TuneError(f"Parameter {name!r} needs a kind among {', '.join(KINDS)}. Got {kind!r} instead.")
    if kind in ("float", "int"):
        try:
            low, high = float(raw["low"]), float(raw["high"])
        except (KeyError, TypeError, ValueError) as err:
            raise TuneError(f"Parameter {name!r} ({kind}) needs numeric 'low' and 'high'. "
                            f"Got {dict(raw)} instead.") from err
        if kind == "int":
            if low != int(low) or high != int(high):
                raise TuneError(f"Parameter {name!r} is an int range, so low and high must be whole numbers. "
                                f"Got {low:g} and {high:g} instead.")
            low, high = int(low), int(high)
        return ParamSpec(name, kind, low, high, bool(raw.get("log", False)))
    if kind == "categorical":
        choices = raw.get("choices")
        if not isinstance(choices, (list, tuple)):
            raise TuneError(f"Parameter {name!r} is categorical and needs a list of 'choices'. "
                            f"Got {choices!r} instead.")
        return ParamSpec(name, "categorical", choices=tuple(choices))
    return ParamSpec(name, "fixed", value=raw.get("value"))


def parse_space(source: str | Mapping[str, Any]) -> Space:
    """Read a space from JSON text or a dict (full or short forms); not yet validated.

    Raises:
        TuneError: the text is not JSON, not an object, or an entry is malformed.
    """
    if isinstance(source, str):
        try:
            source = json.loads(source) if source.strip() else {}
        except json.JSONDecodeError as err:
            raise TuneError(f"The search space is not valid JSON: {err.msg} at line {err.lineno}, "
                            f"column {err.colno}.") from err
    if not isinstance(source, Mapping):
        raise TuneError(f"The search space must be a JSON object of parameters. Got {type(source).__name__} instead.")
    return {str(k): _spec_from(str(k), v) for k, v in source.items()}


def space_to_json(space: Mapping[str, ParamSpec]) -> str:
    """Canonical JSON (sorted keys) — what is stored and logged."""
    return json.dumps({k: s.to_dict() for k, s in space.items()}, sort_keys=True)


def validate_space(space: Mapping[str, ParamSpec], family: str | None = None, task: str | None = None) -> Space:
    """Check a space and return it; every problem is one TuneError sentence.

    Refused: an empty space or one with only fixed values, low > high, a log range
    that includes 0 or negatives, empty or unhashable choices, and (when ``family``
    is given) a parameter the family does not read.
    """
    if not space:
        raise TuneError("The search space is empty: add at least one parameter to search "
                        "(or reset to the family's default space).")
    if family is not None:
        allowed = set(default_params(family, task or "classification"))
        unknown = sorted(set(space) - allowed)
        if unknown:
            raise TuneError(f"The {family} model does not use parameter(s) {', '.join(map(repr, unknown))}; "
                            f"use {', '.join(sorted(allowed))}.")
    for name, s in space.items():
        if s.kind in ("float", "int"):
            if s.low is None or s.high is None or not (math.isfinite(s.low) and math.isfinite(s.high)):
                raise TuneError(f"Parameter {name!r} needs finite low and high. Got {s.low} and {s.high} instead.")
            if s.low > s.high:
                raise TuneError(f"Parameter {name!r} has low > high ({s.low:g} > {s.high:g}); swap them.")
            if s.log and s.low <= 0:
                raise TuneError(f"Parameter {name!r} has a log range that includes {s.low:g}; a log scale needs "
                                f"low > 0 (e.g. 1e-4), or turn log off.")
        elif s.kind == "categorical":
            if not s.choices:
                raise TuneError(f"Parameter {name!r} is categorical with no choices; give at least one.")
            bad = [c for c in s.choices if not (c is None or isinstance(c, (bool, int, float, str)))]
            if bad:
                raise TuneError(f"Parameter {name!r} has choices that are not numbers, strings, booleans "
                                f"or null: {bad[:3]}.")
            if len(set(map(repr, s.choices))) != len(s.choices):
                raise TuneError(f"Parameter {name!r} lists the same choice twice: {list(s.choices)}.")
    if all(s.kind == "fixed" for s in space.values()):
        raise TuneError("Every parameter of the search space is fixed, so every trial would be the same: "
                        "give at least one a range or choices.")
    return dict(space)


def fixed_values(space: Mapping[str, ParamSpec]) -> dict[str, Any]:
    return {k: s.value for k, s in space.items() if s.kind == "fixed"}


def suggest(trial: optuna.trial.Trial, space: Mapping[str, ParamSpec]) -> dict[str, Any]:
    """Ask ``trial`` for a value of every searchable parameter; fixed values pass through."""
    params: dict[str, Any] = {}
    for name, s in space.items():
        if s.kind == "float":
            params[name] = trial.suggest_float(name, float(s.low), float(s.high), log=s.log)
        elif s.kind == "int":
            params[name] = trial.suggest_int(name, int(s.low), int(s.high), log=s.log)
        elif s.kind == "categorical":
            params[name] = trial.suggest_categorical(name, list(s.choices))
        else:
            params[name] = s.value
    return params


def grid_points(space: Mapping[str, ParamSpec], points: int = GRID_POINTS) -> dict[str, list[Any]]:
    """A finite grid for Optuna's GridSampler (fixed parameters are not part of it)."""
    import numpy as np

    grid: dict[str, list[Any]] = {}
    for name, s in space.items():
        if s.kind == "categorical":
            grid[name] = list(s.choices)
        elif s.kind in ("float", "int"):
            n = 1 if s.low == s.high else points
            values = np.geomspace(s.low, s.high, n) if s.log else np.linspace(s.low, s.high, n)
            if s.kind == "int":
                grid[name] = sorted({int(round(v)) for v in values})
            else:
                grid[name] = [float(v) for v in values]
    return grid


def grid_size(space: Mapping[str, ParamSpec], points: int = GRID_POINTS) -> int:
    return math.prod(len(v) for v in grid_points(space, points).values())
