"""The loader's typing rule: which text columns become numbers or booleans.

Shared by :func:`core.data.io.read_table` (CSV cells arrive as Arrow strings,
blank = null) and by :func:`convert_text_columns` for frames of strings (JSON
Lines, or a CSV read by pandas with ``dtype=str`` — the recipe's exported
script copies these functions, so keep them self-contained: imports inside).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

_SAMPLE = 1000
_BOOL_WORDS = {"true": True, "false": False}


def convert_text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Convert text columns whose every non-blank cell is a number (or true/false); keep the rest as text.

    The same rule as the CSV reader, for frames of strings (JSON Lines, or a CSV
    read with ``dtype=str, keep_default_na=False``); text columns are left untouched.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    converted = {}
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.dtype != object:
            continue
        values = column.to_numpy()
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            # JSON may mix numbers, booleans and strings in one column: compare their text
            values = [None if _is_null(v) else (v if isinstance(v, str) else str(v)) for v in values]
        text = pa.array(values, type=pa.string(), from_pandas=True)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)  # blank cell = null, as in CSV
        new = convert_strings(text, blank=None)
        if new.type != pa.string():
            converted[position] = new
    for position, new in converted.items():
        if new.type == pa.bool_() and new.null_count:
            frame.isetitem(position, boolean_array(new))
        else:
            frame.isetitem(position, new.to_pandas())
    return frame


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def convert_strings(column: pa.Array | pa.ChunkedArray, *, blank: str | None) -> pa.Array | pa.ChunkedArray:
    """Type one column of strings (null = blank cell): numbers, booleans or text, as an Arrow array.

    Numbers: every non-null cell casts to int64 / float64 exactly (Arrow's strict
    parser: no surrounding spaces, no thousands separators, and ``nan`` is not a
    number here), with whitespace-only cells treated as blank; integers with
    blanks become float64 (NaN), as in pandas. Booleans: ``true`` / ``false`` in
    any case. Otherwise the text itself, nulls replaced by ``blank``. A column
    of only blanks becomes float64 NaN.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(column)
    if column.null_count == n:
        return pa.nulls(n, pa.float64())
    sample = column.slice(0, 4 * _SAMPLE).drop_null()
    sample = sample.filter(pc.not_equal(pc.utf8_trim_whitespace(sample), "")).slice(0, _SAMPLE)
    if len(sample) and _looks_like(sample) is None:  # cheap early exit for ordinary text columns
        return _as_text(column, blank)
    candidate = column
    blank_ws = pc.equal(pc.utf8_trim_whitespace(column), "")
    if pc.any(blank_ws).as_py():
        candidate = pc.if_else(blank_ws, pa.scalar(None, pa.string()), column)
        if candidate.null_count == n:
            return pa.nulls(n, pa.float64())
    kind = _looks_like(candidate)
    if kind == "bool":
        return pc.equal(pc.utf8_lower(candidate), "true")
    if kind == "int" and candidate.null_count == 0:
        return pc.cast(candidate, pa.int64())
    if kind is not None:
        return pc.cast(candidate, pa.float64())
    return _as_text(column, blank)


def _looks_like(column: pa.Array | pa.ChunkedArray) -> str | None:
    """'int', 'float', 'bool' when every non-null value casts cleanly, else None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for kind, target in (("int", pa.int64()), ("float", pa.float64())):
        try:
            numbers = pc.cast(column, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        if kind == "float" and pc.any(pc.is_nan(numbers)).as_py():
            return None  # 'nan' written as text is a missing token for the person to confirm
        return kind
    lowered = pc.utf8_lower(column.drop_null())
    if pc.all(pc.is_in(lowered, value_set=pa.array(list(_BOOL_WORDS)))).as_py():
        return "bool"
    return None


def _as_text(column: pa.Array | pa.ChunkedArray, blank: str | None) -> pa.Array | pa.ChunkedArray:
    return column if blank is None else column.fill_null(blank)


def boolean_array(flags: pa.Array | pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    """Arrow booleans with nulls → pandas' nullable ``boolean`` (missing stays missing)."""
    import pandas as pd
    import pyarrow.compute as pc

    values = flags.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    mask = pc.is_null(flags).to_numpy(zero_copy_only=False).astype(bool)
    return pd.arrays.BooleanArray(values, mask)


def flatten_nested(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Nested values (lists, dicts, arrays) become JSON strings, so every cell is hashable."""
    import numpy as np

    nested = []
    for name in frame.columns[frame.dtypes.values == object]:  # noqa: E721 - elementwise dtype test
        values = frame[name].to_numpy()
        if any(isinstance(v, list | dict | tuple | np.ndarray) for v in values):
            frame[name] = [_to_json(v) for v in values]
            nested.append(str(name))
    if nested:
        notes.append(f"Nested values in {', '.join(nested[:5])} are kept as JSON text.")
    return frame


def _to_json(value: object) -> object:
    import numpy as np

    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value
