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


def finalize_study(config: StudyConfig, storage: optuna.storages.BaseStorage, tracker: Tracker) -> ModelVersionInfo:
    """Refit the best configuration on the full training split and register it as a new model version.

    The model (with signature and input example) is logged into the study's parent
    run, registered under the project's name with :func:`core.models.model_tags` and
    ``workbench.study`` / ``workbench.metric`` / ``workbench.metric_value`` tags, and
    the parent run is ended. Calling it again for the same best trial returns the same version.
    """
    from core.models import build_pipeline, model_tags
    from core.tracking.models import get_model_version, log_sklearn_model, register_model
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
    log_sklearn_model(tracker, parent, model, data.X, artifact_path=artifact)
    tags = model_tags(spec=data.spec, target=config.target, task=config.task, family=config.family,
                      data_version=config.data_run_id, params=result.best_params)
    tags.update({"workbench.study": config.study_name, "workbench.metric": config.metric,
                 "workbench.metric_value": f"{result.best_value:.6g}", "workbench.trial": str(result.best_trial),
                 "workbench.cv_folds": str(config.cv_folds), "workbench.train_part": data.part})
    mv = register_model(tracker, config.project, parent, artifact, tags,
                        description=f"Best of study {config.study_name}: {config.metric} {result.best_value:.4g} "
                                    f"(trial {result.best_trial}, {config.cv_folds}-fold CV).")
    tracker.log_metrics(parent, {"best_value": result.best_value, f"best_{config.metric}": result.best_value,
                                 "n_complete": result.n_complete, "n_pruned": result.n_pruned,
                                 "n_failed": result.n_failed}, step=max(t.number for t in study.trials))
    tracker.set_tags(parent, {"workbench.model_version": f"{mv.name}/{mv.version}",
                              "workbench.best_trial": result.best_trial})
    tracker.end_run(parent, "FINISHED")
    study.set_user_attr(MODEL_ATTR, f"{mv.name}/{mv.version}#{result.best_trial}")
    return mv
