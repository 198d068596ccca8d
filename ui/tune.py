"""Streamlit glue for the Tune page: cached storage, the search-space editor, session keys."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from core.errors import TuneError
from core.tune.space import ParamSpec, parse_space

SAMPLER_NAMES = {"tpe": "TPE", "random": "Random", "grid": "Grid", "cmaes": "CMA-ES", "gp": "Gaussian process"}
PRUNER_NAMES = {"median": "Median", "sh": "Successive halving", "hyperband": "Hyperband", "none": "None"}
SELECTED = "tune_selected_study"  # the study shown in the live panel
NEW_OPEN = "tune_new_study_open"  # bool: the "New study" expander is open (only then its form runs)
UNDERSTAND_OPEN = "tune_understand_open"  # bool: "Understand the study" is open (only then a figure is drawn)
KINDS = ["float", "int", "categorical", "fixed"]
STUDY_NAME = "tune_study_name"  # the study-name box
_AUTO_NAME = "tune_study_name_auto"  # the name last proposed (the box still holding it = not typed by the person)
_STAMP = "tune_study_stamp"  # the time stamp of the proposed names, fixed until a study starts


@st.cache_resource(show_spinner=False)
def _storage(url: str) -> Any:
    from core.tune.storage import make_storage

    return make_storage(url)


def storage(url: str) -> Any:
    """One Optuna storage object per URL for this server process (a TuneError is not cached)."""
    return _storage(url)


@st.cache_data(show_spinner="Reading the dataset version…", max_entries=8)
def dataset_frame(run_id: str, part: str) -> Any:
    from core.tracking.datasets import load_dataset
    from ui.resources import tracker

    return load_dataset(tracker(), run_id, part=part)


def selected_study() -> str | None:
    return st.session_state.get(SELECTED)


def select_study(name: str) -> None:
    st.session_state[SELECTED] = name


def study_name_input(family: str, target: str) -> str:
    """The study-name box: it follows the current family and target on every rerun until the person types a name.

    A name the person typed is kept; an emptied box gets the proposal again.
    """
    from datetime import datetime

    from core.tune.study import default_study_name

    stamp = st.session_state.setdefault(_STAMP, f"{datetime.now():%Y%m%d-%H%M%S}")
    proposed = default_study_name(family, target, stamp)
    current = st.session_state.get(STUDY_NAME)
    if current is None or not str(current).strip() or current == st.session_state.get(_AUTO_NAME):
        st.session_state[STUDY_NAME] = proposed
    st.session_state[_AUTO_NAME] = proposed
    return st.text_input("Study name", max_chars=120, key=STUDY_NAME,
                         help="Letters, digits, . _ : -. Proposed from the family and target; "
                              "an existing name resumes that study.")


def study_started() -> None:
    """A study was started: the next proposed name gets a fresh time stamp."""
    st.session_state.pop(_STAMP, None)


# -- search-space editor ------------------------------------------------------
def _fmt(value: Any) -> str:
    return "" if value is None else json.dumps(value) if not isinstance(value, str) else value


def space_rows(space: dict[str, ParamSpec]) -> list[dict[str, Any]]:
    """A space as editable rows (choices as comma-separated text, fixed value as text)."""
    return [{"parameter": s.name, "kind": s.kind, "low": s.low, "high": s.high, "log": bool(s.log),
             "choices": ", ".join(_fmt(c) for c in s.choices), "value": _fmt(s.value) if s.kind == "fixed" else ""}
            for s in space.values()]


def _literal(text: str) -> Any:
    text = str(text).strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


def rows_to_space(rows: list[dict[str, Any]]) -> dict[str, ParamSpec]:
    """Rows from the editor back to a space (validated later by the core)."""
    raw: dict[str, Any] = {}
    for row in rows:
        name = str(row.get("parameter") or "").strip()
        if not name:
            continue
        kind = row.get("kind") or "float"
        if name in raw:
            raise TuneError(f"Parameter {name!r} appears twice in the search space; keep one row.")
        if kind in ("float", "int"):
            if row.get("low") is None or row.get("high") is None or row.get("low") != row.get("low"):
                raise TuneError(f"Parameter {name!r} ({kind}) needs both low and high.")
            raw[name] = {"kind": kind, "low": row["low"], "high": row["high"], "log": bool(row.get("log"))}
        elif kind == "categorical":
            text = str(row.get("choices") or "")
            raw[name] = {"kind": "categorical", "choices": [_literal(c) for c in text.split(",") if c.strip()]}
        else:
            raw[name] = {"kind": "fixed", "value": _literal(row.get("value") or "null")}
    return parse_space(raw)


def space_editor(space: dict[str, ParamSpec], key: str) -> dict[str, ParamSpec]:
    """An editable table of the space; returns the edited (unvalidated) space."""
    import pandas as pd

    frame = pd.DataFrame(space_rows(space), columns=["parameter", "kind", "low", "high", "log", "choices", "value"])
    edited = st.data_editor(
        frame, key=key, num_rows="dynamic", hide_index=True, width="stretch",
        column_config={
            "parameter": st.column_config.TextColumn("Parameter", required=True),
            "kind": st.column_config.SelectboxColumn("Kind", options=KINDS, required=True),
            "low": st.column_config.NumberColumn("Low", format="%g"),
            "high": st.column_config.NumberColumn("High", format="%g"),
            "log": st.column_config.CheckboxColumn("Log scale"),
            "choices": st.column_config.TextColumn("Choices (comma-separated)"),
            "value": st.column_config.TextColumn("Fixed value"),
        },
    )
    rows = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
            for r in edited.to_dict("records")]
    return rows_to_space(rows)


# -- the new-study form ---------------------------------------------------------
def new_study_form(tracker: Any, settings: Any, storage: Any, project: str) -> None:
    """Dataset version, target, task, family, search space and budget; the button starts a worker."""
    from core.errors import WorkbenchError, one_line
    from core.models import FAMILIES, FAMILY_NAMES, infer_task
    from core.tune.live import start_study
    from core.tune.metrics import METRICS, metrics_for
    from core.tune.space import default_space, grid_size
    from core.tune.study import PRUNERS, SAMPLERS, StudyConfig
    from ui.feedback import empty_state, user_errors
    from ui.pickers import dataset_picker

    version = dataset_picker(tracker, project, key="tune_dataset")
    if version is None:
        empty_state("No dataset version in this project yet: save one in **Data** (or label one), then tune here.",
                    "pages/data.py", "Open Data")
        return
    frame = dataset_frame(version.run_id, "train" if version.has_split else "all")
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
        space = space_editor(default_space(family, task), key=space_key)
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
        name = study_name_input(family, target)
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
        worker = start_study(settings, storage, tracker, config, y)
        select_study(config.study_name)
        study_started()
        st.toast(f"Study {config.study_name} started in worker process {worker.pid}.", icon=":material/rocket_launch:")
        st.rerun()
