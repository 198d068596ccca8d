"""Studies: configuration, creation / resumption, running trials, and refitting the best model.

A study lives in an Optuna storage; its :class:`StudyConfig` (JSON) and the id of
its MLflow parent run are study user attributes, so any process that knows only
the study name and the storage URL (``tune-worker``) can join it, and a study can
be resumed after a crash or a server restart. Every finished trial gets exactly
one MLflow child run (see :mod:`core.tune.records`).

Budget: ``n_trials`` is the *study's* budget, counted over finished trials
(trials failed for infrastructure reasons — a dead worker, a stop request — are
re-queued and not counted). Several workers share it; each stops when it is
spent, so the study may overshoot by at most one trial per extra worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import TuneError, WorkbenchError
from core.models import FAMILIES
from core.tune.metrics import DEFAULT_METRIC, get_metric
from core.tune.objective import FAIL_ATTR, RETRY_ATTR, load_training_data, make_objective
from core.tune.space import default_space, fixed_values, grid_points, parse_space, space_to_json, validate_space

if TYPE_CHECKING:  # pragma: no cover
    import optuna

    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

SAMPLERS = ("tpe", "random", "grid", "cmaes", "gp")
PRUNERS = ("median", "sh", "hyperband", "none")
TASKS = ("classification", "regression")
CONFIG_ATTR = "workbench.config"
PARENT_ATTR = "workbench.parent_run_id"
TRACKING_ATTR = "workbench.tracking_uri"
MODEL_ATTR = "workbench.model_version"
FIELD_WORDS = {"data_run_id": "dataset version", "cv_folds": "number of folds", "space": "search space",
               "family": "model family", "features": "feature list"}  # for messages


@dataclass(frozen=True)
class StudyConfig:
    """Everything a worker needs to run trials of a study (stored as JSON in the study)."""

    project: str
    data_run_id: str
    target: str
    task: str
    family: str
    metric: str
    direction: str
    cv_folds: int = 3
    n_trials: int = 20
    timeout_s: float | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    space: str = ""  # canonical JSON of the search space (see core.tune.space)
    study_name: str = ""
    seed: int = 0
    features: tuple[str, ...] = ()

    @classmethod
    def create(cls, *, project: str, data_run_id: str, target: str, task: str, family: str,
               metric: str | None = None, space: str | Mapping[str, Any] | None = None,
               study_name: str | None = None, **kwargs: Any) -> StudyConfig:
        """Build and validate a config; defaults: the family's space, the task's metric, a dated name."""
        if family not in FAMILIES:
            raise TuneError(f"The model family must be one of {', '.join(FAMILIES)}. Got {family!r} instead.")
        if task not in TASKS:
            raise TuneError(f"The task must be classification or regression. Got {task!r} instead.")
        metric = metric or DEFAULT_METRIC[task]
        parsed = parse_space(space) if space not in (None, "") else default_space(family, task)
        name = study_name or default_study_name(family, target)
        config = cls(project=project, data_run_id=data_run_id, target=target, task=task, family=family,
                     metric=metric, direction=get_metric(metric, task).direction, space=space_to_json(parsed),
                     study_name=name, **kwargs)
        return config.validate()

    def validate(self) -> StudyConfig:
        """Check every field; return self (TuneError sentences otherwise)."""
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,120}", self.study_name or ""):
            raise TuneError(f"A study name may use letters, digits and . _ : - (1–120 characters). "
                            f"Got {self.study_name!r} instead.")
        if self.sampler not in SAMPLERS:
            raise TuneError(f"The sampler must be one of {', '.join(SAMPLERS)}. Got {self.sampler!r} instead.")
        if self.pruner not in PRUNERS:
            raise TuneError(f"The pruner must be one of {', '.join(PRUNERS)}. Got {self.pruner!r} instead.")
        if not 2 <= int(self.cv_folds) <= 20:
            raise TuneError(f"The number of cross-validation folds must be an int in [2, 20]. "
                            f"Got {self.cv_folds} instead.")
        if int(self.n_trials) < 1:
            raise TuneError(f"The trial budget must be at least 1. Got {self.n_trials} instead.")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise TuneError(f"The time budget must be a positive number of seconds. Got {self.timeout_s} instead.")
        get_metric(self.metric, self.task)
        validate_space(parse_space(self.space), self.family, self.task)
        return self

    @property
    def space_specs(self) -> dict:
        return parse_space(self.space)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StudyConfig:
        try:
            raw = json.loads(text)
            raw["features"] = tuple(raw.get("features") or ())
            return cls(**raw)
        except (TypeError, ValueError) as err:
            raise TuneError(f"The stored study configuration cannot be read: {err}.") from err


@dataclass(frozen=True)
class StudyResult:
    """Where a study stands (after a run, or read from the storage)."""

    study_name: str
    n_complete: int
    n_pruned: int
    n_failed: int
    best_value: float | None
    best_params: dict[str, Any]
    best_trial: int | None
    parent_run_id: str
    model_version: ModelVersionInfo | None = None


def default_study_name(family: str, target: Any, stamp: str | None = None) -> str:
    """``<family>-<target>-<stamp>`` with the target reduced to a study name's characters (stamp: now)."""
    safe_target = re.sub(r"[^A-Za-z0-9_.:-]+", "_", str(target)).strip("_")[:60] or "target"
    return f"{family}-{safe_target}-{stamp or time.strftime('%Y%m%d-%H%M%S')}"


# -- samplers and pruners ----------------------------------------------------
def make_sampler(config: StudyConfig, seed: int | None = None) -> optuna.samplers.BaseSampler:
    import importlib.util

    import optuna

    seed = config.seed if seed is None else seed
    if config.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if config.sampler == "grid":
        return optuna.samplers.GridSampler(grid_points(parse_space(config.space)), seed=seed)
    if config.sampler == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if config.sampler == "gp":
        if importlib.util.find_spec("torch") is None:
            raise TuneError("The Gaussian-process sampler needs PyTorch, which is not installed here; "
                            "install torch or choose the tpe sampler.")
        return optuna.samplers.GPSampler(seed=seed)
    startup = max(3, min(10, config.n_trials // 4))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, multivariate=True)


def make_pruner(config: StudyConfig) -> optuna.pruners.BasePruner:
    import optuna

    if config.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if config.pruner == "sh":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if config.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=config.cv_folds, reduction_factor=3)
    return optuna.pruners.NopPruner()


# -- create / load -----------------------------------------------------------
def _budget_fields(config: StudyConfig) -> dict[str, Any]:
    d = dataclasses.asdict(config)
    for k in ("n_trials", "timeout_s"):
        d.pop(k)
    return d


def open_study(storage: optuna.storages.BaseStorage, study_name: str,
               seed: int | None = None) -> tuple[optuna.Study, StudyConfig]:
    """Load an existing workbench study with its own sampler and pruner."""
    import optuna

    try:
        bare = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError as err:
        raise TuneError(f"No study named {study_name!r} in this Optuna storage; start it with "
                        f"`python -m core tune` or from the Tune page.") from err
    text = bare.user_attrs.get(CONFIG_ATTR)
    if not text:
        raise TuneError(f"Study {study_name!r} was not created by the workbench (it has no stored configuration).")
    config = StudyConfig.from_json(text)
    study = optuna.Study(study_name=study_name, storage=storage, sampler=make_sampler(config, seed),
                         pruner=make_pruner(config))
    return study, config


def create_or_load_study(config: StudyConfig, storage: optuna.storages.BaseStorage,
                         tracker: Tracker | None = None, seed: int | None = None) -> optuna.Study:
    """Create the study (and, with ``tracker``, its MLflow parent run), or load it to resume.

    Loading accepts a new budget (n_trials / timeout) but refuses any other change:
    a study's trials are only comparable under one configuration.
    """
    import optuna

    config.validate()
    sampler = make_sampler(config, seed)  # fails early (e.g. gp without torch)
    names = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if config.study_name in names:
        study, stored = open_study(storage, config.study_name, seed)
        if _budget_fields(stored) != _budget_fields(config):
            changed = sorted(FIELD_WORDS.get(k, k.replace("_", " "))
                             for k, v in _budget_fields(config).items() if _budget_fields(stored)[k] != v)
            raise TuneError(f"A study named {config.study_name!r} already exists with a different "
                            f"{', '.join(changed)}; resume it as it is or choose a new study name.")
        if (stored.n_trials, stored.timeout_s) != (config.n_trials, config.timeout_s):
            study.set_user_attr(CONFIG_ATTR, config.to_json())
    else:
        study = optuna.create_study(study_name=config.study_name, storage=storage, direction=config.direction,
                                    sampler=sampler, pruner=make_pruner(config), load_if_exists=True)
        study.set_user_attr(CONFIG_ATTR, config.to_json())
    name_objective(study, config)
    if tracker is not None:
        ensure_parent_run(tracker, study, config, storage)
    return study


def objective_name(config: StudyConfig) -> str:
    """The name of the study's objective, as in MLflow: ``cv_<metric>`` (the mean over the folds)."""
    return f"cv_{config.metric}"


def name_objective(study: optuna.Study, config: StudyConfig) -> None:
    """Set the study's metric name (optuna-dashboard's axis label) when it is missing, e.g. in an older study."""
    import warnings

    if study.metric_names == [objective_name(config)]:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # set_metric_names is "experimental" since Optuna 3.2
        study.set_metric_names([objective_name(config)])


def ensure_parent_run(tracker: Tracker, study: optuna.Study, config: StudyConfig,
                      storage: optuna.storages.BaseStorage | None = None) -> str:
    """The study's MLflow parent run id, creating the run on first use."""
    parent = study.user_attrs.get(PARENT_ATTR)
    if parent:
        return parent
    from core.tune.storage import mask_url

    where = getattr(storage, "url", "") or getattr(getattr(storage, "_backend", None), "_file_path", "")
    params = {
        "sampler": config.sampler, "pruner": config.pruner, "space": config.space, "n_trials": config.n_trials,
        "timeout_s": config.timeout_s, "metric": config.metric, "direction": config.direction,
        "cv_folds": config.cv_folds, "family": config.family, "task": config.task, "target": config.target,
        "study_name": config.study_name, "seed": config.seed, "features": json.dumps(list(config.features)),
        "storage": mask_url(str(where)),
    }
    parent = tracker.start_run(config.project, "tune", name=f"study {config.study_name}", inputs=[config.data_run_id],
                               params=params, tags={"optuna.study_name": config.study_name,
                                                    "workbench.family": config.family})
    from core.tracking.datasets import log_dataset_inputs

    log_dataset_inputs(tracker, parent, [(config.data_run_id, "training")])  # the Dataset column of the study run
    study.set_user_attr(PARENT_ATTR, parent)
    study.set_user_attr(TRACKING_ATTR, tracker.settings.tracking_uri)
    return parent


# -- running -----------------------------------------------------------------
def counted_trials(study: optuna.Study) -> int:
    """Finished trials that count against the budget (re-queued infrastructure failures do not)."""
    from core.tune.records import heartbeat_failed

    trials = study.get_trials(deepcopy=False)
    # A trial failed by an RDB storage's heartbeat (its worker died on any machine) is re-queued by
    # RetryHeartbeatStaleTrialCallback. Such a FAIL must not count either, or the budget is spent
    # before the WAITING retry runs and `tune-worker --finalize` then waits for it forever.
    requeued = heartbeat_failed(trials)
    n = 0
    for t in trials:
        if t.state.name in ("COMPLETE", "PRUNED") or (
            t.state.name == "FAIL" and RETRY_ATTR not in t.user_attrs and t.number not in requeued
        ):
            n += 1
    return n


def study_result(study: optuna.Study, parent_run_id: str = "", model_version: Any = None) -> StudyResult:
    """Counts and best trial of ``study`` as a :class:`StudyResult`."""
    counts = {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0}
    best = None
    sign = 1 if study.direction.name == "MAXIMIZE" else -1
    for t in study.get_trials(deepcopy=False):
        if t.state.name in counts:
            counts[t.state.name] += 1
        if t.state.name == "COMPLETE" and t.value is not None and (best is None or sign * t.value > sign * best.value):
            best = t
    config = StudyConfig.from_json(study.user_attrs[CONFIG_ATTR]) if CONFIG_ATTR in study.user_attrs else None
    params = {**fixed_values(parse_space(config.space)), **best.params} if best is not None and config else {}
    return StudyResult(study.study_name, counts["COMPLETE"], counts["PRUNED"], counts["FAIL"],
                       best.value if best else None, params, best.number if best else None,
                       parent_run_id or study.user_attrs.get(PARENT_ATTR, ""), model_version)


def run_trials(
    config: StudyConfig,
    storage: optuna.storages.BaseStorage,
    tracker: Tracker,
    *,
    n_trials: int | None = None,
    timeout_s: float | None = None,
    on_trial: Callable[[StudyResult, optuna.trial.FrozenTrial], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    enqueue_params: Sequence[Mapping[str, Any]] = (),
    seed: int | None = None,
) -> StudyResult:
    """Run trials of the study in this process until its budget, ``n_trials`` of ours, the timeout, or a stop.

    Args:
        n_trials: at most this many trials from this process (default: what is left of the budget).
        on_trial: called after each finished trial with the study's state and the trial.
        should_stop: polled between folds and trials; True stops (the running trial is
            failed with "Stopped on request", its params re-queued for the next run).
        enqueue_params: parameter sets to try first (warm start, e.g. the champion's params);
            keys outside the searchable space are ignored.
        seed: sampler seed of this process (default the config's; give workers distinct seeds).
    """
    from core.tune.records import TrialWriter, fail_dead_running, log_missing_children

    study = create_or_load_study(config, storage, tracker, seed)
    config = StudyConfig.from_json(study.user_attrs[CONFIG_ATTR])
    parent = ensure_parent_run(tracker, study, config, storage)
    fail_dead_running(study)
    log_missing_children(tracker, config, parent, study)
    searchable = {k for k, s in parse_space(config.space).items() if s.kind != "fixed"}
    for params in enqueue_params:
        picked = {k: v for k, v in params.items() if k in searchable}
        if picked:
            study.enqueue_trial(picked, skip_if_exists=True)
    remaining = config.n_trials - counted_trials(study)
    if remaining <= 0 or (should_stop is not None and should_stop()):
        return study_result(study, parent)
    data = load_training_data(tracker, config)
    if data.dropped_missing_target:
        tracker.log_params(parent, {"rows_dropped_missing_target": data.dropped_missing_target})
    objective = make_objective(config, data, should_stop)
    best_seen: list[float | None] = [study_result(study).best_value]

    writer = TrialWriter(tracker, config, parent)

    def record(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        writer.submit(trial, study)
        retry = trial.user_attrs.get(RETRY_ATTR) and "workbench.retried_from" not in trial.user_attrs
        if trial.state.name == "FAIL" and retry:
            study.enqueue_trial(trial.params, user_attrs={"workbench.retried_from": trial.number})
        result = study_result(study, parent)
        if result.best_value is not None and result.best_value != best_seen[0]:
            best_seen[0] = result.best_value
            writer.submit_parent_rows([(f"best_{objective_name(config)}", result.best_value, trial.number)])
        if on_trial is not None:
            on_trial(result, trial)
        if counted_trials(study) >= config.n_trials or (should_stop is not None and should_stop()):
            study.stop()

    study.optimize(objective, n_trials=min(n_trials or remaining, remaining),
                   timeout=timeout_s if timeout_s is not None else config.timeout_s,
                   catch=(Exception,), callbacks=[record], gc_after_trial=False)
    if writer.failed:  # one more go; what still fails is written at finalisation or by the next worker
        with contextlib.suppress(WorkbenchError):
            log_missing_children(tracker, config, parent, study)
    return study_result(study, parent)


from core.tune.finalize import finalize_study  # noqa: E402 - re-exported; finalize imports this module

__all__ = ["FAIL_ATTR", "PRUNERS", "SAMPLERS", "StudyConfig", "StudyResult", "create_or_load_study",
           "finalize_study", "make_pruner", "make_sampler", "open_study", "run_trials", "study_result"]
