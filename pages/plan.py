"""Plan: the project charter (the bar the champion must reach) and the pipelines that close the loop on Prefect."""

from __future__ import annotations

import streamlit as st

from core.errors import WorkbenchError, one_line
from core.plan import orchestrator as orch
from core.plan import runs as pr
from core.plan.charter import Charter, load_charter, save_charter
from core.plan.notify import alerts, mark_read
from ui import plan as pu
from ui.feedback import user_errors
from ui.resources import settings, tracker
from ui.state import current_project

project = current_project()
st.title("Plan")
st.caption("What problem, which metric and threshold, which data and models — and the pipelines that watch new "
           "data, retrain and gate without you, on Prefect.")

st.subheader("Charter")
with user_errors():
    t = tracker()
    charter = load_charter(t, project)
    pu.charter_summary(charter)
    if charter is not None:
        from ui.verdict import show_champion_verdict

        show_champion_verdict(project)  # meets / misses the bar, as on Home
    with st.expander("Edit the charter" if charter else "Write the charter", expanded=charter is None):
        values = pu.charter_form(charter)
        if values is not None:
            note = values.pop("_note")
            try:
                new = Charter.from_dict(values)
            except WorkbenchError as err:
                st.error(one_line(err), icon=":material/error:")
            else:
                run_id = save_charter(t, project, new, note=note)
                st.success(f"Saved the charter as plan run {run_id}.", icon=":material/check:")
                st.rerun()
    pu.charter_history_table(t, project)

st.subheader("Pipelines")
s = settings()
status = orch.status(s)
cols = st.columns([3, 1, 1])
if status.reachable:
    where = "embedded server" if status.embedded else "PREFECT_API_URL"
    cols[0].markdown(f":material/check_circle: Prefect API at `{status.url}` ({where}) · "
                     f"[open the Prefect UI]({status.ui_url})")
else:
    cols[0].warning(status.message, icon=":material/cloud_off:")
worker_up = bool(status.worker and status.worker.running)
if cols[1].button("Start" if not (status.reachable and worker_up) else "Running", key="plan_serve",
                  disabled=status.reachable and worker_up, help="Start the embedded Prefect server and a worker "
                  "(detached: they outlive this page)."):
    with user_errors(), st.spinner("Starting Prefect (first time: about half a minute)…"):
        orch.start(s)
        st.rerun()
if status.embedded and cols[2].button("Stop", key="plan_stop", disabled=not status.reachable):
    orch.stop(s)
    st.rerun()

if status.reachable:
    with user_errors():
        deps = pr.deployments(s)
        pu.deployments_table(deps)
        mine = [d for d in deps if d.name == project]
        if mine:
            a, b, c = st.columns([2, 1, 1])
            pick = a.selectbox("Pipeline of this project", [d.flow for d in mine], key=f"plan_pick_{project}")
            chosen = next(d for d in mine if d.flow == pick)
            if b.button("Run now", key="plan_run_now"):
                run = pr.run_now(s, pick, project)
                st.success(f"Queued flow run {run}; the worker picks it up within seconds.")
            if c.button("Resume" if chosen.paused else "Pause", key="plan_pause"):
                pr.set_paused(s, pick, project, paused=not chosen.paused)
                st.rerun()
        with st.expander("Create or change a pipeline", expanded=not mine):
            form = pu.schedule_form(project, deps)
            if form is not None:
                dep = pr.schedule(s, form["flow"], project, cron=form["cron"], interval_days=form["interval_days"],
                                    parameters=form["parameters"])
                st.success(f"Saved {form['flow']}/{project} (deployment {dep}).", icon=":material/check:")
                st.rerun()
        st.markdown("**Recent flow runs**")
        if st.button("Refresh", key="plan_refresh", icon=":material/refresh:"):
            st.rerun()
        pu.runs_table(pr.recent_runs(s, limit=15))

st.subheader("Alerts")
unread = alerts(s.home, unread_only=True)
if unread:
    pu.alerts_list(unread)
    if st.button(f"Mark {len(unread)} as read", key="plan_mark_read"):
        mark_read(s.home)
        st.rerun()
else:
    st.caption("No unread alert. Failed runs, drifted batches and promotions appear here and in the sidebar"
               " (and go to WORKBENCH_WEBHOOK_URL when it is set).")
