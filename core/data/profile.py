"""Profile a table: per-column types and statistics, table facts, alerts, correlations.

``profile_frame`` is a pure function of the frame. It is exact except where
noted, because exact answers there would cost more than they are worth:

* ``correlation`` (Pearson, pairwise-complete) uses at most 100,000 evenly spaced
  rows, fewer when there are many numeric columns (rows × columns² ≤ 4·10⁸), and
  at most the first 200 numeric columns;
* ``memory_bytes`` counts text cells exactly up to 100,000 rows, above that it
  extrapolates from a 10,000-cell sample per text column;
* whether a text column with more than 100,000 distinct values reads as
  numbers is first tried on a 2,000-value sample; date detection looks at 200.

Everything else — missing counts and tokens, distinct counts, top values,
quantiles, histograms, duplicate rows — is computed on every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.data.io import DEFAULT_MISSING_TOKENS
from core.data.profile_columns import ColumnProfile, ColumnWork, Histogram, object_memory, profile_column, to_native

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

__all__ = ["Alert", "ColumnProfile", "Histogram", "Profile", "profile_frame", "DEFAULT_MISSING_TOKENS"]

CORRELATION_THRESHOLD = 0.9
CORRELATION_MAX_COLUMNS = 200
CORRELATION_MAX_ROWS = 100_000
_CORRELATION_BUDGET = 4e8  # rows × columns², keeps the four matrix products around a second
ALMOST_CONSTANT_SHARE = 0.95
HIGH_MISSING_WARNING, HIGH_MISSING_INFO = 0.5, 0.2
HIGH_CARDINALITY_MIN, HIGH_CARDINALITY_SHARE = 50, 0.5


@dataclass(frozen=True)
class Alert:
    """Something the person should look at. ``severity`` is ``'warning'`` or ``'info'``.

    ``kind``: constant, almost_constant, high_missing, high_cardinality, high_correlation,
    duplicates, mixed_types, missing_tokens, stored_as_text. ``column`` is ``None``
    for table-level alerts; ``columns`` names every column involved (both for a correlation).
    """

    kind: str
    column: str | None
    message: str
    severity: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Profile:
    """The profile of one table (see :func:`profile_frame`)."""

    rows: int
    n_columns: int
    duplicate_rows: int
    memory_bytes: int
    columns: tuple[ColumnProfile, ...]
    alerts: tuple[Alert, ...]
    correlation: pd.DataFrame | None  # signed Pearson r between numeric columns (|r| drives the alerts)
    missing_tokens_found: dict[str, int] = field(default_factory=dict)
    missing_tokens: tuple[str, ...] = ()
    correlation_rows: int = 0  # rows used for the correlation (a sample above 100,000)

    def column(self, name: str) -> ColumnProfile:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def missing_cells(self) -> int:
        return sum(c.missing for c in self.columns)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN → null); the CLI's ``--json`` output."""
        corr = None
        if self.correlation is not None:
            corr = {
                "columns": [str(c) for c in self.correlation.columns],
                "values": [[to_native(v) for v in row] for row in self.correlation.to_numpy()],
                "rows_used": self.correlation_rows,
            }
        return {
            "rows": self.rows,
            "n_columns": self.n_columns,
            "duplicate_rows": self.duplicate_rows,
            "memory_bytes": self.memory_bytes,
            "missing_cells": self.missing_cells,
            "missing_tokens_found": dict(self.missing_tokens_found),
            "missing_tokens": list(self.missing_tokens),
            "alerts": [
                {"kind": a.kind, "column": a.column, "columns": list(a.columns), "message": a.message,
                 "severity": a.severity}  # fmt: skip
                for a in self.alerts
            ],
            "columns": [_column_json(c) for c in self.columns],
            "correlation": corr,
        }


def _column_json(col: ColumnProfile) -> dict[str, Any]:
    return {
        "name": col.name,
        "dtype": col.dtype,
        "pandas_dtype": col.pandas_dtype,
        "missing": col.missing,
        "missing_share": col.missing_share,
        "non_missing": col.non_missing,
        "distinct": col.distinct,
        "min": to_native(col.min),
        "max": to_native(col.max),
        "mean": to_native(col.mean),
        "std": to_native(col.std),
        "quantiles": {k: to_native(v) for k, v in col.quantiles.items()},
        "top_values": [[to_native(v), int(c)] for v, c in col.top_values],
        "histogram": None if col.histogram is None else {
            "edges": list(col.histogram.edges), "counts": list(col.histogram.counts)},  # fmt: skip
        "tokens": dict(col.tokens),
        "numeric_like_share": col.numeric_like_share,
        "needs_parsing": col.needs_parsing,
    }


def profile_frame(
    frame: pd.DataFrame,
    *,
    missing_tokens: tuple[str, ...] | list[str] = DEFAULT_MISSING_TOKENS,
    max_hist_bins: int = 30,
) -> Profile:
    """Profile ``frame``: column kinds and statistics, duplicates, memory, alerts and correlations.

    Args:
        frame: any DataFrame (typically :attr:`LoadedTable.frame`, whose text cells are raw).
        missing_tokens: cell values (compared after trimming spaces; blank is ``""``) that count
            as missing in text columns. Defaults to :data:`DEFAULT_MISSING_TOKENS`; pass the
            list the person confirmed.
        max_hist_bins: at most this many histogram bins for numeric columns.

    Returns:
        A frozen :class:`Profile`; see the module docstring for what is sampled.
    """

    if max_hist_bins < 1:
        raise ValueError(f"max_hist_bins must be at least 1. Got {max_hist_bins} instead.")
    rows, n_cols = frame.shape
    tokens = frozenset(str(t).strip() for t in missing_tokens)
    sample = _correlation_rows(rows)
    works: list[ColumnWork] = []
    numeric: dict[str, np.ndarray] = {}
    key = _DuplicateKey(rows)
    memory = int(frame.index.memory_usage())
    for label, series in frame.items():
        name = str(label)
        memory += object_memory(series.to_numpy()) if series.dtype == object else int(series.memory_usage(index=False))
        work = profile_column(name, series, tokens, max_hist_bins)
        key.add(work.codes, work.cardinality)
        if work.numbers is not None and len(numeric) < CORRELATION_MAX_COLUMNS:
            numeric[name] = work.numbers[sample]
        work.codes = work.numbers = None  # type: ignore[assignment]  # free per column
        works.append(work)
    columns = tuple(w.profile for w in works)
    correlation, used = _correlation(numeric)
    duplicates = key.duplicates()
    found: dict[str, int] = {}
    for col in columns:
        for token, count in col.tokens.items():
            found[token] = found.get(token, 0) + count
    alerts = _alerts(columns, duplicates, rows, correlation)
    return Profile(
        rows=rows,
        n_columns=n_cols,
        duplicate_rows=duplicates,
        memory_bytes=memory,
        columns=columns,
        alerts=alerts,
        correlation=correlation,
        missing_tokens_found=dict(sorted(found.items(), key=lambda kv: -kv[1])),
        missing_tokens=tuple(missing_tokens),
        correlation_rows=used,
    )


class _DuplicateKey:
    """Combine every column's factor codes into one int64 row key; equal keys = duplicate rows."""

    def __init__(self, rows: int) -> None:
        import numpy as np

        self.rows = rows
        self.key = np.zeros(rows, dtype=np.int64)
        self.span = 1
        self.all_distinct = rows <= 1

    def add(self, codes: np.ndarray, cardinality: int) -> None:
        import pandas as pd

        if self.all_distinct:
            return
        base = cardinality + 1
        if self.span * base >= 2**62:
            self.key, uniques = pd.factorize(self.key)
            self.key = self.key.astype("int64", copy=False)
            self.span = len(uniques)
            if self.span == self.rows:
                self.all_distinct = True
                return
        self.key = self.key * base + (codes + 1)
        self.span *= base
        if cardinality == self.rows:  # a column with no repeated value: every row is distinct
            self.all_distinct = True

    def duplicates(self) -> int:
        import pandas as pd

        if self.all_distinct:
            return 0
        return self.rows - len(pd.unique(self.key))


def _correlation_rows(rows: int) -> np.ndarray:
    import numpy as np

    if rows <= CORRELATION_MAX_ROWS:
        return np.arange(rows)
    return np.linspace(0, rows - 1, CORRELATION_MAX_ROWS).astype(np.int64)


def _correlation(numeric: dict[str, np.ndarray]) -> tuple[pd.DataFrame | None, int]:
    """Pairwise-complete Pearson r with four matrix products (NaN where fewer than 3 shared rows or no variance)."""
    import numpy as np
    import pandas as pd

    if len(numeric) < 2:
        return None, 0
    names = list(numeric)
    x = np.column_stack([numeric[n] for n in names])
    limit = int(max(1000, min(len(x), _CORRELATION_BUDGET / len(names) ** 2)))
    if len(x) > limit:
        x = x[np.linspace(0, len(x) - 1, limit).astype(np.int64)]
    x = np.where(np.isfinite(x), x, np.nan)
    valid = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = np.where(valid, x - np.nanmean(np.where(valid, x, np.nan), axis=0), 0.0)
        m = valid.astype(np.float64)
        n = m.T @ m
        sx = centred.T @ m  # sx[i, j]: sum of column i over rows where i and j are both present
        sxx = (centred * centred).T @ m
        sxy = centred.T @ centred
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx * sx / n
        var_j = var_i.T
        r = cov / np.sqrt(var_i * var_j)
    r[(n < 3) | ~(var_i > 1e-12 * np.maximum(sxx, 1)) | ~(var_j > 1e-12 * np.maximum(sxx.T, 1))] = np.nan
    r = np.clip(r, -1.0, 1.0)
    return pd.DataFrame(r, index=names, columns=names), len(x)


def _alerts(
    columns: tuple[ColumnProfile, ...], duplicates: int, rows: int, corr: pd.DataFrame | None
) -> tuple[Alert, ...]:
    import numpy as np

    out: list[Alert] = []
    if duplicates:
        out.append(Alert("duplicates", None, f"{duplicates:,} of {rows:,} rows ({duplicates / rows:.1%}) are exact "
                         "duplicates of an earlier row.", "warning"))  # fmt: skip
    for col in columns:
        out.extend(_column_alerts(col, rows))
    if corr is not None:
        values = corr.to_numpy()
        names = list(corr.columns)
        for i, j in zip(*np.nonzero(np.triu(np.abs(np.nan_to_num(values)) > CORRELATION_THRESHOLD, k=1))):
            a, b = names[i], names[j]
            out.append(Alert("high_correlation", a, f"'{a}' and '{b}' are highly correlated (Pearson r = "
                             f"{values[i, j]:.3f}); one of them may be redundant.", "warning", (a, b)))  # fmt: skip
    order = {"warning": 0, "info": 1}
    return tuple(sorted(out, key=lambda a: order.get(a.severity, 2)))  # stable: column order within a severity


def _column_alerts(col: ColumnProfile, rows: int) -> list[Alert]:
    name, out = col.name, []

    def add(kind: str, message: str, severity: str) -> None:
        out.append(Alert(kind, name, message, severity, (name,)))

    if col.dtype == "empty":
        add("high_missing", f"'{name}' has no values at all (every cell is missing).", "warning")
    elif col.missing_share >= HIGH_MISSING_INFO:
        severity = "warning" if col.missing_share >= HIGH_MISSING_WARNING else "info"
        share = f"{col.missing:,} of {rows:,} rows ({col.missing_share:.1%})"
        add("high_missing", f"'{name}' is missing in {share}.", severity)
    if col.tokens:
        listed = ", ".join(f"{t!r} ×{c:,}" for t, c in sorted(col.tokens.items(), key=lambda kv: -kv[1])[:6])
        add("missing_tokens", f"'{name}' holds values that look like missing-value markers: {listed}. "
            "Confirm them in the cleaning step.", "warning")  # fmt: skip
    if col.dtype == "empty" or col.non_missing < 2:
        return out
    top_value, top_count = col.top_values[0] if col.top_values else (None, 0)
    if col.distinct == 1:
        add("constant", f"'{name}' has the same value ({top_value!r}) in every non-missing row.", "warning")
    elif top_count >= ALMOST_CONSTANT_SHARE * col.non_missing:
        add("almost_constant", f"'{name}' is almost constant: {top_value!r} in {top_count / col.non_missing:.1%} "
            "of non-missing rows.", "info")  # fmt: skip
    if col.dtype == "mixed":
        add("mixed_types", f"'{name}' mixes numbers ({col.numeric_like_share:.1%} of values) with text; "
            "fix the text values or treat the column as text.", "warning")  # fmt: skip
    if col.dtype in ("categorical", "text", "mixed") and col.distinct > HIGH_CARDINALITY_MIN \
            and col.distinct >= HIGH_CARDINALITY_SHARE * col.non_missing:  # fmt: skip
        add("high_cardinality", f"'{name}' has {col.distinct:,} distinct values in {col.non_missing:,} rows: "
            "an identifier or free text, not a useful category.", "info")  # fmt: skip
    if col.needs_parsing:
        what = "dates" if col.dtype == "datetime" else "numbers"
        add("stored_as_text", f"'{name}' holds {what} stored as text; convert it with a fix-types step.", "info")
    return out
