"""Render a table profile: summary, alerts, per-column table, column detail and correlations."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui.tables import column_width, show_table, significant

_SEVERITY_ICON = {"high": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:,.0f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def _columns_table(profile: Any) -> pd.DataFrame:
    """One row per column: full names; statistics as text with four significant digits, "—" where a
    statistic does not apply (text columns have no mean); the most frequent value with its count."""
    rows = []
    for c in profile.columns:
        top = list(c.top_values)[:1]
        value = significant(top[0][0]) if top else None
        if value is not None and len(value) > TOP_CHARS:  # Column detail shows it whole
            value = value[: TOP_CHARS - 1] + "…"
        rows.append({
            "column": c.name, "type": c.dtype, "missing %": 100 * c.missing_share,
            "distinct": c.distinct, "min": significant(c.min), "max": significant(c.max),
            "mean": significant(c.mean), "std": significant(c.std),
            "most frequent": f"{value} ({top[0][1]:,})" if top else None,
        })
    return pd.DataFrame(rows)


TOP_CHARS = 18
STAT_HELP = {"missing %": "Share of missing cells (nulls and recognised missing tokens); counts in Column detail.",
             "min": "Smallest value (numbers, dates); — for text.", "max": "Largest value (numbers, dates); — for text.",
             "mean": "Mean of the numbers (four significant digits); — for text and dates.",
             "std": "Standard deviation of the numbers; — for text and dates.",
             "most frequent": f"The most frequent value (its first {TOP_CHARS - 1} characters) and how many rows hold it; "
                              "Column detail charts the top 20 in full."}


# Vega-Lite, not Plotly: Plotly's 4.7 MB script costs each browser ~0.6-0.8 s of main-thread CPU the first
# time a page draws a figure, and the profile is what every session sees on opening a table (bench_load).
def _column_chart(col: Any) -> None:
    hist = getattr(col, "histogram", None)
    if hist:
        edges, counts = list(hist.edges), list(hist.counts)
        data = pd.DataFrame({"from": edges[:-1], "to": edges[1:], "rows": counts})
        x = {"field": "from", "type": "quantitative", "bin": {"binned": True}, "title": str(col.name)}
        encoding = {"x": x, "x2": {"field": "to"}, "y": {"field": "rows", "type": "quantitative"},
                    "tooltip": [{"field": "from", "format": ",.4~g"}, {"field": "to", "format": ",.4~g"},
                                {"field": "rows"}]}
    elif col.top_values:
        vals = list(col.top_values)[:20]
        data = pd.DataFrame({"value": [str(v) for v, _ in vals], "rows": [n for _, n in vals]})
        encoding = {"x": {"field": "value", "type": "nominal", "sort": None, "title": str(col.name)},
                    "y": {"field": "rows", "type": "quantitative"}, "tooltip": [{"field": "value"}, {"field": "rows"}]}
    else:
        st.caption("Nothing to chart: the column has no values.")
        return
    st.vega_lite_chart(data, {"mark": {"type": "bar", "color": "#4C78A8"}, "encoding": encoding, "height": 280},
                       width="stretch", key=f"data_colchart_{col.name}")


def _correlation_chart(shown: pd.DataFrame) -> None:
    """|Pearson r| as a heat map, the columns in the table's order; the tooltip gives the signed r."""
    names = [str(c) for c in shown.columns]
    cells = shown.set_axis(names, axis=0).set_axis(names, axis=1).stack().rename("r").reset_index()
    cells.columns = ["row", "column", "r"]
    cells["abs_r"] = cells["r"].abs()
    axis = {"type": "nominal", "sort": names, "title": None}
    spec = {"mark": "rect", "height": {"step": 26 if len(names) <= 16 else 14},  # every row name readable
            "encoding": {"x": {"field": "column", **axis}, "y": {"field": "row", **axis},
                         "color": {"field": "abs_r", "type": "quantitative", "title": "|r|",
                                   "scale": {"scheme": "blues", "domain": [0, 1]}},
                         "tooltip": [{"field": "row"}, {"field": "column"}, {"field": "r", "format": ".3f"}]}}
    st.vega_lite_chart(cells, spec, width="stretch", key="data_corr")


def render_profile(profile: Any, frame: pd.DataFrame) -> None:
    m = st.columns(5)
    m[0].metric("Rows", f"{profile.rows:,}")
    m[1].metric("Columns", f"{profile.n_columns:,}")
    m[2].metric("Duplicate rows", f"{profile.duplicate_rows:,}")
    missing = sum(c.missing for c in profile.columns)
    cells = max(profile.rows * profile.n_columns, 1)
    m[3].metric("Missing cells", f"{100 * missing / cells:.1f} %")
    m[4].metric("Memory", _fmt_bytes(profile.memory_bytes))

    if profile.alerts:
        kinds: dict[str, int] = {}
        for a in profile.alerts:
            kinds[a.kind.replace("_", " ")] = kinds.get(a.kind.replace("_", " "), 0) + 1
        summary = ", ".join(f"{k} × {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        # open when there are a few; a wide table's dozens of alerts would push everything else off screen
        with st.expander(f"Alerts ({len(profile.alerts)}: {summary})"[:200], expanded=len(profile.alerts) <= 8):
            for a in profile.alerts[:60]:
                icon = _SEVERITY_ICON.get(getattr(a, "severity", "warning"), ":material/warning:")
                st.markdown(f"{icon} **{a.kind.replace('_', ' ')}** — {a.message}")
            if len(profile.alerts) > 60:
                st.caption(f"… and {len(profile.alerts) - 60} more.")
    else:
        st.success("No alerts: no constant, sparse, duplicated or suspicious columns found.")

    if profile.missing_tokens_found:
        found = ", ".join(f"`{t or '(blank)'}` × {n:,}" for t, n in profile.missing_tokens_found.items())
        st.warning(f"Suspected missing-value tokens: {found}. Normalise them in **Clean**.",
                   icon=":material/help:")

    st.markdown("#### Columns")
    table = _columns_table(profile)
    right = {c: st.column_config.TextColumn(c, width=column_width(c, table[c]), help=STAT_HELP[c], alignment="right")
             for c in ("min", "max", "mean", "std")}
    show_table(table, key="data_profile_columns", help=STAT_HELP, formats={"missing %": "%.1f %%"}, config=right)
    names = [c.name for c in profile.columns]
    if names:
        left, right = st.columns([1, 1], gap="large")
        with left:
            pick = st.selectbox("Column detail", names, key="data_profile_col")
            col = profile.columns[names.index(pick)]
            _column_chart(col)
        with right:
            q = getattr(col, "quantiles", None) or {}
            detail = {"type": col.dtype, "pandas dtype": getattr(col, "pandas_dtype", ""), "missing": col.missing,
                      "distinct": col.distinct, **{k: v for k, v in q.items()}}
            if col.top_values:
                value, count = list(col.top_values)[0]
                detail["most frequent"] = f"{significant(value)} ({count:,})"
            tokens = getattr(col, "tokens", None) or {}
            if tokens:
                detail["tokens"] = ", ".join(f"{t or '(blank)'} × {n}" for t, n in tokens.items())
            shown = pd.DataFrame({"statistic": list(detail), "value": [significant(v) for v in detail.values()]})
            show_table(shown, key="data_profile_detail")  # as tall as its rows: no blank rows below

    corr = profile.correlation
    if corr is not None and corr.shape[0] >= 2:
        st.markdown("#### Correlation (|Pearson r|, numeric columns)")
        _correlation_chart(corr.iloc[:40, :40])
        if corr.shape[0] > 40:
            st.caption(f"Showing the first 40 of {corr.shape[0]} numeric columns.")
