"""Plan page widgets: the charter form and its history, the pipelines panel, the alerts list.

Each widget owns its keys (prefix ``plan_``); the page calls one function per section.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.plan.charter import Charter, charter_history, metrics_for_task
from core.tracking import Tracker
from ui.tables import show_table

FLOW_LABELS = {"monitor-and-retrain": "Monitor and retrain (watch a folder)",
               "scheduled-retrain": "Scheduled retrain", "tune": "Tune (a study)"}


def _opt(value: float | None) -> float | None:
    return None if value is None else float(value)


def charter_summary(charter: Charter | None) -> None:
    """The current charter in a few lines (or what to do when there is none)."""
    if charter is None:
        st.info("This project has no charter yet: write the problem, the success metric and the bar the "
                "champion must reach below.", icon=":material/info:")
        return
    op = "≥" if charter.higher_is_better else "≤"
    st.markdown(f"**{charter.problem}**")
    cols = st.columns(4)
    cols[0].metric("Success metric", f"{charter.metric} {op} {charter.threshold:g}")
    cols[1].metric("Promotion margin", f"{charter.margin:g}")
    cols[2].metric("Drift share alert", f"{charter.drift_share:g}")
    cols[3].metric("Quality drop alert", f"{charter.quality_drop:g}")
    facts = [f"target `{charter.target}` ({charter.task})"]
    if charter.families:
        facts.append(f"families {', '.join(charter.families)}")
    if charter.expected_columns:
        facts.append(f"columns {', '.join(charter.expected_columns)}")
    if charter.batch_size:
        facts.append(f"batches of {charter.batch_size} rows")
    if charter.freshness_days is not None:
        facts.append(f"data at most {charter.freshness_days:g} days old")
    if charter.has_cost:
        facts.append(f"cost FP {charter.cost_fp}, FN {charter.cost_fn}" if charter.task == "classification"
                     else f"cost {charter.cost_per_unit} per unit of error")
    if charter.protected_column:
        facts.append(f"fairness: gap ≤ {charter.max_gap} across `{charter.protected_column}`")
    st.caption(" · ".join(facts))


def charter_form(current: Charter | None) -> dict[str, Any] | None:
    """The charter form; the submitted values as a dict (validated by the caller), else None."""
    c = current
    with st.form("plan_charter_form"):
        problem = st.text_area("Problem statement", value=c.problem if c else "", key="plan_problem",
                               help="One sentence: what the model is for and who uses its predictions.")
        a, b, d = st.columns(3)
        target = a.text_input("Prediction target (column)", value=c.target if c else "", key="plan_target")
        task = b.selectbox("Task", ("classification", "regression"), key="plan_task",
                           index=0 if not c or c.task == "classification" else 1)
        names = list(dict.fromkeys([*metrics_for_task("classification"), *metrics_for_task("regression")]))
        metric = d.selectbox("Success metric", names, key="plan_metric",
                             index=names.index(c.metric) if c else names.index("f1_macro"),
                             help="Must fit the task; the gate and Tune default to it.")
        a, b, d = st.columns(3)
        threshold = a.number_input("Threshold the champion must reach", value=c.threshold if c else 0.9,
                                   format="%.4f", key="plan_threshold")
        margin = b.number_input("Promotion margin", value=c.margin if c else 0.005, min_value=0.0, format="%.4f",
                                key="plan_margin")
        families = d.multiselect("Allowed model families", ("linear", "rf", "hgb", "svm", "knn", "mlp"),
                                 default=list(c.families) if c else [], key="plan_families")
        st.markdown("**Business KPI** (optional)")
        a, b, d, e = st.columns(4)
        cost_fp = a.number_input("Cost per false positive", value=c.cost_fp if c else None, min_value=0.0,
                                 key="plan_cost_fp")
        cost_fn = b.number_input("Cost per false negative", value=c.cost_fn if c else None, min_value=0.0,
                                 key="plan_cost_fn")
        positive = d.text_input("Positive class", value=c.positive_class if c else "", key="plan_positive")
        cost_unit = e.number_input("Cost per unit of error (regression)", value=c.cost_per_unit if c else None,
                                   min_value=0.0, key="plan_cost_unit")
        st.markdown("**Data needed, fairness, monitoring**")
        a, b, d = st.columns(3)
        columns = a.text_input("Expected columns (comma-separated)", value=",".join(c.expected_columns) if c else "",
                               key="plan_columns")
        batch = b.number_input("Batch size (rows)", value=c.batch_size if c else None, min_value=1, step=1,
                               key="plan_batch")
        fresh = d.number_input("Freshness (days)", value=c.freshness_days if c else None, min_value=0.0,
                               key="plan_fresh")
        a, b, d, e = st.columns(4)
        protected = a.text_input("Protected column", value=c.protected_column if c else "", key="plan_protected")
        gap = b.number_input("Largest gap allowed", value=c.max_gap if c else None, min_value=0.0, max_value=1.0,
                             key="plan_gap")
        drift = d.number_input("Drift share that triggers retraining", value=c.drift_share if c else 0.5,
                               min_value=0.0, max_value=1.0, key="plan_drift")
        drop = e.number_input("Quality drop that triggers retraining", value=c.quality_drop if c else 0.05,
                              min_value=0.0, key="plan_drop")
        note = st.text_input("What changed and why (kept with this version)", key="plan_note")
        if not st.form_submit_button("Save charter", type="primary"):
            return None
    return {"problem": problem, "target": target, "task": task, "metric": metric, "threshold": threshold,
            "margin": margin, "families": tuple(families), "cost_fp": _opt(cost_fp), "cost_fn": _opt(cost_fn),
            "positive_class": positive, "cost_per_unit": _opt(cost_unit),
            "expected_columns": tuple(x for x in columns.split(",")), "batch_size": None if batch is None
            else int(batch), "freshness_days": _opt(fresh), "protected_column": protected, "max_gap": _opt(gap),
            "drift_share": drift, "quality_drop": drop, "_note": note}


def charter_history_table(tracker: Tracker, project: str) -> None:
    import pandas as pd

    runs = charter_history(tracker, project)
    if not runs:
        return
    rows = [{"saved": pd.to_datetime(r.start_time, unit="ms", utc=True).strftime("%Y-%m-%d %H:%M"),
             "metric": r.params.get("metric"), "threshold": r.params.get("threshold"),
             "margin": r.params.get("margin"), "drift share": r.params.get("drift_share"),
             "note": r.tags.get("workbench.plan.note", ""), "plan run": r.run_id} for r in runs]
    st.caption(f"{len(rows)} version{'s' if len(rows) != 1 else ''} (each a `plan` run in MLflow; newest first)")
    show_table(pd.DataFrame(rows), key="plan_charter_history", scroll=True, pinned=("saved",))


def schedule_form(project: str, deployments: list[Any]) -> dict[str, Any] | None:
    """Create or change a pipeline: which flow, cron or interval, folder, reference, model."""
    mine = {d.flow: d for d in deployments if d.name == project}
    with st.form("plan_schedule_form"):
        a, b = st.columns(2)
        flow = a.selectbox("Pipeline", list(FLOW_LABELS), format_func=FLOW_LABELS.get, key="plan_flow")
        kind = b.radio("Schedule", ("Cron", "Every N days"), horizontal=True, key="plan_kind")
        existing = mine.get(flow)
        params = existing.parameters if existing else {}
        a, b = st.columns(2)
        cron = a.text_input("Cron expression", value="*/10 * * * *", key="plan_cron",
                            help="Five fields, e.g. '0 6 * * *' = every day at 06:00 (UTC).")
        days = b.number_input("Interval (days)", value=7.0, min_value=0.0, key="plan_days")
        watch = st.text_input("Watch folder (or glob) for new batch files", value=params.get("watch", ""),
                              key="plan_watch", help="monitor-and-retrain: every new CSV / Parquet file in it.")
        a, b, d = st.columns(3)
        reference = a.text_input("Reference dataset version", value=params.get("reference", ""), key="plan_ref",
                                 help="Default: the champion's training data.")
        model = b.text_input("Registered model", value=params.get("model", ""), key="plan_model",
                             help="<project>-<target>; default: the project's only registered model.")
        trials = d.number_input("Trials per retraining", value=int(params.get("n_trials", 3)), min_value=1,
                                max_value=200, step=1, key="plan_trials")
        export = st.checkbox("Export a promoted champion to ONNX", value=bool(params.get("export", True)),
                             key="plan_export")
        if not st.form_submit_button("Save pipeline", type="primary"):
            return None
    parameters: dict[str, Any] = {"n_trials": int(trials)}
    if flow == "monitor-and-retrain":
        parameters.update(watch=watch.strip(), reference=reference.strip())
    if flow != "tune":
        parameters.update(model=model.strip(), export=bool(export))
    return {"flow": flow, "cron": cron.strip() if kind == "Cron" else None,
            "interval_days": days if kind != "Cron" else None, "parameters": parameters}


def deployments_table(deployments: list[Any]) -> None:
    import pandas as pd

    if not deployments:
        st.caption("No pipeline is scheduled yet.")
        return
    rows = [{"pipeline": d.flow, "project": d.name, "schedule": d.schedule, "paused": d.paused,
             "next run": d.next_run, "folder": d.parameters.get("watch", "")} for d in deployments]
    show_table(pd.DataFrame(rows), key="plan_deployments", scroll=True, pinned=("pipeline",))  # folders: any length


def runs_table(runs: list[Any]) -> None:
    import pandas as pd

    if not runs:
        st.caption("No flow run yet.")
        return
    last = runs[0]
    took = f" in {last.duration_s:.1f} s" if last.duration_s is not None else ""
    failed = f" at {last.failed_task}: {last.error}" if last.failed_task or last.error else ""
    st.caption(f"Latest: {last.flow} run {last.name} — {last.state}{took}{failed}")
    rows = [{"started": r.start, "pipeline": r.flow, "deployment": r.deployment or "(foreground)", "state": r.state,
             "duration (s)": None if r.duration_s is None else round(r.duration_s, 1),
             "failed task": r.failed_task, "error": r.error} for r in runs]
    show_table(pd.DataFrame(rows), key="plan_runs", scroll=True, pinned=("started",))  # errors: any length


def alerts_list(items: list[Any]) -> None:
    import time

    icons = {"failed": ":material/error:", "drift": ":material/trending_up:", "promotion": ":material/star:",
             "retrain": ":material/autorenew:"}
    for a in items[:20]:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(a.created))
        st.markdown(f"{icons.get(a.kind, ':material/info:')} **{a.title}** — {a.message} "
                    f"<span style='color:gray'>({when} UTC{', ' + a.project if a.project else ''})</span>",
                    unsafe_allow_html=True)
