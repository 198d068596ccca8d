"""The Compare page's tab flows (runs table, gate form, A/B form): widgets in, one core call, render.

Moved out of ``pages/compare.py`` so the page stays a list of tabs; every widget keeps its key, so
sessions and tests address the same elements as before.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.compare import abtest, gate, runs
from core.tracking import Tracker
from ui import compare as ui
from ui.feedback import empty_state
from ui.pickers import dataset_picker, picker_key


def runs_tab(t: Tracker, project: str) -> None:
    """The project's runs with filters, sorting, "only params that differ" and parallel coordinates."""
    from core.tracking.datasets import dataset_versions

    table = ui.runs_table_of(t, project)
    if table.empty:
        empty_state("No runs yet in this project. Save a dataset version in Data, then run a study in Tune.",
                    "pages/data.py", "Go to Data")
        return
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
    full = shown
    if only_diff:
        shown = runs.differing_params(shown)
    shown = shown.dropna(axis=1, how="all")
    st.caption(f"{len(shown):,} of {len(table):,} runs")
    from ui.tables import show_table

    if "inputs" in shown.columns:  # run ids of the inputs: their first 8 characters, as MLflow's UI shows them
        shown = shown.assign(inputs=shown["inputs"].map(
            lambda v: ", ".join(p.strip()[:8] for p in str(v).split(",") if p.strip()) if isinstance(v, str) else v))
    # MLflow stores params as text: a column whose every value is a number is shown as one (right-aligned, to
    # the column's precision: '0.6431' rather than '0.6431172050131991'); mixed columns stay text
    for c in [c for c in shown.columns if c.startswith("params.")]:
        numbers = pd.to_numeric(shown[c], errors="coerce")
        if numbers.notna().sum() == shown[c].notna().sum() > 0:
            shown = shown.assign(**{c: numbers})
    # one column per param, metric and tag, as in MLflow's run table: it scrolls sideways, the run's name pinned
    show_table(shown, key="cmp_runs_table", scroll=True, pinned=tuple(c for c in ("name",) if c in shown.columns),
               config={"start": st.column_config.DatetimeColumn("start", format="YYYY-MM-DD HH:mm"),
                       # 32 hex digits: tabular digits are wider than the width estimate's average letter
                       "run_id": st.column_config.TextColumn("run_id", width=275)})
    parallel_chart(full, metric_cols, sort_by)


def parallel_chart(shown: Any, metric_cols: list[str], sort_by: str) -> None:
    """Parallel coordinates of one family or one study (chosen here), coloured by a metric."""
    from core.compare.figures import parallel_figure

    groups = runs.chart_groups(shown)
    if not groups or not metric_cols:
        return
    c1, c2 = st.columns(2)
    label = c1.selectbox("Parallel coordinates: runs of", list(groups), key="cmp_pc_group",
                         help="One model family or one study at a time: each has its own parameters.")
    group = runs.group_runs(shown, groups[label])
    default = runs.chart_metric(group, metric_cols, sort_by)
    pc_metric = c2.selectbox("Colour by", metric_cols, index=metric_cols.index(default), key="cmp_pc_metric")
    params = runs.numeric_params(group)
    what = label.rsplit(" (", 1)[0]
    if params.empty:
        st.caption(f"The runs of {what} have no numeric parameter that varies: nothing to draw.")
        return
    if runs.metric_values(group, pc_metric) < 2:
        st.caption(f"Fewer than two runs of {what} have {pc_metric}: choose another metric to colour by.")
        return
    values = group[f"metrics.{pc_metric}"]
    st.plotly_chart(parallel_figure(params, values, pc_metric, title=label), key="cmp_parallel")


def side_tab(t: Tracker, project: str, model_name: str | None, versions: list, labels: dict) -> None:
    """Versions evaluated side by side on one dataset version's held-out rows (remembered for the session)."""
    from core.tracking.datasets import load_dataset

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


def shadow_tab(t: Tracker, project: str, model_name: str | None, versions: list, labels: dict) -> None:
    """A batch replayed through the champion and the chosen challengers."""
    from core.compare.shadow import run_shadow

    champ = next((mv for mv in versions if gate.CHAMPION in mv.aliases), None)
    if champ is None:
        empty_state("A shadow test replays a batch through the champion and challengers: promote a champion in "
                    "the Champion / challenger tab first.")
    elif not (others := [v for v in labels if v != champ.version]):
        empty_state(f"A shadow test replays a batch through the champion (v{champ.version}) and challengers: "
                    "register another version (a study in Tune) to shadow it.")
    else:
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


def gate_tab(t: Tracker, project: str, model_name: str | None, versions: list, labels: dict) -> None:
    """Champion and challenger, the last decision, the gate form, and the promotion history."""
    if not versions:
        empty_state("No registered model yet: run a study in Tune first.", "pages/tune.py", "Go to Tune")
        return
    champ = next((mv for mv in versions if gate.CHAMPION in mv.aliases), None)
    chall = next((mv for mv in versions if gate.CHALLENGER in mv.aliases), None)
    c1, c2 = st.columns(2)
    c1.metric("Champion", f"v{champ.version}" if champ else "none yet",
              help=champ.tags.get("workbench.family", "") if champ else "The first gate passed makes one.")
    c2.metric("Challenger", f"v{chall.version}" if chall else "none")
    if ui.recall(ui.DECISION, project):
        ui.render_decision(ui.recall(ui.DECISION, project))
    gate_key = picker_key("cmp_gate_version", labels, labels.get)
    defaults = ui.gate_defaults_of(t, champ or versions[0])
    with st.form("cmp_gate_form", enter_to_submit=False):
        candidates = [v for v in labels if not champ or v != champ.version]
        default_pick = (candidates.index(chall.version) if chall and chall.version in candidates
                        else 0 if candidates else None)
        pick = st.selectbox("Challenger to promote", candidates, format_func=labels.get, index=default_pick,
                            key=gate_key, placeholder="Register another version to challenge")
        base = champ or next((mv for mv in versions if mv.version == pick), None)
        gdata = dataset_picker(t, project, key="cmp_gate_data", label="Evaluation data (same for both)",
                               default_run_id=base.tags.get("workbench.data_version") if base else None)
        metrics, fixed = list(defaults.metrics), defaults.fixed
        metric = st.selectbox("Gate metric", metrics, index=metrics.index(defaults.metric),
                              key=f"cmp_gate_metric_{model_name}", disabled=fixed,
                              help=(f"The promotion metric of {model_name} is {defaults.metric}, set by its first "
                                    "promotion: the gate never switches metric silently (headless: "
                                    "promote --change-metric)." if fixed else
                                    "The first promotion sets the promotion metric of this model. business_cost "
                                    "(the charter's mean cost per prediction, lower is better) is offered when "
                                    "the charter sets costs."))
        margin = st.number_input("Margin (minimum improvement)", min_value=0.0, value=defaults.margin,
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
        from ui.tables import show_table

        shown = history.copy()
        if "reason" in shown.columns:  # a gate's reason is a paragraph: shortened here, read in full below
            shown["reason"] = shown["reason"].astype(str).map(lambda r: r if len(r) <= 60 else r[:59] + "…")
        show_table(shown, key="cmp_history", scroll=True,
                   pinned=tuple(c for c in ("when",) if c in shown.columns),
                   help={"reason": "Shortened; pick the decision below to read it in full."})
        if "reason" in history.columns:
            pick = st.selectbox("Read the full reason of", list(range(len(history))), key="cmp_history_pick",
                                format_func=lambda i: " · ".join(str(history.iloc[i].get(c, ""))[:16]
                                                                 for c in ("when", "challenger", "decision")
                                                                 if c in history))
            st.caption(str(history.iloc[pick]["reason"]))


def ab_tab(t: Tracker, project: str, model_name: str | None) -> None:
    """Split a labelled batch (or one with an outcome column) between champion and challenger, and test it."""
    from core.tracking.datasets import load_dataset

    adata = dataset_picker(t, project, key="cmp_ab_data", label="Batch to split")
    if adata is None:
        empty_state("An A/B analysis needs a labelled batch or one with an outcome column: save one in Data.",
                    "pages/data.py", "Go to Data")
        return
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
