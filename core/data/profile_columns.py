"""Per-column statistics for :mod:`core.data.profile`.

Every column is factorised once (``pandas.factorize``: codes + distinct values);
missing tokens, distinct count, top values, the numeric reading of text and
the duplicate-row key all come from the distinct values and their counts, so
the work on the rows themselves is one hash pass per column.
"""

from __future__ import annotations

import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd
    import pyarrow as pa

QUANTILES = {"p5": 5, "p25": 25, "p50": 50, "p75": 75, "p95": 95}
TOP_VALUES = 10
CATEGORICAL_MAX_DISTINCT = 50
CATEGORICAL_MAX_SHARE = 0.05
_NUMERIC_LIKE_SAMPLE = 100_000  # distinct text values checked exactly; above this, a sample first
_DATE_SAMPLE = 200
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_DATE = re.compile(
    r"(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}([ T]\d{1,2}:\d{2}(:\d{2})?)?)"
)


@dataclass(frozen=True)
class Histogram:
    """Equal-width bins: ``len(edges) == len(counts) + 1``."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class ColumnProfile:
    """What one column holds.

    ``dtype`` is the inferred kind: ``'numeric'``, ``'categorical'``, ``'text'``,
    ``'datetime'``, ``'boolean'``, ``'mixed'`` or ``'empty'`` — text that reads
    as numbers or dates gets ``'numeric'`` / ``'datetime'`` while ``pandas_dtype``
    stays ``'object'``. ``missing`` counts nulls plus the recognised missing tokens
    (listed in ``tokens``); ``distinct``, ``top_values`` and the statistics ignore both.
    """

    name: str
    dtype: str
    pandas_dtype: str
    missing: int
    missing_share: float
    distinct: int
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] = field(default_factory=dict)
    top_values: list[tuple[Any, int]] = field(default_factory=list)
    histogram: Histogram | None = None
    tokens: dict[str, int] = field(default_factory=dict)
    numeric_like_share: float = 0.0
    needs_parsing: bool = False  # numbers / dates stored as text that need more than dropping the tokens
    non_missing: int = 0


@dataclass
class ColumnWork:
    """A column's profile plus what the table-level pass needs (codes for duplicates, numbers for correlation)."""

    profile: ColumnProfile
    codes: np.ndarray
    cardinality: int
    numbers: np.ndarray | None  # float view when the column reads as numeric (for correlation)


def profile_column(name: str, series: pd.Series, tokens: frozenset[str], max_bins: int) -> ColumnWork:
    """Profile one column (see :class:`ColumnProfile`)."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    rows = len(series)
    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.intp)
        uniques = np.asarray(dtype.categories.astype(object))
        return _text_column(name, str(dtype), codes, uniques, rows, tokens, max_bins)
    if pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=object, na_value=None) if series.hasnans else series.to_numpy()
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        non_missing = int(counts.sum())
        top = _top(uniques, counts)
        mean = float(sum(c for v, c in zip(uniques, counts) if v) / non_missing) if non_missing else None
        profile = _make(name, "boolean" if non_missing else "empty", str(dtype), rows, rows - non_missing,
                        len(uniques), top_values=top, mean=mean, non_missing=non_missing,
                        numeric_like_share=0.0)  # fmt: skip
        return ColumnWork(profile, codes, len(uniques), None)
    if pd.api.types.is_numeric_dtype(dtype):
        if isinstance(dtype, np.dtype):  # plain numpy column: no missing-value mask to build
            exact = series.to_numpy()
            numbers = exact.astype(np.float64, copy=False)
        else:  # nullable Int64 / Float64: <NA> becomes NaN
            exact = numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if exact.dtype.kind not in "iu":
            exact = numbers  # integers keep their type in top values; everything else is read as float
        codes, uniques = pd.factorize(exact, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        non_missing = int(counts.sum())
        stats = _numeric_stats(numbers, len(uniques), max_bins) if non_missing else {}
        profile = _make(name, "numeric" if non_missing else "empty", str(dtype), rows, rows - non_missing,
                        len(uniques), top_values=_top(uniques, counts), non_missing=non_missing,
                        numeric_like_share=1.0 if non_missing else 0.0, **stats)  # fmt: skip
        return ColumnWork(profile, codes, len(uniques), numbers if non_missing else None)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        non_missing = int(counts.sum())
        lo, hi = (uniques.min(), uniques.max()) if non_missing else (None, None)
        profile = _make(name, "datetime" if non_missing else "empty", str(dtype), rows, rows - non_missing,
                        len(uniques), min=_iso(lo), max=_iso(hi), top_values=_top(uniques, counts),
                        non_missing=non_missing)  # fmt: skip
        return ColumnWork(profile, codes, len(uniques), None)
    values = series.to_numpy(dtype=object)
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists, dicts) from an in-memory frame: compare their text
        codes, uniques = pd.factorize(np.array([v if v is None else str(v) for v in values], dtype=object))
    return _text_column(name, str(dtype), codes, np.asarray(uniques, dtype=object), rows, tokens, max_bins)


def _text_column(name: str, pandas_dtype: str, codes: np.ndarray, uniques: np.ndarray, rows: int,
                 tokens: frozenset[str], max_bins: int) -> ColumnWork:  # fmt: skip
    """Text (or categorical) column: all the string work runs on the distinct values, in Arrow."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    counts = np.bincount(codes[codes >= 0], minlength=len(uniques)) if len(uniques) else np.zeros(0, dtype=np.int64)
    texts = _arrow_strings(uniques)
    trimmed = pc.utf8_trim_whitespace(texts)
    is_token = pc.is_in(trimmed, value_set=pa.array(sorted(tokens), type=pa.string())).to_numpy(zero_copy_only=False)
    found: dict[str, int] = {}
    for i in np.flatnonzero(is_token):
        token = trimmed[int(i)].as_py()
        found[token] = found.get(token, 0) + int(counts[i])
    valid = ~is_token.astype(bool)
    non_missing = int(counts[valid].sum())
    distinct = int(valid.sum())
    missing = rows - non_missing
    top = _top(uniques[valid], counts[valid])
    base = dict(top_values=top, tokens=found, non_missing=non_missing)
    if non_missing == 0:
        return ColumnWork(_make(name, "empty", pandas_dtype, rows, missing, 0, **base), codes, len(uniques), None)
    kept = trimmed.filter(pa.array(valid))
    parsed, share, cleaned = _numeric_reading(texts.filter(pa.array(valid)), kept, counts[valid])
    if share == 1.0:
        lookup = np.full(len(uniques), np.nan)
        lookup[valid] = parsed
        numbers = np.where(codes >= 0, lookup[codes], np.nan)
        stats = _numeric_stats(numbers, distinct, max_bins)
        profile = _make(name, "numeric", pandas_dtype, rows, missing, distinct, numeric_like_share=1.0,
                        needs_parsing=cleaned, **stats, **base)  # fmt: skip
        return ColumnWork(profile, codes, len(uniques), numbers)
    if share > 0.0:
        return ColumnWork(_make(name, "mixed", pandas_dtype, rows, missing, distinct, numeric_like_share=share,
                                **base), codes, len(uniques), None)  # fmt: skip
    if distinct <= 8 and set(pc.utf8_lower(kept).to_pylist()) <= {"true", "false"}:
        profile = _make(name, "boolean", pandas_dtype, rows, missing, distinct, **base)
        return ColumnWork(profile, codes, len(uniques), None)
    dates = _date_range(kept)
    if dates is not None:
        profile = _make(name, "datetime", pandas_dtype, rows, missing, distinct, min=dates[0], max=dates[1],
                        needs_parsing=True, **base)  # fmt: skip
        return ColumnWork(profile, codes, len(uniques), None)
    kind = "categorical" if distinct <= max(CATEGORICAL_MAX_DISTINCT, CATEGORICAL_MAX_SHARE * non_missing) else "text"
    if distinct > 10_000:
        kind = "text"
    return ColumnWork(_make(name, kind, pandas_dtype, rows, missing, distinct, **base), codes, len(uniques), None)


def _arrow_strings(uniques: np.ndarray) -> pa.Array:
    import pandas as pd
    import pyarrow as pa

    if pd.api.types.infer_dtype(uniques, skipna=False) != "string":
        uniques = [u if isinstance(u, str) else str(u) for u in uniques]
    return pa.array(uniques, type=pa.string())


def _numeric_reading(texts: pa.Array, trimmed: pa.Array, counts: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Parse distinct non-missing values as numbers (spaces and thousands separators removed).

    Returns (parsed value per distinct value, share of non-missing cells that parse, whether any
    needed more than reading). With more than 100,000 distinct values a sample of 2,000 is tried
    first and, when none parses, the column is taken as non-numeric without the full pass.
    """
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    n = len(trimmed)
    if n > _NUMERIC_LIKE_SAMPLE:
        probe = trimmed.take(np.arange(0, n, max(1, n // 2000))).to_numpy(zero_copy_only=False)
        if np.isnan(pd.to_numeric(probe, errors="coerce").astype(np.float64)).all():
            return np.full(n, np.nan), 0.0, False
    separators = pc.match_substring_regex(trimmed, _THOUSANDS.pattern.join("^$"))
    cleaned = pc.if_else(separators, pc.replace_substring(trimmed, ",", ""), trimmed)
    parsed = pd.to_numeric(cleaned.to_numpy(zero_copy_only=False), errors="coerce").astype(np.float64)
    ok = ~np.isnan(parsed)
    total = counts.sum()
    share = float(counts[ok].sum() / total) if total else 0.0
    changed = pc.not_equal(cleaned, texts).to_numpy(zero_copy_only=False)
    return parsed, share, bool(share == 1.0 and (changed & ok).any())


def _date_range(values: pa.Array) -> tuple[str, str] | None:
    """(min, max) as ISO text when the values read as dates, else None (the pattern is checked on 200 first)."""
    import numpy as np
    import pandas as pd

    n = len(values)
    sample = values.take(np.arange(0, n, max(1, n // _DATE_SAMPLE))[:_DATE_SAMPLE]).to_pylist()
    if not sample or sum(bool(_DATE.fullmatch(v)) for v in sample) < 0.95 * len(sample):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(values.to_numpy(zero_copy_only=False), errors="coerce")
        except (ValueError, TypeError, OverflowError):
            return None
    parsed = parsed[~parsed.isna()]
    if len(parsed) < 0.9 * n:
        return None
    return _iso(parsed.min()), _iso(parsed.max())


def _numeric_stats(numbers: np.ndarray, distinct: int, max_bins: int) -> dict[str, Any]:
    """Exact statistics from one sort: quantiles (numpy's linear rule) and an equal-width histogram."""
    import numpy as np

    ordered = np.sort(numbers[np.isfinite(numbers)])
    n = ordered.size
    if n == 0:
        return {}
    lo, hi = float(ordered[0]), float(ordered[-1])
    position = np.array(list(QUANTILES.values()), dtype=np.float64) / 100 * (n - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    q = ordered[below] + (ordered[above] - ordered[below]) * (position - below)
    bins = max(1, min(max_bins, distinct))
    first, last = (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)  # numpy's rule for a single value
    edges = np.linspace(first, last, bins + 1)
    starts = np.searchsorted(ordered, edges[:-1], side="left")
    starts[0] = 0
    counts = np.diff(np.append(starts, n))
    return {
        "min": lo,
        "max": hi,
        "mean": float(ordered.mean()),
        "std": float(ordered.std(ddof=1)) if n > 1 else None,
        "quantiles": {k: float(v) for k, v in zip(QUANTILES, q)},
        "histogram": Histogram(tuple(edges.tolist()), tuple(counts.tolist())),
    }


def _top(uniques: np.ndarray | Any, counts: np.ndarray) -> list[tuple[Any, int]]:
    import numpy as np

    if len(counts) == 0:
        return []
    k = min(TOP_VALUES, len(counts))
    candidates = np.arange(len(counts))
    if len(counts) > k:  # keep every value tied with the k-th count, then order by count and first appearance
        kth = np.partition(counts, len(counts) - k)[len(counts) - k]
        candidates = np.flatnonzero(counts >= kth)
    best = candidates[np.lexsort((candidates, -counts[candidates]))][:k]
    return [(to_native(uniques[i]), int(counts[i])) for i in best]


def _make(name: str, kind: str, pandas_dtype: str, rows: int, missing: int, distinct: int, *,
          non_missing: int, **extra: Any) -> ColumnProfile:  # fmt: skip
    return ColumnProfile(name=name, dtype=kind, pandas_dtype=pandas_dtype, missing=int(missing),
                         missing_share=(missing / rows) if rows else 0.0, distinct=int(distinct),
                         non_missing=int(non_missing), **extra)  # fmt: skip


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return value.isoformat()
    except AttributeError:
        return str(value)


def to_native(value: Any) -> Any:
    """A JSON-safe Python value (numpy scalars unwrapped, NaN → None, timestamps → ISO text)."""
    import math

    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def object_memory(values: np.ndarray, sample: int = 10_000) -> int:
    """Deep bytes of an object column: exact up to 100,000 rows, else estimated from an even sample."""
    import numpy as np

    n = len(values)
    if n <= 100_000:
        return int(8 * n + sum(sys.getsizeof(v) for v in values))
    picked = values[np.linspace(0, n - 1, sample).astype(np.int64)]
    return int(8 * n + n * (sum(sys.getsizeof(v) for v in picked) / sample))
