"""Finalising a study: refit the best configuration on the training rows, log and register it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import TuneError
from core.tune.objective import load_training_data
from core.tune.study import MODEL_ATTR, StudyConfig, ensure_parent_run, open_study, study_result

if TYPE_CHECKING:  # pragma: no cover
    import optuna

    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo


def finalize_study(config: StudyConfig, storage: optuna.storages.BaseStorage, tracker: Tracker, *,
                   model_name: str | None = None) -> ModelVersionInfo:
    """Refit the best configuration on the full training split and register it as a new model version.

    The model is an MLflow 3 logged model of the study's parent run (the training dataset as its
    ``training`` input, the best trial's ``cv_<metric>`` linked to it), registered as the next version
    of the prediction job's model (``<project>-<target>``, :func:`core.tracking.models.register_trained`),
    and the parent run is ended. Calling it again for the same best trial returns the same version.
    """
    from core.models import build_pipeline, model_tags
    from core.tracking.models import get_model_version, register_trained
    from core.tune.records import log_missing_children

    study, config = open_study(storage, config.study_name)
    parent = ensure_parent_run(tracker, study, config, storage)
    log_missing_children(tracker, config, parent, study)
    result = study_result(study, parent)
    if result.best_trial is None:
        raise TuneError(f"Study {config.study_name!r} has no complete trial yet "
                        f"({result.n_pruned} pruned, {result.n_failed} failed); run more trials first.")
    done = study.user_attrs.get(MODEL_ATTR, "")
    if done and done.endswith(f"#{result.best_trial}"):
        name, version = done.split("#")[0].rsplit("/", 1)
        return get_model_version(tracker, name, version)
    data = load_training_data(tracker, config)
    model = build_pipeline(config.family, config.task, data.spec, result.best_params, config.seed)
    model.fit(data.X, data.y)
    artifact = f"model-trial-{result.best_trial}"
    tags = model_tags(spec=data.spec, target=config.target, task=config.task, family=config.family,
                      data_version=config.data_run_id, params=result.best_params)
    tags.update({"workbench.study": config.study_name, "workbench.metric": config.metric,
                 "workbench.metric_value": f"{result.best_value:.6g}", "workbench.trial": str(result.best_trial),
                 "workbench.cv_folds": str(config.cv_folds), "workbench.train_part": data.part,
                 "workbench.trials_finished": str(result.n_complete + result.n_pruned + result.n_failed),
                 "workbench.trials_budget": str(config.n_trials)})
    mv = register_trained(tracker, parent, model, data.X, project=config.project, tags=tags, artifact_path=artifact,
                          model_name=model_name,
                          metrics={f"cv_{config.metric}": result.best_value},
                          description=f"Best of study {config.study_name}: cv_{config.metric} "
                                      f"{result.best_value:.4g} (mean over {config.cv_folds} folds of the "
                                      f"training rows; trial {result.best_trial}).")
    tracker.log_metrics(parent, {f"best_cv_{config.metric}": result.best_value, "n_complete": result.n_complete,
                                 "n_pruned": result.n_pruned, "n_failed": result.n_failed},
                        step=max(t.number for t in study.trials))
    tracker.set_tags(parent, {"workbench.model_version": f"{mv.name}/{mv.version}",
                              "workbench.best_trial": result.best_trial})
    tracker.end_run(parent, "FINISHED")
    study.set_user_attr(MODEL_ATTR, f"{mv.name}/{mv.version}#{result.best_trial}")
    return mv
