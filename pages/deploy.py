"""Deploy: export a registered model to ONNX, prove parity, measure it, register it, download the bundle."""

from __future__ import annotations

import streamlit as st

from core.deploy.service import prepare_export, record_export
from core.errors import WorkbenchError, one_line
from ui import deploy as ui
from ui import mlflow_links as links
from ui.feedback import empty_state, user_errors
from ui.resources import settings, tracker
from ui.state import current_project

project = current_project()
st.title("Deploy")
st.caption("Export a registered model to ONNX, prove it predicts the same as scikit-learn, see what it gains, "
           "and download a bundle a service can run without pickle.")

with user_errors():
    t = tracker()
    from ui.jobs import model_picker

    model_name = model_picker(t, project, key="wb_deploy_job")
    versions = ui.sklearn_versions(t, model_name) if model_name else []
    if not versions:
        empty_state(f"Project **{project}** has no registered model yet. Train and register one in **Tune** "
                    "(it needs a dataset version from **Data**), then come back to export it.")
        st.stop()

    with st.form("wb_deploy_form", border=True, enter_to_submit=False):
        left, right = st.columns([2, 1])
        with left:
            mv = ui.version_picker(versions, key="wb_deploy_version")
        with right:
            quantize = st.toggle("Quantize (dynamic int8)", key="wb_deploy_quantize",
                                 help="Ships the int8 model when it is ≥ 5 % smaller; helps MLPs, not trees.")
            with_recipe = st.toggle("Include cleaning steps", value=True, key="wb_deploy_recipe",
                                    help="Put the data version's graph-able cleaning steps inside the ONNX model.")
        with st.expander("Measurement options"):
            c1, c2 = st.columns(2)
            calls = c1.number_input("Single-row calls", 20, 5000, 200, step=20, key="wb_deploy_calls")
            batch = c2.selectbox("Batch rows", [1_000, 10_000, 50_000], index=1, key="wb_deploy_batch")
        go = st.form_submit_button("Export to ONNX", type="primary", icon=":material/rocket_launch:")

    exports = ui.onnx_exports(t, mv.name)  # '<model>.onnx' versions, and older stores' exports inside the model
    if exports:
        with st.expander(f"ONNX exports of {mv.name} ({len(exports)})", icon=":material/inventory_2:"):
            st.dataframe([{"version": e.label, "source version": e.tags.get("workbench.source_version", "?"),
                           "parity": e.tags.get("workbench.parity", ""), "MLflow": links.for_version(t, e)}
                          for e in exports], hide_index=True, width="stretch", column_config=links.link_column_config())

    if go:
        ui.set_outcome(None)
        with st.status(f"Exporting {mv.label} …", expanded=True) as status:
            try:
                result = prepare_export(t, project, f"{mv.name}/{mv.version}", ui.out_dir(settings().home, mv),
                                        quantize=quantize, with_recipe=with_recipe, calls=int(calls),
                                        batch_rows=int(batch), on_progress=status.write)
            except WorkbenchError as err:
                status.update(label=f"Export failed: {one_line(err)}", state="error")
                raise
            ui.set_outcome(result)
            verdict = "equivalent" if result.parity.equivalent else "NOT equivalent"
            status.update(label=f"Exported {mv.label}: {verdict}", state="complete", expanded=False)

    o = ui.outcome()
    if o is None:
        st.info("Pick a version (the champion is preselected) and export it.", icon=":material/info:")
        st.stop()

    st.subheader(f"Parity — {o.source.label}")
    ui.render_parity(o)
    st.subheader("Latency and size")
    ui.render_latency(o)
    st.subheader("Cleaning steps")
    ui.render_recipe(o)

    st.subheader("Compression: pruning and distillation")
    st.caption("Prune a forest to its best trees (chosen on a validation part of the training rows) or distil the "
               "model into a small student; each is scored on the held-out test rows next to the original and int8.")
    if st.button("Compare pruning and distillation", key="wb_deploy_compress", icon=":material/compress:"):
        ui.run_compression(t, project, o)
    ui.render_compression(t, project)

    st.subheader("Record and download")
    done = ui.recorded()
    # a non-equivalent export is neither registered nor downloaded until the listed differences are acknowledged
    ack = o.parity.equivalent or st.checkbox(
        "I have read the differences above and accept this non-equivalent export (register / download).",
        key="wb_deploy_ack")
    if done is not None:
        run_ref = links.markdown(f"`{done.run_id}`", links.for_run(t, project, done.run_id))
        st.success(f"{done.message} Deploy run {run_ref}.", icon=":material/check_circle:")
    elif st.button("Record in MLflow and register", disabled=not ack, icon=":material/inventory_2:",
                   key="wb_deploy_record"):
        with st.spinner("Logging the ONNX model, metrics and bundle …"):
            st.session_state[ui.RECORDED] = record_export(t, project, o, acknowledged=not o.parity.equivalent and ack)
        st.rerun()
    st.download_button("Download bundle (zip)", data=o.bundle.read_bytes(), disabled=not ack,
                       file_name=f"{o.source.name}-v{o.source.version}-onnx-bundle.zip", mime="application/zip",
                       icon=":material/download:", key="wb_deploy_download")
    if not ack:
        st.caption("Download is off: this export does not predict like the scikit-learn model (see the differences "
                   "above). Tick the acknowledgement to enable it.")
    st.caption("model.onnx · schema.json · serve.py (Starlette on uvicorn + onnxruntime, prediction log) · "
               "serve_log.py · requirements.txt · Dockerfile · README.md · MODEL_CARD.md · parity.json")
