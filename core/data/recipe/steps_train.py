"""Training-time steps: rebalance a skewed target and augment numeric tables with jittered copies.

They change the *training rows* only. The engine hands them the training part of the table (the
split is decided on the raw rows first), keeps the test rows exactly as they are, and labels every
row they add as a training row; replaying a recipe on a new batch (Monitor, serving) passes the
batch through unchanged, the exported Python code skips them, and the ONNX export lists them as
training only.

Each ``resample`` returns ``(kept, added)``: ``kept`` the training rows kept (unchanged, their own
labels), ``added`` the new rows indexed by the label of the row each was copied from when there is
one (the engine gives them fresh labels). Rebalancing uses imbalanced-learn (imported here only).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.data.recipe._common import is_number, names, numeric_columns, plural, require_numeric, target_of
from core.data.recipe.model import ParamSpec, StepSpec
from core.errors import RecipeError

MAX_CLASSES = 50  # more distinct target values than this is a regression target, not classes to balance


def passthrough(frame, params, fitted):
    """A new batch is never resampled: training-time steps leave it as it is."""
    return frame


# --- rebalance -----------------------------------------------------------------------------------
def _target(frame: pd.DataFrame, params: dict, kind: str) -> str:
    target = target_of(params)
    if not target:
        raise RecipeError(f"{kind} needs the target column to balance; choose it in the 'target' parameter (or set "
                          "the version's target). Got None.")
    if target not in frame.columns:
        raise RecipeError(f"The target {target!r} of {kind} is not in the table; check the name or the order of "
                          "the steps.")
    return target


def _class_counts(y: pd.Series, kind: str) -> pd.Series:
    missing = int(y.isna().sum())
    if missing:
        raise RecipeError(f"{kind} needs a target without missing values; {plural(missing, 'training row')} of "
                          f"{y.name!r} have none. Drop or impute those rows in a step before it.")
    counts = y.value_counts(sort=False).sort_index(key=lambda s: s.astype(str))
    if len(counts) < 2:
        raise RecipeError(f"{kind} needs at least 2 classes in {y.name!r}; the training rows hold only "
                          f"{counts.index[0]!r}. Nothing to balance.")
    fractional = pd.api.types.is_float_dtype(y.dtype) and bool((y % 1 != 0).any())
    if len(counts) > MAX_CLASSES or fractional:
        raise RecipeError(f"{kind} balances classes, but {y.name!r} has {len(counts)} distinct values in the "
                          f"training rows{'' if fractional else f' (more than {MAX_CLASSES})'}: it looks like a "
                          "regression target. Use "
                          "augment_noise for numeric tables instead.")
    return counts


def _planned(counts: pd.Series, method: str, ratio: float) -> pd.Series:
    """Rows per class after rebalancing: over-samplers raise every class to ≥ ratio × the largest class,
    the under-sampler lowers every class to ≤ the smallest class / ratio."""
    if method == "undersample":
        cap = math.floor(counts.min() / ratio)
        return counts.clip(upper=max(cap, int(counts.min())))
    floor = math.ceil(ratio * counts.max())
    return counts.clip(lower=floor)


def _smote_kinds(x: pd.DataFrame) -> tuple[list[str], str]:
    """Categorical feature columns (text, category, bool, and 0/1 integer columns such as one-hot codes,
    which interpolation would blur) and the imbalanced-learn sampler that fits them."""
    categorical = []
    for col in x.columns:
        s = x[col]
        if is_number(s):
            if pd.api.types.is_integer_dtype(s.dtype) and set(pd.unique(s)) <= {0, 1}:
                categorical.append(col)
        elif (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)
              or pd.api.types.is_bool_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype)):
            categorical.append(col)
        else:
            raise RecipeError(f"rebalance (smote) cannot interpolate column {col!r} ({s.dtype}); drop it or convert "
                              "it to numbers before this step, or use method 'oversample'.")
    if not categorical:
        return [], "SMOTE"
    return categorical, "SMOTEN" if len(categorical) == x.shape[1] else "SMOTE-NC"


def _fit_rebalance(frame: pd.DataFrame, params: dict) -> dict:
    kind = f"rebalance ({params['method']})"
    target = _target(frame, params, kind)
    counts = _class_counts(frame[target], kind)
    planned = _planned(counts, params["method"], params["ratio"])
    fitted = {"target": target, "classes": list(counts.index), "before": counts.tolist(), "after": planned.tolist()}
    if params["method"] == "smote":
        x = frame.drop(columns=[target])
        if x.shape[1] == 0:
            raise RecipeError("rebalance (smote) needs feature columns besides the target; use method 'oversample'.")
        k = params["k_neighbors"]
        short = [(c, int(n)) for c, n in counts.items() if planned[c] > n and n <= k]
        if short:
            label, n = short[0]
            raise RecipeError(f"SMOTE needs more training rows than k_neighbors={k} in every class it over-samples; "
                              f"class {label!r} of {target!r} has {n}. Lower k_neighbors to {max(n - 1, 1)} or use "
                              "random over-sampling (method 'oversample').")
        missing = [c for c in x.columns if x[c].isna().any()]
        if missing:
            raise RecipeError(f"rebalance (smote) cannot interpolate missing values; column {missing[0]!r} has "
                              f"{int(x[missing[0]].isna().sum())}. Add an impute step before it.")
        categorical, sampler = _smote_kinds(x)
        fitted.update({"categorical": categorical, "sampler": sampler})
    return fitted


def _resample_rebalance(frame: pd.DataFrame, params: dict, fitted: dict):
    target = fitted["target"]
    y = frame[target]
    planned = dict(zip(fitted["classes"], fitted["after"], strict=True))  # fitted on these very rows
    plan = {label: int(planned[label]) for label in pd.unique(y)}
    if plan == y.value_counts().to_dict():
        return frame, frame.iloc[:0]  # already as balanced as asked
    seed = params["seed"]
    positions = np.arange(len(frame)).reshape(-1, 1)  # the samplers pick rows; the rows themselves are copied
    if params["method"] == "undersample":
        from imblearn.under_sampling import RandomUnderSampler

        sampler = RandomUnderSampler(sampling_strategy=plan, random_state=seed)
        sampler.fit_resample(positions, y.to_numpy())
        return frame.iloc[np.sort(sampler.sample_indices_)], frame.iloc[:0]
    if params["method"] == "oversample":
        from imblearn.over_sampling import RandomOverSampler

        picked, _ = RandomOverSampler(sampling_strategy=plan, random_state=seed).fit_resample(positions, y.to_numpy())
        return frame, frame.iloc[picked[len(frame):, 0]]
    from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

    x = frame.drop(columns=[target])
    k, categorical = params["k_neighbors"], fitted["categorical"]
    if fitted["sampler"] == "SMOTE":
        sampler = SMOTE(sampling_strategy=plan, k_neighbors=k, random_state=seed)
    elif fitted["sampler"] == "SMOTEN":
        sampler = SMOTEN(sampling_strategy=plan, k_neighbors=k, random_state=seed)
    else:
        sampler = SMOTENC(categorical_features=categorical, sampling_strategy=plan, k_neighbors=k, random_state=seed)
    x_res, y_res = sampler.fit_resample(x, y)
    added = pd.DataFrame(x_res).iloc[len(frame):].copy()
    added.columns = x.columns
    added[target] = np.asarray(y_res)[len(frame):]
    return frame, added[list(frame.columns)].astype(frame.dtypes.to_dict(), errors="ignore")


def _summarize_rebalance(before, after, params, fitted, changes) -> str:
    pairs = zip(fitted["classes"], fitted["before"], fitted["after"], strict=True)
    counts = ", ".join(f"{c!s}: {b:,} → {a:,}" for c, b, a in pairs)
    how = {"oversample": "random over-sampling", "undersample": "random under-sampling"}.get(
        params["method"], fitted.get("sampler", "SMOTE"))
    extra = (f", categorical {names(fitted['categorical'])}" if fitted.get("categorical")
             and fitted.get("sampler") == "SMOTE-NC" else "")
    return f"Rebalanced {fitted['target']!r} by {how}{extra} (ratio={params['ratio']:g}): {counts}."


# --- augment_noise -------------------------------------------------------------------------------
def _fit_noise(frame: pd.DataFrame, params: dict) -> dict:
    target = target_of(params)
    cols = params["columns"] or numeric_columns(frame, exclude=[target])
    if not cols:
        raise RecipeError("augment_noise needs numeric columns to jitter and found none; convert columns with "
                          "fix_types first or choose some.")
    require_numeric(frame, "augment_noise", cols, "(jitter)")
    spread = {c: float(np.nan_to_num(frame[c].astype(float).replace([np.inf, -np.inf], np.nan).std(ddof=0)))
              for c in cols}
    return {"spread": spread}


def _resample_noise(frame: pd.DataFrame, params: dict, fitted: dict):
    rng = np.random.default_rng(params["seed"])
    copies = pd.concat([frame] * params["copies"]) if params["copies"] > 1 else frame
    added = copies.copy()
    for col, spread in fitted["spread"].items():
        noise = rng.normal(0.0, params["scale"] * spread, size=len(added))
        added[col] = added[col].astype(float) + noise  # an integer column becomes float: jitter is continuous
    return frame, added


def _summarize_noise(before, after, params, fitted, changes) -> str:
    cols = list(fitted["spread"])
    return (f"Added {plural(params['copies'], 'jittered copy', 'jittered copies')} of each training row: "
            f"{plural(len(cols), 'column')} ({names(cols)}) moved by Gaussian noise with std = {params['scale']:g} × "
            f"the column's spread (seed {params['seed']}).")


_SEED = ParamSpec("seed", "int", 0, "Random seed (the same seed gives the same rows).", minimum=0, maximum=2**31 - 1)
TRAIN_STEPS = {
    "rebalance": StepSpec(
        "rebalance", "Rebalance classes (training rows)",
        "Balance a skewed target in the training part only (the test part is never touched): random "
        "over-sampling (copies of minority rows), random under-sampling (drops majority rows) or SMOTE "
        "(interpolated minority rows; SMOTE-NC when categorical columns are present), from imbalanced-learn. "
        "Skipped when the recipe is replayed on a new batch.",
        (
            ParamSpec("method", "choice", "oversample", "How to balance.", ("oversample", "undersample", "smote")),
            ParamSpec("target", "column", None, "Class column (default: the version's target)."),
            ParamSpec("ratio", "float", 1.0, "Each class ends with at least ratio × the largest class (over, SMOTE) "
                      "or at most the smallest class / ratio (under); 1 = equal.", minimum=0.01, maximum=1.0),
            ParamSpec("k_neighbors", "int", 5, "Neighbours SMOTE interpolates between.", minimum=1, maximum=100),
            _SEED,
        ),
        passthrough, _fit_rebalance, _summarize_rebalance, learns=True, resample=_resample_rebalance,
    ),
    "augment_noise": StepSpec(
        "augment_noise", "Augment with noise (training rows)",
        "Add jittered copies of the training rows (never of the test part): each chosen numeric column moves by "
        "Gaussian noise with std = scale × the column's spread in the training rows; other columns are copied. "
        "Skipped when the recipe is replayed on a new batch.",
        (
            ParamSpec("columns", "columns", None, "Numeric columns to jitter (default: all numeric but the target)."),
            ParamSpec("scale", "float", 0.05, "Noise std as a fraction of each column's std.", minimum=0.0, maximum=2.0),
            ParamSpec("copies", "int", 1, "Jittered copies of each training row.", minimum=1, maximum=20),
            _SEED,
        ),
        passthrough, _fit_noise, _summarize_noise, learns=True, resample=_resample_noise,
    ),
}
