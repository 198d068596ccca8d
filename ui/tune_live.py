"""The Tune page's study view: live counters and controls, "Understand the study" and the Trials table.

Everything in it is drawn from one :func:`core.tune.live.snapshot_study` per refresh, inside one fragment
that polls while the study runs, so the counters, the figures and the table never disagree.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import WorkbenchError, one_line
from core.models import FAMILY_NAMES
from core.tune.inspect import FIGURES, study_figure, trials_frame, value_column
from core.tune.live import StudySnapshot, snapshot_study
from core.tune.metrics import METRICS
from core.tune.study import finalize_study
from core.tune.worker import list_workers, log_tail, start_worker, stop_workers
from ui.feedback import user_errors
from ui.tables import show_table
from ui.tune import PRUNER_NAMES, SAMPLER_NAMES, UNDERSTAND_OPEN

STATES = ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"]


def _fmt(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def running_trials(storage: Any, name: str) -> int:
    """Trials of ``name`` running anywhere (a CLI worker on another machine too); 0 when unreadable."""
    from core.tune.study import open_study

    try:
        study, _ = open_study(storage, name)
    except WorkbenchError:
        return 0
    return sum(t.state.name == "RUNNING" for t in study.get_trials(deepcopy=False))


def _counters(snap: StudySnapshot, alive: list) -> None:
    p, config = snap.progress, snap.config
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


def _controls(snap: StudySnapshot, alive: list, settings: Any, storage: Any, tracker: Any, project: str) -> None:
    p, config, name = snap.progress, snap.config, snap.config.study_name
    b = st.columns(4)
    if alive:
        if b[0].button("Stop", icon=":material/stop:", key="tune_stop",
                       help="Signals the worker: the running trial is marked failed ('stopped'), its parameters "
                            "are queued again for a resume, finished trials are kept."):
            stopped = stop_workers(settings, name)
            st.toast(f"Asked {len(stopped)} worker(s) to stop.")
        if b[1].button("Add a worker", icon=":material/add:", key="tune_add_worker",
                       help="One more process on the same study (Optuna's distributed mode)."):
            start_worker(settings, name, settings.optuna_storage, project=project)
            st.rerun()
        return
    if p.budget_left > 0 and b[0].button("Resume", icon=":material/play_arrow:", key="tune_resume",
                                          help=f"{p.budget_left} trial(s) left in the budget."):
        start_worker(settings, name, settings.optuna_storage, project=project)
        st.rerun()
    if p.best_trial is not None and not p.model_version:
        if b[1].button("Register best model", icon=":material/inventory_2:", key="tune_register", type="primary"):
            with user_errors(), st.spinner("Refitting the best configuration on the training rows…"):
                mv = finalize_study(config, storage, tracker)
                partial = f", from {p.counted} of {config.n_trials} trials" if p.budget_left else ""
                st.success(f"Registered {mv.name} v{mv.version} (trial {p.best_trial}{partial}).")
    if p.model_version:
        st.success(f"Best model registered as **{p.model_version.replace('/', ' v')}** — compare it in Compare.",
                   icon=":material/check_circle:")


@st.cache_data(show_spinner=False, max_entries=16)
def _figure(_study: Any, name: str, kind: str, fingerprint: tuple) -> tuple[Any, str]:
    return study_figure(_study, kind)


def _understand(snap: StudySnapshot) -> None:
    # closed by default and lazy (on_change="rerun"): the default view, parameter importances, fits a forest
    # (and imports scikit-learn) — seconds that a first render of the page must not spend
    box = st.expander("Understand the study", icon=":material/insights:", key=UNDERSTAND_OPEN, on_change="rerun")
    if box.open:
        with box:
            _understand_view(snap)


def _understand_view(snap: StudySnapshot) -> None:
    kind = st.segmented_control("View", list(FIGURES)[1:], format_func=FIGURES.get, default="importances",
                                key="tune_view") or "importances"
    trials = snap.study.get_trials(deepcopy=False)
    # the figure changes only when a trial changes state or reports a fold: polled every 2 s, it is drawn
    # again only then (parameter importances fit a forest each time)
    fingerprint = tuple((t.number, t.state.name, len(t.intermediate_values)) for t in trials)
    fig, why = _figure(snap.study, snap.config.study_name, kind, fingerprint)
    if fig is not None:
        st.plotly_chart(fig, key=f"tune_view_{kind}")
    else:
        st.info(why, icon=":material/info:")


def _trials(snap: StudySnapshot) -> None:
    st.markdown("**Trials**")
    f1, f2 = st.columns([3, 1])
    states = f1.multiselect("States", STATES, default=STATES[:4], key="tune_states")
    best_k = f2.number_input("Best k (0 = all)", 0, 1000, 0, key="tune_best_k",
                             help="Keep only the k best complete trials.")
    table = trials_frame(snap.study, tuple(states) or None, int(best_k) or None)
    if table.empty:
        st.caption("No trial matches these filters yet.")
        return
    column = value_column(snap.study)
    # one column per searched parameter: the table may scroll sideways, the trial number stays in view
    show_table(table.rename(columns={"duration_s": "duration (s)"}), key="tune_trials_table", scroll=True,
               pinned=("trial",), formats={column: "%.4f", "duration (s)": "%.2f"})


def study_view(name: str, live: bool, settings: Any, storage: Any, tracker: Any, project: str) -> None:
    """The whole study view as one fragment: polled every 2 s while ``live``, one snapshot per run."""

    @st.fragment(run_every=2 if live else None)
    def _view() -> None:
        try:
            snap = snapshot_study(storage, name)
        except WorkbenchError as err:
            st.error(one_line(err), icon=":material/error:")
            return
        workers = list_workers(settings, name)
        alive = [w for w in workers if w.alive]
        if live and not alive and snap.progress.n_running == 0:
            st.rerun()  # the study went quiet: leave polling mode
        _counters(snap, alive)
        _controls(snap, alive, settings, storage, tracker, project)
        fig, why = study_figure(snap.study, "history")
        if fig is not None:
            st.plotly_chart(fig, key="tune_history")
        else:
            st.caption(why)
        if workers:
            with st.expander("Worker log"):
                st.code(log_tail(workers[0], 25) or "(empty)", language=None)
        _understand(snap)
        _trials(snap)

    _view()
