"""Champion / challenger: the promotion gate, promotions that move aliases, and their history.

The gate is pure (:func:`gate_decision`, :func:`promotion_gate`). :func:`promote` evaluates the
champion and the challenger on the same rows, logs a ``compare`` run with the decision, and only
when the gate passed moves ``champion`` to the challenger; the old champion gets the alias
``previous-champion`` (so a rollback is one alias move) and the ``challenger`` alias is cleared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from core.compare.evaluate import Evaluation, evaluate_models
from core.compare.loading import evaluation_data, resolve_model
from core.compare.measures import higher_is_better
from core.errors import CompareError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous-champion"
KIND_TAG = "workbench.compare.kind"
GATE_METRICS = {
    "classification": ("accuracy", "balanced_accuracy", "f1_macro", "precision_macro", "recall_macro",
                       "roc_auc", "log_loss"),
    "regression": ("r2", "rmse", "mse", "mae"),
}


@dataclass(frozen=True)
class GateDecision:
    """The outcome of one promotion gate.

    ``delta`` is challenger − champion; ``improvement`` is the same in the metric's good
    direction (positive = challenger better), which is what the margin is compared with.
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
                  champion: str | None = CHAMPION, challenger: str = CHALLENGER) -> GateDecision:
    """Pass when the challenger beats the champion on ``metric`` by at least ``margin`` (and by more than 0).

    With no champion (``champion_score`` None) the first promotion passes.
    """
    margin = check_margin(margin)
    if champion_score is None or champion is None:
        return GateDecision(True, metric, margin, None, challenger, None, challenger_score, None, None,
                            f"There is no champion yet, so {challenger} becomes the first champion "
                            f"({metric} {challenger_score:.4f}).")
    if math.isnan(challenger_score) or math.isnan(champion_score):
        return GateDecision(False, metric, margin, champion, challenger, champion_score, challenger_score, None,
                            None, f"{metric} could not be computed for both models on this data, so the gate "
                                  "refuses; pick another metric or dataset version.")
    delta = challenger_score - champion_score
    improvement = delta if higher_is_better(metric) else -delta
    word = "higher" if higher_is_better(metric) else "lower"
    scores = f"{challenger_score:.4f} vs {champion_score:.4f}"
    if improvement > 0 and improvement >= margin - 1e-12:
        reason = (f"{challenger} beats the champion {champion} on {metric} ({word} is better) by {improvement:.4f} "
                  f"({scores}), which meets the margin {margin:g}.")
        return GateDecision(True, metric, margin, champion, challenger, champion_score, challenger_score, delta,
                            improvement, reason)
    reason = (f"{challenger} does not beat the champion {champion} on {metric} ({word} is better) by the margin "
              f"{margin:g}: {scores}, an improvement of {improvement:.4f}. The champion stays.")
    return GateDecision(False, metric, margin, champion, challenger, champion_score, challenger_score, delta,
                        improvement, reason)


def promotion_gate(evaluation: Evaluation, metric: str, margin: float, *, challenger: str,
                   champion: str | None = None) -> GateDecision:
    """The gate on an :class:`Evaluation` of both models (``champion`` None = no champion yet)."""
    challenger_score = evaluation.score(challenger, metric)
    champion_score = evaluation.score(champion, metric) if champion else None
    return gate_decision(champion_score, challenger_score, metric, margin, champion=champion, challenger=challenger)


def current_champion(tracker: Tracker, project: str) -> ModelVersionInfo | None:
    """The version holding the ``champion`` alias, or None."""
    from core.tracking.models import model_versions

    return next((mv for mv in model_versions(tracker, project) if CHAMPION in mv.aliases), None)


def set_challenger(tracker: Tracker, project: str, version: int | str) -> ModelVersionInfo:
    """Give ``version`` the ``challenger`` alias (the champion cannot also be the challenger)."""
    from core.tracking.models import set_alias

    mv = _project_version(tracker, project, version)
    if CHAMPION in mv.aliases:
        raise CompareError(f"{mv.label} is the champion; pick another version as the challenger.")
    check_same_job(current_champion(tracker, project), mv)
    set_alias(tracker, project, CHALLENGER, mv.version)
    return resolve_model(tracker, project, mv.version)


def check_same_job(champion: ModelVersionInfo | None, challenger: ModelVersionInfo) -> None:
    """Refuse a challenger that predicts another target or task than the champion (one project, one job).

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


def _project_version(tracker: Tracker, project: str, version: int | str) -> ModelVersionInfo:
    mv = resolve_model(tracker, project, version)
    if mv.name != project:
        raise CompareError(f"Only versions of the project's registered model {project!r} can be promoted; "
                           f"{mv.label} belongs to {mv.name!r}.")
    return mv


def promote(
    tracker: Tracker,
    project: str,
    challenger_version: int | str,
    data_ref: str,
    metric: str | None,
    margin: float,
    *,
    on_progress: Callable[[str], None] | None = None,
) -> GateDecision:
    """Run the gate for ``challenger_version`` against the champion on ``data_ref`` and log it.

    The ``compare`` run has both model runs and the dataset version as inputs, the versions,
    metric and margin as params, both scores as metrics, the evaluation tables and figures
    as artifacts, and the decision as tags. Aliases move only when the gate passed.

    Raises:
        CompareError: bad margin or metric, unknown version, the challenger already champion,
            or data the models cannot read. Nothing is moved then.
    """
    from core.compare.record import log_evaluation
    from core.tracking.models import delete_alias, set_alias

    margin = check_margin(margin)
    challenger = _project_version(tracker, project, challenger_version)
    task = challenger.tags.get("workbench.task", "")
    if not metric:  # the task's first metric: accuracy, or r2 for regression
        metric = GATE_METRICS.get(task, GATE_METRICS["classification"])[0]
    if task in GATE_METRICS and metric not in GATE_METRICS[task]:
        raise CompareError(f"The gate metric must be one of {', '.join(GATE_METRICS[task])} for a {task} model. "
                           f"Got {metric!r} instead.")
    champion = current_champion(tracker, project)
    check_same_job(champion, challenger)
    if champion and champion.version == challenger.version:
        raise CompareError(f"Version {challenger.version} of {project!r} is already the champion; "
                           "pick another version to promote.")
    data, frame, part = evaluation_data(tracker, project, data_ref)
    versions = [champion, challenger] if champion else [challenger]
    evaluation = evaluate_models(tracker, versions, frame, importance=False, resources=False, on_progress=on_progress)
    champ_label = f"v{champion.version}" if champion else None
    decision = promotion_gate(evaluation, metric, margin, challenger=f"v{challenger.version}", champion=champ_label)
    inputs = [mv.run_id for mv in versions] + [data.run_id]
    params = {"champion_version": champion.version if champion else "none", "challenger_version": challenger.version,
              "metric": metric, "margin": margin, "data_version": data.ref, "data_part": part,
              "higher_is_better": higher_is_better(metric)}
    name = f"gate v{challenger.version} vs {champ_label or 'no champion'}"
    with tracker.stage_run(project, "compare", name=name, inputs=inputs, params=params,
                           tags={KIND_TAG: "gate"}) as run_id:
        scores = {"challenger_score": decision.challenger_score, "champion_score": decision.champion_score,
                  "delta": decision.delta, "improvement": decision.improvement}
        tracker.log_metrics(run_id, {k: v for k, v in scores.items() if v is not None})
        log_evaluation(tracker, run_id, evaluation)
        tracker.set_tags(run_id, {"workbench.gate.decision": "passed" if decision.passed else "refused",
                                  "workbench.gate.reason": decision.reason[:4900]})
        if decision.passed:
            if on_progress:
                on_progress(f"Gate passed: moving the champion alias to v{challenger.version}…")
            set_alias(tracker, project, CHAMPION, challenger.version)
            if champion:
                set_alias(tracker, project, PREVIOUS, champion.version)
            if CHALLENGER in challenger.aliases:
                delete_alias(tracker, project, CHALLENGER)
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
        "metric": r.params.get("metric", ""),
        "margin": float(r.params.get("margin", "nan")),
        "challenger_score": r.metrics.get("challenger_score"),
        "champion_score": r.metrics.get("champion_score"),
        "decision": r.tags.get("workbench.gate.decision", "unfinished" if r.status != "FINISHED" else ""),
        "aliases_moved": r.tags.get("workbench.gate.applied") == "true",
        "data": r.params.get("data_version", ""),
        "reason": r.tags.get("workbench.gate.reason", ""),
        "run_id": r.run_id,
    } for r in runs]
    cols = ["when", "challenger", "champion", "metric", "margin", "challenger_score", "champion_score", "decision",
            "aliases_moved", "data", "reason", "run_id"]
    return pd.DataFrame(rows, columns=cols)
