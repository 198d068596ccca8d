"""Renderers of Monitor's core results (no state, no flows): drift tables, panels, figures, the report frame."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.monitor.check import MonitorResult
from core.monitor.drift import TESTS, DriftSummary
from core.monitor.timeline import Timeline


def columns_frame(summary: DriftSummary) -> pd.DataFrame:
    """The per-column table, drifted columns first (the order of the summary)."""
    return pd.DataFrame([{
        "column": c.name, "drift": "DRIFT" if c.drifted else "ok", "kind": c.kind, "test": TESTS[c.test].display_name,
        "statistic": c.statistic, "threshold": c.threshold,
    } for c in sorted(summary.columns, key=lambda c: not c.drifted)])  # stable: the summary's order inside


def render_findings(findings: list[str]) -> None:
    if not findings:
        st.success("Schema check: the current batch lines up with the reference.", icon=":material/check:")
        return
    with st.container(border=True):
        st.markdown(f"**Findings ({len(findings)})**")
        for f in findings:
            st.markdown(f"- {f}")


def render_summary(summary: DriftSummary) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric("Dataset drift", "YES" if summary.dataset_drift else "no",
              help=f"Dataset drift when at least {summary.share_threshold:.0%} of the columns drift.")
    c2.metric("Drifted columns", f"{summary.n_drifted} / {summary.n_columns}")
    c3.metric("Drift share", f"{summary.drift_share:.0%}")
    if summary.columns:
        st.dataframe(columns_frame(summary), hide_index=True, width="stretch",
                     column_config={"statistic": st.column_config.NumberColumn(format="%.4g"),
                                    "threshold": st.column_config.NumberColumn(format="%.3g")})


def overlay_figure(reference: pd.Series, current: pd.Series, kind: str) -> Any:
    """Reference vs current distribution (share of rows), overlaid."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if kind == "numeric":
        for name, s, color in (("reference", reference, "#1f77b4"), ("current", current, "#ff7f0e")):
            fig.add_trace(go.Histogram(x=s.dropna(), name=name, histnorm="probability", opacity=0.55,
                                       marker_color=color, nbinsx=40))
        fig.update_layout(barmode="overlay")
    else:
        r = reference.astype(str).value_counts(normalize=True)
        c = current.astype(str).value_counts(normalize=True)
        keys = list(r.index.union(c.index))[:30]
        fig.add_bar(x=keys, y=[r.get(k, 0) for k in keys], name="reference", marker_color="#1f77b4")
        fig.add_bar(x=keys, y=[c.get(k, 0) for k in keys], name="current", marker_color="#ff7f0e")
        fig.update_layout(barmode="group")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), yaxis_title="share of rows",
                      legend=dict(orientation="h", y=1.12))
    return fig


def timeline_figure(timeline: Timeline) -> Any:
    from plotly.subplots import make_subplots

    periods = [p.period for p in timeline.points]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=periods, y=[p.drift_share for p in timeline.points], name="drift share",
                marker_color=["#d62728" if p.dataset_drift else "#1f77b4" for p in timeline.points])
    if any(p.autoencoder_share is not None for p in timeline.points):
        fig.add_scatter(x=periods, y=[p.autoencoder_share for p in timeline.points], name="autoencoder share",
                        mode="lines+markers", line=dict(dash="dot"))
    if any(p.fairness_gap is not None for p in timeline.points):
        fig.add_scatter(x=periods, y=[p.fairness_gap for p in timeline.points], name="fairness gap",
                        mode="lines+markers", line=dict(dash="dash"))
    if any(p.quality is not None for p in timeline.points):
        fig.add_scatter(x=periods, y=[p.quality for p in timeline.points], name=timeline.metric, mode="lines+markers",
                        secondary_y=True)
    fig.update_yaxes(title_text="share", range=[0, 1], secondary_y=False)
    fig.update_xaxes(type="category")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.15))
    return fig


def render_extras(result: MonitorResult) -> None:
    """Multivariate, prediction and quality panels; then autoencoder, fairness and business KPI."""
    cols = st.columns(3)
    with cols[0].container(border=True):
        st.markdown("**Multivariate**")
        if result.domain:
            d = result.domain
            st.metric("Domain classifier ROC AUC", f"{d.auc:.3f}", help=f"Drift when ≥ {d.threshold}. 0.5 = the two "
                      "tables cannot be told apart.")
            st.caption(("DRIFT" if d.drifted else "no drift") + " · separating columns: "
                       + ", ".join(f"{n} ({v:.2f})" for n, v in d.top_features[:3]))
        if result.clusters:
            c = result.clusters
            st.metric("Cluster occupancy change (TVD)", f"{c.tvd:.3f}", help=f"KMeans with {c.k} clusters on the "
                      f"reference; drift when ≥ {c.threshold}.")
            st.caption(("DRIFT" if c.drifted else "no drift") + f" · chi-squared p = {c.p_value:.3g}")
        if not (result.domain or result.clusters):
            st.caption("Not checked.")
    with cols[1].container(border=True):
        st.markdown("**Prediction drift**")
        if result.prediction:
            p = result.prediction
            st.metric(TESTS[p.test].display_name, f"{p.statistic:.4g}", help=f"threshold {p.threshold:g}")
            st.caption("DRIFT in the model's output" if p.drifted else "The model's output is stable.")
        else:
            skipped = next((n for n in result.notes if n.startswith("Prediction drift was not checked")), "")
            st.caption(skipped or "Pick a model to compare its predictions on both sides.")
    with cols[2].container(border=True):
        st.markdown("**Model quality**")
        if result.quality:
            q = result.quality
            st.metric(f"{q.metric} on current", f"{q.current:.3f}", delta=f"{q.current - q.reference:+.3f} vs reference",
                      delta_color="normal" if q.metric in ("accuracy", "f1_macro", "r2") else "inverse")
            st.caption(("CONCEPT DRIFT: " if q.concept_drift else "") + f"drop {q.drop:.3f} (limit {q.max_drop:g}) "
                       f"on {q.n_rows:,} labelled rows")
        else:
            skipped = next((n for n in result.notes if n.startswith("Model quality was not checked")), "")
            st.caption(skipped or "Needs a model and labels in the current batch.")
    render_more(result)


def render_more(result: MonitorResult) -> None:
    """Autoencoder drift, fairness across the protected column, and the charter's business KPI."""
    cols = st.columns(3)
    with cols[0].container(border=True):
        st.markdown("**Autoencoder**")
        a = result.autoencoder
        if a:
            st.metric("Unfamiliar rows", f"{a.share:.1%}",
                      help="Rows whose reconstruction error (an MLP autoencoder fitted on half the reference) is "
                           "above the 95th percentile of the other half's: about 5 % on data like the reference.")
            st.caption(("DRIFT" if a.drifted else "no drift") + f" · binomial p-value {a.p_value:.3g} · most changed: "
                       + ", ".join(c for c, _ in a.top_columns))
        else:
            skipped = next((n for n in result.notes if n.startswith("The autoencoder check")), "")
            st.caption(skipped or "Not checked (needs the multivariate checks and two numeric columns).")
    o = result.outcomes
    with cols[1].container(border=True):
        st.markdown("**Fairness**")
        if o and o.fairness:
            f = o.fairness
            limit = f" (largest allowed {f.max_gap:g})" if f.max_gap is not None else ""
            st.metric(f"{f.metric} gap across {f.column}", f"{f.gap:.3f}", help=f"max − min over the groups{limit}.")
            st.caption(("ABOVE THE CHARTER'S GAP · " if f.exceeded else "") + " · ".join(
                f"{g}: {v:.3f} ({f.rows[g]:,} rows)" for g, v in f.by_group.items()))
        else:
            st.caption("Needs the charter's protected column, a model and labels in the batch.")
    with cols[2].container(border=True):
        st.markdown("**Business KPI**")
        if o and o.cost_per_row is not None:
            st.metric("Cost per row", f"{o.cost_per_row:.4g}", help="The charter's costs on the model's errors.")
            st.caption(f"on {o.n_rows:,} labelled rows the model was not trained on")
        else:
            st.caption("Needs the charter's costs, a model and labels in the batch.")


def render_timeline(timeline: Timeline) -> None:
    st.markdown(f"**Drift over time** — each {timeline.freq} against {timeline.reference_label}")
    st.plotly_chart(timeline_figure(timeline), width="stretch")
    for note in timeline.notes:
        st.caption(note)
    table = pd.DataFrame(timeline.to_records()).dropna(axis=1, how="all")  # checks that did not run: no column
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"drift_share": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                               format="percent")})


def _short(text: str, most: int = 60) -> str:
    """A long list of drifted columns, shortened for a table cell (the check's report lists them all)."""
    return text if len(text) <= most else text[: most - 1] + "…"


def runs_frame(runs: list) -> pd.DataFrame:
    return pd.DataFrame([{
        "when": pd.to_datetime(r.start_time, unit="ms"), "check": r.name,
        "dataset drift": r.tags.get("dataset_drift", ""), "drift share": r.metrics.get("drift_share"),
        "drifted columns": _short(r.tags.get("drifted_columns", "") or r.tags.get("drifted_periods", "")),
        "run": r.run_id,
    } for r in runs])


def show_report(html: str, height: int = 900) -> None:
    """Embed an Evidently report at the page's full width.

    Its widgets clip (not wrap) below ~1,200 px, which the page is at 1280 px with the sidebar open: the
    report is laid out at 1,200 px and zoomed down to the frame's width, so nothing is cut and nothing
    scrolls sideways. The download button beside it opens it full page.
    """
    import streamlit.components.v1 as components

    fit = ("<style>body{min-width:1200px}</style><script>function wbFit(){var s=Math.min(1,"
           "window.innerWidth/1200);document.documentElement.style.zoom=s;}"
           "window.addEventListener('resize',wbFit);window.addEventListener('load',wbFit);wbFit();</script>")
    components.html(html.replace("<head>", "<head>" + fit, 1) if "<head>" in html else fit + html,
                    height=height, scrolling=True)
