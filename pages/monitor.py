"""Monitor: does new data still look like the reference? Per column, jointly, in the model's output, over time."""

from __future__ import annotations

import streamlit as st

from core.tracking.models import model_versions
from ui import monitor as mu
from ui import monitor_sections as sections
from ui.feedback import empty_state, user_errors
from ui.cache import dataset_versions
from ui.resources import tracker
from ui.state import current_project

project = current_project()
st.title("Monitor")
st.caption("Check a new batch against the reference: schema, per-column drift (Evidently's tests, computed fast), "
           "multivariate, autoencoder and prediction drift, model quality on held-out rows, fairness and cost, "
           "drift over time — and retrain when it moves.")


def _load_example() -> None:
    from core.monitor.demo import seattle_weather, seed_example

    with st.status("Saving Seattle weather and training a champion…", expanded=True) as status:
        seed_example(tracker(), project, seattle_weather(), "seattle-weather", "weather")
        status.update(label="Example ready: seattle-weather v1 and a champion model.", state="complete")


with user_errors():
    t = tracker()
    versions = dataset_versions(project, t=t)  # one search per write to the store, shared by every session
    if not versions:
        empty_state("This project has no dataset version to monitor yet. Save a table in Data, or load the "
                    "Seattle weather example (2012–2015, daily) to try monitoring by year.", "pages/data.py", "Go to Data")
        if st.button("Load the Seattle weather example", icon=":material/cloud_download:"):
            _load_example()
            st.rerun()
        st.stop()

    from core.plan.charter import load_charter
    from ui.jobs import model_picker, version_label

    model_name = model_picker(t, project, key="mon_job")
    models = model_versions(t, model_name, sklearn_only=True) if model_name else []
    champion = next((m for m in models if "champion" in m.aliases), None)
    charter = load_charter(t, project)

    st.subheader("1. Reference and current")
    inputs = mu.choose_inputs(t.settings.tracking_uri, versions, champion)
    opts = mu.options_form(inputs, models, champion, charter, lambda m: version_label(t, m))

    if inputs.current is None:
        st.info("Choose the current batch above (a dataset version, an upload, or the periods of a time column).")
    elif st.button("Run the check", type="primary", icon=":material/monitor_heart:", key="mon_run"):
        mu.run(t, project, inputs, opts, charter)

    state = st.session_state.get(mu.RESULT)
    if state:
        sections.results(t, project, state, inputs.reference, opts)
    sections.previous_checks(t, project)
    from ui.served import served_section  # the deployed model's prediction log: latency drift, a batch to check

    served_section(t, project)
    sections.retraining(t, project, state, champion, model_name, inputs.reference_version)
