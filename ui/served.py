"""Monitor page section *Served traffic*: the bundle server's prediction log — latency against the export's
baseline, rows per second over time — and the window saved as a batch the check above can take."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import WorkbenchError, one_line

SERVED = "wb_served_batch"  # the last window read: ServedBatch
SAVED = "wb_served_saved"  # label of the batch version saved from it


def _chart(drift: Any) -> Any:
    import plotly.graph_objects as go

    xs = [p.start for p in drift.points]
    fig = go.Figure()
    fig.add_bar(x=xs, y=[p.rows_per_s for p in drift.points], name="rows/s", yaxis="y2", opacity=0.35)
    fig.add_scatter(x=xs, y=[p.p50_ms for p in drift.points], name="p50 ms", mode="lines+markers")
    fig.add_scatter(x=xs, y=[p.p99_ms for p in drift.points], name="p99 ms", mode="lines+markers")
    if drift.baseline_p99_ms:
        fig.add_hline(y=drift.baseline_p99_ms, line_dash="dot", annotation_text="export p99")
        fig.add_hline(y=drift.baseline_p99_ms * (1 + drift.p99_rise), line_dash="dash", line_color="red",
                      annotation_text=f"finding above (+{drift.p99_rise:.0%})")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h"),
                      yaxis=dict(title="latency ms (one-row requests)"),
                      yaxis2=dict(title="rows/s", overlaying="y", side="right", showgrid=False))
    return fig


def served_section(tracker: Any, project: str) -> None:
    """Read a prediction-log window, show its resource drift, and save it as a batch for the drift check."""
    from core.monitor.served_resource import CHARTER_KEY, p99_rise_from
    from core.plan.charter import load_charter

    charter = load_charter(tracker, project)

    st.subheader("Served traffic")
    st.caption("What the deployed model's own server logged (serve.py writes rotating Parquet files to its "
               "--log-dir): latency and throughput against the export's baseline; save a window as a batch to "
               "check it for drift above.")
    with st.form("wb_served_form", border=True, enter_to_submit=False):
        folder = st.text_input("Prediction-log folder", key="wb_served_folder",
                               placeholder="/srv/model/predictions", help="The folder the bundle server logs to.")
        c1, c2, c3 = st.columns(3)
        since = c1.text_input("From (ISO, UTC)", key="wb_served_since", placeholder="2026-12-01T00:00")
        until = c2.text_input("Until (ISO, UTC)", key="wb_served_until", placeholder="(now)")
        default = p99_rise_from(charter)
        rise = c3.number_input("Finding when p99 rises by more than", 0.05, 100.0, float(default), step=0.25,
                               format="%.2f", key="wb_served_rise",
                               help=f"A fraction of the export's p99 (1.00 = p99 more than doubles). Default: the "
                                    f"charter's extra['{CHARTER_KEY}'] when set, else 1.00.")
        labels = st.text_input("Labels CSV (optional: request_id → true value)", key="wb_served_labels")
        go = st.form_submit_button("Read served traffic", icon=":material/dns:")
    if go:
        from core.monitor.served import served_batch

        st.session_state[SAVED] = ""
        try:
            st.session_state[SERVED] = served_batch(folder.strip(), since or None, until or None,
                                                    labels=labels.strip() or None, p99_rise=float(rise))
        except WorkbenchError as err:
            st.session_state[SERVED] = None
            st.error(one_line(err), icon=":material/error:")
    batch = st.session_state.get(SERVED)
    if batch is None:
        return
    _render(batch)
    if st.button("Save this window as a batch to check", key="wb_served_save", icon=":material/save:"):
        from pathlib import Path

        from core.monitor.check import record_batch

        try:
            name = "served-" + (Path(batch.log.attrs.get("folder", "log")).name or "log")
            saved = record_batch(tracker, project, batch.table.frame, name=name, source=batch.log.attrs.get("folder", ""))
            st.session_state[SAVED] = saved.label
            st.rerun()  # the batch now appears among the current batches in section 1
        except WorkbenchError as err:
            st.error(one_line(err), icon=":material/error:")
    if st.session_state.get(SAVED):
        st.success(f"Saved as **{st.session_state[SAVED]}**: pick it as the current batch in section 1 and run the "
                   "check.", icon=":material/check_circle:")


def _render(batch: Any) -> None:
    d = batch.resource
    fmt = lambda v: "—" if v is None else f"{v:.3f} ms"  # noqa: E731
    c = st.columns(4)
    c[0].metric("Rows served", f"{d.rows:,}", help=f"{d.requests:,} requests; {d.single_requests:,} of one row.")
    c[1].metric("Rows / s", f"{d.rows_per_s:.2f}")
    c[2].metric("p50 (one row)", fmt(d.p50_ms), help=f"Export baseline {fmt(d.baseline_p50_ms)}.")
    ratio = d.ratio
    c[3].metric("p99 (one row)", fmt(d.p99_ms), delta=None if ratio is None else f"{ratio - 1:+.0%} vs export p99",
                delta_color="inverse")
    (st.warning if d.drifted else st.success)(f"Resource drift: {'YES' if d.drifted else 'no'} — {d.finding}",
                                             icon=":material/speed:")
    if d.points:
        st.plotly_chart(_chart(d), key="wb_served_chart")
    st.caption(f"{batch.table.label}; buckets of {d.bucket_s:,} s. " + " ".join(batch.notes))
    with st.expander("Per bucket"):
        st.dataframe(d.table(), hide_index=True, width="stretch")
