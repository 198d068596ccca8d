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


@st.cache_data(ttl=600, show_spinner=False, max_entries=32)
def _versions(store: str, name: str, onnx: bool, stamp: tuple, _tracker: Tracker) -> list[ModelVersionInfo]:
    from core.tracking.deploy import onnx_versions

    return onnx_versions(_tracker, name) if onnx else model_versions(_tracker, name, sklearn_only=True)


def _cached_versions(tracker: Tracker, name: str, onnx: bool) -> list[ModelVersionInfo]:
    from ui.cache import store_stamp

    uri = tracker.settings.tracking_uri
    return _versions(uri, name, onnx, store_stamp(uri), tracker)


def sklearn_versions(tracker: Tracker, name: str) -> list[ModelVersionInfo]:
    """Registered versions that are scikit-learn models (ONNX exports are not exported again); read once per
    write to the store."""
    return _cached_versions(tracker, name, onnx=False)


def onnx_exports(tracker: Tracker, name: str) -> list[ModelVersionInfo]:
    """The ONNX exports of ``name`` (:func:`core.tracking.deploy.onnx_versions`), read once per write."""
    return _cached_versions(tracker, name, onnx=True)


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


def speed_words(speedup: float) -> str:
    """``2.0`` → "2.0× faster", ``0.5`` → "2.0× slower" (a ratio under 1 is not "0.5× faster")."""
    if speedup >= 1:
        return f"{speedup:.1f}× faster"
    return f"{1 / speedup:.1f}× slower" if speedup > 0 else "slower"


def render_latency(o: DeployOutcome) -> None:
    lat = o.latency
    table = pd.DataFrame(lat.rows()).set_index("runtime")
    timings = [c for c in table.columns if c.endswith("ms") or "ms (" in c]
    st.table(table.style.format({**{c: "{:.3f}" for c in timings}, "size bytes": "{:,}"}))
    st.caption(f"onnxruntime is {speed_words(lat.single_speedup)} per row (p50) and {speed_words(lat.batch_speedup)} "
               f"on {lat.batch_rows:,} rows; both single-threaded, calls interleaved. Sizes: ONNX "
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


COMPRESSION = "wb_deploy_compression"  # (source version label, CompressionReport)
COMPRESSED = "wb_deploy_compressed"  # ModelVersionInfo of the registered variant


def run_compression(tracker: Tracker, project: str, o: DeployOutcome) -> None:
    """*Compare pruning and distillation*: one core call, the report kept in the session."""
    from core.deploy.compress import compress_version

    with st.spinner("Pruning, distilling, exporting and timing each variant …"):
        mv, report = compress_version(tracker, project, f"{o.source.name}/{o.source.version}")
    st.session_state[COMPRESSION] = (mv, report)
    st.session_state[COMPRESSED] = None


def pareto_figure(report) -> object:  # noqa: ANN001
    """Held-out score against single-row latency; marker area ∝ ONNX size; the Pareto front joined."""
    import plotly.graph_objects as go

    vs = list(report.variants)
    fig = go.Figure()
    front = sorted((v for v in vs if v.pareto), key=lambda v: v.p50_ms)
    fig.add_scatter(x=[v.p50_ms for v in front], y=[v.score for v in front], mode="lines", name="Pareto front",
                    line=dict(dash="dot", color="gray"))
    biggest = max(v.size_bytes for v in vs) or 1
    fig.add_scatter(x=[v.p50_ms for v in vs], y=[v.score for v in vs], mode="markers+text", name="variants",
                    text=[v.name for v in vs], textposition="top center",
                    marker=dict(size=[12 + 30 * (v.size_bytes / biggest) ** 0.5 for v in vs],
                                color=["#d62728" if v.pareto else "#1f77b4" for v in vs], opacity=0.7),
                    customdata=[[v.size_bytes] for v in vs],
                    hovertemplate="%{text}<br>p50 %{x:.3f} ms<br>score %{y:.4f}<br>%{customdata[0]:,} bytes")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      xaxis_title="single-row p50 ms (serving path)", yaxis_title=f"held-out {report.metric}")
    return fig


def render_compression(tracker: Tracker, project: str) -> None:
    """Table, Pareto plot and *register the chosen variant* (as a version of the teacher's model)."""
    from core.deploy.compress import register_variant
    from core.errors import WorkbenchError, one_line

    found = st.session_state.get(COMPRESSION)
    if not found:
        return
    teacher, report = found
    st.dataframe(pd.DataFrame(report.rows()), hide_index=True, width="stretch",
                 column_config={"ONNX bytes": st.column_config.NumberColumn(format="%d")})
    st.plotly_chart(pareto_figure(report), key="wb_deploy_pareto")
    st.caption(f"Scored on the {report.test_rows:,} held-out test rows; trees were chosen on a validation part of "
               f"{report.validation_rows:,} training rows. ★ = Pareto-optimal (no variant is better on score, size "
               "and p50 at once). " + " ".join(report.notes))
    new = [v.name for v in report.variants if v.kind in ("pruned", "student")]
    if not new:
        return
    done = st.session_state.get(COMPRESSED)
    if done is not None:
        st.success(f"Registered {done.label}, linked to its teacher {teacher.label} (tag workbench.teacher_version)."
                   " Export it above like any version.", icon=":material/check_circle:")
        return
    pareto = [v.name for v in report.variants if v.pareto and v.name in new]
    choice = st.selectbox("Variant to register", new, index=new.index(pareto[0]) if pareto else 0,
                          key="wb_deploy_variant")
    if st.button("Register as a new version", key="wb_deploy_register_variant", icon=":material/inventory_2:"):
        try:
            st.session_state[COMPRESSED] = register_variant(tracker, project, teacher, report.variant(choice),
                                                            report.sample)
            st.rerun()
        except WorkbenchError as err:
            st.error(one_line(err), icon=":material/error:")
