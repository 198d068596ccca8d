"""Compare: runs side by side, evaluation on held-out data, the promotion gate, shadow and A/B."""

from __future__ import annotations

import streamlit as st

from core.compare import gate
from core.compare.shadow import run_shadow
from core.tracking.datasets import load_dataset
from core.tracking.models import model_versions
from ui import compare as ui
from ui import compare_tabs as tabs
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

    with tab_runs, user_errors():
        tabs.runs_tab(t, project)

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
                ui.render_evaluation(ev, data_label, part, frame, ui.charter_fairness_of(t, project))

    with tab_gate, user_errors():
        if not versions:
            empty_state("No registered model yet: run a study in Tune first.", "pages/tune.py", "Go to Tune")
        else:
            tabs.gate_tab(t, project, model_name, versions, labels)

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

    with tab_ab, user_errors():
        tabs.ab_tab(t, project, model_name)
