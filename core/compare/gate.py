"""Champion / challenger: the promotion gate, promotions that move aliases, and their history.

A promotion is a decision with evidence. :func:`promote` evaluates the champion and the challenger
of one registered model (one prediction job) on the same **held-out rows** — the evaluation
version's test part, less every row either model was trained on (:mod:`core.compare.heldout`; none
left → :class:`~core.compare.heldout.NoHeldOutRows`, exit 4 headless) — and passes only when the
challenger improves the **promotion metric** by more than the **margin** *and* a paired
significance test on those rows says the improvement is real (McNemar for accuracy, a paired
bootstrap otherwise, :mod:`core.compare.significance`); the reason says which of the two failed,
with the confidence interval. The promotion metric is set once per registered model (by its first
promotion, or explicitly) and never switched silently (:mod:`core.compare.gate_metric`).

The project charter adds two rules (:mod:`core.compare.charter_rules`): with costs, ``business_cost``
(mean cost per prediction, lower is better) is a gate metric, its test a paired bootstrap of the per-row
costs; with a protected column and a largest gap, a challenger whose metric differs by more than the gap
across that column's groups on the held-out rows is refused (the column missing: a caution).

:func:`gate_decision` is the pure rule; when the gate passed, ``champion`` moves to the challenger,
the old champion gets ``previous-champion`` (a rollback is one alias move) and ``challenger`` is cleared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from core.compare.evaluate import Evaluation, evaluate_models
from core.compare.gate_metric import (  # noqa: F401 - re-exported: callers import them from the gate
    DEFAULT_GATE_METRIC,
    DEFAULT_MARGIN,
    GATE_METRICS,
    GateDefaults,
    gate_defaults,
    gate_metric_for,
    gate_metrics,
)
from core.compare.loading import resolve_model
from core.compare.measures import higher_is_better
from core.errors import CompareError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.compare.significance import PairedTest
    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous-champion"
KIND_TAG = "workbench.compare.kind"
DEFAULT_ALPHA = 0.05


@dataclass(frozen=True)
class GateDecision:
    """The outcome of one promotion gate.

    ``delta`` is challenger − champion; ``improvement`` is the same in the metric's good
    direction (positive = challenger better), which is what the margin is compared with.
    ``test`` is the paired significance test on the held-out rows (None without a champion).
    """

    passed: bool
    metric: str
    margin: float
    champion: str | None
    challenger: str
    champion_score: float | None
    challenger_score: float
    delta: float | None
    improvement: float | None
    reason: str
    run_id: str = ""
    applied: bool = False  # aliases were moved
    test: PairedTest | None = None
    rows: int = 0
    removed_rows: int = 0
    cautions: tuple[str, ...] = field(default_factory=tuple)
    model_name: str = ""
    fairness_gap: float | None = None  # the challenger's gap across the charter's protected column, when checked

    @property
    def p_value(self) -> float | None:
        return self.test.p_value if self.test is not None else None


def check_margin(margin: float) -> float:
    """The margin as a float ≥ 0; CompareError otherwise."""
    try:
        value = float(margin)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise CompareError(f"The 'margin' of the promotion gate must be a number ≥ 0. Got {margin!r} instead.")
    return value


def gate_decision(champion_score: float | None, challenger_score: float, metric: str, margin: float, *,
                  champion: str | None = CHAMPION, challenger: str = CHALLENGER,
                  test: PairedTest | None = None) -> GateDecision:
    """Pass when the challenger beats the champion on ``metric`` by more than ``margin`` and — when a paired
    ``test`` is given — the improvement is significant. With no champion the first promotion passes."""
    margin = check_margin(margin)
    if champion_score is None or champion is None:
        return GateDecision(True, metric, margin, None, challenger, None, challenger_score, None, None,
                            f"There is no champion yet, so {challenger} becomes the first champion "
                            f"({metric} {challenger_score:.4f}).")
    if math.isnan(challenger_score) or math.isnan(champion_score):
        return GateDecision(False, metric, margin, champion, challenger, champion_score, challenger_score, None,
                            None, f"{metric} could not be computed for both models on this data, so the gate "
                                  "refuses; pick another metric or dataset version.", test=test)
    delta = challenger_score - champion_score
    improvement = delta if higher_is_better(metric) else -delta
    word = "higher" if higher_is_better(metric) else "lower"
    scores = f"{challenger_score:.4f} vs {champion_score:.4f}"
    enough = improvement > margin + 1e-12
    evidence = ""
    if test is not None:
        evidence = (f" {test.test.replace('_', ' ')}: improvement {test.improvement:+.4f}, "
                    f"{test.confidence:.0%} CI {test.ci_low:+.4f} to {test.ci_high:+.4f}, one-sided p-value "
                    f"{test.p_value:.3g} (α = {test.alpha:g}).")
    significant = test is None or test.significant
    if enough and significant:
        proof = ", and the improvement is significant." if test is not None else " (no significance test was run)."
        reason = (f"{challenger} beats the champion {champion} on {metric} ({word} is better) by {improvement:.4f} "
                  f"({scores}), above the margin {margin:g}{proof}{evidence}")
        return GateDecision(True, metric, margin, champion, challenger, champion_score, challenger_score, delta,
                            improvement, reason, test=test)
    if not enough and not significant:
        why = f"the improvement {improvement:.4f} is not above the margin {margin:g} and is not significant"
    elif not enough:
        why = f"the improvement {improvement:.4f} is not above the margin {margin:g}"
    else:
        why = (f"the improvement {improvement:.4f} is above the margin {margin:g} but not significant on these "
               f"rows (one-sided p-value {test.p_value:.3g} ≥ {test.alpha:g})")
    reason = (f"{challenger} does not replace the champion {champion} on {metric} ({word} is better, {scores}): "
              f"{why}. The champion stays.{evidence}")
    return GateDecision(False, metric, margin, champion, challenger, champion_score, challenger_score, delta,
                        improvement, reason, test=test)


def promotion_gate(evaluation: Evaluation, metric: str, margin: float, *, challenger: str,
                   champion: str | None = None, alpha: float = DEFAULT_ALPHA, significance: bool = True,
                   seed: int = 0) -> GateDecision:
    """The gate on an :class:`Evaluation` of both models (``champion`` None = no champion yet)."""
    challenger_score = evaluation.score(challenger, metric)
    champion_score = evaluation.score(champion, metric) if champion else None
    test = None
    if champion and significance:
        from core.compare.significance import gate_significance

        classes = evaluation.classes.get(challenger)
        if classes is not None and list(evaluation.classes.get(champion, [])) != list(classes):
            classes = None  # the two models order their probability columns differently
        losses = ((evaluation.costs[champion], evaluation.costs[challenger])
                  if champion in evaluation.costs and challenger in evaluation.costs else None)
        test = gate_significance(metric, evaluation.task, evaluation.y_true, evaluation.predictions[champion],
                                 evaluation.predictions[challenger], evaluation.probabilities.get(champion),
                                 evaluation.probabilities.get(challenger), classes, alpha=alpha, seed=seed,
                                 row_losses=losses)
    return gate_decision(champion_score, challenger_score, metric, margin, champion=champion, challenger=challenger,
                         test=test)


def current_champion(tracker: Tracker, model_name: str) -> ModelVersionInfo | None:
    """The version of registered model ``model_name`` holding the ``champion`` alias, or None."""
    from core.tracking.models import model_versions

    return next((mv for mv in model_versions(tracker, model_name) if CHAMPION in mv.aliases), None)


def set_challenger(tracker: Tracker, project: str, version: int | str) -> ModelVersionInfo:
    """Give ``version`` the ``challenger`` alias of its registered model (the champion cannot also be it)."""
    from core.tracking.models import set_alias

    mv = resolve_model(tracker, project, version)
    if mv.is_onnx:
        raise CompareError(f"{mv.label} is an ONNX export; the challenger is a scikit-learn version.")
    if CHAMPION in mv.aliases:
        raise CompareError(f"{mv.label} is the champion; pick another version as the challenger.")
    check_same_job(current_champion(tracker, mv.name), mv)
    set_alias(tracker, mv.name, CHALLENGER, mv.version)
    return resolve_model(tracker, project, mv.ref)


def check_same_job(champion: ModelVersionInfo | None, challenger: ModelVersionInfo) -> None:
    """Refuse a challenger that predicts another target or task than the champion (one model, one job).

    Raises:
        CompareError: naming both versions' target and task.
    """
    if champion is None:
        return

    def job(mv: ModelVersionInfo) -> tuple[str, str]:
        return mv.tags.get("workbench.target", ""), mv.tags.get("workbench.task", "")

    if all(job(champion)) and all(job(challenger)) and job(champion) != job(challenger):
        (ct, ck), (nt, nk) = job(champion), job(challenger)
        raise CompareError(f"{challenger.label} predicts {nt!r} ({nk}) but the champion {champion.label} predicts "
                           f"{ct!r} ({ck}); they cannot replace each other. Tune a model for {ct!r}, or keep "
                           f"this one in a project of its own.")


def challenger_cv_std(tracker: Tracker, mv: ModelVersionInfo, metric: str) -> float | None:
    """The spread (std over folds) of the challenger's own cross-validation, when its study used ``metric``."""
    from core.errors import WorkbenchError

    trial = mv.tags.get("workbench.trial")
    if mv.tags.get("workbench.metric") != metric or not trial or not trial.isdigit():
        return None
    try:
        flt = f"tags.`mlflow.parentRunId` = '{mv.run_id}' and tags.`optuna.trial_number` = '{trial}'"
        exp = tracker.client.get_run(mv.run_id).info.experiment_id
        found = tracker.client.search_runs([exp], filter_string=flt, max_results=1)
    except (WorkbenchError, Exception):  # noqa: BLE001 - no spread: no caution
        return None
    return found[0].data.metrics.get(f"cv_{metric}_std") if found else None


def promote(
    tracker: Tracker,
    project: str,
    challenger_version: int | str,
    data_ref: str,
    metric: str | None,
    margin: float = DEFAULT_MARGIN,
    *,
    alpha: float = DEFAULT_ALPHA,
    change_metric: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> GateDecision:
    """Run the gate for ``challenger_version`` against its registered model's champion and log it.

    The ``compare`` run has both model runs and the dataset version as inputs (the dataset also as
    an ``evaluation`` dataset input), the model name, versions, metric, margin, test and held-out row
    counts as params, ``champion.<metric>`` / ``challenger.<metric>`` / ``improvement`` / ``p_value`` /
    ``ci_low`` / ``ci_high`` as metrics, the evaluation tables and figures as artifacts, and the decision
    as tags. Aliases move only when the gate passed.

    Raises:
        CompareError: bad margin or metric, unknown version, the challenger already champion, data the
            models cannot read, or — :class:`~core.compare.heldout.NoHeldOutRows` — no held-out row left.
            Nothing is moved then.
    """
    from core.compare.charter_rules import fairness_limit, project_charter, with_business_cost
    from core.compare.evaluate import common_target
    from core.compare.heldout import cautions
    from core.compare.loading import held_out_evaluation
    from core.compare.record import log_evaluation
    from core.tracking.datasets import log_dataset_inputs
    from core.tracking.models import delete_alias, set_alias, set_promotion_metric

    margin = check_margin(margin)
    challenger = resolve_model(tracker, project, challenger_version)
    if challenger.is_onnx:
        raise CompareError(f"{challenger.label} is an ONNX export; promote the scikit-learn version it came from.")
    name = challenger.name
    metric, new_metric = gate_metric_for(tracker, challenger, metric, change_metric=change_metric)
    champion = current_champion(tracker, name)
    check_same_job(champion, challenger)
    if champion and champion.version == challenger.version:
        raise CompareError(f"Version {challenger.version} of {name!r} is already the champion; "
                           "pick another version to promote.")
    versions = [champion, challenger] if champion else [challenger]
    target = common_target(versions)[0]
    data, held = held_out_evaluation(tracker, project, data_ref, versions, target)
    if on_progress and held.removed:
        on_progress(held.note)
    charter = project_charter(tracker, challenger)
    evaluation = with_business_cost(evaluate_models(tracker, versions, held.frame, importance=False,
                                                    resources=False, on_progress=on_progress), charter)
    champ_label = f"v{champion.version}" if champion else None
    chall_label = f"v{challenger.version}"
    if on_progress and champion:
        on_progress("Testing whether the difference is significant on the held-out rows…")
    decision = promotion_gate(evaluation, metric, margin, challenger=chall_label, champion=champ_label, alpha=alpha)
    scores = {m: evaluation.score(m, metric) for m in evaluation.models}
    warn = cautions(scores, evaluation.rows, metric, challenger=chall_label, champion=champ_label,
                    cv_std=challenger_cv_std(tracker, challenger, metric))
    fair = fairness_limit(evaluation, held.frame, charter, chall_label, metric)
    if fair is not None and not fair.checked:
        warn.append(fair.sentence)
    elif fair is not None and fair.exceeded:  # the charter's constraint refuses whatever the metric says
        alone = decision.reason[:1].lower() + decision.reason[1:]
        decision = replace(decision, passed=False, reason=f"{fair.sentence} The champion stays. On the metric "
                                                          f"alone: {alone}")
    decision = replace(decision, rows=evaluation.rows, removed_rows=held.removed, cautions=tuple(warn),
                       model_name=name, fairness_gap=fair.gap if fair is not None else None)
    inputs = [mv.run_id for mv in versions] + [data.run_id]
    params = {"model": name, "champion_version": champion.version if champion else "none",
              "challenger_version": challenger.version, "metric": metric, "margin": margin, "alpha": alpha,
              "test": decision.test.test if decision.test else "none", "data_version": data.ref,
              "data_part": held.part, "rows": evaluation.rows, "rows_removed_as_training": held.removed,
              "higher_is_better": higher_is_better(metric)}
    if fair is not None:
        params.update({"fairness_column": fair.column, "fairness_max_gap": fair.limit,
                       "fairness_metric": fair.metric})
    run_name = f"gate {name} v{challenger.version} vs {champ_label or 'no champion'}"
    with tracker.stage_run(project, "compare", name=run_name, inputs=inputs, params=params,
                           tags={KIND_TAG: "gate"}) as run_id:
        log_dataset_inputs(tracker, run_id, [(data.run_id, "evaluation")])
        values: dict[str, Any] = {f"challenger.{metric}": decision.challenger_score,
                                  f"champion.{metric}": decision.champion_score, "improvement": decision.improvement}
        if decision.test is not None:
            values.update({"p_value": decision.test.p_value, "ci_low": decision.test.ci_low,
                           "ci_high": decision.test.ci_high})
        if decision.fairness_gap is not None:
            values["challenger.fairness_gap"] = decision.fairness_gap
        if charter is not None and charter.metric != metric and charter.metric in evaluation.metrics.index:
            # the charter's success metric too, so its verdict for the champion reads a metric, not a table
            values[f"challenger.{charter.metric}"] = evaluation.score(chall_label, charter.metric)
            if champ_label:
                values[f"champion.{charter.metric}"] = evaluation.score(champ_label, charter.metric)
        tracker.log_metrics(run_id, {k: v for k, v in values.items() if v is not None})
        log_evaluation(tracker, run_id, evaluation, metrics=False)
        tracker.set_tags(run_id, {"workbench.gate.decision": "passed" if decision.passed else "refused",
                                  "workbench.gate.reason": decision.reason[:4900],
                                  **({"workbench.gate.cautions": " | ".join(warn)[:4900]} if warn else {}),
                                  **({"workbench.gate.fairness": "unchecked" if not fair.checked else
                                      "exceeded" if fair.exceeded else "within"} if fair is not None else {})})
        if decision.passed:
            if on_progress:
                on_progress(f"Gate passed: moving the champion alias to v{challenger.version}…")
            set_alias(tracker, name, CHAMPION, challenger.version)
            if champion:
                set_alias(tracker, name, PREVIOUS, champion.version)
            if CHALLENGER in challenger.aliases:
                delete_alias(tracker, name, CHALLENGER)
            if new_metric:
                set_promotion_metric(tracker, name, metric)
            tracker.set_tags(run_id, {"workbench.gate.applied": "true"})
    return replace(decision, run_id=run_id, applied=decision.passed)


def promotion_history(tracker: Tracker, project: str) -> pd.DataFrame:
    """Every gate run of the project, newest first: versions, metric, margin, scores, decision, reason."""
    import pandas as pd

    runs = tracker.runs(project, stage="compare", filter_string=f"tags.`{KIND_TAG}` = 'gate'")
    rows = [{
        "when": pd.to_datetime(r.start_time, unit="ms"),
        "challenger": f"v{r.params.get('challenger_version', '?')}",
        "champion": ("—" if r.params.get("champion_version", "none") == "none"
                     else f"v{r.params.get('champion_version')}"),
        "model": r.params.get("model", ""),
        "metric": r.params.get("metric", ""),
        "margin": float(r.params.get("margin", "nan")),
        "challenger_score": r.metrics.get(f"challenger.{r.params.get('metric', '')}",
                                          r.metrics.get("challenger_score", math.nan)),
        "champion_score": r.metrics.get(f"champion.{r.params.get('metric', '')}",
                                        r.metrics.get("champion_score", math.nan)),
        "p_value": r.metrics.get("p_value", math.nan),  # NaN, not None: an empty cell, not the word "None"
        "decision": r.tags.get("workbench.gate.decision", "unfinished" if r.status != "FINISHED" else ""),
        "aliases_moved": r.tags.get("workbench.gate.applied") == "true",
        "data": r.params.get("data_version", ""),
        "reason": r.tags.get("workbench.gate.reason", ""),
        "run_id": r.run_id,
    } for r in runs]
    cols = ["when", "model", "challenger", "champion", "metric", "margin", "challenger_score", "champion_score",
            "p_value", "decision", "aliases_moved", "data", "reason", "run_id"]
    return pd.DataFrame(rows, columns=cols)
