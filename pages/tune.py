"""Tune: start an Optuna study in a worker process, watch it live, stop / resume it, understand it."""

from __future__ import annotations

import streamlit as st

from core.errors import WorkbenchError, one_line
from core.models import FAMILIES, FAMILY_NAMES, infer_task
from core.tune.inspect import FIGURES, study_figure, study_progress, trials_frame, value_column
from core.tune.metrics import METRICS, metrics_for
from core.tune.space import default_space, grid_size
from core.tune.storage import is_journal, list_studies, mask_url
from core.tune.study import PRUNERS, SAMPLERS, StudyConfig, create_or_load_study, finalize_study, open_study
from core.tune.worker import list_workers, log_tail, start_worker, stop_workers
from ui import tune as ut
from ui.feedback import empty_state, user_errors
from ui.pickers import dataset_picker
from ui.resources import settings, tracker
from ui.state import current_project

SAMPLER_NAMES = {"tpe": "TPE", "random": "Random", "grid": "Grid", "cmaes": "CMA-ES", "gp": "Gaussian process"}
PRUNER_NAMES = {"median": "Median", "sh": "Successive halving", "hyperband": "Hyperband", "none": "None"}

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


def _studies() -> list:
    import json

    return [x for x in list_studies(storage) if json.loads(x.config_json).get("project") == project]


# -- 1. a new study ------------------------------------------------------------------------------
def new_study_form() -> None:
    version = dataset_picker(t, project, key="tune_dataset")
    if version is None:
        empty_state("No dataset version in this project yet: save one in **Data** (or label one), then tune here.",
                    "pages/data.py", "Open Data")
        return
    frame = ut.dataset_frame(version.run_id, "train" if version.has_split else "all")
    columns = list(frame.columns)
    c1, c2, c3 = st.columns(3)
    default_target = columns.index(version.target) if version.target in columns else len(columns) - 1
    target = c1.selectbox("Target", columns, index=default_target, key=f"tune_target_{version.run_id}")
    y = frame[target]
    inferred = infer_task(y.dropna()) if y.notna().any() else "classification"
    task = c2.selectbox("Task", ["classification", "regression"], index=0 if inferred == "classification" else 1,
                        key=f"tune_task_{version.run_id}_{target}", help=f"Inferred: {inferred}.")
    family = c3.selectbox("Model family", FAMILIES, format_func=lambda f: FAMILY_NAMES[f], key="tune_family")
    if y.isna().any():
        st.caption(f":material/info: {int(y.isna().sum())} row(s) without a {target!r} value are left out.")
    if version.has_split:
        st.caption(":material/call_split: The version has a train / test split: the study uses the training rows "
                   "only; the test rows stay for Compare.")

    st.markdown("**Search space** — edit ranges, log scale, choices, or fix a value; add or delete rows.")
    space_key = f"tune_space_{family}_{task}_{st.session_state.get('tune_space_reset', 0)}"
    space_error = ""
    try:
        space = ut.space_editor(default_space(family, task), key=space_key)
    except WorkbenchError as err:
        space, space_error = {}, one_line(err)
    if st.button("Reset to the default space", icon=":material/restart_alt:", key="tune_space_reset_btn"):
        st.session_state["tune_space_reset"] = st.session_state.get("tune_space_reset", 0) + 1
        st.rerun()

    # No st.form: Enter in a number box must never start a study; only the button below does.
    with st.container(border=True):
        a, b, c = st.columns(3)
        metric = a.selectbox("Metric", metrics_for(task), format_func=lambda m: METRICS[m].label,
                             help="Direction follows the metric (maximise accuracy, minimise RMSE …).",
                             key="tune_metric")
        folds = b.number_input("Cross-validation folds", 2, 10, 3, key="tune_folds")
        n_trials = c.number_input("Trials (budget)", 1, 1000, 20, key="tune_trials")
        d, e, f = st.columns(3)
        sampler = d.selectbox("Sampler", SAMPLERS, format_func=SAMPLER_NAMES.get, key="tune_sampler")
        pruner = e.selectbox("Pruner", PRUNERS, format_func=PRUNER_NAMES.get,
                             help="Trials report their running CV score after each fold; bad ones stop early.",
                             key="tune_pruner")
        timeout = f.number_input("Time budget (s, 0 = none)", 0, 24 * 3600, 0, step=30, key="tune_timeout")
        name = ut.study_name_input(family, target)
        submitted = st.button("Start study", type="primary", icon=":material/play_arrow:", key="tune_start")
    if sampler == "grid" and space and not space_error:
        with user_errors():
            st.caption(f"Grid sampler: a grid of {grid_size(space)} point(s) is derived (categories as they are, "
                       f"3 points across each numeric range, geometric on log scales).")
    if not submitted:
        return
    if space_error:
        st.error(space_error, icon=":material/error:")
        return
    with user_errors():
        config = StudyConfig.create(project=project, data_run_id=version.run_id, target=target, task=task,
                                    family=family, metric=metric, space=space, study_name=name.strip(),
                                    n_trials=int(n_trials), cv_folds=int(folds), sampler=sampler, pruner=pruner,
                                    timeout_s=float(timeout) or None)
        from core.tune.objective import check_training_data

        check_training_data(y.dropna(), task, int(folds))
        create_or_load_study(config, storage, t)
        worker = start_worker(s, config.study_name, s.optuna_storage, seed=config.seed, project=project)
        ut.select_study(config.study_name)
        ut.study_started()
        st.toast(f"Study {config.study_name} started in worker process {worker.pid}.", icon=":material/rocket_launch:")
        st.rerun()


studies = _studies()
with st.expander("New study", expanded=not studies, icon=":material/add:"):
    new_study_form()

# -- 2. a study: live progress, stop / resume / register -----------------------------------------
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
    started = f" · started {x.datetime_start:%Y-%m-%d %H:%M}" if x.datetime_start else ""
    return f"{n}{started}"


def _fmt(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


name = st.selectbox("Study", names, key=ut.SELECTED, format_func=_label)


def _running_trials() -> int:
    try:
        study, _ = open_study(storage, name)
    except WorkbenchError:
        return 0
    return sum(t.state.name == "RUNNING" for t in study.get_trials(deepcopy=False))


# Poll while a worker of this workspace is alive or any trial runs (e.g. a CLI tune-worker elsewhere).
live = any(w.alive for w in list_workers(s, name)) or _running_trials() > 0


@st.fragment(run_every=2 if live else None)
def live_panel() -> None:
    try:
        study, config = open_study(storage, name)
        p = study_progress(study, config)
    except WorkbenchError as err:
        st.error(one_line(err), icon=":material/error:")
        return
    workers = list_workers(s, name)
    alive = [w for w in workers if w.alive]
    if live and not alive and p.n_running == 0:
        st.rerun()  # the study went quiet: leave polling mode
    st.caption(f"{FAMILY_NAMES[config.family]} · target `{config.target}` ({config.task}) · "
               f"{METRICS[config.metric].label} ({config.direction}) · {SAMPLER_NAMES[config.sampler]} sampler · "
               f"{PRUNER_NAMES[config.pruner]} pruner · {config.cv_folds}-fold CV")
    m = st.columns(5)
    m[0].metric("Complete", p.n_complete)
    m[1].metric("Pruned", p.n_pruned)
    m[2].metric("Failed", p.n_failed)
    m[3].metric("Running", p.n_running)
    m[4].metric(f"Best cv_{config.metric}", f"{p.best_value:.4f}" if p.best_value is not None else "—",
                help=f"Mean over the {config.cv_folds} folds (what Optuna optimises)."
                + (f" Trial {p.best_trial}: {p.best_params}" if p.best_trial is not None else ""))
    st.progress(p.fraction, text=f"{p.counted} of {config.n_trials} trials"
                + (f" · {len(alive)} worker(s) running" if alive else " · no worker running"))
    if p.best_trial is not None:
        st.markdown(f"**Best trial {p.best_trial}:** "
                    + ", ".join(f"`{k}` = {_fmt(v)}" for k, v in p.best_params.items()))
    b = st.columns(4)
    if alive:
        if b[0].button("Stop", icon=":material/stop:", key="tune_stop",
                       help="Signals the worker: the running trial is marked failed ('stopped'), its parameters "
                            "are queued again for a resume, finished trials are kept."):
            stopped = stop_workers(s, name)
            st.toast(f"Asked {len(stopped)} worker(s) to stop.")
        if b[1].button("Add a worker", icon=":material/add:", key="tune_add_worker",
                       help="One more process on the same study (Optuna's distributed mode)."):
            start_worker(s, name, s.optuna_storage, project=project)
            st.rerun()
    else:
        if p.budget_left > 0 and b[0].button("Resume", icon=":material/play_arrow:", key="tune_resume",
                                              help=f"{p.budget_left} trial(s) left in the budget."):
            start_worker(s, name, s.optuna_storage, project=project)
            st.rerun()
        if p.best_trial is not None and not p.model_version:
            if b[1].button("Register best model", icon=":material/inventory_2:", key="tune_register", type="primary"):
                with user_errors(), st.spinner("Refitting the best configuration on the training rows…"):
                    mv = finalize_study(config, storage, t)
                    partial = f", from {p.counted} of {config.n_trials} trials" if p.budget_left else ""
                    st.success(f"Registered {mv.name} v{mv.version} (trial {p.best_trial}{partial}).")
        if p.model_version:
            st.success(f"Best model registered as **{p.model_version.replace('/', ' v')}** — compare it in Compare.",
                       icon=":material/check_circle:")
    fig, why = study_figure(study, "history")
    if fig is not None:
        st.plotly_chart(fig, key="tune_history")
    else:
        st.caption(why)
    if workers:
        with st.expander("Worker log"):
            st.code(log_tail(workers[0], 25) or "(empty)", language=None)


live_panel()

# -- 3. understanding the study ------------------------------------------------------------------
st.subheader("Understand the study")
try:
    study, config = open_study(storage, name)
except WorkbenchError as err:
    st.error(one_line(err), icon=":material/error:")
    st.stop()
kind = st.segmented_control("View", list(FIGURES)[1:], format_func=FIGURES.get, default="importances",
                            key="tune_view") or "importances"
fig, why = study_figure(study, kind)
if fig is not None:
    st.plotly_chart(fig, key=f"tune_view_{kind}")
else:
    st.info(why, icon=":material/info:")

st.markdown("**Trials**")
f1, f2 = st.columns([3, 1])
states = f1.multiselect("States", ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"],
                        default=["COMPLETE", "PRUNED", "FAIL", "RUNNING"], key="tune_states")
best_k = f2.number_input("Best k (0 = all)", 0, 1000, 0, key="tune_best_k",
                         help="Keep only the k best complete trials.")
table = trials_frame(study, tuple(states) or None, int(best_k) or None)
if table.empty:
    st.caption("No trial matches these filters yet.")
else:
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={value_column(study): st.column_config.NumberColumn(format="%.4f"),
                                "duration_s": st.column_config.NumberColumn("duration (s)", format="%.2f")})
if not live and any(w.alive for w in list_workers(s, name)):
    st.rerun()
