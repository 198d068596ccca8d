"""Streamlit glue for the Compare page: session keys, cached evaluations, renderers of core results."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core.compare.abtest import ABReport
from core.compare.evaluate import Evaluation
from core.compare.gate import GateDecision, GateDefaults
from core.compare.measures import higher_is_better
from core.compare.shadow import ShadowResult
from core.tracking import Tracker

EVALUATION = "cmp_evaluation"  # (Evaluation, dataset label, part, run id)
DECISION = "cmp_decision"
SHADOW = "cmp_shadow"
AB = "cmp_ab"
TAB = "cmp_tab"  # str: the open tab (only its content runs); tests set it to open another
TABS = ("Runs", "Side by side", "Champion / challenger", "Shadow", "A/B test")
# each tab's choices (widget keys; a trailing "_" is a prefix, for pickers keyed by their options)
_CHOICES = {
    "Runs": ("cmp_f_stage", "cmp_f_data", "cmp_f_family", "cmp_f_tag", "cmp_sort", "cmp_only_diff", "cmp_pc_group",
             "cmp_pc_metric"),
    "Side by side": ("cmp_versions_", "cmp_data", "cmp_importance", "cmp_fair_col", "cmp_fair_metric"),
    "Champion / challenger": ("cmp_gate_version_", "cmp_gate_data", "cmp_gate_metric_", "cmp_gate_margin"),
    "Shadow": ("cmp_shadow_models_", "cmp_shadow_data", "cmp_shadow_x", "cmp_shadow_y"),
    "A/B test": ("cmp_ab_data", "cmp_ab_kind", "cmp_ab_column", "cmp_ab_fraction", "cmp_ab_test", "cmp_ab_mde",
                 "cmp_ab_seed"),
}


def keep_closed_choices() -> None:
    """Keep the choices made in the tabs that are closed in this run (only the open tab runs its widgets).

    Streamlit drops the state of a widget that a run does not draw, so a version chosen under Side by side
    would be back to its default after a look at the gate; writing the value back (Streamlit's own idiom)
    keeps it. The open tab's widgets are left alone: they are drawn in this run.
    """
    from ui.state import keep_closed_tab_choices

    keep_closed_tab_choices(TAB, TABS, _CHOICES)

FAIRNESS_GAP_WARN = 0.05  # a fairness gap from here on is shown as a warning, below as information


def remember(key: str, project: str, value: Any) -> None:
    """Keep a result for this project only (switching project hides it)."""
    st.session_state[key] = (project, value)


def recall(key: str, project: str) -> Any:
    """The result stored under ``key`` for ``project``, or None."""
    stored = st.session_state.get(key)
    return stored[1] if stored and stored[0] == project else None


def status_progress(status: Any):  # noqa: ANN201
    """An ``on_progress`` callback writing each step into an ``st.status`` box."""
    def say(message: str) -> None:
        status.update(label=message)
        status.write(message)
    return say


@st.cache_data(show_spinner=False, max_entries=16)
def cached_comparison(_tracker: Tracker, store: str, project: str, versions: tuple[str, ...], data_run_id: str,
                      importance: bool) -> tuple[Evaluation, str, str, str]:
    """Evaluate and log once per (store, project, versions, dataset version): versions never change."""
    from core.compare.record import run_comparison

    evaluation, data, part, run_id = run_comparison(_tracker, project, list(versions), data_run_id,
                                                    importance=importance)
    return evaluation, data.label, part, run_id


@st.cache_data(ttl=600, show_spinner=False, max_entries=16)
def _runs_table(store: str, project: str, stamp: tuple, _tracker: Tracker) -> pd.DataFrame:
    from core.compare.runs import runs_table

    return runs_table(_tracker, project)


def runs_table_of(tracker: Tracker, project: str) -> pd.DataFrame:
    """The project's runs table (one search of up to 2000 runs), read again only after a write to the store."""
    from ui.cache import store_stamp

    uri = tracker.settings.tracking_uri
    return _runs_table(uri, project, store_stamp(uri), tracker)


@st.cache_data(ttl=5, show_spinner=False)
def _promotion_metric(_tracker: Tracker, store: str, name: str) -> str:
    from core.tracking.models import promotion_metric

    return promotion_metric(_tracker, name)


@st.cache_data(ttl=5, show_spinner=False)
def _gate_defaults(_tracker: Tracker, _mv: Any, store: str, name: str, version: int) -> GateDefaults:
    from core.compare.gate import gate_defaults

    return gate_defaults(_tracker, _mv)


def gate_defaults_of(tracker: Tracker, mv: Any) -> GateDefaults:
    """The gate form's metrics, starting metric and margin for ``mv``'s model (the charter's when it has one)."""
    return _gate_defaults(tracker, mv, tracker.settings.tracking_uri, mv.name, mv.version)


@st.cache_data(ttl=5, show_spinner=False)
def _charter_fairness(_tracker: Tracker, store: str, project: str) -> tuple[str, float | None] | None:
    from core.plan.charter import load_charter

    try:
        charter = load_charter(_tracker, project)
    except Exception:  # noqa: BLE001 - an unreadable charter only loses the limit line
        return None
    return (charter.protected_column, charter.max_gap) if charter and charter.protected_column else None


def charter_fairness_of(tracker: Tracker, project: str) -> tuple[str, float | None] | None:
    """The charter's (protected column, largest gap allowed), or None when it sets no fairness constraint."""
    return _charter_fairness(tracker, tracker.settings.tracking_uri, project)


def forget_registry_cache() -> None:
    """After a promotion: the promotion metric, the gate's defaults and the job list are read again."""
    from ui.jobs import clear_cache

    _promotion_metric.clear()
    _gate_defaults.clear()
    clear_cache()


def promotion_metric_of(tracker: Tracker, name: str | None) -> str:
    """The registered model's promotion metric ('' when none is set yet)."""
    return _promotion_metric(tracker, tracker.settings.tracking_uri, name) if name else ""


def _fmt(metric: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if metric == "size_bytes":
        return f"{value / 1024:,.1f} KiB"
    if "latency" in metric:
        return f"{value:,.2f} ms"
    if metric.endswith("_s"):
        return f"{value:,.3f} s"
    return f"{value:.4f}"


def marked_table(table: pd.DataFrame, best: dict[str, str]) -> pd.DataFrame:
    """Values formatted, the best model per metric suffixed with ★."""
    out = pd.DataFrame(index=table.index, columns=table.columns, dtype=object)
    for metric, row in table.iterrows():
        for model, value in row.items():
            out.loc[metric, model] = _fmt(str(metric), value) + (" ★" if best.get(str(metric)) == model else "")
    return out


def render_evaluation(ev: Evaluation, data_label: str, part: str, frame: pd.DataFrame | None,
                      charter_fairness: tuple[str, float | None] | None = None) -> None:
    """Metrics (best marked), then task-specific plots, resources, importances and fairness in sub-tabs."""
    from core.compare import figures

    st.caption(f"Evaluated on **{data_label}** ({part} rows: {ev.rows:,}) · target `{ev.target}` · {ev.task}. "
               "★ marks the best model per row (lower is better for loss, error, size, latency and time).")
    for note in ev.notes:
        st.info(note, icon=":material/info:")
    st.dataframe(marked_table(ev.metrics, dict(ev.best)), key="cmp_metrics_table")
    names = ["Per class", "Confusion", "ROC / PR", "Calibration"] if ev.task == "classification" else [
        "Residuals", "Predicted vs actual"]
    tabs = st.tabs([*names, "Resources", "Importance", "Fairness"])
    if ev.task == "classification":
        with tabs[0]:
            cols = st.columns(len(ev.models))
            for col, model in zip(cols, ev.models):
                col.markdown(f"**{model}**")
                col.dataframe(ev.per_class[model].round(3), hide_index=True)
        with tabs[1]:
            cols = st.columns(min(len(ev.models), 3))
            for i, model in enumerate(ev.models):
                cols[i % len(cols)].plotly_chart(figures.confusion_figure(ev, model), key=f"cmp_cm_{model}")
        with tabs[2]:
            if ev.roc is None:
                st.info("No ROC or precision-recall curve: the evaluation rows hold a single class.")
            else:
                left, right = st.columns(2)
                left.plotly_chart(figures.curve_figure(ev.roc, "roc"), key="cmp_roc")
                right.plotly_chart(figures.curve_figure(ev.pr, "pr"), key="cmp_pr")
        with tabs[3]:
            if ev.calibration is None:
                st.info("No calibration curve: the models give no probabilities.")
            else:
                st.plotly_chart(figures.calibration_figure(ev.calibration), key="cmp_calib")
    else:
        with tabs[0]:
            st.plotly_chart(figures.residual_figure(ev.residuals), key="cmp_resid")
        with tabs[1]:
            st.plotly_chart(figures.predicted_actual_figure(ev.residuals), key="cmp_pva")
    k = len(names)
    with tabs[k]:
        if ev.resources.empty:
            st.info("Resources were not measured for this evaluation.")
        else:
            st.dataframe(marked_table(ev.resources, dict(ev.best)), key="cmp_resources")
            st.caption("Size: the pickled pipeline. Latency: median of 30 single-row calls and of 3 calls on "
                       "1,000 rows sampled from the evaluation set, on this server.")
    with tabs[k + 1]:
        if ev.importances is None:
            st.info("Permutation importance was skipped for this evaluation.")
        else:
            st.plotly_chart(figures.importance_figure(ev.importances), key="cmp_imp")
    with tabs[k + 2]:
        render_fairness(ev, frame, charter_fairness)


def render_fairness(ev: Evaluation, frame: pd.DataFrame | None,
                    charter_fairness: tuple[str, float | None] | None = None) -> None:
    """Metric per group of a column; ``charter_fairness`` = the charter's (protected column, largest gap)."""
    from core.compare import figures
    from core.compare.evaluate import fairness
    from ui.feedback import user_errors

    if frame is None:
        st.info("Evaluate again to analyse groups.")
        return
    options = [c for c in frame.columns if c != ev.target and frame[c].nunique(dropna=False) <= 50
               or pd.api.types.is_numeric_dtype(frame[c]) and c != ev.target]
    if not options:
        st.info("The evaluation table has no column to group by.")
        return
    metrics = ["accuracy", "f1_macro"] if ev.task == "classification" else ["mae", "rmse"]
    protected, limit = charter_fairness or ("", None)
    c1, c2 = st.columns(2)
    # the charter's protected column first: it is the one the gate holds to a limit
    column = c1.selectbox("Group by column", options, key="cmp_fair_col",
                          index=options.index(protected) if protected in options else 0)
    metric = c2.selectbox("Metric", metrics, key="cmp_fair_metric")
    with user_errors():
        result = fairness(ev, frame[column], metric)
        if result.note:
            st.caption(result.note)
        text = (f"Largest gap: **{result.largest_gap:.3f}** {metric} for **{result.largest_gap_model}** between "
                f"groups of `{column}` (worst group: {result.worst_group}).")
        if column == protected and limit is not None:
            over = [m for m, g in result.gaps.items() if g > limit + 1e-12]
            text += (f" The charter allows at most **{limit:g}** across `{protected}`"
                     + (f": {', '.join(over)} would be refused by the gate." if over else ": every model is within it."))
            (st.error if over else st.success)(text, icon=":material/balance:")
        else:
            # a warning only for a gap worth a look (≥ 0.05 of the metric); otherwise a plain statement
            (st.warning if result.largest_gap >= FAIRNESS_GAP_WARN else st.info)(text, icon=":material/balance:")
        st.plotly_chart(figures.fairness_figure(result), key="cmp_fair_fig")
        st.dataframe(result.table.round(4))


def render_decision(decision: GateDecision) -> None:
    if decision.passed:
        st.success(f"**Gate passed.** {decision.reason} The `champion` alias now points at "
                   f"{decision.challenger}.", icon=":material/verified:")
    else:
        st.warning(f"**Gate refused.** {decision.reason} No alias was moved.", icon=":material/block:")
    for caution in decision.cautions:
        st.warning(f"Caution: {caution}", icon=":material/report:")
    cols = st.columns(4)
    cols[0].metric(f"Champion {decision.champion or '—'}", "—" if decision.champion_score is None
                   else f"{decision.champion_score:.4f}")
    cols[1].metric(f"Challenger {decision.challenger}", f"{decision.challenger_score:.4f}",
                   delta=None if decision.delta is None else f"{decision.delta:+.4f}",
                   delta_color="normal" if higher_is_better(decision.metric) else "inverse")
    cols[2].metric("Margin", f"{decision.margin:g}")
    test = decision.test
    cols[3].metric("p-value (one-sided)", "—" if test is None else f"{test.p_value:.3g}",
                   help=None if test is None else f"{test.test.replace('_', ' ')}: improvement "
                   f"{test.improvement:+.4f}, {test.confidence:.0%} CI {test.ci_low:+.4f} to {test.ci_high:+.4f}")
    removed = f"; {decision.removed_rows:,} training rows left out" if decision.removed_rows else ""
    st.caption(f"Scored on {decision.rows:,} held-out rows{removed}. Logged as compare run `{decision.run_id}`.")


def render_shadow(result: ShadowResult) -> None:
    from core.compare import figures

    st.caption(f"{result.rows:,} rows replayed · served: **{result.champion}** (champion) · shadow: "
               f"{', '.join(result.challengers)} · run `{result.run_id}`")
    cols = st.columns(len(result.challengers) + (1 if result.has_labels else 0))
    for col, c in zip(cols, result.challengers):
        col.metric(f"Disagreement {c} vs {result.champion}", f"{result.disagreement[c]:.1%}")
    if result.has_labels:
        better = max(result.scores, key=lambda m: result.scores[m] * (1 if result.score_name == "accuracy" else -1))
        cols[-1].metric(f"Best {result.score_name}", better, help=", ".join(
            f"{m}: {v:.3f}" for m, v in result.scores.items()))
        right = ", ".join(f"{m} right on {n}" for m, n in result.right_when_disagree.items())
        st.caption(f"Where they disagree: {right}.")
    if result.tolerance is not None:
        st.caption(f"Regression: predictions more than {result.tolerance:.4g} apart count as disagreeing.")
    numeric = [c for c in result.predictions.columns if pd.api.types.is_numeric_dtype(result.predictions[c])
               and not c.startswith("pred_") and c not in ("disagree",)]
    if len(numeric) >= 2:
        c1, c2 = st.columns(2)
        x = c1.selectbox("x axis", numeric, index=0, key="cmp_shadow_x")
        y = c2.selectbox("y axis", numeric, index=1, key="cmp_shadow_y")
        st.plotly_chart(figures.disagreement_figure(result.predictions, x, y), key="cmp_shadow_fig")
    st.markdown(f"**Disagreeing rows** ({len(result.disagreeing):,})")
    st.dataframe(result.disagreeing.head(500), key="cmp_shadow_rows")


def render_ab(report: ABReport) -> None:
    r = report.result
    (st.success if r.significant else st.info)(r.verdict, icon=":material/science:")
    if r.warning:
        st.warning(r.warning, icon=":material/warning:")
    cols = st.columns(4)
    cols[0].metric(f"A · champion {report.champion}", f"{r.mean_a:.4f}", help=f"{r.n_a:,} rows")
    cols[1].metric(f"B · challenger {report.challenger}", f"{r.mean_b:.4f}", help=f"{r.n_b:,} rows")
    cols[2].metric("Effect B − A", f"{r.effect:+.4f}", help=f"{100 * (1 - r.alpha):.0f}% CI "
                   f"{r.ci_low:+.4f} … {r.ci_high:+.4f}")
    cols[3].metric("p-value", f"{r.p_value:.3g}", help=r.test)
    st.caption(f"{r.test} on {r.outcome} · {100 * (1 - r.alpha):.0f}% CI [{r.ci_low:+.4f}, {r.ci_high:+.4f}]"
               + (f" · power {r.power:.0%} for an effect of {r.mde:g}" if r.power is not None else "")
               + f" · run `{r.run_id}`")


def version_options(versions: Sequence[Any]) -> dict[int, str]:
    return {mv.version: mv.label for mv in versions}
