"""Column and row steps: drop / keep columns, duplicates, missing rows, imputation, outliers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.recipe._common import (is_number, names, numeric_columns, plural, require_numeric, target_note,
                                      target_of)
from core.data.recipe.model import ParamSpec, StepSpec
from core.errors import RecipeError

KNN_REFERENCE_ROWS = 5000  # KNN imputation keeps at most this many rows as its fitted donors


def _removed_rows(before, after, params, fitted, changes) -> str:
    return f"Removed {plural(len(before) - len(after), 'row')}; {len(after):,} remain."


# --- drop / keep columns -------------------------------------------------------------------------
def drop_columns(frame, params, fitted):
    return frame.drop(columns=params["columns"])


def keep_columns(frame, params, fitted):
    keep = set(params["columns"])
    return frame[[c for c in frame.columns if c in keep]]


def _fit_needs_columns(kind: str):
    def fit(frame: pd.DataFrame, params: dict) -> dict:
        if not params["columns"]:
            raise RecipeError(f"The 'columns' parameter of {kind} must list at least one column. Got none.")
        return {}

    return fit


def _summarize_columns(before, after, params, fitted, changes) -> str:
    gone = [c for c in before.columns if c not in after.columns]
    return f"Removed {plural(len(gone), 'column')} ({names(gone)}); {len(after.columns)} remain."


# --- duplicates and missing rows -----------------------------------------------------------------
def drop_duplicates(frame, params, fitted):
    return frame.drop_duplicates(subset=params["subset"] or None, keep="first")


def drop_missing_rows(frame, params, fitted):
    cols = params["columns"] or list(frame.columns)
    share = frame[cols].isna().mean(axis=1)
    return frame[share <= params["threshold"]]


# --- impute --------------------------------------------------------------------------------------
def impute(frame, params, fitted):
    """Fill missing cells with the fitted values, or by KNN against the fitted donor rows."""
    frame = frame.copy(deep=False)  # columns are replaced, never written in place
    if params["strategy"] == "knn":
        from sklearn.impute import KNNImputer

        cols = fitted["columns"]
        imputer = KNNImputer(n_neighbors=params["n_neighbors"]).fit(np.array(fitted["reference"], dtype=float))
        values = imputer.transform(frame[cols].to_numpy(dtype=float))
        for i, col in enumerate(cols):
            frame[col] = values[:, i]
    for col, value in (fitted.get("values") or {}).items():
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            value = pd.Timestamp(value)
        frame[col] = s.fillna(value)
    return frame


def _fit_impute(frame: pd.DataFrame, params: dict) -> dict:
    """Numbers get the strategy; a text, category or boolean column gets its most frequent value under the
    numeric strategies (mean / median / knn), so every column with missing cells is covered — or named as
    skipped, with the reason, in ``fitted['skipped']``."""
    strategy = params["strategy"]
    numeric_only = strategy in ("mean", "median", "knn")
    target = target_of(params)
    default = params["columns"] is None
    cols = params["columns"] or [c for c in frame.columns if c != target and (
        not numeric_only or is_number(frame[c]) or frame[c].isna().any())]
    if not cols:
        raise RecipeError(f"impute ({strategy}) found no columns to fill; choose columns (numeric for {strategy}).")
    skipped: dict[str, str] = {}
    numeric_cols, other_cols = cols, []
    if numeric_only:
        numeric_cols = [c for c in cols if is_number(frame[c])]
        other_cols = [c for c in cols if c not in numeric_cols]
        for col in list(numeric_cols):
            if frame[col].isna().all():
                if not default:
                    raise RecipeError(f"impute ({strategy}) cannot learn from column {col!r}: all its values are "
                                      "missing. Drop the column or use strategy 'constant'.")
                numeric_cols.remove(col)
                skipped[col] = "no value to learn from"
    out: dict = {}
    if strategy == "knn" and numeric_cols:
        sample = frame[numeric_cols]
        if len(sample) > KNN_REFERENCE_ROWS:
            sample = sample.sample(KNN_REFERENCE_ROWS, random_state=0).sort_index()
        out = {"columns": numeric_cols, "reference": sample.to_numpy(dtype=float)}
    values = {}
    for col in other_cols:  # text / category / boolean under a numeric strategy: most frequent value
        mode = frame[col].mode(dropna=True)
        if mode.empty:
            skipped[col] = "no value to learn from"
        else:
            values[col] = mode.iloc[0]
    for col in ([] if strategy == "knn" else numeric_cols):
        s = frame[col].replace([np.inf, -np.inf], np.nan) if numeric_only else frame[col]
        if strategy == "mean":
            values[col] = float(s.mean())
        elif strategy == "median":
            values[col] = float(s.median())
        elif strategy == "most_frequent":
            mode = s.mode(dropna=True)
            if mode.empty:
                raise RecipeError(f"impute (most_frequent) cannot learn from column {col!r}: "
                                  "all its values are missing.")
            values[col] = mode.iloc[0]
        else:
            values[col] = _constant_for(s, col, params["fill_value"])
    if strategy == "knn" and not numeric_cols and not values:
        raise RecipeError("impute (knn) found no numeric column to fill; choose numeric columns.")
    out["values"] = values
    if other_cols:
        out["most_frequent"] = [c for c in other_cols if c in values]
    if skipped:
        out["skipped"] = skipped
    return out


def _constant_for(s: pd.Series, col: str, fill_value: str | None):
    if fill_value is None:
        raise RecipeError("The 'fill_value' parameter of impute is required for strategy 'constant'. Got None instead.")
    if is_number(s):
        try:
            return float(fill_value)
        except ValueError:
            raise RecipeError(f"The 'fill_value' parameter of impute must be a number for numeric column {col!r}. "
                              f"Got {fill_value!r} instead.") from None
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return pd.Timestamp(fill_value)
    return fill_value


def _summarize_impute(before, after, params, fitted, changes) -> str:
    used = [*(fitted.get("columns") or []), *(fitted.get("values") or {})]
    note = target_note(params, used, before)
    frequent = [c for c in fitted.get("most_frequent") or [] if changes.get(c)]
    skipped = fitted.get("skipped") or {}
    if not changes:
        text = (f"Nothing to fill: the chosen columns have no missing cells "
                f"({params['strategy']} values are kept for new data){note}")
    else:
        text = (f"Filled {plural(sum(changes.values()), 'missing cell')} in {plural(len(changes), 'column')} "
                f"({params['strategy']}{note})")
    if frequent:
        cells = sum(changes[c] for c in frequent)
        text += (f"; {plural(cells, 'cell')} of the non-numeric column(s) {names(frequent)} got their most "
                 f"frequent value")
    if skipped:
        text += "; skipped " + ", ".join(f"{c!r} ({why})" for c, why in list(skipped.items())[:4])
    return text + "."


# --- outliers ------------------------------------------------------------------------------------
def outliers(frame, params, fitted):
    """Flag, clip or remove values outside the fitted [low, high] bounds of each column."""
    frame = frame.copy(deep=False)  # columns are replaced, never written in place
    outside = pd.Series(False, index=frame.index)
    for col, bounds in fitted["bounds"].items():
        if bounds is None:
            continue
        low, high = bounds
        s = frame[col]
        if params["action"] == "flag":
            frame[f"{col}__outlier"] = (s < low) | (s > high)
        elif params["action"] == "clip":
            frame[col] = s.clip(low, high)
        else:
            outside = outside | (s < low) | (s > high)
    return frame[~outside] if params["action"] == "remove" else frame


def _fit_outliers(frame: pd.DataFrame, params: dict) -> dict:
    cols = params["columns"] or numeric_columns(frame, exclude=[target_of(params)])
    if not cols:
        raise RecipeError("outliers found no numeric columns; convert columns with fix_types first or choose some.")
    require_numeric(frame, "outliers", cols, f"({params['method']})")
    k = params["k"] if params["k"] is not None else (1.5 if params["method"] == "iqr" else 3.0)
    bounds = {}
    for col in cols:
        s = frame[col].astype(float).replace([np.inf, -np.inf], np.nan)  # bounds from finite values
        if s.notna().sum() == 0:
            bounds[col] = None
        elif params["method"] == "iqr":
            q1, q3 = s.quantile(0.25), s.quantile(0.75)
            bounds[col] = [float(q1 - k * (q3 - q1)), float(q3 + k * (q3 - q1))]
        else:
            mean, std = s.mean(), s.std(ddof=0)
            bounds[col] = [float(mean - k * std), float(mean + k * std)]
    return {"bounds": bounds, "k": k}


def _summarize_outliers(before, after, params, fitted, changes) -> str:
    how = f"{params['method']}, k={fitted['k']:g}{target_note(params, fitted['bounds'], before)}"
    if params["action"] == "remove":
        return f"Removed {plural(len(before) - len(after), 'row')} with outliers ({how}); {len(after):,} remain."
    cols = [c for c, b in fitted["bounds"].items() if b is not None]
    if params["action"] == "flag":
        flags = int(after[[f"{c}__outlier" for c in cols]].to_numpy().sum()) if cols else 0
        return f"Flagged {plural(flags, 'outlier value')} in {plural(len(cols), 'column')} ({how})."
    return f"Clipped {plural(sum(changes.values()), 'value')} in {plural(len(changes), 'column')} ({how})."


_IMPUTE_STRATEGIES = ("mean", "median", "most_frequent", "constant", "knn")
ROW_STEPS = {
    "drop_columns": StepSpec(
        "drop_columns", "Drop columns", "Remove the chosen columns.",
        (ParamSpec("columns", "columns", None, "Columns to remove.", optional=False),),
        drop_columns, _fit_needs_columns("drop_columns"), _summarize_columns,
    ),
    "keep_columns": StepSpec(
        "keep_columns", "Keep columns", "Keep only the chosen columns (in table order).",
        (ParamSpec("columns", "columns", None, "Columns to keep.", optional=False),),
        keep_columns, _fit_needs_columns("keep_columns"), _summarize_columns,
    ),
    "drop_duplicates": StepSpec(
        "drop_duplicates", "Drop duplicate rows", "Remove rows that repeat an earlier row (first one kept).",
        (ParamSpec("subset", "columns", None, "Compare only these columns (default: all)."),),
        drop_duplicates, None, _removed_rows,
    ),
    "drop_missing_rows": StepSpec(
        "drop_missing_rows", "Drop rows with missing values",
        "Remove rows whose share of missing values among the chosen columns is above the threshold.",
        (
            ParamSpec("columns", "columns", None, "Columns to look at (default: all)."),
            ParamSpec("threshold", "float", 0.0, "Largest share of missing cells a kept row may have (0 = none).",
                      minimum=0.0, maximum=1.0),
        ),
        drop_missing_rows, None, _removed_rows,
    ),
    "impute": StepSpec(
        "impute", "Impute missing values",
        "Fill missing cells with the column mean, median, most frequent value, a constant, or from the "
        "k nearest rows (KNN, numeric columns).",
        (
            ParamSpec("columns", "columns", None,
                      "Columns to fill (default: numeric columns for mean/median/knn, all otherwise)."),
            ParamSpec("strategy", "choice", "median", "How to fill.", _IMPUTE_STRATEGIES),
            ParamSpec("fill_value", "text", None, "Value for strategy 'constant'."),
            ParamSpec("n_neighbors", "int", 5, "Neighbours for strategy 'knn'.", minimum=1, maximum=100),
        ),
        impute, _fit_impute, _summarize_impute, learns=True,
    ),
    "outliers": StepSpec(
        "outliers", "Handle outliers",
        "Find values outside Q1 − k·IQR … Q3 + k·IQR (iqr) or mean ± k·std (zscore) and flag them "
        "(adds <column>__outlier), clip them to the bounds, or remove their rows.",
        (
            ParamSpec("columns", "columns", None, "Numeric columns (default: all numeric)."),
            ParamSpec("method", "choice", "iqr", "Rule for the bounds.", ("iqr", "zscore")),
            ParamSpec("k", "float", None, "Width of the bounds (default 1.5 for iqr, 3.0 for zscore).",
                      minimum=0.0, maximum=100.0),
            ParamSpec("action", "choice", "flag", "What to do with outliers.", ("flag", "clip", "remove")),
        ),
        outliers, _fit_outliers, _summarize_outliers, learns=True,
    ),
}
