"""Feature extraction steps: group statistics, rolling-window statistics, Fourier features of a signal.

* ``group_stats`` learns mean / median / std / min / max / count of a column per group key from the
  training rows and joins them back to every row; a group unseen in the training rows gets the
  global training statistic (count: 0) or a missing value, as the ``unseen`` parameter says.
* ``rolling`` orders the rows by a time column and computes statistics over the last ``window``
  rows (the current one included) of each chosen column — on a new batch, over that batch's own rows.
* ``fourier`` takes a signal — a column holding a sequence of numbers (a list, or text such as
  ``"1 2 3"`` / ``"[1, 2, 3]"``), or a window of a numeric column over a time column — and adds the
  ``k`` strongest frequencies (cycles per sample, DC left out) and their amplitudes (2·|FFT|/n) via
  ``numpy.fft.rfft``. Sequences of unequal lengths are refused with a sentence, or zero-padded to the
  longest training sequence (longer ones at replay are cut to it) when ``unequal='zero_pad'``.

Transforms use pandas / numpy only (they are copied into exported code); the checks that give
sentences live in ``_check_*`` (run by the engine before every transform, never exported).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.recipe._common import is_number, names, numeric_columns, plural, require_numeric, target_of
from core.data.recipe.model import ParamSpec, StepSpec
from core.errors import RecipeError

GROUP_STATS = ("mean", "median", "std", "min", "max", "count")
ROLLING_STATS = ("mean", "median", "std", "min", "max", "sum")


def _no_clash(frame: pd.DataFrame, kind: str, outputs: list[str], replaced: tuple[str, ...] = ()) -> None:
    clash = [c for c in outputs if c in frame.columns and c not in replaced]
    if clash:
        raise RecipeError(f"{kind} would create column {clash[0]!r}, which already exists. Rename or drop it first, "
                          "or remove the earlier step that made it.")


def _time_order_check(frame: pd.DataFrame, kind: str, col: str) -> None:
    s = frame[col]
    if not (pd.api.types.is_datetime64_any_dtype(s.dtype) or is_number(s)):
        raise RecipeError(f"{kind} orders rows by the time column {col!r}, which is {s.dtype}; convert it with "
                          "fix_types (datetime or numeric) first.")


def time_order(frame, col):
    """Row positions sorted by the time column (stable; missing times last)."""
    return np.argsort(frame[col].to_numpy(), kind="stable")


# --- group_stats ---------------------------------------------------------------------------------
def group_stats(frame, params, fitted):
    """Join the fitted per-group statistics back by the key; unseen keys get the fitted fallback."""
    frame = frame.copy(deep=False)  # columns are added, never written in place
    pos = pd.Index(fitted["groups"]).get_indexer(frame[params["by"]])
    seen = pos >= 0
    for stat, name in zip(params["stats"], fitted["outputs"]):
        values = np.array([np.nan if v is None else v for v in fitted["table"][stat]], dtype=float)
        fallback = fitted["fallback"][stat]
        frame[name] = np.where(seen, values[np.where(seen, pos, 0)], np.nan if fallback is None else fallback)
    return frame


def _group_names(params: dict) -> list[str]:
    return [f"{params['column']}_{stat}_by_{params['by']}" for stat in params["stats"]]


def _fit_group_stats(frame: pd.DataFrame, params: dict) -> dict:
    col, by = params["column"], params["by"]
    if col is None or by is None:
        raise RecipeError("group_stats needs both a 'column' to summarise and a 'by' group key. Got None; choose both.")
    if col == by:
        raise RecipeError(f"group_stats needs a key other than the column it summarises; both are {col!r}.")
    if col == target_of(params):
        raise RecipeError(f"group_stats on the target {col!r} would put the target into the features (each training "
                          "row would see its own label in its group's statistic). Choose another column.")
    require_numeric(frame, "group_stats", [col], "(statistics)")
    keys = frame[by].dropna()
    if len(keys) and keys.nunique() == len(keys):
        raise RecipeError(f"group_stats: every value of {by!r} occurs once in the training rows ({len(keys):,} groups "
                          f"for {len(keys):,} rows), so each statistic would just repeat the row's own value. Choose "
                          "a key that groups rows (a category, a store, a customer).")
    outputs = _group_names(params)
    _no_clash(frame, "group_stats", outputs)
    values = frame[col].astype(float).replace([np.inf, -np.inf], np.nan)
    grouped = values.groupby(frame[by], dropna=True, sort=True, observed=True)
    table, overall, fallback = {}, {}, {}
    for stat in params["stats"]:
        per = grouped.std(ddof=0) if stat == "std" else grouped.agg(stat)
        table[stat] = per.tolist()
        overall[stat] = float(values.std(ddof=0) if stat == "std" else values.agg(stat))
        if params["unseen"] == "missing":
            fallback[stat] = None
        else:
            fallback[stat] = 0.0 if stat == "count" else overall[stat]
    groups = grouped.size().index.tolist()
    return {"groups": groups, "table": table, "fallback": fallback, "outputs": outputs}


def _summarize_group_stats(before, after, params, fitted, changes) -> str:
    unseen = int((pd.Index(fitted["groups"]).get_indexer(before[params["by"]]) < 0).sum())
    rule = ("a missing value" if params["unseen"] == "missing"
            else "the global training statistic" + (" (count: 0)" if "count" in params["stats"] else ""))
    return (f"Added {', '.join(params['stats'])} of {params['column']!r} per {params['by']!r} "
            f"({plural(len(fitted['groups']), 'group')} learnt from the training rows): {names(fitted['outputs'])}; "
            f"{plural(unseen, 'row')} with a group unseen in training got {rule}.")


# --- rolling -------------------------------------------------------------------------------------
def rolling(frame, params, fitted):
    """Statistics over the last ``window`` rows in time order (current row included), per fitted column."""
    frame = frame.copy(deep=False)  # columns are added, never written in place
    ordered = frame.iloc[time_order(frame, params["time_column"])]
    window = params["window"]
    min_periods = params["min_periods"] or window
    names_ = iter(fitted["outputs"])
    for col in fitted["source"]:
        r = ordered[col].astype(float).rolling(window, min_periods=min_periods)
        for stat in params["stats"]:
            frame[next(names_)] = r.std(ddof=0) if stat == "std" else getattr(r, stat)()  # aligned by row label
    return frame


def _fit_rolling(frame: pd.DataFrame, params: dict) -> dict:
    time = params["time_column"]
    if time is None:
        raise RecipeError("The 'time_column' parameter of rolling is required: rows are ordered by it. Got None.")
    target = target_of(params)
    cols = params["columns"] or numeric_columns(frame, exclude=[target, time])
    if not cols:
        raise RecipeError("rolling found no numeric columns besides the time column; choose some.")
    if target in cols:
        raise RecipeError(f"rolling over the target {target!r} would put each row's own target into its features "
                          "(the window includes the current row). Leave the target out.")
    require_numeric(frame, "rolling", cols, "(window statistics)")
    need = params["min_periods"] or params["window"]
    if need > len(frame):  # a shorter new batch later just gets missing values where no window fits
        raise RecipeError(f"rolling: window={params['window']} (min_periods={need}) is longer than the table "
                          f"({len(frame):,} training rows), so every rolling value would be missing. Choose a window "
                          f"of at most {len(frame):,} rows or lower min_periods.")
    outputs = [f"{c}_roll{params['window']}_{stat}" for c in cols for stat in params["stats"]]
    _no_clash(frame, "rolling", outputs)
    return {"source": cols, "outputs": outputs}


def _check_rolling(frame: pd.DataFrame, params: dict, fitted: dict) -> None:
    """Run before every transform; the window-length check is the fit's (on the training rows)."""
    _time_order_check(frame, "rolling", params["time_column"])
    if params["min_periods"] is not None and params["min_periods"] > params["window"]:
        raise RecipeError(f"The 'min_periods' parameter of rolling must be at most window={params['window']}. "
                          f"Got {params['min_periods']} instead.")


def _summarize_rolling(before, after, params, fitted, changes) -> str:
    mp = params["min_periods"] or params["window"]
    return (f"Added {plural(len(fitted['outputs']), 'rolling column')} ({names(fitted['outputs'])}): "
            f"{', '.join(params['stats'])} over the last {params['window']} rows by {params['time_column']!r} "
            f"(min_periods={mp}; earlier rows are missing). A new batch is windowed over its own rows.")


# --- fourier -------------------------------------------------------------------------------------
def parse_sequence(cell):
    """A cell holding a sequence (list / array, or text like '1 2 3', '[1, 2, 3]', '1;2;3') as floats; None if empty."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return None
    if isinstance(cell, str):
        text = cell.strip().strip("[]()").strip()
        if not text:
            return None
        return np.array(text.replace(",", " ").replace(";", " ").split(), dtype=float)
    return np.asarray(cell, dtype=float).ravel()


def top_frequencies(x, k):
    """The k strongest non-DC frequencies (cycles per sample) of each row of x and their amplitudes."""
    n = x.shape[1]
    amp = np.abs(np.fft.rfft(np.nan_to_num(x), axis=1))[:, 1:] * 2.0 / n
    grid = np.fft.rfftfreq(n)[1:]
    order = np.argsort(-amp, axis=1, kind="stable")[:, :k]
    freqs, mags = grid[order], np.take_along_axis(amp, order, axis=1)
    bad = np.isnan(x).any(axis=1)
    freqs[bad], mags[bad] = np.nan, np.nan
    return freqs, mags


def fourier(frame, params, fitted):
    """Add <column>_freq1..k and <column>_mag1..k from the FFT of each row's signal."""
    frame = frame.copy(deep=False)  # columns are added, never written in place
    col, n = params["column"], fitted["length"]
    x = np.full((len(frame), n), np.nan)
    if params["mode"] == "sequence":
        for i, cell in enumerate(frame[col].tolist()):
            seq = parse_sequence(cell)
            if seq is not None and len(seq):
                seq = seq[:n]  # zero_pad: a longer sequence than the training ones is cut to their length
                x[i] = 0.0
                x[i, :len(seq)] = seq
    else:
        order = time_order(frame, params["time_column"])
        values = frame[col].to_numpy(dtype=float, na_value=np.nan)[order]
        if len(values) >= n:
            x[order[n - 1:]] = np.lib.stride_tricks.sliding_window_view(values, n)
    freqs, mags = top_frequencies(x, params["k"])
    for i in range(params["k"]):
        frame[f"{col}_freq{i + 1}"] = freqs[:, i]
        frame[f"{col}_mag{i + 1}"] = mags[:, i]
    if params["mode"] == "sequence" and not params["keep_column"]:
        frame = frame.drop(columns=[col])
    return frame


def _row(label) -> str:  # noqa: ANN001 - a row label
    return repr(label) if isinstance(label, str) else str(label)


def _lengths(frame: pd.DataFrame, col: str) -> pd.Series:
    """Length of each cell's sequence (NaN for empty cells); a sentence for a cell that is not one."""
    out = []
    for label, cell in frame[col].items():
        try:
            seq = parse_sequence(cell)
        except (TypeError, ValueError):
            raise RecipeError(f"fourier could not read row {_row(label)} of {col!r} as a sequence of numbers "
                              f"(got {str(cell)[:40]!r}). Write signals as '1 2 3', '1,2,3' or lists.") from None
        out.append(np.nan if seq is None else len(seq))
    return pd.Series(out, index=frame.index, dtype=float)


def _fit_fourier(frame: pd.DataFrame, params: dict) -> dict:
    col, k = params["column"], params["k"]
    if col is None:
        raise RecipeError("The 'column' parameter of fourier is required: the signal to transform. Got None.")
    if params["mode"] == "window":
        if params["time_column"] is None:
            raise RecipeError("fourier (window) needs a 'time_column' to order the rows by. Got None.")
        require_numeric(frame, "fourier (window)", [col], "")
        length = params["window"]
        if length > len(frame):
            raise RecipeError(f"fourier (window): window={length} is longer than the table ({len(frame):,} training "
                              f"rows), so no row would get a value. Choose a window of at most {len(frame):,} rows.")
    else:
        lengths = _lengths(frame, col).dropna()
        if lengths.empty:
            raise RecipeError(f"fourier found no sequence in {col!r} in the training rows; choose the column that "
                              "holds the signals.")
        if lengths.nunique() > 1 and params["unequal"] == "refuse":
            raise RecipeError(f"fourier needs signals of one length; {col!r} holds lengths from {int(lengths.min())} "
                              f"to {int(lengths.max())} in the training rows. Set unequal='zero_pad' to pad the "
                              "shorter ones with zeros, or resample the signals first.")
        length = int(lengths.max())
    if k > length // 2:
        raise RecipeError(f"The 'k' parameter of fourier must be at most {length // 2} (a signal of {length} values "
                          f"has {length // 2} frequencies besides the mean). Got {k} instead.")
    outputs = [f"{col}_{what}{i + 1}" for i in range(k) for what in ("freq", "mag")]
    _no_clash(frame, "fourier", outputs)
    return {"length": length, "outputs": outputs}


def _check_fourier(frame: pd.DataFrame, params: dict, fitted: dict) -> None:
    col = params["column"]
    if params["mode"] == "window":
        _time_order_check(frame, "fourier (window)", params["time_column"])
        require_numeric(frame, "fourier (window)", [col], "")
        return
    lengths = _lengths(frame, col).dropna()
    other = lengths[lengths != fitted["length"]]
    if len(other) and params["unequal"] == "refuse":
        raise RecipeError(f"fourier learnt signals of {fitted['length']} values, but row {_row(other.index[0])} of "
                          f"{col!r} holds {int(other.iloc[0])}. Set unequal='zero_pad' to pad or cut them, or fix the signals.")


def _summarize_fourier(before, after, params, fitted, changes) -> str:
    source = (f"windows of {fitted['length']} rows of {params['column']!r} by {params['time_column']!r}"
              if params["mode"] == "window" else f"the signals in {params['column']!r} ({fitted['length']} values"
              + (", shorter ones zero-padded" if params["unequal"] == "zero_pad" else "") + ")")
    gone = "" if params["mode"] == "window" or params["keep_column"] else f"; removed {params['column']!r}"
    return (f"Added the {plural(params['k'], 'strongest frequency', 'strongest frequencies')} and their amplitudes "
            f"of {source}: {names(fitted['outputs'])}{gone}.")


EXTRACT_STEPS = {
    "group_stats": StepSpec(
        "group_stats", "Group statistics",
        "Add statistics (mean, median, std, min, max, count) of a numeric column per group key, learnt from the "
        "training rows and joined back to every row; groups unseen in training get the global training "
        "statistic (count: 0) or a missing value.",
        (
            ParamSpec("column", "column", None, "Numeric column to summarise.", optional=False),
            ParamSpec("by", "column", None, "Group key column.", optional=False),
            ParamSpec("stats", "multichoice", ["mean"], "Statistics to add.", GROUP_STATS),
            ParamSpec("unseen", "choice", "global", "Value for a group unseen in the training rows.",
                      ("global", "missing")),
        ),
        group_stats, _fit_group_stats, _summarize_group_stats, learns=True,
    ),
    "rolling": StepSpec(
        "rolling", "Rolling-window statistics",
        "Order rows by a time column and add statistics over the last window rows (current row included) of "
        "numeric columns; on a new batch the window runs over the batch's own rows.",
        (
            ParamSpec("time_column", "column", None, "Column that orders the rows (datetime or number).",
                      optional=False),
            ParamSpec("columns", "columns", None, "Numeric columns (default: all numeric but the target and time)."),
            ParamSpec("window", "int", 3, "Rows in each window.", minimum=2, maximum=100_000),
            ParamSpec("min_periods", "int", None, "Rows a window needs for a value (default: window).",
                      minimum=1, maximum=100_000),
            ParamSpec("stats", "multichoice", ["mean"], "Statistics to add.", ROLLING_STATS),
        ),
        rolling, _fit_rolling, _summarize_rolling, learns=True, check=_check_rolling,
    ),
    "fourier": StepSpec(
        "fourier", "Fourier features",
        "Add the k strongest frequencies of a signal and their amplitudes (NumPy FFT): a column holding a "
        "sequence per row, or a window of a numeric column over a time column.",
        (
            ParamSpec("column", "column", None, "Signal column (sequences, or numbers in window mode).",
                      optional=False),
            ParamSpec("mode", "choice", "sequence", "Where the signal is.", ("sequence", "window")),
            ParamSpec("k", "int", 3, "Strongest frequencies to keep.", minimum=1, maximum=100),
            ParamSpec("time_column", "column", None, "Column that orders the rows (window mode)."),
            ParamSpec("window", "int", 8, "Rows per window (window mode).", minimum=4, maximum=10_000),
            ParamSpec("unequal", "choice", "refuse", "Signals of unequal lengths: refuse, or zero-pad to the longest.",
                      ("refuse", "zero_pad")),
            ParamSpec("keep_column", "bool", False, "Keep the sequence column after extracting (sequence mode)."),
        ),
        fourier, _fit_fourier, _summarize_fourier, learns=True, check=_check_fourier,
    ),
}
