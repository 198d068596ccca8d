"""Text-level steps: missing tokens, type fixes, trimming / case.

CSV text arrives untouched (``'NA'``, ``'-'``, ``''`` … are strings and a numeric column
holding them is text), so these steps usually come first.
"""

from __future__ import annotations

import pandas as pd

from core.data.recipe._common import check_columns, is_text, names, plural, text_columns
from core.data.recipe.model import ParamSpec, StepSpec
from core.errors import RecipeError

from core.data.io import DEFAULT_MISSING_TOKENS  # the loader owns the canonical candidate list


def suggest_missing_tokens(frame: pd.DataFrame, tokens=DEFAULT_MISSING_TOKENS) -> dict[str, int]:
    """Count the cells that hold each candidate token (compared after stripping whitespace).

    Only text columns are searched; a blank or whitespace-only cell counts for ``''``.
    Returns ``{token: cells}`` for the tokens actually found, most frequent first.
    """
    wanted = set(tokens)
    counts: dict[str, int] = {}
    for col in frame.columns:
        s = frame[col]
        if not is_text(s):
            continue
        for value, n in s.value_counts().items():  # strip each distinct value once, not every cell
            token = value.strip() if isinstance(value, str) else None
            if token in wanted:
                counts[token] = counts.get(token, 0) + int(n)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


_DECIMAL_COMMA = r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"


def suggest_decimal_comma(frame: pd.DataFrame, tokens=DEFAULT_MISSING_TOKENS) -> list[str]:
    """Text columns holding numbers written with a decimal comma ('3,14', '1.234,5'): the Fix types step's proposal.

    A column qualifies when every non-missing cell (missing tokens aside) reads as such a number and
    at least one cell has a comma — so '1,234' alone (a thousands separator) is not taken for a decimal.
    """
    found = []
    wanted = set(tokens)
    for col in frame.columns:
        s = frame[col]
        if not is_text(s):
            continue
        values = pd.Series(s.dropna().unique(), dtype=object).astype(str).str.strip()
        values = values[~values.isin(wanted)]
        if values.empty or not values.str.contains(",", regex=False).any():
            continue
        if values.str.fullmatch(_DECIMAL_COMMA).all() and not values.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+").all():
            found.append(col)
    return found


# --- missing_tokens ------------------------------------------------------------------------------
def token_cells(s, tokens):
    """Boolean mask of the cells whose stripped text is one of ``tokens`` (each distinct value stripped once)."""
    hits = [v for v in s.dropna().unique() if isinstance(v, str) and v.strip() in tokens]
    return s.isin(hits)


def missing_tokens(frame, params, fitted):
    """Replace the token cells with missing, then make the fitted numeric columns numeric."""
    frame = frame.copy(deep=False)  # columns are replaced, never written in place
    tokens = set(params["tokens"])
    for col in params["columns"] or list(frame.columns):
        s = frame[col]
        if is_text(s):
            hit = token_cells(s, tokens)
            if hit.any():
                frame[col] = s.mask(hit)
    for col in fitted.get("numeric", []):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def _fit_missing_tokens(frame: pd.DataFrame, params: dict) -> dict:
    check_columns(frame, "missing_tokens", "columns", params["columns"] or [])
    if not params["convert_numeric"]:
        return {"numeric": []}
    tokens = set(params["tokens"])
    numeric = []
    for col in params["columns"] or list(frame.columns):
        s = frame[col]
        if not is_text(s):
            continue
        values = s[~token_cells(s, tokens)].dropna()
        if values.empty or pd.to_numeric(values.iloc[:200], errors="coerce").isna().any():
            continue  # cheap early exit: a sample already holds text
        if not pd.to_numeric(values, errors="coerce").isna().any():
            numeric.append(col)
    return {"numeric": numeric}


def _summarize_missing_tokens(before, after, params, fitted, changes) -> str:
    if changes:
        text = f"Replaced {plural(sum(changes.values()), 'cell')} in {plural(len(changes), 'column')} with missing"
    else:
        text = "No cell matched the tokens"
    if fitted.get("numeric"):
        text += f"; {plural(len(fitted['numeric']), 'column')} became numeric ({names(fitted['numeric'])})"
    return text + "."


# --- fix_types -----------------------------------------------------------------------------------
def fix_types(frame, params, fitted):
    """Convert the chosen columns to one type; values that do not parse become missing."""
    frame = frame.copy(deep=False)  # columns are replaced, never written in place
    to = params["to"]
    for col in params["columns"]:
        s = frame[col]
        if to == "numeric":
            if pd.api.types.is_bool_dtype(s.dtype):
                frame[col] = s.astype("Int64").astype(float) if s.isna().any() else s.astype(int)
                continue
            if pd.api.types.is_numeric_dtype(s.dtype):
                continue
            text = s.where(s.isna(), s.astype(str)).str.replace(r"[\s\u00a0'$€£]", "", regex=True)
            if params["decimal"] == ",":
                text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            else:
                text = text.str.replace(",", "", regex=False)
            frame[col] = pd.to_numeric(text, errors="coerce")
        elif to == "datetime":
            if not pd.api.types.is_datetime64_any_dtype(s.dtype):
                frame[col] = pd.to_datetime(s, format=params["format"] or None, errors="coerce")
        elif to == "category":
            frame[col] = s.astype("category")
        elif to == "boolean":
            if not pd.api.types.is_bool_dtype(s.dtype):
                words = s.where(s.isna(), s.astype(str)).str.strip().str.lower()
                true_words = ("true", "t", "yes", "y", "1", "1.0", "on")
                false_words = ("false", "f", "no", "n", "0", "0.0", "off")
                mapping = {**{w: True for w in true_words}, **{w: False for w in false_words}}
                frame[col] = words.map(mapping).astype("boolean")
        else:  # text
            frame[col] = s.where(s.isna(), s.astype(str)).astype(object)
    return frame


def _fit_fix_types(frame: pd.DataFrame, params: dict) -> dict:
    if not params["columns"]:
        raise RecipeError("The 'columns' parameter of fix_types must list at least one column. Got none.")
    check_columns(frame, "fix_types", "columns", params["columns"])
    return {}


def _summarize_fix_types(before, after, params, fitted, changes) -> str:
    cols = params["columns"]
    invalid = int((after[cols].isna() & before[cols].notna()).sum().sum())
    text = f"Converted {plural(len(cols), 'column')} ({names(cols)}) to {params['to']}"
    if invalid:
        text += f"; {plural(invalid, 'value')} could not be parsed and became missing"
    return text + "."


# --- trim_case -----------------------------------------------------------------------------------
def trim_case(frame, params, fitted):
    """Strip whitespace, collapse inner runs of spaces and change case in text columns."""
    frame = frame.copy(deep=False)  # columns are replaced, never written in place
    for col in params["columns"] or list(frame.columns):
        s = frame[col]
        if not is_text(s):
            continue
        distinct = pd.Series(s.dropna().unique(), dtype=object)  # work on each distinct value once
        t = distinct.str.strip() if params["strip"] else distinct.str.slice(0)
        if params["collapse"]:
            t = t.str.replace(r"\s+", " ", regex=True)
        if params["case"] != "none":
            t = getattr(t.str, params["case"])()
        changed = t.notna() & (t != distinct)
        if changed.any():
            new = s.map(dict(zip(distinct[changed], t[changed])))
            frame[col] = new.where(new.notna(), s)  # unchanged and non-string cells stay as they were
    return frame


def _fit_trim_case(frame: pd.DataFrame, params: dict) -> dict:
    for col in check_columns(frame, "trim_case", "columns", params["columns"] or []):
        if not is_text(frame[col]):
            raise RecipeError(f"trim_case works on text columns; {col!r} is {frame[col].dtype}. "
                              "Choose text columns only.")
    return {}


def _summarize_changed(verb: str):
    def summarize(before, after, params, fitted, changes) -> str:
        return f"{verb} {plural(sum(changes.values()), 'cell')} in {plural(len(changes), 'column')}."

    return summarize


TEXT_STEPS = {
    "missing_tokens": StepSpec(
        "missing_tokens", "Normalise missing tokens",
        "Turn placeholder values such as 'NA', 'n/a', '-', '?' or blank cells into real missing values; "
        "columns whose remaining values are all numbers become numeric.",
        (
            ParamSpec("tokens", "tokens", list(DEFAULT_MISSING_TOKENS),
                      "Cell values (after trimming) that mean 'missing'."),
            ParamSpec("columns", "columns", None, "Columns to search (default: all text columns)."),
            ParamSpec("convert_numeric", "bool", True, "Make columns numeric when all remaining values are numbers."),
        ),
        missing_tokens, _fit_missing_tokens, _summarize_missing_tokens, learns=True,
    ),
    "fix_types": StepSpec(
        "fix_types", "Fix types",
        "Convert columns to numeric (handles '1,234', ' 12 ', '1.234,5'), datetime, category, boolean or text; "
        "values that do not parse become missing and are counted.",
        (
            ParamSpec("columns", "columns", None, "Columns to convert.", optional=False),
            ParamSpec("to", "choice", "numeric", "Target type.",
                      ("numeric", "datetime", "category", "boolean", "text")),
            ParamSpec("decimal", "choice", ".", "Decimal mark for numbers ('.' → 1,234.5; ',' → 1.234,5).",
                      (".", ",")),
            ParamSpec("format", "text", None, "Datetime format such as %Y-%m-%d (default: inferred)."),
        ),
        fix_types, _fit_fix_types, _summarize_fix_types,
    ),
    "trim_case": StepSpec(
        "trim_case", "Trim and case",
        "Strip surrounding whitespace, collapse inner spaces and optionally change the case of text columns.",
        (
            ParamSpec("columns", "columns", None, "Text columns (default: all text columns)."),
            ParamSpec("case", "choice", "none", "Change the case.", ("none", "lower", "upper", "title")),
            ParamSpec("strip", "bool", True, "Strip leading and trailing whitespace."),
            ParamSpec("collapse", "bool", True, "Collapse runs of inner whitespace to one space."),
        ),
        trim_case, _fit_trim_case, _summarize_changed("Trimmed or re-cased"),
    ),
}
__all__ = ["TEXT_STEPS", "suggest_missing_tokens", "suggest_decimal_comma", "DEFAULT_MISSING_TOKENS", "text_columns"]
