"""Feature selection (filter, wrapper, embedded L1) and the train / test split.

Selection steps learn which columns to drop; in transform mode they drop the same columns.
The target is never a candidate and never dropped. scikit-learn is imported inside the fits.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.data.recipe._common import (check_column, names, numeric_columns, plural, require_complete,
                                      require_numeric)
from core.data.recipe.model import ParamSpec, StepSpec
from core.errors import RecipeError

MAX_FIT_ROWS = 5000  # wrapper / L1 selection fit on at most this many rows (seeded sample) to stay interactive


def select_filter(frame, params, fitted):
    return frame.drop(columns=fitted["dropped"])


def select_wrapper(frame, params, fitted):
    return frame.drop(columns=fitted["dropped"])


def select_l1(frame, params, fitted):
    return frame.drop(columns=fitted["dropped"])


def _candidates(frame: pd.DataFrame, kind: str, params: dict) -> list[str]:
    target = params.get("target") or params.get("_target")
    cols = [c for c in (params["columns"] or numeric_columns(frame, exclude=[target])) if c != target]
    require_numeric(frame, kind, cols, "")
    return cols


def _fit_filter(frame: pd.DataFrame, params: dict) -> dict:
    cols = _candidates(frame, "select_filter", params)
    variances = frame[cols].var(ddof=0)
    dropped = {c: f"variance {variances[c]:.3g}" for c in cols if not variances[c] > params["variance_threshold"]}
    kept = [c for c in cols if c not in dropped]
    corr = frame[kept].corr().abs().to_numpy() if len(kept) > 1 else np.zeros((len(kept), len(kept)))
    survivors: list[int] = []
    for j, col in enumerate(kept):
        hits = [i for i in survivors if corr[i, j] > params["correlation_threshold"]]
        if hits:
            dropped[col] = f"|correlation| {corr[hits[0], j]:.3f} with {kept[hits[0]]!r}"
        else:
            survivors.append(j)
    return {"dropped": [c for c in cols if c in dropped], "reasons": dropped}


def _task(frame: pd.DataFrame, target: str, task: str) -> str:
    from core.models import infer_task

    return infer_task(frame[target]) if task == "auto" else task


def _xy(frame: pd.DataFrame, kind: str, params: dict):
    target = check_column(frame, kind, "target", params["target"])
    cols = _candidates(frame, kind, params)
    if len(cols) < 2:
        raise RecipeError(f"{kind} needs at least 2 numeric feature columns besides {target!r}; got {len(cols)}.")
    require_complete(frame, kind, cols)
    rows = frame[frame[target].notna()]
    if len(rows) > MAX_FIT_ROWS:
        rows = rows.sample(MAX_FIT_ROWS, random_state=0).sort_index()
    if len(rows) < 10:
        raise RecipeError(f"{kind} needs at least 10 rows with a target value to compare features; got {len(rows)}.")
    return cols, rows[cols].to_numpy(dtype=float), rows[target], _task(frame, target, params["task"])


def _fit_wrapper(frame: pd.DataFrame, params: dict) -> dict:
    from sklearn.feature_selection import SequentialFeatureSelector
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cols, x, y, task = _xy(frame, "select_wrapper", params)
    n = params["n_features"] or max(1, len(cols) // 2)
    if n >= len(cols):
        raise RecipeError(f"The 'n_features' parameter of select_wrapper must be below the {len(cols)} "
                          f"candidate columns. Got {n} instead.")
    if task == "classification":
        smallest = int(y.value_counts().min())
        if smallest < params["cv"]:
            raise RecipeError(f"select_wrapper needs at least cv={params['cv']} rows in every class of "
                              f"{params['target']!r}; the smallest class has {smallest}. "
                              "Lower cv or drop rare classes.")
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        y = y.astype(str)
    else:
        model = make_pipeline(StandardScaler(), Ridge())
    sfs = SequentialFeatureSelector(model, n_features_to_select=n, direction="forward", cv=params["cv"])
    mask = sfs.fit(x, y).get_support()
    return {"selected": [c for c, m in zip(cols, mask) if m], "dropped": [c for c, m in zip(cols, mask) if not m],
            "task": task}


def _fit_l1(frame: pd.DataFrame, params: dict) -> dict:
    from sklearn.linear_model import Lasso, LogisticRegression
    from sklearn.preprocessing import StandardScaler

    cols, x, y, task = _xy(frame, "select_l1", params)
    x = StandardScaler().fit_transform(x)
    if task == "classification":
        # C = 1 / (alpha·n) puts the logistic penalty on the same scale as Lasso's alpha
        model = LogisticRegression(penalty="l1", solver="liblinear", C=1.0 / (params["alpha"] * len(y)), max_iter=2000)
        coef = np.abs(model.fit(x, y.astype(str)).coef_).max(axis=0)
    else:
        yv = y.to_numpy(dtype=float)
        coef = np.abs(Lasso(alpha=params["alpha"], max_iter=10_000).fit(x, (yv - yv.mean()) / (yv.std() or 1.0)).coef_)
    keep = coef > 1e-10
    if not keep.any():
        raise RecipeError(f"select_l1 kept no column at alpha={params['alpha']:g}. Lower 'alpha'.")
    return {"selected": [c for c, k in zip(cols, keep) if k], "dropped": [c for c, k in zip(cols, keep) if not k],
            "coefficients": {c: float(v) for c, v in zip(cols, coef)}, "task": task}


def _summarize_selection(before, after, params, fitted, changes) -> str:
    gone = fitted["dropped"]
    if not gone:
        return "Kept every candidate column; nothing was dropped."
    return f"Dropped {plural(len(gone), 'column')} ({names(gone)}); {len(after.columns)} columns remain."


# --- split ---------------------------------------------------------------------------------------
def split(frame, params, fitted):
    return frame  # a split never changes the table; it yields a 'train' / 'test' Series


def make_split(frame: pd.DataFrame, params: dict) -> pd.Series:
    """Assign each row to 'train' or 'test' (random, stratified by target, or latest rows by time)."""
    n = len(frame)
    n_test = math.ceil(params["test_size"] * n)
    if n_test < 1 or n_test >= n:
        raise RecipeError(f"split needs at least one train and one test row; {n} rows with test_size="
                          f"{params['test_size']:g} gives {n_test} test rows. Change test_size.")
    positions = np.arange(n)
    if params["method"] == "random":
        test = np.random.default_rng(params["seed"]).permutation(n)[:n_test]
    elif params["method"] == "stratified":
        test = _stratified(frame, params, positions, n_test)
    else:
        col = check_column(frame, "split", "time_column", params["time_column"])
        when = frame[col]
        if not (pd.api.types.is_datetime64_any_dtype(when.dtype) or pd.api.types.is_numeric_dtype(when.dtype)):
            when = pd.to_datetime(when, errors="coerce")
        if when.isna().any():
            raise RecipeError(f"split (time) needs a value in every row of {col!r}; "
                              f"{int(when.isna().sum())} are missing or not dates. Drop or fix those rows first.")
        test = np.argsort(when.to_numpy(), kind="stable")[n - n_test:]
    labels = np.full(n, "train", dtype=object)
    labels[test] = "test"
    return pd.Series(labels, index=frame.index, name="split")


def _stratified(frame: pd.DataFrame, params: dict, positions: np.ndarray, n_test: int) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    target = check_column(frame, "split", "target", params["target"])
    y = frame[target]
    if y.isna().any():
        raise RecipeError(f"split (stratified) needs a value in every row of {target!r}; "
                          f"{int(y.isna().sum())} are missing.")
    counts = y.astype(str).value_counts()
    if counts.min() < 2:
        raise RecipeError(f"split (stratified) needs at least 2 rows in every class of {target!r}; class "
                          f"{counts.idxmin()!r} has {int(counts.min())}. Use a random split or drop that class.")
    if n_test < len(counts) or len(frame) - n_test < len(counts):
        raise RecipeError(f"split (stratified) needs at least one row of each of the {len(counts)} classes in "
                          f"both parts; test_size={params['test_size']:g} gives {n_test} test rows. Change test_size.")
    _, test = train_test_split(positions, test_size=n_test, stratify=y.astype(str), random_state=params["seed"])
    return test


def _summarize_split(before, after, params, fitted, changes) -> str:
    return f"Split the {len(after):,} rows into train and test ({params['method']}, test_size={params['test_size']:g})."


_TASK = ParamSpec("task", "choice", "auto", "Model type used to judge features.",
                  ("auto", "classification", "regression"))
SELECT_STEPS = {
    "select_filter": StepSpec(
        "select_filter", "Select features: filter",
        "Drop numeric columns with variance at or below a threshold, then one column of each pair whose "
        "|correlation| exceeds a threshold (the later one). The target is never dropped.",
        (
            ParamSpec("target", "column", None, "Target column, never dropped."),
            ParamSpec("columns", "columns", None, "Candidate columns (default: all numeric except the target)."),
            ParamSpec("variance_threshold", "float", 0.0, "Drop columns with variance ≤ this.",
                      minimum=0.0, maximum=1e12),
            ParamSpec("correlation_threshold", "float", 0.95, "Drop one of each pair with |corr| above this.",
                      minimum=0.0, maximum=1.0),
        ),
        select_filter, _fit_filter, _summarize_selection, learns=True,
    ),
    "select_wrapper": StepSpec(
        "select_wrapper", "Select features: forward selection",
        "Forward sequential selection with cross-validation: add the column that helps a small model "
        "(logistic regression or ridge) most, until n_features are chosen.",
        (
            ParamSpec("target", "column", None, "Target column.", optional=False),
            ParamSpec("columns", "columns", None, "Candidate columns (default: all numeric except the target)."),
            ParamSpec("n_features", "int", None, "Columns to keep (default: half).", minimum=1, maximum=10_000),
            _TASK,
            ParamSpec("cv", "int", 3, "Cross-validation folds.", minimum=2, maximum=10),
        ),
        select_wrapper, _fit_wrapper, _summarize_selection, learns=True,
    ),
    "select_l1": StepSpec(
        "select_l1", "Select features: L1",
        "Fit an L1-regularised model (logistic regression or Lasso) on standardised columns and keep the "
        "columns with a non-zero coefficient.",
        (
            ParamSpec("target", "column", None, "Target column.", optional=False),
            ParamSpec("columns", "columns", None, "Candidate columns (default: all numeric except the target)."),
            _TASK,
            ParamSpec("alpha", "float", 0.01, "Penalty strength: higher keeps fewer columns.",
                      minimum=1e-6, maximum=100.0),
        ),
        select_l1, _fit_l1, _summarize_selection, learns=True,
    ),
    "split": StepSpec(
        "split", "Split train / test",
        "Assign rows to train and test: at random, stratified by the target, or the latest rows by a time "
        "column go to test. The table itself is unchanged; the split is skipped when replaying on a new batch.",
        (
            ParamSpec("method", "choice", "random", "How to split.", ("random", "stratified", "time")),
            ParamSpec("test_size", "float", 0.2, "Share of rows in test.", minimum=0.01, maximum=0.99),
            ParamSpec("seed", "int", 0, "Random seed.", minimum=0, maximum=2**31 - 1),
            ParamSpec("target", "column", None, "Target column (stratified)."),
            ParamSpec("time_column", "column", None, "Time column (time)."),
        ),
        split, None, _summarize_split, splitter=make_split,
    ),
}
