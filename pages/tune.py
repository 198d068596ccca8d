"""Tune: start an Optuna study in a worker process, watch it live, stop / resume it, understand it."""

from __future__ import annotations

import streamlit as st

from core.errors import WorkbenchError, one_line
from core.tune.live import project_studies
from core.tune.storage import is_journal, mask_url
from core.tune.worker import list_workers
from ui import tune as ut
from ui.resources import settings, tracker
from ui.state import current_project
from ui.tune_live import running_trials, study_view

project = current_project()
s = settings()
t = tracker()
st.title("Tune")
st.caption("Optuna studies over the model families — every trial an MLflow child run, the best model registered. "
           f"Storage: `{mask_url(s.optuna_storage)}`" + (" (journal file)" if is_journal(s.optuna_storage) else ""))

try:
    storage = ut.storage(s.optuna_storage)
except WorkbenchError as err:
    st.error(one_line(err), icon=":material/error:")
    st.stop()

studies = project_studies(storage, project)
# Only an open expander runs its form (on_change="rerun"): a first render with studies reads no dataset
# version and draws no editor (the form downloads the version and imports the model families).
new_study = st.expander("New study", expanded=not studies, icon=":material/add:", key=ut.NEW_OPEN,
                        on_change="rerun")
if new_study.open:
    with new_study:
        ut.new_study_form(t, s, storage, project)

if not studies:
    st.info("No study in this project yet. Open **New study**, pick a dataset version and a target, and start one.",
            icon=":material/info:")
    st.stop()

names = [x.name for x in studies]
if ut.selected_study() not in names:
    ut.select_study(names[0])
by_name = {x.name: x for x in studies}


def _label(n: str) -> str:
    x = by_name[n]
    return n + (f" · started {x.datetime_start:%Y-%m-%d %H:%M}" if x.datetime_start else "")


name = st.selectbox("Study", names, key=ut.SELECTED, format_func=_label)
# Poll while a worker of this workspace is alive or any trial runs (e.g. a CLI tune-worker elsewhere).
live = any(w.alive for w in list_workers(s, name)) or running_trials(storage, name) > 0
study_view(name, live, s, storage, t, project)
if not live and any(w.alive for w in list_workers(s, name)):
    st.rerun()  # a worker started since this run began: poll
