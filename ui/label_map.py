"""The map panel of the Label page: background UMAP with a polling fragment, plotly lasso → labels."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core.label import embed
from core.label.labellog import LabelLog
from core.label.query import predict_with_confidence
from core.label.selection import assign_selection, preview_selection
from core.label.session import LabelState, Pool
from core.tracking.datasets import DatasetVersion
from ui.label import Setup, fitted_model, show_row, tab_id
from ui.resources import settings

PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d",
           "#eeca3b", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
UNLABELLED = "#d9d9d9"
MAP_ROUND = "label_map_round"  # session key: bumped after each lasso assignment


@st.cache_data(show_spinner=False, max_entries=8)
def _load(path: str, mtime: float, rows: int) -> np.ndarray | None:
    return embed.load_embedding(path, rows)  # type: ignore[arg-type]


def cached_embedding(version: DatasetVersion, pool: Pool) -> tuple[np.ndarray | None, Any]:
    path = embed.embedding_path(settings().cache_dir, version.run_id, pool.features)
    if not path.exists():
        return None, path
    return _load(str(path), path.stat().st_mtime, pool.rows), path


def render_map(version: DatasetVersion, frame: pd.DataFrame, pool: Pool, state: LabelState, setup: Setup,
               log: LabelLog, batch_rows: list[int]) -> None:
    if pool.rows < embed.MIN_ROWS:
        st.info(f"The map needs at least {embed.MIN_ROWS} rows; this table has {pool.rows}. Use the queue.",
                icon=":material/info:")
        return
    emb, _ = cached_embedding(version, pool)
    if emb is None:
        _render_pending(version, pool)
        return
    colour = st.radio("Colour by", ["label", "predicted class", "uncertainty"], horizontal=True,
                      key="label_map_colour")
    fig = _figure(emb, frame, pool, state, setup, colour, batch_rows)
    # The chart's key changes after each assignment: a fresh widget, so the lasso that was just
    # labelled does not stay selected (Streamlit keeps a chart's selection under its key).
    with st.container(key="label_map_chart"):
        event = st.plotly_chart(fig, on_select="rerun", selection_mode=("lasso", "box"),
                                key=f"label_map_plot_{st.session_state.get(MAP_ROUND, 0)}")
    points = _selected_points(event)
    if not points:
        st.caption("Draw a lasso or a box around points to label them all at once. "
                   "Outlined points are the current queue batch.")
        return
    _assign_panel(pool, frame, state, setup, log, points)


def _render_pending(version: DatasetVersion, pool: Pool) -> None:
    status = embed.job_status(settings().cache_dir, version.run_id, pool.features)
    if status.state == "running":
        _poll(version.run_id, pool.features)
        return
    if status.state == "failed":
        st.error(f"The map could not be computed: {status.error}")
    warm = embed.warm_state()
    note = {"running": "UMAP is warming up in the background.", "done": "UMAP is warm.",
            "failed": "", "idle": ""}.get(str(warm["state"]), "")
    st.caption(f"The map is computed once per dataset version and feature set, then cached. {note}")
    if st.button("Draw the map", icon=":material/scatter_plot:", key="label_map_start"):
        embed.start_embedding(settings().cache_dir, version.run_id, pool.features, pool.X, home=settings().home)
        st.rerun()


def _poll(run_id: str, features: tuple[str, ...]) -> None:
    @st.fragment(run_every=2)
    def poll() -> None:
        status = embed.job_status(settings().cache_dir, run_id, features)
        if status.state != "running":
            st.rerun()
        with st.status(f"Computing the map… {status.seconds:.0f} s", state="running"):
            st.write("UMAP runs in the background; keep labelling from the queue meanwhile. "
                     "The first map of a server process can take a minute.")

    poll()


def _figure(emb: np.ndarray, frame: pd.DataFrame, pool: Pool, state: LabelState, setup: Setup, colour: str,
            batch_rows: list[int]) -> Any:
    import plotly.graph_objects as go

    n = pool.rows
    labels = np.array([state.labels.get(i, "") for i in range(n)], dtype=object)
    model = fitted_model(pool, state, setup.learner) if colour != "label" else None
    fig = go.Figure()
    hover_cols = list(pool.features)[:6]
    custom = np.column_stack([np.arange(n), labels, frame[hover_cols].round(3).astype(str).agg(", ".join, axis=1)])
    hover = "row %{customdata[0]}<br>label: %{customdata[1]}<br>%{customdata[2]}<extra></extra>"
    legend: list[tuple[str, str]] = []
    if colour == "label" or model is None:
        cmap = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(pool.classes)}
        colours = [cmap.get(v, UNLABELLED) if v else UNLABELLED for v in labels]
        marker = dict(color=colours, size=6)
        legend = [(str(c), cmap[c]) for c in pool.classes] + [("unlabelled", UNLABELLED)]
        if colour != "label":
            st.caption("Colouring by the model needs labels of two classes; showing labels.")
    else:
        pred, conf = predict_with_confidence(model, pool.X)
        if colour == "predicted class":
            cmap = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(pool.classes)}
            marker = dict(color=[cmap.get(v, UNLABELLED) for v in pred], size=6)
            legend = [(str(c), cmap[c]) for c in pool.classes]
        else:
            marker = dict(color=1 - conf, colorscale="Viridis", size=6, showscale=True,
                          colorbar=dict(title="uncertainty", thickness=10))
    fig.add_trace(go.Scattergl(x=emb[:, 0], y=emb[:, 1], mode="markers", marker=marker, customdata=custom,
                               hovertemplate=hover, showlegend=False, name="rows"))
    if batch_rows:
        b = np.asarray(batch_rows)
        fig.add_trace(go.Scattergl(x=emb[b, 0], y=emb[b, 1], mode="markers", name="queue batch",
                                   marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(width=2, color="black")),
                                   hoverinfo="skip"))
    for name, c in legend:
        fig.add_trace(go.Scattergl(x=[None], y=[None], mode="markers", marker=dict(color=c, size=8), name=name))
    fig.update_layout(height=520, dragmode="lasso", margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(showticklabels=False, title=""), yaxis=dict(showticklabels=False, title=""),
                      legend=dict(orientation="h", y=-0.05))
    return fig


def _selected_points(event: Any) -> list[int]:
    """Point indices of the first trace (all rows, in row order); the batch outline is trace 1."""
    try:
        points = event.selection.points
    except AttributeError:
        return []
    return sorted({int(p["point_index"]) for p in points if p.get("curve_number", 0) == 0})


def _assign_panel(pool: Pool, frame: pd.DataFrame, state: LabelState, setup: Setup, log: LabelLog,
                  points: list[int]) -> None:
    row_keys = list(range(pool.rows))
    c1, c2 = st.columns([2, 1])
    cls = c1.selectbox("Give the selected points the class", pool.classes, key="label_map_class")
    overwrite = c2.checkbox("Overwrite existing labels", key="label_map_overwrite")
    p = preview_selection(points, row_keys, state.labels, cls, overwrite=overwrite)
    msg = f"{p.selected} point(s) selected: {len(p.to_label)} will get **{cls}**"
    msg += f", {p.overwritten} of them change class" if overwrite else f"; {p.kept} already labelled stay as they are"
    st.markdown(msg + ".")
    sample = list(p.to_label[:6])
    if sample:
        cols = st.columns(len(sample))
        for col, row in zip(cols, sample, strict=True):
            with col:
                show_row(pool, frame, row, setup.as_image)
    if st.button(f"Label {len(p.to_label)} point(s) as {cls}", type="primary", disabled=not p.to_label,
                 key="label_map_confirm"):
        events = assign_selection(points, row_keys, state.labels, cls, overwrite=overwrite, session=tab_id(),
                                  ts=time.time())
        # checked like a queue click: rows another session labelled differently ask first (Queue tab)
        from ui.label import append_lasso

        written = append_lasso(log, events)
        st.session_state[MAP_ROUND] = st.session_state.get(MAP_ROUND, 0) + 1  # clears the selection
        held = len(events) - written
        st.toast(f"{written} label(s) saved." + (f" {held} row(s) labelled by another session wait for your "
                                                  "confirmation in the Queue tab." if held else ""))
        st.rerun()
