"""The row card: every feature in a compact two-column key / value grid, images, and text columns.

Nothing is cut: keys and values wrap instead of being truncated, and past
``SEARCH_FROM`` features a search box narrows the grid to the matching names.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

SEARCH_FROM = 24
TEXT_CHARS = 2000

_CSS = """<style>
.lbl-grid{display:grid;grid-template-columns:minmax(4rem,max-content) minmax(3rem,1fr)
 minmax(4rem,max-content) minmax(3rem,1fr);gap:.1rem .75rem;font-size:.85rem;line-height:1.35}
.lbl-grid .k{color:#555;overflow-wrap:anywhere}
.lbl-grid .v{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.lbl-text{font-size:.9rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0}
</style>"""


def cell(value: Any) -> str:
    """A value as short readable text ('—' for empty)."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return "—"
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return str(value)


def grid_html(pairs: list[tuple[str, str]]) -> str:
    """Key / value pairs laid out two pairs per line (HTML-escaped)."""
    cells = "".join(f'<span class="k">{html.escape(k)}</span><span class="v">{html.escape(v)}</span>'
                    for k, v in pairs)
    return f'{_CSS}<div class="lbl-grid">{cells}</div>'


def text_columns(frame: pd.DataFrame, features: tuple[str, ...], label_column: str = "") -> list[str]:
    """Columns that hold text (not features, not the label): shown in full under the grid."""
    skip = {*features, label_column}
    return [c for c in frame.columns if c not in skip and (pd.api.types.is_object_dtype(frame[c])
                                                          or pd.api.types.is_string_dtype(frame[c]))]


def render_card(frame: pd.DataFrame, row: int, features: tuple[str, ...], *, label_column: str = "",
                search_key: str | None = None, where: Any = None) -> None:
    """Every feature of ``row`` as a grid (searchable when wide), then its text columns in full."""
    w = where or st
    names = [str(f) for f in features]
    if search_key and len(names) > SEARCH_FROM:
        needle = w.text_input(f"Find a feature ({len(names)})", key=search_key, placeholder="name contains…")
        if needle:
            names = [n for n in names if needle.lower() in n.lower()]
    values = frame.loc[row, [f for f in features if str(f) in set(names)]] if names else []
    w.markdown(grid_html([(str(k), cell(v)) for k, v in zip(names, list(values), strict=False)]),
               unsafe_allow_html=True)
    for c in text_columns(frame, features, label_column):
        text = cell(frame.loc[row, c])
        if len(text) > TEXT_CHARS:
            text = text[:TEXT_CHARS] + f"… ({len(text):,} characters)"
        w.markdown(f'{_CSS}<div class="lbl-text"><b>{html.escape(str(c))}</b>: {html.escape(text)}</div>',
                   unsafe_allow_html=True)
