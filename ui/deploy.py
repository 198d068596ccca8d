"""Streamlit glue of the Deploy page: session keys, the version picker and the result panels."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from core.deploy.service import DeployOutcome, RecordResult
from core.tracking import Tracker
from core.tracking.models import ModelVersionInfo, model_versions
from ui.pickers import picker_key

OUTCOME = "wb_deploy_outcome"
RECORDED = "wb_deploy_recorded"


def sklearn_versions(tracker: Tracker, name: str) -> list[ModelVersionInfo]:
    """Registered versions that are scikit-learn models (ONNX exports are not exported again)."""
    return model_versions(tracker, name, sklearn_only=True)


def version_picker(versions: list[ModelVersionInfo], key: str) -> ModelVersionInfo:
    """Versions newest first, the champion preselected."""
    index = next((i for i, v in enumerate(versions) if "champion" in v.aliases), 0)

    def fmt(v: ModelVersionInfo) -> str:
        from ui.jobs import version_label
        from ui.resources import tracker

        return f"{v.name} {version_label(tracker(), v)}"

    return st.selectbox("Model version or alias", versions, index=index, format_func=fmt,
                        key=picker_key(key, versions, fmt, ident=lambda v: (v.name, v.version)))  # aliases move


def out_dir(home: Path, mv: ModelVersionInfo) -> Path:
    return home / "deploy" / f"{mv.name}-v{mv.version}-{time.strftime('%Y%m%d-%H%M%S')}"


def outcome() -> DeployOutcome | None:
    return st.session_state.get(OUTCOME)


def set_outcome(value: DeployOutcome | None) -> None:
    st.session_state[OUTCOME] = value
    st.session_state[RECORDED] = None


def recorded() -> RecordResult | None:
    return st.session_state.get(RECORDED)


def render_parity(o: DeployOutcome) -> None:
    p = o.parity
    if p.equivalent:
        st.success(p.verdict, icon=":material/check_circle:")
    else:
        st.error(p.verdict, icon=":material/warning:")
    c = st.columns(4)
    c[0].metric("Label agreement", "—" if p.label_agreement is None else f"{p.label_agreement:.2%}")
    c[1].metric("Max abs diff", f"{p.max_abs_diff:.2e}",
                help="Probabilities (classification) or outputs (regression); tolerance "
                     f"{p.tolerance:g}" + (" relative to max(1, |output|)" if p.task == "regression" else ""))
    c[2].metric("Mean abs diff", f"{p.mean_abs_diff:.2e}")
    c[3].metric("Rows differing", f"{p.n_differing:,} / {p.rows:,}")
    st.caption(f"Checked on {p.data}.")
    rows = [{"check": f"max difference ≤ {p.tolerance:g}", "result": p.max_rel_diff <= p.tolerance}]
    if p.label_agreement is not None:  # classification only
        rows.insert(0, {"check": "labels agree on every row", "result": p.label_agreement == 1.0})
    table = pd.DataFrame(rows)
    table["result"] = table["result"].map(lambda v: "pass" if v is True else ("fail" if v is False else v))
    st.table(table.set_index("check"))
    if p.causes:
        st.markdown("**Likely cause:** " + "; ".join(p.causes))
    if p.differing:
        st.markdown(f"**Rows that differ** (first {len(p.differing)} of {p.n_differing:,})")
        st.dataframe(pd.DataFrame(list(p.differing)), hide_index=True, width="stretch")


def render_latency(o: DeployOutcome) -> None:
    lat = o.latency
    table = pd.DataFrame(lat.rows()).set_index("runtime")
    timings = [c for c in table.columns if c.endswith("ms") or "ms (" in c]
    st.table(table.style.format({**{c: "{:.3f}" for c in timings}, "size bytes": "{:,}"}))
    st.caption(f"onnxruntime is {lat.single_speedup:.1f}× faster per row (p50) and {lat.batch_speedup:.1f}× on "
               f"{lat.batch_rows:,} rows; both single-threaded, calls interleaved. Sizes: ONNX "
               f"{lat.onnx_bytes:,} bytes, scikit-learn (skops) {lat.sklearn_bytes:,} bytes.")
    if o.quantize is not None:
        q = o.quantize
        (st.success if q.helps else st.info)(f"Quantization: {q.reason}", icon=":material/compress:")
        rows = [{"model": "float32", "bytes": q.bytes_before, q.metric: q.score_before},
                {"model": "int8 (dynamic)", "bytes": q.bytes_after, q.metric: q.score_after}]
        st.table(pd.DataFrame(rows).set_index("model"))


def render_recipe(o: DeployOutcome) -> None:
    e = o.export
    if not e.recipe_included and not e.recipe_outside:
        st.caption("No cleaning recipe with this model's data version: the ONNX model takes the model's columns.")
        return
    if e.recipe_included:
        st.markdown("**Inside the ONNX model:** " + ", ".join(e.recipe_included))
    if e.recipe_outside:
        st.markdown("**Not in the model** (run before it, or training only):")
        st.dataframe(pd.DataFrame(e.recipe_outside, columns=["step", "why"]), hide_index=True, width="stretch")
