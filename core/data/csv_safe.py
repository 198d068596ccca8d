"""CSV written for a person: text cells a spreadsheet would run as a formula are defused.

OWASP's advice for CSV injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'`` so Excel / LibreOffice / Sheets show it as text instead of
evaluating ``=HYPERLINK(...)`` or ``@SUM(...)``. Only *text* cells (and column names) change:
a numeric column's ``-3`` stays the number -3. :func:`escape_formulas` is self-contained (only
:data:`FORMULA_START` and pandas), so the recipe's generated script carries a verbatim copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names starting like a formula begin with ``'``."""
    import pandas as pd

    def escape(value):  # noqa: ANN001, ANN202
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value

    columns = []
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        text = not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
                    or pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col))
        if text:
            col = col.astype(object).map(escape)  # object / string / category cells; missing cells stay missing
        columns.append(col.rename(escape(frame.columns[i])))
    if not columns:
        return frame.copy()
    return pd.concat(columns, axis=1)


# RFC 4180's CRLF: Python's csv module quotes a cell holding any line-terminator character, so with
# a bare "\n" a cell "a\r=cmd()" would be written unquoted and a spreadsheet would start a row at "=cmd()".
LINE_END = "\r\n"


def write_csv(frame: pd.DataFrame, path: object) -> None:
    """``frame.to_csv(path, index=False)`` with formula-leading text cells escaped and CR / LF cells quoted."""
    escape_formulas(frame).to_csv(path, index=False, lineterminator=LINE_END)
