"""The Progress tab of the Label page: counts, labels per class and the learning curve with the random baseline."""

from __future__ import annotations

import streamlit as st

from core.label.labellog import LabelLog
from core.label.session import LabelState, Pool
from ui.resources import tracker


def _integer_dtick(top: int) -> int:
    """A whole-number tick step giving at most ~8 ticks up to ``top`` labels."""
    step = max(1, -(-top // 8))
    for nice in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if nice >= step:
            return nice
    return step


@st.cache_data(ttl=60, show_spinner=False)
def random_baseline(project: str, run_id: str) -> tuple[tuple[int, float], ...]:
    from core.label.save import random_baseline as baseline

    return tuple((p.labels, p.accuracy) for p in baseline(tracker(), project, run_id))


def render_progress(pool: Pool, state: LabelState, log: LabelLog, baseline: tuple[tuple[int, float], ...] = ()) -> None:
    import plotly.graph_objects as go

    counts = state.counts(pool.classes)
    c1, c2, c3 = st.columns(3)
    c1.metric("Labelled", f"{len(state.labels):,}", help="Table values plus the label log (latest label wins).")
    c2.metric("From this log", f"{state.from_log:,}")
    c3.metric("Still unlabelled", f"{pool.rows - len(state.labels):,}")
    left, right = st.columns(2)
    fig = go.Figure(go.Bar(x=[str(c) for c in counts], y=list(counts.values()), marker_color="#4c78a8"))
    fig.update_layout(title="Labels per class", height=260, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(type="category"), yaxis=dict(tickformat="d", rangemode="tozero"))
    left.plotly_chart(fig, key="label_counts_chart")
    curve = log.curve()
    if curve:
        fig = go.Figure(go.Scatter(x=[p.labels for p in curve], y=[p.accuracy for p in curve], mode="lines+markers",
                                   name="this session"))
        top = max(p.labels for p in curve)
        if baseline:
            fig.add_trace(go.Scatter(x=[b[0] for b in baseline], y=[b[1] for b in baseline], mode="lines",
                                     name="random (label-sim)", line=dict(dash="dot", color="#999")))
            top = max(top, max(b[0] for b in baseline))
        fig.update_layout(title="Learning curve (held-out accuracy)", height=260,
                          xaxis=dict(title="labels", tickformat="d", dtick=_integer_dtick(top), range=[0, top * 1.05]),
                          yaxis=dict(range=[0, 1.02], title="accuracy"), margin=dict(l=10, r=10, t=40, b=10),
                          legend=dict(orientation="h", y=-0.3))
        right.plotly_chart(fig, key="label_curve_chart")
        note = " The dotted line is random sampling from label-sim on this version." if baseline else \
            " Run `python -m core label-sim` on this version to see the random baseline."
        right.caption(f"{len(curve)} point(s); accuracy is 5-fold cross-validated on the labels so far; a point "
                      f"is added after every batch and every lasso.{note}")
    else:
        right.info("The learning curve gets its first point when a batch is finished (needs 4 labels, 2 classes).",
                   icon=":material/show_chart:")
