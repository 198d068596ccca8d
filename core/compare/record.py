"""Save Compare results into a run: tables as CSV / JSON, figures as self-contained HTML."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from core.compare.evaluate import Evaluation
    from core.tracking import Tracker


def evaluation_metrics(evaluation: Evaluation) -> dict[str, float]:
    """The metric keys of a side-by-side run: ``<metric>`` when it evaluates one model, none with several.

    Keys stay bounded as versions are added: per-version keys (``accuracy_v1``, ``accuracy_v3``, …) each
    became a column of the MLflow runs table, one more with every new version. With several models the
    per-model values are the run's ``evaluation/metrics.csv`` (a metric × model table) and the models
    its ``models`` param; a key that means "model 1" in one run and another model in the next would
    read as a trend that is not one.
    """
    values = evaluation.metrics_dict()
    if len(values) != 1:
        return {}
    (only,) = values.values()
    return {metric: value for metric, value in only.items() if value is not None}


def log_evaluation(tracker: Tracker, run_id: str, evaluation: Evaluation, *, figures: bool = True,
                   metrics: bool = True) -> None:
    """Log an evaluation's tables (``evaluation/``) and figures (``figures/*.html``) into ``run_id``.

    ``metrics=False``: tables and figures only (a gate run logs its own ``champion.`` / ``challenger.`` keys).
    """
    if metrics:
        tracker.log_metrics(run_id, evaluation_metrics(evaluation))
    with tempfile.TemporaryDirectory(prefix="wb-compare-") as tmp:
        out = Path(tmp) / "evaluation"
        out.mkdir()
        evaluation.metrics.to_csv(out / "metrics.csv", index_label="metric")
        if not evaluation.resources.empty:
            evaluation.resources.to_csv(out / "resources.csv", index_label="metric")
        for name in ("roc", "pr", "calibration", "residuals", "importances"):
            table = getattr(evaluation, name)
            if table is not None:
                table.to_csv(out / f"{name}.csv", index=False)
        for model, cm in evaluation.confusion.items():
            cm.to_csv(out / f"confusion_{model}.csv")
        for model, table in evaluation.per_class.items():
            table.to_csv(out / f"per_class_{model}.csv", index=False)
        (out / "notes.txt").write_text("\n".join(evaluation.notes) + "\n")
        tracker.log_dir(run_id, out, "evaluation")
        if figures:
            from core.compare.figures import evaluation_figures

            fig_dir = Path(tmp) / "figures"
            fig_dir.mkdir()
            for stem, fig in evaluation_figures(evaluation).items():
                fig.write_html(fig_dir / f"{stem}.html", include_plotlyjs="cdn", full_html=True)
            tracker.log_dir(run_id, fig_dir, "figures")


def run_comparison(tracker: Tracker, project: str, refs: list[str | int], data_ref: str, *, importance: bool = True,
                   resources: bool = True, log: bool = True, on_progress=None,  # noqa: ANN001
                   model_name: str | None = None):  # noqa: ANN201
    """Resolve model refs and a dataset version, evaluate side by side, and log a ``compare`` run.

    Returns:
        (evaluation, dataset version, part, run id or "").
    """
    from dataclasses import replace

    from core.compare.charter_rules import project_charter, with_business_cost
    from core.compare.evaluate import common_target, evaluate_models
    from core.compare.heldout import cautions
    from core.compare.loading import held_out_evaluation, resolve_models

    versions = resolve_models(tracker, project, refs, model_name=model_name)
    data, held = held_out_evaluation(tracker, project, data_ref, versions, common_target(versions)[0])
    part, frame = held.part, held.frame
    evaluation = evaluate_models(tracker, versions, frame, importance=importance, resources=resources,
                                 on_progress=on_progress)
    # the charter's KPI, from the same held-out predictions (no training row is scored)
    evaluation = with_business_cost(evaluation, project_charter(tracker, versions[0]))
    notes = [n for n in (held.note,) if n]
    for metric in evaluation.metrics.index[:1]:  # the headline metric (accuracy / r2)
        notes += cautions({m: evaluation.score(m, str(metric)) for m in evaluation.models}, evaluation.rows,
                          str(metric))
    evaluation = replace(evaluation, notes=(*evaluation.notes, *notes))
    run_id = ""
    if log:
        params = {"models": ",".join(f"{mv.name}/{mv.version}" for mv in versions), "data_version": data.ref,
                  "data_part": part, "rows": evaluation.rows, "rows_removed_as_training": held.removed}
        with tracker.stage_run(project, "compare", name=f"compare {' vs '.join(evaluation.models)}", params=params,
                               inputs=[*(mv.run_id for mv in versions), data.run_id],
                               tags={"workbench.compare.kind": "evaluate"}) as run_id:
            from core.tracking.datasets import log_dataset_inputs

            log_dataset_inputs(tracker, run_id, [(data.run_id, "evaluation")])
            log_evaluation(tracker, run_id, evaluation)
    return evaluation, data, part, run_id
