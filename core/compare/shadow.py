"""Shadow test: replay a batch through the champion and challengers; only the champion is served.

:func:`shadow_compare` is pure (fitted models in, :class:`ShadowResult` out);
:func:`run_shadow` loads the registered versions, replays a dataset version and logs a
``compare`` run with every model's predictions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from core.errors import CompareError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.tracking import Tracker


@dataclass(frozen=True)
class ShadowResult:
    """Predictions of all models on one batch; ``served`` are the champion's."""

    champion: str
    challengers: tuple[str, ...]
    task: str
    rows: int
    predictions: pd.DataFrame  # the batch + pred_<model> columns + served + disagree
    disagreement: Mapping[str, float]  # challenger -> share of rows differing from the champion
    scores: Mapping[str, float]  # model -> accuracy / MAE when labels exist
    right_when_disagree: Mapping[str, int]  # challenger -> right where it disagrees; champion -> where any does
    score_name: str = ""
    tolerance: float | None = None  # regression: |difference| counted as disagreement
    run_id: str = ""
    removed_rows: int = 0  # batch rows left out because a model was trained on them

    @property
    def disagreeing(self) -> pd.DataFrame:
        """Only the rows where at least one challenger disagrees with the champion."""
        return self.predictions[self.predictions["disagree"]]

    @property
    def has_labels(self) -> bool:
        return bool(self.scores)


def shadow_compare(models: Mapping[str, Any], champion: str, frame: pd.DataFrame, *, target: str | None = None,
                   task: str = "classification", tolerance: float | None = None) -> ShadowResult:
    """Run every model on ``frame``; flag rows where a challenger differs from the champion.

    Regression predictions disagree when they differ by more than ``tolerance`` (default: 10 % of
    the standard deviation of the champion's predictions).
    """
    import numpy as np

    if champion not in models or len(models) < 2:
        raise CompareError("A shadow test needs the champion and at least one challenger.")
    if frame.empty:
        raise CompareError("The shadow batch has no rows; pick another dataset version.")
    labelled = bool(target) and target in frame.columns and frame[target].notna().any()
    X = frame.drop(columns=[target]) if target and target in frame.columns else frame
    out = frame.copy()
    preds = {label: np.asarray(model.predict(X)) for label, model in models.items()}
    for label, p in preds.items():
        out[f"pred_{label}"] = p
    out["served"] = preds[champion]
    challengers = tuple(m for m in models if m != champion)
    regression = task == "regression"
    if regression and tolerance is None:
        tolerance = 0.1 * float(np.std(preds[champion].astype(float))) or 1e-9
    flags = {}
    for c in challengers:
        if regression:
            flags[c] = np.abs(preds[c].astype(float) - preds[champion].astype(float)) > tolerance
        else:
            flags[c] = preds[c].astype(str) != preds[champion].astype(str)
    any_flag = np.logical_or.reduce(list(flags.values()))
    out["disagree"] = any_flag
    scores: dict[str, float] = {}
    right: dict[str, int] = {}
    score_name = ""
    if labelled:
        mask = frame[target].notna().to_numpy()
        y = frame[target].to_numpy()
        for label, p in preds.items():
            # a challenger: the rows where *it* disagrees with the champion; the champion: where any does
            rows = flags.get(label, any_flag) & mask
            if regression:
                err = np.abs(y[mask].astype(float) - p[mask].astype(float))
                scores[label], score_name = float(err.mean()), "mae"
                close = np.abs(y.astype(float) - p.astype(float)) <= (tolerance or 0)
                right[label] = int((close & rows).sum())
            else:
                hit = p.astype(str) == y.astype(str)
                scores[label], score_name = float(hit[mask].mean()), "accuracy"
                right[label] = int((hit & rows).sum())
    return ShadowResult(champion, challengers, task, len(frame), out,
                        {c: float(f.mean()) for c, f in flags.items()}, scores, right, score_name,
                        tolerance if regression else None)


def run_shadow(tracker: Tracker, project: str, data_ref: str, challengers: Sequence[int | str] = (), *,
               model_name: str | None = None, on_progress: Callable[[str], None] | None = None) -> ShadowResult:
    """Replay ``data_ref`` through the champion and ``challengers`` and log a ``compare`` run.

    Replayed rows are the version's test part (all rows of a version without a split — a new batch),
    less every row any of the models was trained on: a shadow score from training rows would flatter
    the model that memorised them. ``challengers`` default to the version holding the ``challenger``
    alias of the registered model (``model_name``, else the challengers', else the project's only one).

    Raises:
        CompareError: no champion, no challenger, a batch lacking the models' columns, or no held-out row.
    """
    from core.compare.evaluate import check_features, common_target, load_models
    from core.compare.gate import CHALLENGER, current_champion
    from core.compare.loading import default_model, held_out_evaluation, resolve_model

    try:
        chosen = [resolve_model(tracker, project, c, model_name=model_name) for c in challengers]
    except CompareError as err:
        raise CompareError(f"{err} Pick challenger versions or set the challenger alias first.") from err
    name = model_name or (chosen[0].name if chosen else default_model(tracker, project))
    champion = current_champion(tracker, name)
    if champion is None:
        raise CompareError(f"{name!r} has no champion yet; promote a model through the gate first.")
    if not chosen:
        try:
            chosen = [resolve_model(tracker, project, CHALLENGER, model_name=name)]
        except CompareError as err:
            raise CompareError(f"{err} Pick challenger versions or set the challenger alias first.") from err
    chosen = [mv for mv in chosen if mv.version != champion.version]
    if not chosen:
        raise CompareError("Pick at least one challenger that is not the champion.")
    versions = [champion, *chosen]
    target, task = common_target(versions)
    data, held = held_out_evaluation(tracker, project, data_ref, versions, "")
    frame = held.frame
    check_features(versions, frame.assign(**{target: 0}) if target not in frame.columns else frame, target)
    if on_progress:
        on_progress(f"Replaying {len(frame):,} rows through {len(versions)} models…")
    models = load_models(tracker, versions)
    result = shadow_compare(models, f"v{champion.version}", frame.reset_index(drop=True), target=target,
                            task=task or "classification")
    params = {"model": name, "champion_version": champion.version,
              "challenger_versions": ",".join(str(v.version) for v in chosen), "data_version": data.ref,
              "data_part": held.part, "rows": len(frame), "rows_removed_as_training": held.removed}
    with tracker.stage_run(project, "compare", name=f"shadow {data.label}", params=params,
                           inputs=[*(mv.run_id for mv in versions), data.run_id],
                           tags={"workbench.compare.kind": "shadow"}) as run_id:
        from core.tracking.datasets import log_dataset_inputs

        log_dataset_inputs(tracker, run_id, [(data.run_id, "evaluation")])
        # bounded keys: the champion and the challenger (challenger2, … when several), the versions as params
        role = {result.champion: "champion", **{c: "challenger" if i == 0 else f"challenger{i + 1}"
                                                for i, c in enumerate(result.challengers)}}
        metrics = {("disagreement" if role[c] == "challenger" else f"disagreement.{role[c]}"): v
                   for c, v in result.disagreement.items()}
        metrics.update({f"{role[m]}.{result.score_name}": v for m, v in result.scores.items()})
        tracker.log_metrics(run_id, metrics)
        pred_cols = [c for c in result.predictions.columns if c.startswith("pred_")] + ["served", "disagree"]
        tracker.log_text(run_id, result.predictions[pred_cols].to_csv(index=True), "shadow/predictions.csv")
        tracker.log_text(run_id, result.disagreeing.to_csv(index=True), "shadow/disagreements.csv")
    return replace(result, run_id=run_id, removed_rows=held.removed)
