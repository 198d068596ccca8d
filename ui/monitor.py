"""Streamlit glue for the Monitor page: session keys, cached loaders, the input and option widgets, the run.

Renderers live in :mod:`ui.monitor_render` (re-exported here), the result / report / history / retraining
sections in :mod:`ui.monitor_sections`; the flows themselves are one core call each
(:mod:`core.monitor.service`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from core.monitor.check import Table
from core.monitor.drift import TESTS, DriftOptions
from core.monitor.timeline import FREQS, time_columns
from ui.monitor_render import (  # noqa: F401 - the page's renderers, one import away
    columns_frame,
    overlay_figure,
    render_extras,
    render_findings,
    render_summary,
    render_timeline,
    runs_frame,
    show_report,
    timeline_figure,
)

RESULT = "monitor_result"      # dict: kind ('batch' | 'timeline'), result, current, raw, run_id, model
REPORT = "monitor_report"      # (run_id, html) of the Evidently report on show
OVERRIDES = "monitor_overrides"
GENERATION = "monitor_threshold_generation"  # bumped after a check: a threshold override lasts one check
TIMELINE = "Periods of a time column"
MODES = ["Dataset version", "Upload a file", TIMELINE]


@st.cache_data(show_spinner="Loading the table…", max_entries=8)
def cached_dataset(run_id: str, tracking_uri: str) -> pd.DataFrame:
    from core.tracking.datasets import load_dataset
    from ui.resources import tracker

    return load_dataset(tracker(), run_id)


@st.cache_data(show_spinner="Loading the raw table…", max_entries=8)
def cached_raw(run_id: str, tracking_uri: str) -> tuple[pd.DataFrame | None, str]:
    from core.monitor.service import raw_table
    from ui.resources import tracker

    return raw_table(tracker(), run_id)


@st.cache_data(show_spinner="Reading the upload…", max_entries=4)
def read_upload(name: str, data: bytes) -> pd.DataFrame:
    import io

    from core.errors import MonitorError

    try:
        if name.lower().endswith((".parquet", ".pq")):
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data))
    except Exception as err:  # noqa: BLE001 - an unreadable upload is bad input
        raise MonitorError(f"Cannot read {name}: {str(err).splitlines()[0][:200]}") from err


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def cached_model(name: str, version: int, tracking_uri: str) -> Any:
    from core.tracking.models import get_model_version, load_sklearn_model
    from ui.resources import tracker

    return load_sklearn_model(tracker(), get_model_version(tracker(), name, version))


def test_names() -> list[str]:
    return ["(Evidently default)", *TESTS]


def override_frame(columns: list[str]) -> pd.DataFrame:
    """The editable per-column override table (empty test / threshold = default)."""
    return pd.DataFrame({"column": [str(c) for c in columns], "test": [None] * len(columns),
                         "threshold": [None] * len(columns)})


def drift_options(share: float, method: str, threshold: float, overrides: pd.DataFrame) -> DriftOptions:
    """DriftOptions from the form's widgets (default entries left out)."""
    default = test_names()[0]
    per_method, per_threshold = {}, {}
    for row in overrides.itertuples(index=False):
        if row.test and row.test != default:
            per_method[row.column] = row.test
        if row.threshold is not None and pd.notna(row.threshold) and float(row.threshold) > 0:
            per_threshold[row.column] = float(row.threshold)
    return DriftOptions(method=None if method == default else method, threshold=threshold or None,
                        per_column_method=per_method, per_column_threshold=per_threshold, drift_share=share)


# -- the page's widgets -----------------------------------------------------------
@dataclass(frozen=True)
class Inputs:
    reference_version: Any
    reference: Table
    mode: str
    current: Table | None
    time_column: str | None = None
    freq: str | None = None


def choose_inputs(uri: str, versions: list, champion: Any) -> Inputs:
    """Section 1: the reference version and the current batch (version, upload or periods)."""
    left, right = st.columns(2)
    default_ref = champion.tags.get("workbench.data_version") if champion else None
    ref_index = next((i for i, v in enumerate(versions) if v.run_id == default_ref), 0)
    ref_v = left.selectbox("Reference", versions, index=ref_index, key="mon_ref", format_func=lambda v: v.label,
                           help="Default: the champion's training data.")
    mode = right.radio("Current", MODES, key="mon_mode", horizontal=True)
    reference = Table(cached_dataset(ref_v.run_id, uri), ref_v.label, ref_v.run_id, ref_v.target)
    if mode == "Dataset version":
        v = right.selectbox("Current version", versions, key="mon_cur", format_func=lambda v: v.label)
        return Inputs(ref_v, reference, mode, Table(cached_dataset(v.run_id, uri), v.label, v.run_id, v.target))
    if mode == "Upload a file":
        up = right.file_uploader("CSV or Parquet batch", type=["csv", "parquet"], key="mon_upload")
        return Inputs(ref_v, reference, mode, Table(read_upload(up.name, up.getvalue()), up.name) if up else None)
    v = right.selectbox("Time-stamped table", versions, key="mon_tl_table", format_func=lambda v: v.label,
                        index=ref_index)
    table = Table(cached_dataset(v.run_id, uri), v.label, v.run_id, v.target)
    candidates = time_columns(table.frame)
    if not candidates:
        right.warning("This table has no date column; pick another table or another kind of current batch.")
        return Inputs(ref_v, reference, mode, None)
    c1, c2 = right.columns(2)
    time_col = c1.selectbox("Time column", candidates, key="mon_time_col")
    freq = c2.selectbox("Period", list(FREQS), index=2, key="mon_freq")
    st.caption("The first period is the reference; every later period is checked against it.")
    return Inputs(ref_v, reference, mode, table, time_col, freq)


@dataclass(frozen=True)
class Options:
    drift: DriftOptions
    max_quality_drop: float
    source: str  # where the thresholds came from: "the charter", "the defaults", or overridden for this check
    multivariate: bool
    model: Any  # the registered version to score, or None


def options_form(inputs: Inputs, models: list, champion: Any, charter: Any, version_label: Any) -> Options:
    """The expander of tests and thresholds; the charter's thresholds are the defaults, overridable once."""
    from core.monitor.charter_checks import monitor_thresholds
    from ui import pickers

    base = monitor_thresholds(charter)
    gen = st.session_state.get(GENERATION, 0)
    model_choice = None
    with st.expander("Tests, thresholds and model", icon=":material/tune:"):
        st.caption(f"Drift share {base.drift_share:g} and quality drop {base.quality_drop:g} are from "
                   f"{base.source}" + (" — change them here for this check only; the charter stays as it is."
                                       if charter else " — write a charter on Plan to set them for the project."))
        with st.form("mon_options", border=False, enter_to_submit=False):
            o1, o2, o3, o4 = st.columns(4)
            share = o1.slider("Drift share for dataset drift", 0.01, 1.0, base.drift_share, 0.01,
                              key=f"mon_share_{base.drift_share}_{gen}", help=f"Default from {base.source}.")
            drop = o2.number_input("Quality drop for concept drift", 0.0, max(1.0, base.quality_drop),
                                   base.quality_drop, step=0.01, key=f"mon_drop_{base.quality_drop}_{gen}",
                                   help=f"Default from {base.source}.")
            method = o3.selectbox("Test for all columns", test_names(), key="mon_method")
            threshold = o4.number_input("Threshold for all columns (0 = the test's default)", 0.0, 10.0, 0.0,
                                        step=0.01, key="mon_threshold")
            cols = [c for c in inputs.reference.frame.columns if c != inputs.time_column]
            overrides = st.data_editor(
                override_frame(cols), key="mon_overrides", hide_index=True, width="stretch",
                placeholder="(as above)",  # an empty cell follows the choice for all columns
                column_config={"test": st.column_config.SelectboxColumn(options=test_names()),
                               "threshold": st.column_config.NumberColumn(min_value=0.0, step=0.01)},
                disabled=["column"])
            m1, m2 = st.columns(2)
            multivariate = m1.checkbox("Multivariate checks (domain classifier, clusters, autoencoder)", True,
                                       key="mon_multi")
            use_model = m2.checkbox("Score the model (prediction drift, quality)", champion is not None,
                                    key="mon_use_model")
            st.form_submit_button("Apply")
        if models:
            model_choice = st.selectbox("Model", models, format_func=lambda m: f"{m.name} {version_label(m)}",
                                        key=pickers.picker_key("mon_model", models, lambda m: m.label,
                                                               ident=lambda m: (m.name, m.version)),
                                        index=next((i for i, m in enumerate(models) if m is champion), 0))
    changed = abs(share - base.drift_share) > 1e-9 or abs(drop - base.quality_drop) > 1e-9
    source = f"this check (overriding {base.source})" if changed else base.source
    return Options(drift_options(share, method, threshold, overrides), float(drop), source, multivariate,
                   model_choice if use_model else None)


def run(t: Any, project: str, inputs: Inputs, opts: Options, charter: Any) -> None:
    """*Run the check*: one core call (batch or timeline), its result kept in the session."""
    from core.monitor.service import ModelInput, check_and_record, timeline_and_record

    uri = t.settings.tracking_uri
    mv = opts.model
    model = ModelInput.of(mv, cached_model(mv.name, mv.version, uri), inputs.reference.target) if mv else None
    st.session_state.pop(RESULT, None)  # a check that fails must not leave the previous one's verdict on screen
    with st.status("Checking…", expanded=True) as status:
        if inputs.mode == TIMELINE:
            timeline, run_id = timeline_and_record(
                t, project, inputs.current, inputs.time_column, inputs.freq, options=opts.drift, model=model,
                charter=charter, autoencoder=opts.multivariate,
                on_progress=lambda i, n, label: status.write(f"Period {label} ({i}/{n})"))
            st.session_state[RESULT] = {"kind": "timeline", "timeline": timeline, "current": inputs.current,
                                        "run_id": run_id}
        else:
            out = check_and_record(t, project, inputs.reference, inputs.current, options=opts.drift, model=model,
                                   multivariate=opts.multivariate, max_quality_drop=opts.max_quality_drop,
                                   charter=charter, thresholds_from=opts.source, on_progress=status.write)
            st.session_state[RESULT] = {"kind": "batch", "result": out.result, "current": out.current,
                                        "raw": inputs.current, "run_id": out.run_id, "model": mv}
        st.session_state.pop(REPORT, None)
        status.update(label="Check recorded in MLflow.", state="complete", expanded=False)
    # a threshold override lasts one check: new widget keys, drawn again at once (the result is in the session)
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1
    st.rerun()
