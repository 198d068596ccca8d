"""Compare: runs side by side, evaluation on held-out data, the promotion gate, shadow and A/B."""

from __future__ import annotations

import streamlit as st

from core.compare import abtest, gate, runs
from core.compare.shadow import run_shadow
from core.tracking.datasets import dataset_versions, load_dataset
from core.tracking.models import model_versions
from ui import compare as ui
from ui.feedback import empty_state, user_errors
from ui.pickers import dataset_picker, picker_key
from ui.resources import tracker
from ui.state import current_project

project = current_project()
st.title("Compare")
st.caption(f"Project **{project}** — which model should serve? Evaluate versions on the same held-out rows, "
           "promote through the gate, replay a batch in shadow, analyse an A/B split. Every analysis is an "
           "MLflow run of stage `compare`.")

with user_errors():
    t = tracker()
    from ui.jobs import model_picker

    model_name = model_picker(t, project, key="cmp_model")
    # ONNX exports are Deploy's, not comparable here
    versions = model_versions(t, model_name, sklearn_only=True) if model_name else []
    from ui.jobs import version_label

    labels = {mv.version: version_label(t, mv) for mv in versions}
    tab_runs, tab_side, tab_gate, tab_shadow, tab_ab = st.tabs(
        ["Runs", "Side by side", "Champion / challenger", "Shadow", "A/B test"])

    # -- runs table ---------------------------------------------------------
    with tab_runs, user_errors():
        table = runs.runs_table(t, project)
        if table.empty:
            empty_state("No runs yet in this project. Save a dataset version in Data, then run a study in Tune.",
                        "pages/data.py", "Go to Data")
        else:
            c1, c2, c3, c4 = st.columns(4)
            stage = c1.selectbox("Stage", ["(all)", *sorted(set(table["stage"]) - {""})], key="cmp_f_stage")
            datas = {v.run_id: v.label for v in dataset_versions(t, project)}
            data_filter = c2.selectbox("Dataset version", ["(all)", *datas], key="cmp_f_data",
                                       format_func=lambda r: datas.get(r, r))
            family = c3.selectbox("Model family", ["(all)", *sorted(set(table["family"]) - {""})], key="cmp_f_family")
            tag = c4.text_input("Tag", key="cmp_f_tag", placeholder="key=value",
                                help="Keep runs with this tag, e.g. workbench.compare.kind=gate")
            shown = runs.filter_runs(table, stage=None if stage == "(all)" else stage,
                                     data_version=None if data_filter == "(all)" else data_filter,
                                     family=None if family == "(all)" else family, tag=tag or None)
            metric_cols = sorted(c.removeprefix("metrics.") for c in shown.columns
                                 if c.startswith("metrics.") and shown[c].notna().any())
            c5, c6 = st.columns([3, 1])
            sort_by = c5.selectbox("Sort by metric (best first)", ["(newest first)", *metric_cols], key="cmp_sort")
            only_diff = c6.toggle("Only params that differ", value=True, key="cmp_only_diff")
            if sort_by != "(newest first)":
                shown = runs.sort_runs(shown, sort_by)
            if only_diff:
                shown = runs.differing_params(shown)
            shown = shown.dropna(axis=1, how="all")
            st.caption(f"{len(shown):,} of {len(table):,} runs")
            st.dataframe(shown, hide_index=True, key="cmp_runs_table",
                         column_config={"start": st.column_config.DatetimeColumn("start", format="YYYY-MM-DD HH:mm")})
            params = runs.numeric_params(shown)
            if len(shown) >= 2 and not params.empty and metric_cols:
                from core.compare.figures import parallel_figure

                default = sort_by if sort_by in metric_cols else metric_cols[0]
                pc_metric = st.selectbox("Parallel coordinates: colour by", metric_cols,
                                         index=metric_cols.index(default), key="cmp_pc_metric")
                values = shown.get(f"metrics.{pc_metric}")
                if values is not None and values.notna().sum() >= 2:
                    st.plotly_chart(parallel_figure(params, values, pc_metric), key="cmp_parallel")

    # -- side by side --------------------------------------------------------
    with tab_side, user_errors():
        if not versions:
            empty_state("No registered model yet: run a study in Tune (it registers the best trials), then compare "
                        "versions here.", "pages/tune.py", "Go to Tune")
        else:
            default = [mv.version for mv in versions if mv.aliases][:2] or [mv.version for mv in versions[:2]]
            chosen = st.multiselect("Model versions", list(labels), default=default, format_func=labels.get,
                                    key=picker_key("cmp_versions", labels, labels.get))
            first = next((mv for mv in versions if mv.version in chosen), None)
            data = dataset_picker(t, project, key="cmp_data", label="Evaluation data (its test part when split)",
                                  default_run_id=first.tags.get("workbench.data_version") if first else None)
            importance = st.toggle("Permutation importance", value=True, key="cmp_importance",
                                   help="A few seconds per model on up to 300 sampled rows.")
            if st.button("Evaluate side by side", type="primary", key="cmp_evaluate", disabled=not chosen or not data):
                with st.status("Evaluating…", expanded=False) as status:
                    result = ui.cached_comparison(t, t.settings.tracking_uri, project,
                                                  tuple(f"{model_name}/{v}" for v in sorted(chosen)),
                                                  data.run_id, importance)
                    status.update(label=f"Evaluated {len(chosen)} model(s) on {result[1]}", state="complete")
                ui.remember(ui.EVALUATION, project, (*result, data.run_id))
            if ui.recall(ui.EVALUATION, project):
                ev, data_label, part, run_id, data_run = ui.recall(ui.EVALUATION, project)
                frame = load_dataset(t, data_run, part)
                st.caption(f"Logged as compare run `{run_id}`.")
                ui.render_evaluation(ev, data_label, part, frame)

    # -- champion / challenger ---------------------------------------------------
    with tab_gate, user_errors():
        if not versions:
            empty_state("No registered model yet: run a study in Tune first.", "pages/tune.py", "Go to Tune")
        else:
            champ = next((mv for mv in versions if gate.CHAMPION in mv.aliases), None)
            chall = next((mv for mv in versions if gate.CHALLENGER in mv.aliases), None)
            c1, c2 = st.columns(2)
            c1.metric("Champion", f"v{champ.version}" if champ else "none yet",
                      help=champ.tags.get("workbench.family", "") if champ else "The first gate passed makes one.")
            c2.metric("Challenger", f"v{chall.version}" if chall else "none")
            if ui.recall(ui.DECISION, project):
                ui.render_decision(ui.recall(ui.DECISION, project))
            gate_key = picker_key("cmp_gate_version", labels, labels.get)
            with st.form("cmp_gate_form", enter_to_submit=False):
                candidates = [v for v in labels if not champ or v != champ.version]
                default_pick = (candidates.index(chall.version) if chall and chall.version in candidates
                                else 0 if candidates else None)
                pick = st.selectbox("Challenger to promote", candidates, format_func=labels.get, index=default_pick,
                                    key=gate_key, placeholder="Register another version to challenge")
                base = champ or next((mv for mv in versions if mv.version == pick), None)
                gdata = dataset_picker(t, project, key="cmp_gate_data", label="Evaluation data (same for both)",
                                       default_run_id=base.tags.get("workbench.data_version") if base else None)
                task = (champ or versions[0]).tags.get("workbench.task", "classification")
                metrics = list(gate.GATE_METRICS.get(task, gate.GATE_METRICS["classification"]))
                fixed = ui.promotion_metric_of(t, model_name)
                metric = st.selectbox("Gate metric", metrics, index=metrics.index(fixed) if fixed in metrics else 0,
                                      key=f"cmp_gate_metric_{model_name}", disabled=bool(fixed),
                                      help=(f"The promotion metric of {model_name} is {fixed}, set by its first "
                                            "promotion: the gate never switches metric silently (headless: "
                                            "promote --change-metric)." if fixed else
                                            "The first promotion sets the promotion metric of this model."))
                margin = st.number_input("Margin (minimum improvement)", min_value=0.0, value=gate.DEFAULT_MARGIN,
                                         step=0.005, format="%.4f", key="cmp_gate_margin",
                                         help="The challenger must beat the champion by more than this, and the "
                                              "improvement must be significant on the held-out rows (paired test).")
                c3, c4 = st.columns(2)
                run_gate = c3.form_submit_button("Run the gate", type="primary")
                make_challenger = c4.form_submit_button("Only set as challenger")
            if make_challenger and pick is not None:
                gate.set_challenger(t, project, f"{model_name}/{pick}")
                st.rerun()
            if (run_gate or make_challenger) and pick is None:
                st.error("There is no other version to promote: register another model version in Tune first.")
            elif run_gate:
                if gdata is None:
                    st.error("Save a dataset version first: the gate needs evaluation data.")
                else:
                    with st.status("Running the promotion gate…") as status:
                        decision = gate.promote(t, project, f"{model_name}/{pick}", gdata.run_id, metric, margin,
                                                on_progress=ui.status_progress(status))
                        status.update(label="Gate " + ("passed" if decision.passed else "refused"), state="complete")
                    ui.remember(ui.DECISION, project, decision)
                    ui.forget_registry_cache()  # the promotion metric may have just been set
                    st.rerun()
            st.subheader("Promotion history")
            history = gate.promotion_history(t, project)
            if history.empty:
                st.caption("No gate has run yet.")
            else:
                st.dataframe(history.astype(object).where(history.notna(), "—"), hide_index=True, key="cmp_history")

    # -- shadow --------------------------------------------------------------
    with tab_shadow, user_errors():
        champ = next((mv for mv in versions if gate.CHAMPION in mv.aliases), None)
        if champ is None:
            empty_state("A shadow test replays a batch through the champion and challengers: promote a champion in "
                        "the Champion / challenger tab first.")
        else:
            others = [v for v in labels if v != champ.version]
            chall = next((mv.version for mv in versions if gate.CHALLENGER in mv.aliases), None)
            picks = st.multiselect("Challengers in shadow", others, format_func=labels.get,
                                   key=picker_key("cmp_shadow_models", others, labels.get),
                                   default=[chall] if chall else others[:1])
            sdata = dataset_picker(t, project, key="cmp_shadow_data", label="Batch to replay (all rows)")
            if st.button("Replay in shadow", type="primary", key="cmp_shadow_run", disabled=not picks or not sdata):
                with st.status("Replaying…") as status:
                    shadow = run_shadow(t, project, sdata.run_id, picks, model_name=model_name,
                                        on_progress=ui.status_progress(status))
                    ui.remember(ui.SHADOW, project, shadow)
                    status.update(label="Shadow replay logged", state="complete")
            if ui.recall(ui.SHADOW, project):
                ui.render_shadow(ui.recall(ui.SHADOW, project))

    # -- A/B --------------------------------------------------------------------
    with tab_ab, user_errors():
        adata = dataset_picker(t, project, key="cmp_ab_data", label="Batch to split")
        if adata is None:
            empty_state("An A/B analysis needs a labelled batch or one with an outcome column: save one in Data.",
                        "pages/data.py", "Go to Data")
        else:
            batch = load_dataset(t, adata.run_id, "all")
            c1, c2 = st.columns(2)
            kind = c1.radio("Compare on", ["label", "outcome"], key="cmp_ab_kind", horizontal=True,
                            format_func={"label": "a label (each arm's model predicts its rows)",
                                         "outcome": "a measured outcome column"}.get)
            cols = list(batch.columns)
            default_col = cols.index(adata.target) if adata.target in cols else 0
            column = c2.selectbox("Column", cols, index=default_col, key="cmp_ab_column")
            c3, c4, c5, c6 = st.columns(4)
            fraction = c3.slider("Share of rows for B (challenger)", 0.05, 0.95, 0.5, 0.05, key="cmp_ab_fraction")
            test = c4.selectbox("Test", abtest.TESTS, key="cmp_ab_test",
                                help="auto: z-test for 0/1 outcomes, Welch's t-test otherwise.")
            mde = c5.number_input("Minimum detectable effect", min_value=0.0, value=0.05, step=0.01, key="cmp_ab_mde")
            seed = c6.number_input("Seed", min_value=0, value=0, step=1, key="cmp_ab_seed")
            if st.button("Run the A/B analysis", type="primary", key="cmp_ab_run"):
                with st.spinner("Splitting and testing…"):
                    report = abtest.run_ab(t, project, batch, column, fraction, kind=kind, test=test, model_name=model_name,
                                           mde=mde or None, seed=int(seed), data_run_id=adata.run_id)
                    ui.remember(ui.AB, project, report)
            if ui.recall(ui.AB, project):
                ui.render_ab(ui.recall(ui.AB, project))
