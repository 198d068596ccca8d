"""Reading a study for people: progress, a trials table, and guarded plotly figures.

Every figure goes through :func:`study_figure`, which checks first whether the
study can support it (importances need two complete trials and a varied
parameter, a contour two parameters, …) and returns a sentence instead of a figure
when it cannot — the page never shows a traceback for a young study.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.tune.objective import FAIL_ATTR, FOLDS_ATTR, WORKER_ATTR

if TYPE_CHECKING:  # pragma: no cover
    import optuna
    import pandas as pd

    from core.tune.study import StudyConfig

FIGURES = {
    "history": "Optimisation history",
    "importances": "Parameter importances",
    "parallel": "Parallel coordinates",
    "contour": "Contour",
    "slice": "Slice",
    "intermediate": "Intermediate values (per fold)",
    "timeline": "Timeline",
}


@dataclass(frozen=True)
class StudyProgress:
    """Live state of a study, read from its storage."""

    study_name: str
    config: StudyConfig
    n_complete: int
    n_pruned: int
    n_failed: int
    n_running: int
    n_waiting: int
    counted: int
    best_value: float | None
    best_trial: int | None
    best_params: dict[str, Any]
    parent_run_id: str
    model_version: str

    @property
    def budget_left(self) -> int:
        return max(0, self.config.n_trials - self.counted)

    @property
    def fraction(self) -> float:
        return min(1.0, self.counted / max(1, self.config.n_trials))


def study_progress(study: optuna.Study, config: StudyConfig) -> StudyProgress:
    from core.tune.study import MODEL_ATTR, PARENT_ATTR, counted_trials, study_result

    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    r = study_result(study)
    return StudyProgress(
        study.study_name, config, r.n_complete, r.n_pruned, r.n_failed, states.count("RUNNING"),
        states.count("WAITING"), counted_trials(study), r.best_value, r.best_trial, r.best_params,
        study.user_attrs.get(PARENT_ATTR, ""), study.user_attrs.get(MODEL_ATTR, "").split("#")[0],
    )


def value_column(study: optuna.Study) -> str:
    """The trials table's value column: the study's metric name (``cv_<metric>``), else ``value``."""
    names = study.metric_names
    return str(names[0]) if names else "value"


def trials_frame(study: optuna.Study, states: tuple[str, ...] | None = None, best_k: int | None = None) -> pd.DataFrame:
    """One row per trial: number, state, CV value, duration, folds, params, worker, message, MLflow run.

    The value column is named like the MLflow metric (``cv_<metric>``, see :func:`value_column`); a
    pruned trial shows the mean over the folds it ran, as its child run does. ``states`` keeps only
    those states; ``best_k`` keeps the k best complete trials (by the study's direction).
    """
    import statistics

    import pandas as pd

    from core.tune.records import trial_run_ids

    column = value_column(study)
    run_ids = trial_run_ids(study)
    rows = []
    for t in study.get_trials(deepcopy=False):
        duration = ((t.datetime_complete - t.datetime_start).total_seconds()
                    if t.datetime_complete and t.datetime_start else None)
        folds = json.loads(t.user_attrs.get(FOLDS_ATTR, "[]") or "[]")
        value = t.value if t.value is not None or t.state.name != "PRUNED" or not folds else statistics.fmean(folds)
        rows.append({"trial": t.number, "state": t.state.name, column: value, "duration_s": duration,
                     "folds_run": len(folds), **{f"param {k}": v for k, v in t.params.items()},
                     "worker": t.user_attrs.get(WORKER_ATTR, ""), "message": t.user_attrs.get(FAIL_ATTR, ""),
                     "mlflow_run_id": run_ids.get(t.number, "")})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    if states:
        frame = frame[frame["state"].isin(states)]
    if best_k:
        frame = frame[frame["state"] == "COMPLETE"]
        frame = frame.sort_values(column, ascending=study.direction.name == "MINIMIZE").head(best_k)
    return frame.reset_index(drop=True)


def _varied_params(study: optuna.Study) -> list[str]:
    complete = study.get_trials(deepcopy=False, states=_complete())
    names = sorted({k for t in complete for k in t.params})
    return [n for n in names if len({repr(t.params.get(n)) for t in complete}) > 1]


def _complete() -> tuple:
    from optuna.trial import TrialState

    return (TrialState.COMPLETE,)


def figure_check(study: optuna.Study, kind: str) -> str:
    """Empty string when ``kind`` can be drawn, else the sentence that says why not yet."""
    n_complete = len(study.get_trials(deepcopy=False, states=_complete()))
    varied = _varied_params(study)
    if kind == "timeline":
        return "" if study.get_trials(deepcopy=False) else "No trial has started yet."
    if kind == "intermediate":
        has = any(t.intermediate_values for t in study.get_trials(deepcopy=False))
        return "" if has else "No trial has reported a fold score yet."
    if n_complete < 1:
        return "No complete trial yet; this view appears after the first one."
    if kind == "importances" and (n_complete < 2 or not varied):
        return "Parameter importances need at least 2 complete trials whose parameters differ."
    if kind == "contour" and (n_complete < 2 or len(varied) < 2):
        return "A contour needs at least 2 searched parameters that vary across 2 or more complete trials."
    return ""


def study_figure(study: optuna.Study, kind: str) -> tuple[Any, str]:
    """``(figure, "")`` or ``(None, sentence)`` for one of :data:`FIGURES`."""
    import optuna.visualization as vis

    reason = figure_check(study, kind)
    if reason:
        return None, reason
    draw = {
        "history": vis.plot_optimization_history,
        "importances": vis.plot_param_importances,
        "parallel": vis.plot_parallel_coordinate,
        "contour": lambda s: vis.plot_contour(s, params=_varied_params(s)[:2]),
        "slice": vis.plot_slice,
        "intermediate": vis.plot_intermediate_values,
        "timeline": vis.plot_timeline,
    }[kind]
    try:
        fig = draw(study)
    except Exception as err:  # noqa: BLE001 - plotting edge cases become a sentence, not a crash
        return None, f"This view cannot be drawn for the study yet: {str(err).splitlines()[0][:200]}"
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=380)
    return fig, ""
