"""Feature steps: scaling, categorical encoding, PCA (fitted state is plain numbers and lists)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.recipe._common import (names, numeric_columns, plural, require_complete, require_numeric, target_note,
                                      target_of, text_columns)
from core.data.recipe.model import ParamSpec, StepSpec
from core.errors import RecipeError


# --- scale ---------------------------------------------------------------------------------------
def scale(frame, params, fitted):
    """(x - center) / scale with the fitted center and scale of each column."""
    frame = frame.copy(deep=False)  # columns are replaced, never written in place
    for col, stats in fitted["stats"].items():
        if stats is not None:
            frame[col] = (frame[col] - stats[0]) / stats[1]
    return frame


def _fit_scale(frame: pd.DataFrame, params: dict) -> dict:
    cols = params["columns"] or numeric_columns(frame, exclude=[target_of(params)])
    if not cols:
        raise RecipeError("scale found no numeric columns; convert columns with fix_types first or choose some.")
    require_numeric(frame, "scale", cols, f"({params['method']})")
    stats = {}
    for col in cols:
        s = frame[col].astype(float).replace([np.inf, -np.inf], np.nan)  # stats from finite values
        if s.notna().sum() == 0:
            stats[col] = None
            continue
        if params["method"] == "minmax":
            center, spread = s.min(), s.max() - s.min()
        elif params["method"] == "zscore":
            center, spread = s.mean(), s.std(ddof=0)
        else:
            center, spread = s.median(), s.quantile(0.75) - s.quantile(0.25)
        stats[col] = [float(center), float(spread) if spread > 0 else 1.0]
    return {"stats": stats}


def _summarize_scale(before, after, params, fitted, changes) -> str:
    cols = [c for c, s in fitted["stats"].items() if s is not None]
    return (f"Scaled {plural(len(cols), 'column')} ({names(cols)}) with {params['method']}"
            f"{target_note(params, fitted['stats'], before)}.")


# --- encode --------------------------------------------------------------------------------------
def encode(frame, params, fitted):
    """One-hot (one 0/1 column per fitted category, unseen → all zeros) or ordinal codes (unseen → missing)."""
    frame = frame.copy(deep=False)  # columns are replaced, never written in place
    dummies = {}
    for col, categories in fitted["categories"].items():
        s = frame[col]
        if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
            s = s.where(s.isna(), s.astype(str))  # categories are compared as text
        codes = pd.Categorical(s, categories=categories).codes  # -1: missing or unseen
        if params["method"] == "ordinal":
            frame[col] = np.where(codes >= 0, codes, np.nan).astype(float)
        else:
            onehot = (codes[:, None] == np.arange(len(categories))[None, :]).astype("uint8")
            dummies[col] = pd.DataFrame(onehot, index=frame.index, columns=[f"{col}_{c}" for c in categories])
    if not dummies:
        return frame
    pieces, run = [], []
    for col in frame.columns:  # one concat: each encoded column is replaced in place by its 0/1 columns
        if col in dummies:
            pieces += [frame[run], dummies[col]] if run else [dummies[col]]
            run = []
        else:
            run.append(col)
    return pd.concat(pieces + ([frame[run]] if run else []), axis=1)


def _fit_encode(frame: pd.DataFrame, params: dict) -> dict:
    cols = params["columns"] or [c for c in text_columns(frame) if c != target_of(params)]
    if not cols:
        raise RecipeError("encode found no text or category columns; choose the columns to encode.")
    categories = {}
    for col in cols:
        cats = sorted({str(v) for v in frame[col].dropna().unique()})
        if params["method"] == "onehot" and len(cats) > params["max_categories"]:
            raise RecipeError(
                f"encode (onehot) would create {len(cats)} columns from {col!r}, more than max_categories="
                f"{params['max_categories']}. Use ordinal, raise max_categories, or drop the column."
            )
        if params["method"] == "onehot":
            clash = [f"{col}_{c}" for c in cats if f"{col}_{c}" in frame.columns]
            if clash:
                raise RecipeError(f"encode (onehot) would create column {clash[0]!r}, which already exists. "
                                  "Rename or drop it first.")
        categories[col] = cats
    return {"categories": categories}


def _summarize_encode(before, after, params, fitted, changes) -> str:
    cols = list(fitted["categories"])
    note = target_note(params, cols, before)
    if params["method"] == "ordinal":
        return f"Encoded {plural(len(cols), 'column')} ({names(cols)}) as ordinal codes{note}."
    added = sum(len(c) for c in fitted["categories"].values())
    return f"One-hot encoded {plural(len(cols), 'column')} ({names(cols)}) into {plural(added, 'column')}{note}."


# --- pca -----------------------------------------------------------------------------------------
def pca(frame, params, fitted):
    """Project the fitted columns on the fitted components: pc1..pck (originals dropped unless kept)."""
    cols = fitted["columns"]
    z = (frame[cols].to_numpy(dtype=float) - np.array(fitted["mean"])) / np.array(fitted["scale"])
    scores = z @ np.array(fitted["components"]).T
    pcs = pd.DataFrame(scores, index=frame.index, columns=[f"pc{i + 1}" for i in range(scores.shape[1])])
    base = frame if params["keep_originals"] else frame.drop(columns=cols)
    return pd.concat([base, pcs], axis=1)


def _fit_pca(frame: pd.DataFrame, params: dict) -> dict:
    cols = params["columns"] or numeric_columns(frame, exclude=[target_of(params)])
    if len(cols) < 2:
        raise RecipeError(f"pca needs at least 2 numeric columns; got {len(cols)} ({names(cols)}). "
                          "Choose more columns.")
    require_numeric(frame, "pca", cols, "")
    require_complete(frame, "pca", cols)
    n, p = len(frame), len(cols)
    if n < 2:
        raise RecipeError(f"pca needs at least 2 rows to learn components; the table has {n}.")
    if params["n_components"] is not None and params["n_components"] > min(n, p):
        raise RecipeError(f"The 'n_components' parameter of pca must be at most {min(n, p)} (rows and columns "
                          f"available). Got {params['n_components']} instead.")
    kept = set(frame.columns) - (set() if params["keep_originals"] else set(cols))
    clash = [f"pc{i + 1}" for i in range(p) if f"pc{i + 1}" in kept]
    if clash:
        raise RecipeError(f"pca would create column {clash[0]!r}, which already exists. Rename or drop it first.")
    x = frame[cols].to_numpy(dtype=float)
    if not np.isfinite(x).all():
        bad = [c for c in cols if not np.isfinite(frame[c].to_numpy(dtype=float)).all()][0]
        raise RecipeError(f"pca cannot use column {bad!r}: it holds infinite values. Clip or drop them first.")
    mean = x.mean(axis=0)
    spread = x.std(axis=0) if params["standardize"] else np.ones(p)
    spread[spread == 0] = 1.0
    z = (x - mean) / spread
    values, vectors = np.linalg.eigh(z.T @ z)  # p×p: much cheaper than an SVD of the n×p table
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
    ratio = values / values.sum() if values.sum() > 0 else np.ones(p) / p
    k = params["n_components"] or int(np.searchsorted(np.cumsum(ratio), params["variance"] - 1e-12) + 1)
    k = min(k, p)
    components = vectors[:, :k].T
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])  # deterministic orientation
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    return {"columns": cols, "mean": mean, "scale": spread, "components": components, "explained": ratio[:k]}


def _summarize_pca(before, after, params, fitted, changes) -> str:
    k, share = len(fitted["components"]), sum(fitted["explained"])
    verb = "Added" if params["keep_originals"] else f"Replaced {plural(len(fitted['columns']), 'column')} with"
    return f"{verb} {plural(k, 'principal component')} explaining {share:.1%} of the variance."


FEATURE_STEPS = {
    "scale": StepSpec(
        "scale", "Scale numeric columns",
        "Rescale numeric columns: min-max to [0, 1], z-score (mean 0, std 1) or robust (median 0, IQR 1).",
        (
            ParamSpec("columns", "columns", None, "Numeric columns (default: all numeric; leave the target out)."),
            ParamSpec("method", "choice", "zscore", "Scaling method.", ("minmax", "zscore", "robust")),
        ),
        scale, _fit_scale, _summarize_scale, learns=True,
    ),
    "encode": StepSpec(
        "encode", "Encode categories",
        "Turn text / category columns into numbers: one 0/1 column per category (one-hot) or one code per "
        "category (ordinal). Categories unseen when fitted become all zeros (one-hot) or missing (ordinal).",
        (
            ParamSpec("columns", "columns", None, "Columns to encode (default: all text and category columns)."),
            ParamSpec("method", "choice", "onehot", "Encoding.", ("onehot", "ordinal")),
            ParamSpec("max_categories", "int", 30, "Refuse one-hot when a column has more categories.",
                      minimum=1, maximum=1000),
        ),
        encode, _fit_encode, _summarize_encode, learns=True,
    ),
    "pca": StepSpec(
        "pca", "PCA",
        "Replace numeric columns by principal components pc1..pck (k fixed, or enough to explain a variance share).",
        (
            ParamSpec("columns", "columns", None, "Numeric columns (default: all numeric except the target)."),
            ParamSpec("target", "column", None, "Target column, never used as input."),
            ParamSpec("n_components", "int", None, "Number of components (overrides variance).",
                      minimum=1, maximum=10_000),
            ParamSpec("variance", "float", 0.95, "Share of variance to keep when n_components is empty.",
                      minimum=0.01, maximum=1.0),
            ParamSpec("standardize", "bool", True, "Standardise columns before PCA."),
            ParamSpec("keep_originals", "bool", False, "Keep the original columns next to the components."),
        ),
        pca, _fit_pca, _summarize_pca, learns=True,
    ),
}
