"""Small helpers shared by the step modules (column checks, column sets, sentences).

``is_text`` is also copied into exported Python code, so it only uses pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from core.errors import RecipeError


def is_text(s):
    """True for columns holding strings (object / string dtype), the ones text steps work on."""
    return pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)


def is_number(s: pd.Series) -> bool:
    """Numeric and not boolean (booleans are not scaled, clipped or averaged)."""
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if is_text(frame[c]) or isinstance(frame[c].dtype, pd.CategoricalDtype)]


def numeric_columns(frame: pd.DataFrame, exclude: Iterable[str | None] = ()) -> list[str]:
    skip = {c for c in exclude if c}
    return [c for c in frame.columns if is_number(frame[c]) and c not in skip]


def target_of(params: dict) -> str | None:
    """The target a fit must leave alone: the step's own ``target`` param, else the recipe's (engine-injected)."""
    return params.get("target") or params.get("_target") or None


def target_note(params: dict, used: Iterable[str], frame: pd.DataFrame | None = None) -> str:
    """'; left the target 'y' alone' (default column set) or '; the target 'y' included, as asked'."""
    target = target_of(params)
    if not target:
        return ""
    if target in set(used):
        return f"; the target {target!r} included, as asked"
    if params.get("columns") is None and (frame is None or target in frame.columns):
        return f"; left the target {target!r} alone"
    return ""


def _listing(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_columns(frame: pd.DataFrame, kind: str, param: str, columns: Iterable[str]) -> list[str]:
    """Raise a RecipeError naming the first column that is not in the table."""
    columns = list(columns)
    for col in columns:
        if col not in frame.columns:
            raise RecipeError(
                f"Column {col!r} in the '{param}' parameter of {kind} is not in the table "
                f"(columns: {_listing([str(c) for c in frame.columns])}). Check the name or the order of the steps."
            )
    return columns


def check_column(frame: pd.DataFrame, kind: str, param: str, column: str | None, required: bool = True) -> str | None:
    if column is None:
        if required:
            raise RecipeError(f"The '{param}' parameter of {kind} is required. Got None instead; choose a column.")
        return None
    return check_columns(frame, kind, param, [column])[0]


def require_numeric(frame: pd.DataFrame, kind: str, columns: Iterable[str], why: str) -> None:
    for col in columns:
        if not is_number(frame[col]):
            raise RecipeError(
                f"{kind} {why} needs numeric columns; {col!r} is {frame[col].dtype}. "
                "Convert it with fix_types (numeric) or choose other columns."
            )


def require_complete(frame: pd.DataFrame, kind: str, columns: Iterable[str]) -> None:
    for col in columns:
        missing = int(frame[col].isna().sum())
        if missing:
            raise RecipeError(
                f"{kind} cannot use column {col!r}: it has {missing} missing values. Add an impute step before it."
            )


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def names(columns: Sequence[str], limit: int = 4) -> str:
    return _listing([str(c) for c in columns], limit)
