"""Tables that show whole values: ``st.dataframe`` with every column as wide as its content.

Streamlit's data grid draws on a canvas and clips what does not fit its column: an auto-sized column stops
growing at a fixed width, and a number that is too wide loses its *leading* digits (".09636"). So the widths
are decided here, from the text each cell will show: numbers get a precision that suits their magnitude
(right-aligned, thousands separated), missing cells read "—" (never 'nan' or 'None'), and a column whose
content would be wider than :data:`MAX_PX` is shortened by the caller and gets a header tooltip.

A table whose width grows with the data — a preview of a person's rows, trials with one column per searched
parameter — may be wider than the page: pass ``scroll=True`` (and pin its identifying column) and
the keyed container around it is ``tbl_scroll_<key>`` (else ``tbl_<key>``), which the layout walk reads as
"scrolls sideways on purpose".
Summary tables (profiles, versions, trials, comparisons) must fit; the walk fails when one does not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

MISSING = "—"
CHAR_PX = 6.7   # Source Sans 14 px: digits ~7 px, most letters less; capitals and 'm'/'w' count extra
PAD_PX = 21     # glide's 8 px padding each side, the column line and a little room
MIN_PX, MAX_PX = 56, 420
ROW_PX, HEAD_PX = 35, 38
SCROLL_PREFIX = "tbl_scroll_"


def decimals(values: pd.Series) -> int:
    """Decimals that show about four significant digits of the column's smallest magnitude, at most four
    (0 for integers): one format per column, so a small value never reads as "0" beside a large one."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    v = v[v != 0].abs()
    if v.empty or (v == v.round()).all():
        return 0
    magnitude = math.floor(math.log10(float(v.min())))
    return int(min(4, max(0, 3 - magnitude)))


def format_number(value: Any, places: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value:,.{places}f}"


def significant(value: Any, digits: int = 4) -> str | None:
    """One value as text with about ``digits`` significant digits (``None`` when missing, so the grid shows
    "—"): 55270.3 → '55,270', 48.891 → '48.89', 0.0963612 → '0.0964'; ISO times at midnight lose the time."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return f"{value:g}"
        if value.is_integer() and abs(value) < 1e15:  # 18.0 reads as 18, not 18.00
            return f"{int(value):,}"
        if abs(value) < 1e-4:
            return f"{value:.{digits - 1}e}"
        places = int(min(8, max(0, digits - 1 - math.floor(math.log10(abs(value))))))
        return f"{value:,.{places}f}"
    text = str(value)
    return text.removesuffix("T00:00:00").removesuffix(" 00:00:00")


def number_text(values: pd.Series) -> pd.Series:
    """Numbers as right-alignable text with the column's precision; missing → "—"."""
    places = decimals(values)
    return values.map(lambda v: format_number(v, places) if isinstance(v, (int, float)) else
                      (MISSING if v is None else str(v)))


def shown_text(values: pd.Series) -> list[str]:
    """What the grid will draw for each cell (for the width estimate)."""
    if pd.api.types.is_bool_dtype(values):
        return ["xxx"]  # a checkbox
    if pd.api.types.is_numeric_dtype(values):
        places = decimals(values)
        return [format_number(v, places) for v in values]
    if pd.api.types.is_datetime64_any_dtype(values):
        return [str(v)[:16] for v in values]
    return [MISSING if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values]


def text_px(texts: list[str]) -> int:
    """Pixel width of the widest text (an estimate on the safe side: wide glyphs count extra)."""
    if not texts:
        return MIN_PX
    widest = max(texts, key=len)
    wide = sum(ch.isupper() or ch in "mwMW@%" for ch in widest)
    return int(len(widest) * CHAR_PX + wide * 2.5 + PAD_PX)


def column_width(header: str, values: pd.Series, sample: int = 500) -> int:
    head = values.head(sample)
    return int(min(MAX_PX, max(MIN_PX, text_px([str(header)]), text_px(shown_text(head)))))


def table_height(rows: int, cap: int = 420) -> int:
    """Tall enough for every row up to ``cap`` pixels (no blank rows below a short table)."""
    return int(min(cap, HEAD_PX + ROW_PX * max(rows, 1)))


def column_config(frame: pd.DataFrame, *, formats: Mapping[str, str] | None = None,
                  help: Mapping[str, str] | None = None, config: Mapping[str, Any] | None = None,
                  index: bool = False, pinned: tuple[str, ...] = ()) -> dict[str, Any]:
    """A fitted width for every column; numbers formatted to their precision; ``config`` entries win;
    ``pinned`` columns stay in view when the table scrolls sideways."""
    out: dict[str, Any] = {}
    formats, help, config = dict(formats or {}), dict(help or {}), dict(config or {})
    for name in frame.columns:
        values = frame[name]
        label = str(name)
        if name in config:
            out[label] = config[name]
            continue
        width = column_width(label, values)
        tip = help.get(label)
        pin = True if label in pinned else None
        if pd.api.types.is_bool_dtype(values):
            out[label] = st.column_config.CheckboxColumn(label, width=width, help=tip, pinned=pin)
        elif pd.api.types.is_numeric_dtype(values):
            fmt = formats.get(label) or ("%d" if decimals(values) == 0 else f"%.{decimals(values)}f")
            fmt = "localized" if fmt == "%d" and values.abs().max(skipna=True) >= 10_000 else fmt
            out[label] = st.column_config.NumberColumn(label, width=width, help=tip, format=fmt, pinned=pin)
        elif pd.api.types.is_datetime64_any_dtype(values):
            out[label] = st.column_config.DatetimeColumn(label, width=width, help=tip, format="YYYY-MM-DD HH:mm",
                                                         pinned=pin)
        else:
            out[label] = st.column_config.TextColumn(label, width=width, help=tip, pinned=pin)
    if index:
        out["_index"] = st.column_config.Column(width=column_width("", pd.Series(frame.index.astype(str))))
    return out


def show_table(frame: pd.DataFrame, *, key: str | None = None, height: int | str | None = None,
               formats: Mapping[str, str] | None = None, help: Mapping[str, str] | None = None,
               config: Mapping[str, Any] | None = None, hide_index: bool = True, scroll: bool = False,
               pinned: tuple[str, ...] = (), width: str = "stretch") -> Any:
    """``st.dataframe`` with fitted columns, "—" for missing cells and a height without blank rows.

    Args:
        scroll: the table holds a person's rows and may be wider than the page (see the module docstring).
    """
    if scroll and not key:
        raise TypeError("show_table(scroll=True) needs a key: the layout walk finds wide tables by it.")
    # st.dataframe puts no key on the page, so a keyed container carries it (the layout walk reads it)
    with st.container(key=f"{SCROLL_PREFIX if scroll else 'tbl_'}{key}" if key else None):
        return st.dataframe(frame, hide_index=hide_index, width=width,
                            height=height if height is not None else table_height(len(frame)),
                            placeholder=MISSING,
                            column_config=column_config(frame, formats=formats, help=help, config=config,
                                                        index=not hide_index, pinned=pinned))
