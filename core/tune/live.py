"""What the Tune page reads and starts: one consistent snapshot of a study, the project's studies, a start.

A running study changes between two reads of its storage. The page used to read it once for the counters,
again for the figures and again for the trials table, so during a live study the counters said
"Complete 4 · Pruned 6 · Running 1" while the figures below still said "No complete trial yet".
:func:`snapshot_study` reads the trials once and copies them into an in-memory study; the counters, every
figure and the trials table of one refresh are computed from that copy, so they always agree.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.tune.inspect import StudyProgress, study_progress
from core.tune.study import StudyConfig, create_or_load_study, open_study

if TYPE_CHECKING:  # pragma: no cover
    import optuna
    import pandas as pd

    from core.config import Settings
    from core.tracking import Tracker
    from core.tune.worker import WorkerInfo


@dataclass(frozen=True, eq=False)
class StudySnapshot:
    """One read of a study: an in-memory copy (``study``) and what the page shows of it."""

    study: optuna.Study  # in memory: reading it again never reaches the storage
    config: StudyConfig
    progress: StudyProgress


def snapshot_study(storage: optuna.storages.BaseStorage, name: str) -> StudySnapshot:
    """Read study ``name`` once (attributes, then every trial) into an in-memory copy.

    Raises:
        TuneError: no such study, or not a workbench study.
    """
    import optuna

    live, config = open_study(storage, name)
    user_attrs = dict(live.user_attrs)
    metric_names = live.metric_names
    trials = live.get_trials(deepcopy=True)
    copy = optuna.create_study(study_name=name, directions=live.directions)
    copy.add_trials(trials)
    for key, value in user_attrs.items():
        copy.set_user_attr(key, value)
    if metric_names:
        with warnings.catch_warnings():  # experimental since Optuna 3.2, and how the study names its metric
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            copy.set_metric_names(metric_names)
    return StudySnapshot(copy, config, study_progress(copy, config))


def project_studies(storage: optuna.storages.BaseStorage, project: str) -> list[Any]:
    """The storage's studies that belong to ``project`` (their stored configuration says so), newest first
    as :func:`core.tune.storage.list_studies` orders them."""
    from core.tune.storage import list_studies

    return [x for x in list_studies(storage) if json.loads(x.config_json).get("project") == project]


def start_study(settings: Settings, storage: optuna.storages.BaseStorage, tracker: Tracker, config: StudyConfig,
                target_values: pd.Series) -> WorkerInfo:
    """Refuse data a study cannot learn from, create (or resume) the study, start one worker process.

    Raises:
        TuneError: too few rows per class or fold, one class only, a study of that name with another
            configuration, and the like — each as one sentence.
    """
    from core.tune.objective import check_training_data
    from core.tune.worker import start_worker

    check_training_data(target_values.dropna(), config.task, config.cv_folds)
    create_or_load_study(config, storage, tracker)
    return start_worker(settings, config.study_name, settings.optuna_storage, seed=config.seed,
                        project=config.project)
