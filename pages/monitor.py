"""Monitor: does new data still look like the reference? Per column, jointly, in the model's output, over time."""

from __future__ import annotations

import streamlit as st

from core.errors import WorkbenchError
from core.monitor.check import Table, attach_report, load_stored_report, prepare_current, record_check, record_timeline, run_check
from core.monitor.drift import column_kinds
from core.monitor.retrain import RetrainPolicy, load_policy, retrain, save_policy
from core.monitor.timeline import FREQS, drift_timeline, time_columns
from core.tracking.datasets import dataset_versions
from core.tracking.models import model_versions
from ui import mlflow_links as links
from ui import monitor as mu
from ui import pickers
from ui.feedback import empty_state, user_errors
from ui.resources import tracker
from ui.state import current_project

project = current_project()
st.title("Monitor")
st.caption("Check a new batch against the reference: schema, per-column drift (Evidently's tests, computed fast), "
           "multivariate and prediction drift, model quality, drift over time — and retrain when it moves.")


def _load_example() -> None:
    from core.monitor.demo import seattle_weather, seed_example

    with st.status("Saving Seattle weather and training a champion…", expanded=True) as status:
        seed_example(tracker(), project, seattle_weather(), "seattle-weather", "weather")
        status.update(label="Example ready: seattle-weather v1 and a champion model.", state="complete")


with user_errors():
    t = tracker()
    uri = t.settings.tracking_uri
    versions = dataset_versions(t, project)
    if not versions:
        empty_state("This project has no dataset version to monitor yet. Save a table in Data, or load the "
                    "Seattle weather example (2012–2015, daily) to try monitoring by year.", "pages/data.py", "Go to Data")
        if st.button("Load the Seattle weather example", icon=":material/cloud_download:"):
            _load_example()
            st.rerun()
        st.stop()

    from ui.jobs import model_picker

    model_name = model_picker(t, project, key="mon_job")
    models = model_versions(t, model_name, sklearn_only=True) if model_name else []
    champion = next((m for m in models if "champion" in m.aliases), None)

    # -- 1. reference and current -------------------------------------------
    st.subheader("1. Reference and current")
    left, right = st.columns(2)
    default_ref = champion.tags.get("workbench.data_version") if champion else None
    ref_index = next((i for i, v in enumerate(versions) if v.run_id == default_ref), 0)
    reference_v = left.selectbox("Reference", versions, index=ref_index, key="mon_ref", format_func=lambda v: v.label,
                                 help="Default: the champion's training data.")
    mode = right.radio("Current", ["Dataset version", "Upload a file", "Periods of a time column"], key="mon_mode",
                       horizontal=True)
    reference = Table(mu.cached_dataset(reference_v.run_id, uri), reference_v.label, reference_v.run_id, reference_v.target)
    current: Table | None = None
    time_col = freq = None
    if mode == "Dataset version":
        cur_v = right.selectbox("Current version", versions, key="mon_cur", format_func=lambda v: v.label)
        current = Table(mu.cached_dataset(cur_v.run_id, uri), cur_v.label, cur_v.run_id, cur_v.target)
    elif mode == "Upload a file":
        up = right.file_uploader("CSV or Parquet batch", type=["csv", "parquet"], key="mon_upload")
        if up is not None:
            current = Table(mu.read_upload(up.name, up.getvalue()), up.name)
    else:
        cur_v = right.selectbox("Time-stamped table", versions, key="mon_tl_table", format_func=lambda v: v.label,
                                index=ref_index)
        current = Table(mu.cached_dataset(cur_v.run_id, uri), cur_v.label, cur_v.run_id, cur_v.target)
        candidates = time_columns(current.frame)
        if not candidates:
            right.warning("This table has no date column; pick another table or another kind of current batch.")
            current = None
        else:
            c1, c2 = right.columns(2)
            time_col = c1.selectbox("Time column", candidates, key="mon_time_col")
            freq = c2.selectbox("Period", list(FREQS), index=2, key="mon_freq")
            st.caption("The first period is the reference; every later period is checked against it.")

    # -- options --------------------------------------------------------------
    model_choice = None
    with st.expander("Tests, thresholds and model", icon=":material/tune:"):
        with st.form("mon_options", border=False, enter_to_submit=False):
            o1, o2, o3 = st.columns(3)
            share = o1.slider("Drift share for dataset drift", 0.05, 1.0, 0.5, 0.05, key="mon_share")
            method = o2.selectbox("Test for all columns", mu.test_names(), key="mon_method")
            threshold = o3.number_input("Threshold for all columns (0 = the test's default)", 0.0, 10.0, 0.0,
                                        step=0.01, key="mon_threshold")
            cols = [c for c in reference.frame.columns if c != time_col]
            overrides = st.data_editor(
                mu.override_frame(cols), key="mon_overrides", hide_index=True, width="stretch",
                column_config={"test": st.column_config.SelectboxColumn(options=mu.test_names()),
                               "threshold": st.column_config.NumberColumn(min_value=0.0, step=0.01)},
                disabled=["column"])
            m1, m2 = st.columns(2)
            multivariate = m1.checkbox("Multivariate checks (domain classifier, clusters)", True, key="mon_multi")
            use_model = m2.checkbox("Score the model (prediction drift, quality)", champion is not None, key="mon_use_model")
            st.form_submit_button("Apply")
        if models:
            from ui.jobs import version_label

            model_choice = st.selectbox("Model", models, format_func=lambda m: f"{m.name} {version_label(t, m)}",
                                        key=pickers.picker_key("mon_model", models, lambda m: m.label,
                                                               ident=lambda m: (m.name, m.version)),
                                        index=next((i for i, m in enumerate(models) if m is champion), 0))
    options = mu.drift_options(share, method, threshold, overrides)

    # -- run --------------------------------------------------------------------
    if current is None:
        st.info("Choose the current batch above (a dataset version, an upload, or the periods of a time column).")
    elif st.button("Run the check", type="primary", icon=":material/monitor_heart:", key="mon_run"):
        model = spec = None
        target, task = reference.target, ""
        if use_model and model_choice is not None:
            from core.models import spec_from_tags

            model = mu.cached_model(model_choice.name, model_choice.version, uri)
            spec, target = spec_from_tags(model_choice.tags), model_choice.tags.get("workbench.target", target)
            task = model_choice.tags.get("workbench.task", "")
        with st.status("Checking…", expanded=True) as status:
            if mode == "Periods of a time column":
                timeline = drift_timeline(current.frame, time_col, freq, options=options, model=model, spec=spec,
                                          target=target, task=task,
                                          on_progress=lambda i, n, label: status.write(f"Period {label} ({i}/{n})"))
                run_id = record_timeline(t, project, timeline, source=current,
                                         model_run=model_choice.run_id if model is not None else "")
                st.session_state[mu.RESULT] = {"kind": "timeline", "timeline": timeline, "current": current,
                                               "run_id": run_id}
            else:
                frame, note = prepare_current(t, reference.run_id, current.frame, raw=current.run_id == "")
                status.write(note)
                result = run_check(reference.frame, frame, options=options, model=model, spec=spec, target=target,
                                   task=task, multivariate=multivariate, notes=[note], on_progress=status.write)
                cur_table = Table(frame, current.label, current.run_id)
                run_id = record_check(t, project, result, reference=reference, current=cur_table,
                                      model_run=model_choice.run_id if model is not None else "",
                                      model_label=model_choice.label if model is not None else "")
                st.session_state[mu.RESULT] = {"kind": "batch", "result": result, "current": cur_table, "run_id": run_id,
                                               "model": model_choice if model is not None else None}
            st.session_state.pop(mu.REPORT, None)
            status.update(label="Check recorded in MLflow.", state="complete", expanded=False)

    # -- 2. results -------------------------------------------------------------
    state = st.session_state.get(mu.RESULT)
    if state:
        st.subheader("2. Results")
        run_ref = links.markdown(f"`{state['run_id']}`", links.for_run(t, project, state["run_id"]))
        st.caption(f"Recorded as monitor run {run_ref}.")
        if state["kind"] == "timeline":
            mu.render_timeline(state["timeline"])
            tl = state["timeline"]
            period = st.selectbox("Period to inspect", [p.period for p in tl.points], key="mon_period")
            idx = [p.period for p in tl.points].index(period)
            mu.render_summary(tl.summaries[idx])
            from core.monitor.timeline import split_periods

            parts = dict(split_periods(state["current"].frame, tl.time_column, tl.freq))
            ref_frame, cur_frame = parts[tl.reference_label], parts[period]
        else:
            result = state["result"]
            mu.render_findings(result.findings)
            mu.render_summary(result.drift)
            mu.render_extras(result)
            ref_frame, cur_frame = reference.frame, state["current"].frame
            period = None
        summary = state["result"].drift if state["kind"] == "batch" else state["timeline"].summaries[idx]
        if summary.columns:
            names = [c.name for c in summary.columns]
            col = st.selectbox("Distribution: reference vs current", names, key="mon_overlay")
            kind = column_kinds(cur_frame[[col]])[col]
            st.plotly_chart(mu.overlay_figure(ref_frame[col], cur_frame[col], kind), width="stretch")

        # -- the full Evidently report, on demand ---------------------------------
        st.markdown("**Full Evidently report** — DataDriftPreset + DataSummaryPreset, built on demand "
                    "(about 10–20 s; batches over 50,000 rows are sampled).")
        if st.button("Build full Evidently report", icon=":material/description:", key="mon_build"):
            from core.monitor.evidently_report import build_evidently_report

            with st.status("Building the Evidently report (importing Evidently takes a few seconds)…") as status:
                report = build_evidently_report(ref_frame, cur_frame, options=options)
                attach_report(t, state["run_id"], report.html, report.json)
                st.session_state[mu.REPORT] = (state["run_id"], report.html)
                note = " (sampled)" if report.sampled else ""
                excl = f" Left out: {', '.join(report.excluded)}." if report.excluded else ""
                status.update(label=f"Report built{note} and stored with the run.{excl}", state="complete")
        mv = state.get("model")
        if state["kind"] == "batch" and state["result"].quality is not None and mv is not None and st.button(
                "Build Evidently quality report", icon=":material/query_stats:", key="mon_quality_report",
                help="ClassificationPreset / RegressionPreset on the labelled rows, current vs reference."):
            from core.models import spec_from_tags
            from core.monitor.evidently_report import build_quality_report
            from core.monitor.quality import labelled_predictions

            with st.status("Building the Evidently quality report…") as status:
                model, spec = mu.cached_model(mv.name, mv.version, uri), spec_from_tags(mv.tags)
                target = mv.tags.get("workbench.target", "")
                report = build_quality_report(labelled_predictions(model, spec, target, cur_frame),
                                              labelled_predictions(model, spec, target, ref_frame), target=target,
                                              prediction="prediction", task=mv.tags.get("workbench.task", ""))
                t.log_text(state["run_id"], report.html, "monitor/evidently_quality.html")
                st.session_state[mu.REPORT] = (state["run_id"], report.html)
                status.update(label="Quality report built and stored with the run.", state="complete")
        shown = st.session_state.get(mu.REPORT)
        if shown and shown[0] == state["run_id"]:
            st.download_button("Download the report (HTML)", shown[1], file_name="evidently_report.html",
                               mime="text/html", icon=":material/download:")
            mu.show_report(shown[1], height=900)

    # -- 3. previous checks -----------------------------------------------------
    with st.expander("Previous checks", icon=":material/history:"):
        runs = t.runs(project, stage="monitor")
        if not runs:
            st.caption("No check recorded yet.")
        else:
            st.dataframe(links.with_run_links(t, project, mu.runs_frame(runs), runs), hide_index=True, width="stretch",
                         column_config=links.link_column_config())
            pick = st.selectbox("Reopen the stored report of", runs, key="mon_reopen",
                                format_func=lambda r: f"{r.name} · {r.run_id[:8]}")
            if st.button("Open stored report", key="mon_open"):
                html = load_stored_report(t, pick.run_id)
                if html is None:
                    st.info("That check has no Evidently report; build one after running a check.")
                else:
                    st.session_state[mu.REPORT] = (pick.run_id, html)
                    mu.show_report(html, height=700)

    # -- 4. retraining ----------------------------------------------------------
    st.subheader(f"{3 if state else 2}. Retraining")
    policy = load_policy(t, project)
    with st.form("mon_policy", enter_to_submit=False):
        p1, p2, p3 = st.columns(3)
        every = p1.number_input("Every N days (0 = no schedule)", 0.0, 365.0, float(policy.interval_days or 0), step=1.0)
        max_share = p2.slider("Retrain when drift share reaches", 0.05, 1.0, float(policy.max_drift_share or 0.5), 0.05)
        max_drop = p3.number_input("… or quality drops by more than", 0.0, 1.0, float(policy.max_quality_drop or 0.05),
                                   step=0.01)
        q1, q2 = st.columns(2)
        trials = q1.number_input("Optuna trials (warm-started from the champion)", 1, 200, int(policy.n_trials))
        margin = q2.number_input("Gate margin", 0.0, 1.0, float(policy.gate_margin), step=0.005, format="%.3f")
        if st.form_submit_button("Save policy"):
            policy = RetrainPolicy(every or None, max_share, max_drop, "", margin, int(trials))
            path = save_policy(t, project, policy)
            st.success(f"Policy saved ({path.name} in the workspace and as a project tag). "
                       f"Cron: `python -m core retrain --project {project} --if-drift`")
    if champion is None:
        st.caption("Retraining needs a champion model; promote one in Compare (or load the example).")
    else:
        r1, r2 = st.columns(2)
        if r1.button("Retrain now", icon=":material/autorenew:", key="mon_retrain"):
            cur_frame = state["current"].frame if state and state["kind"] == "batch" else None
            with st.status("Retraining…", expanded=True) as status:
                try:
                    out = retrain(t, project, policy, current=cur_frame, model_name=model_name,
                                  current_run=state["current"].run_id if state and state["kind"] == "batch" else "",
                                  check_run=state["run_id"] if state and state["kind"] == "batch" else "",
                                  on_progress=status.write)
                except WorkbenchError:
                    status.update(label="Not retrained", state="error", expanded=False)
                    raise  # one sentence below, from user_errors
                status.update(label="Retraining finished" if out.triggered else "Retraining skipped",
                              state="complete", expanded=False)
            st.success(out.summary)
        if state and state["kind"] == "batch" and r2.button("Send the current batch to the Label queue",
                                                            icon=":material/label:", key="mon_queue"):
            from core.monitor.retrain import queue_for_labelling

            target = champion.tags.get("workbench.target", "label")
            rid = queue_for_labelling(t, project, state["current"].frame.drop(columns=[target], errors="ignore"),
                                      target, f"{reference_v.name}-to-label")
            st.success(f"Saved as a new dataset version with an empty {target!r} column (run {rid[:8]}); "
                       "open it in Label.")

    from ui.served import served_section  # the deployed model's prediction log: latency drift, a batch to check

    served_section(t, project)
