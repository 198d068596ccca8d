"""The Monitor page's sections after the inputs: results, distributions, reports, previous checks, retraining."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import WorkbenchError
from ui import mlflow_links as links
from ui import monitor as mu

UNITS = ["Raw (as uploaded)", "Cleaned (as checked)"]

PREVIOUS_OPEN = "mon_previous_open"  # bool: "Previous checks" is open (only then it reads the runs)


def results(t: Any, project: str, state: dict, reference: Any, options: Any) -> None:
    """Section 2: the recorded check (batch or timeline), its distributions and its Evidently reports."""
    st.subheader("2. Results")
    run_ref = links.markdown(f"`{state['run_id']}`", links.for_run(t, project, state["run_id"]))
    st.caption(f"Recorded as monitor run {run_ref}.")
    uri = t.settings.tracking_uri
    if state["kind"] == "timeline":
        from core.monitor.timeline import split_periods

        tl = state["timeline"]
        mu.render_timeline(tl)
        labels = [p.period for p in tl.points]
        period = st.selectbox("Period to inspect", labels, key="mon_period")
        summary = tl.summaries[labels.index(period)]
        mu.render_summary(summary)
        parts = dict(split_periods(state["current"].frame, tl.time_column, tl.freq))
        ref_frame, cur_frame = parts[tl.reference_label], parts[period]
        raw, why = mu.cached_raw(state["current"].run_id, uri)
        raw_parts = _raw_periods(raw, tl.time_column, tl.freq)
        raw_ref, raw_cur = raw_parts.get(tl.reference_label), raw_parts.get(period)
        if raw is not None and not raw_parts:
            why = f"The raw table has no {tl.time_column!r} dates to cut into periods, so only the cleaned view exists."
    else:
        result = state["result"]
        mu.render_findings(result.findings)
        st.caption(f"Thresholds from {result.thresholds_from}: drift share {result.drift.share_threshold:g}, "
                   f"quality drop {result.quality_drop_threshold:g}.")
        summary = result.drift
        mu.render_summary(summary)
        mu.render_extras(result)
        ref_frame, cur_frame = reference.frame, state["current"].frame
        raw_ref, why = mu.cached_raw(reference.run_id, uri)
        given = state.get("raw")
        if given is not None and given.run_id:
            raw_cur, why_cur = mu.cached_raw(given.run_id, uri)
            why = why or why_cur
        else:
            raw_cur = given.frame if given is not None else None
    if summary.columns:
        distribution(summary, ref_frame, cur_frame, raw_ref, raw_cur, why)
    reports(t, state, reference, ref_frame, cur_frame, options, [c.name for c in summary.columns])


def _raw_periods(raw: Any, time_column: str, freq: str) -> dict:
    from core.errors import MonitorError
    from core.monitor.timeline import split_periods

    if raw is None or time_column not in raw.columns:
        return {}
    try:
        return dict(split_periods(raw, time_column, freq))
    except MonitorError:
        return {}


def distribution(summary: Any, ref_frame: Any, cur_frame: Any, raw_ref: Any, raw_cur: Any, why: str) -> None:
    """Reference vs current for one column, in the batch's raw units unless the cleaned view is asked for."""
    from core.monitor.drift import column_kinds

    c1, c2 = st.columns([2, 1])
    names = [c.name for c in summary.columns]  # drifted columns first
    col = c1.selectbox("Distribution: reference vs current", names, key="mon_overlay")
    units = c2.radio("Units", UNITS, key="mon_units", horizontal=True,
                     help="Raw: the values as uploaded, before the cleaning recipe scaled or encoded them.")
    raw_ok = raw_ref is not None and raw_cur is not None and col in raw_ref.columns and col in raw_cur.columns
    if units == UNITS[0] and raw_ok:
        left, right = raw_ref, raw_cur
        st.caption("Raw units: the reference's raw table and the batch before the cleaning recipe.")
    else:
        left, right = ref_frame, cur_frame
        if units == UNITS[0]:
            st.caption(why or f"{col!r} exists only after cleaning (a step made it), so this is the cleaned view.")
    kind = column_kinds(right[[col]])[col]
    st.plotly_chart(mu.overlay_figure(left[col], right[col], kind), width="stretch")


def reports(t: Any, state: dict, reference: Any, ref_frame: Any, cur_frame: Any, options: Any,
            columns: list[str]) -> None:
    """The full Evidently report and the quality report, built on demand and stored with the run."""
    st.markdown("**Full Evidently report** — DataDriftPreset + DataSummaryPreset, built on demand "
                "(about 10–20 s; batches over 50,000 rows are sampled).")
    if st.button("Build full Evidently report", icon=":material/description:", key="mon_build"):
        from core.monitor.check import attach_report
        from core.monitor.evidently_report import build_evidently_report

        with st.status("Building the Evidently report (importing Evidently takes a few seconds)…") as status:
            # the columns the check tested (never the target): the report's drift share is the check's
            report = build_evidently_report(ref_frame, cur_frame, options=options.drift, columns=columns or None)
            attach_report(t, state["run_id"], report.html, report.json)
            st.session_state[mu.REPORT] = (state["run_id"], report.html)
            note = " (sampled)" if report.sampled else ""
            excl = f" Left out: {', '.join(report.excluded)}." if report.excluded else ""
            status.update(label=f"Report built{note} and stored with the run.{excl}", state="complete")
    mv = state.get("model")
    if state["kind"] == "batch" and state["result"].quality is not None and mv is not None and st.button(
            "Build Evidently quality report", icon=":material/query_stats:", key="mon_quality_report",
            help="ClassificationPreset / RegressionPreset on the labelled held-out rows, current vs reference."):
        _quality_report(t, state, mv, reference, cur_frame)
    shown = st.session_state.get(mu.REPORT)
    if shown and shown[0] == state["run_id"]:
        st.download_button("Download the report (HTML)", shown[1], file_name="evidently_report.html",
                           mime="text/html", icon=":material/download:", help="Opens full page in your browser.")
        mu.show_report(shown[1], height=900)


def _quality_report(t: Any, state: dict, mv: Any, reference: Any, cur_frame: Any) -> None:
    from core.models import spec_from_tags
    from core.monitor.evidently_report import build_quality_report
    from core.monitor.quality import labelled_predictions
    from core.monitor.service import scoring_rows

    with st.status("Building the Evidently quality report…") as status:
        model, spec = mu.cached_model(mv.name, mv.version, t.settings.tracking_uri), spec_from_tags(mv.tags)
        target = mv.tags.get("workbench.target", "")
        rows = scoring_rows(t, reference, cur_frame, mv, target)  # the same held-out rows as the check's quality
        report = build_quality_report(labelled_predictions(model, spec, target, rows.current),
                                      labelled_predictions(model, spec, target, rows.reference), target=target,
                                      prediction="prediction", task=mv.tags.get("workbench.task", ""))
        t.log_text(state["run_id"], report.html, "monitor/evidently_quality.html")
        st.session_state[mu.REPORT] = (state["run_id"], report.html)
        status.update(label="Quality report built and stored with the run.", state="complete")


def previous_checks(t: Any, project: str) -> None:
    from core.monitor.check import load_stored_report

    # lazy (on_change="rerun"): closed, it searches no runs and sends no table
    box = st.expander("Previous checks", icon=":material/history:", key=PREVIOUS_OPEN, on_change="rerun")
    if not box.open:
        return
    with box:
        runs = t.runs(project, stage="monitor")
        if not runs:
            st.caption("No check recorded yet.")
            return
        from ui.tables import show_table

        frame = links.with_run_links(t, project, mu.runs_frame(runs), runs)
        show_table(frame, key="mon_checks", scroll=True, pinned=tuple(c for c in ("when",) if c in frame.columns),
                   config=links.link_column_config())
        pick = st.selectbox("Reopen the stored report of", runs, key="mon_reopen",
                            format_func=lambda r: f"{r.name} · {r.run_id[:8]}")
        if st.button("Open stored report", key="mon_open"):
            html = load_stored_report(t, pick.run_id)
            if html is None:
                st.info("That check has no Evidently report; build one after running a check.")
            else:
                st.session_state[mu.REPORT] = (pick.run_id, html)
                mu.show_report(html, height=700)


def retraining(t: Any, project: str, state: dict | None, champion: Any, model_name: str, reference_v: Any) -> None:
    """The retraining policy, *Retrain now* and *Send to the Label queue*."""
    from core.monitor.retrain import RetrainPolicy, load_policy, retrain, save_policy

    st.subheader(f"{3 if state else 2}. Retraining")
    policy = load_policy(t, project)
    with st.form("mon_policy", enter_to_submit=False):
        p1, p2, p3 = st.columns(3)
        every = p1.number_input("Every N days (0 = no schedule)", 0.0, 365.0, float(policy.interval_days or 0), step=1.0)
        max_share = p2.slider("Retrain when drift share reaches", 0.05, 1.0, float(policy.max_drift_share or 0.5), 0.05)
        max_drop = p3.number_input("… or quality drops by more than", 0.0, 1.0, float(policy.max_quality_drop or 0.05),
                                   step=0.01)
        q1, q2, q3 = st.columns(3)
        from core.monitor.retrain_modes import MODE_HELP, MODES

        mode = q1.selectbox("How to learn the new rows", MODES, index=MODES.index(policy.mode),
                            format_func=lambda m: m.replace("-", " ").capitalize(), key="mon_policy_mode",
                            help=" · ".join(f"{m}: {h}" for m, h in MODE_HELP.items()))
        trials = q2.number_input("Optuna trials (study mode, warm-started from the champion)", 1, 200,
                                 int(policy.n_trials))
        margin = q3.number_input("Gate margin", 0.0, 1.0, float(policy.gate_margin), step=0.005, format="%.3f")
        if st.form_submit_button("Save policy"):
            policy = RetrainPolicy(every or None, max_share, max_drop, "", margin, int(trials), mode=mode)
            path = save_policy(t, project, policy)
            st.success(f"Policy saved ({path.name} in the workspace and as a project tag). "
                       f"Cron: `python -m core retrain --project {project} --if-drift`")
    if champion is None:
        st.caption("Retraining needs a champion model; promote one in Compare (or load the example).")
        return
    batch = state if state and state["kind"] == "batch" else None
    r1, r2 = st.columns(2)
    if r1.button("Retrain now", icon=":material/autorenew:", key="mon_retrain"):
        with st.status("Retraining…", expanded=True) as status:
            try:
                out = retrain(t, project, policy, current=batch["current"].frame if batch else None,
                              model_name=model_name, current_run=batch["current"].run_id if batch else "",
                              check_run=batch["run_id"] if batch else "", on_progress=status.write)
            except WorkbenchError:
                status.update(label="Not retrained", state="error", expanded=False)
                raise  # one sentence below, from user_errors
            status.update(label="Retraining finished" if out.triggered else "Retraining skipped",
                          state="complete", expanded=False)
        st.success(out.summary)
    if batch and r2.button("Send the current batch to the Label queue", icon=":material/label:", key="mon_queue"):
        from core.monitor.retrain import queue_for_labelling

        target = champion.tags.get("workbench.target", "label")
        rid = queue_for_labelling(t, project, batch["current"].frame.drop(columns=[target], errors="ignore"),
                                  target, f"{reference_v.name}-to-label")
        st.success(f"Saved as a new dataset version with an empty {target!r} column (run {rid[:8]}); "
                   "open it in Label.")
