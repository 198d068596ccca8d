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


def _column_chart(col: Any) -> None:
    import plotly.graph_objects as go

    hist = getattr(col, "histogram", None)
    if hist:
        edges, counts = list(hist.edges), list(hist.counts)
        centers = [(edges[i] + edges[i + 1]) / 2 for i in range(len(counts))]
        widths = [edges[i + 1] - edges[i] for i in range(len(counts))]
        fig = go.Figure(go.Bar(x=centers, y=counts, width=widths, marker_color="#4C78A8"))
    elif col.top_values:
        vals = list(col.top_values)[:20]
        fig = go.Figure(go.Bar(x=[str(v) for v, _ in vals], y=[n for _, n in vals], marker_color="#4C78A8"))
    else:
        st.caption("Nothing to chart: the column has no values.")
        return
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=10, b=10), bargap=0.05)
    st.plotly_chart(fig, key=f"data_colchart_{col.name}")


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
        import plotly.express as px

        st.markdown("#### Correlation (|Pearson r|, numeric columns)")
        shown = corr.iloc[:40, :40]
        fig = px.imshow(shown, color_continuous_scale="Blues", zmin=0, zmax=1, aspect="auto")
        fig.update_layout(height=min(620, 120 + 18 * shown.shape[0]), margin=dict(l=10, r=10, t=10, b=10))
        st.plotly_chart(fig, key="data_corr")
        if corr.shape[0] > 40:
            st.caption(f"Showing the first 40 of {corr.shape[0]} numeric columns.")
