"""The training data of a study and the cross-validated objective that Optuna calls.

Pruning: after each fold the objective reports the *running mean* of the fold
scores (step = fold index) and asks ``trial.should_prune()``, so the median /
successive-halving / Hyperband pruners stop a bad configuration after one or two
folds instead of all of them — but never after the last fold: a trial that ran every
fold is COMPLETE. Raw per-fold scores are kept in the trial's user attribute
``workbench.fold_scores`` (for the MLflow child run: ``fold_<metric>`` per fold,
``cv_<metric>`` their mean).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import TuneError, WorkbenchError, one_line
from core.tune.space import parse_space, suggest

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import optuna
    import pandas as pd

    from core.models import FeatureSpec
    from core.tracking import Tracker
    from core.tune.study import StudyConfig

FOLDS_ATTR = "workbench.fold_scores"
WORKER_ATTR = "workbench.worker"
FAIL_ATTR = "workbench.fail_reason"
RETRY_ATTR = "workbench.retry"  # "true": failed for infrastructure reasons, params re-enqueued


class StopRequested(Exception):  # noqa: N818 - a signal, not an error
    """Raised between folds when the person (or SIGTERM) asked the worker to stop."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class TuneData:
    """Features and target a study trains on (the training split when the version has one)."""

    X: pd.DataFrame
    y: pd.Series
    spec: FeatureSpec
    part: str
    dropped_missing_target: int


def check_training_data(y: pd.Series, task: str, folds: int) -> None:
    """Refuse data a cross-validated study cannot run on, with one sentence."""
    import pandas as pd

    if folds < 2:
        raise TuneError(f"Cross-validation needs at least 2 folds. Got {folds} instead.")
    if len(y) < folds:
        raise TuneError(f"The table has {len(y)} row(s) with a target, fewer than the {folds} cross-validation "
                        f"folds; add rows or use fewer folds.")
    if task == "classification":
        counts = y.value_counts()
        if len(counts) < 2:
            raise TuneError(f"The target has a single class ({str(counts.index[0])!r}); classification needs at least "
                            f"two.")
        if counts.min() < 2:
            raise TuneError(f"Class {str(counts.idxmin())!r} has a single row ({len(counts)} classes in "
                            f"{len(y)} rows); cross-validation needs at least 2 rows per class. Drop or relabel that "
                            f"class — or, for a continuous target, choose regression.")
        if counts.min() < folds:
            raise TuneError(f"Class {str(counts.idxmin())!r} has only {counts.min()} row(s), fewer than the {folds} "
                            f"folds; use at most {int(counts.min())} folds or add rows of that class.")
    elif not pd.api.types.is_numeric_dtype(y):
        raise TuneError(f"Regression needs a numeric target; {y.name!r} is {y.dtype}. Choose classification.")


def load_training_data(tracker: Tracker, config: StudyConfig) -> TuneData:
    """Read the dataset version of ``config`` and return checked (X, y).

    Rows whose target is missing are dropped (their count is returned and logged),
    because a model cannot learn from them; everything else that is wrong is refused.
    """
    from core.models import feature_spec, prepare_xy
    from core.tracking.datasets import DatasetVersion, load_dataset

    version = DatasetVersion.from_run(tracker.get_run(config.data_run_id))
    part = "train" if version.has_split else "all"
    frame = load_dataset(tracker, config.data_run_id, part=part)
    if config.target not in frame.columns:
        raise TuneError(f"The target column {config.target!r} is not in dataset {version.label}; "
                        f"its columns are {', '.join(map(str, list(frame.columns)[:15]))}.")
    missing = int(frame[config.target].isna().sum())
    if missing == len(frame):
        raise TuneError(f"The target column {config.target!r} has no values in dataset {version.label}.")
    try:
        spec = feature_spec(frame, config.target, list(config.features) or None)
        X, y = prepare_xy(frame, config.target, spec)
    except WorkbenchError as err:
        raise TuneError(one_line(err)) from err
    check_training_data(y, config.task, config.cv_folds)
    return TuneData(X.reset_index(drop=True), y.reset_index(drop=True), spec, part, missing)


def cv_splits(data: TuneData, task: str, folds: int, seed: int) -> list[tuple[Any, Any]]:
    """Cross-validation folds over the training rows; exact copies of a row always share a fold.

    Random over-sampling (and plain duplicates) put copies of one row in the training part; split
    freely, a copy in the validation fold is scored by a model that learned its twin, and ``cv_<metric>``
    reads optimistic. Grouping identical rows keeps every copy on one side of each split.
    """
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    groups = copy_groups(data.X, data.y)
    if groups is not None:
        cls = StratifiedGroupKFold if task == "classification" else GroupKFold
        try:
            return list(cls(n_splits=folds, shuffle=True, random_state=seed).split(data.X, data.y, groups))
        except ValueError:  # fewer distinct rows than folds: the plain split below (check_training_data passed)
            pass
    cls = StratifiedKFold if task == "classification" else KFold
    return list(cls(n_splits=folds, shuffle=True, random_state=seed).split(data.X, data.y))


def copy_groups(X: pd.DataFrame, y: pd.Series) -> np.ndarray | None:
    """One group id per distinct (features, target) row, or None when every row is distinct."""
    import numpy as np

    from core.compare.heldout import row_digests

    frame = X.assign(__target__=y.to_numpy())
    _, groups = np.unique(row_digests(frame, list(frame.columns)), return_inverse=True)
    return groups if groups.max(initial=-1) + 1 < len(groups) else None


def make_objective(config: StudyConfig, data: TuneData,
                   should_stop: Callable[[], bool] | None = None) -> Callable[[optuna.trial.Trial], float]:
    """The objective: suggest params, cross-validate with per-fold report / prune."""
    import numpy as np
    import optuna
    from threadpoolctl import ThreadpoolController

    from core.models import build_pipeline
    from core.tune.metrics import score

    space = parse_space(config.space)
    splits = cv_splits(data, config.task, config.cv_folds, config.seed)
    me = worker_id()
    pools: list[ThreadpoolController] = []  # scanned once (5 ms a scan), after the first model import

    def objective(trial: optuna.trial.Trial) -> float:
        trial.set_user_attr(WORKER_ATTR, me)
        params = suggest(trial, space)
        scores: list[float] = []
        try:
            for fold, (train_idx, test_idx) in enumerate(splits):
                if should_stop is not None and should_stop():
                    raise StopRequested(f"Stopped on request after {fold} of {len(splits)} folds.")
                model = build_pipeline(config.family, config.task, data.spec, params, config.seed)
                if not pools:
                    pools.append(ThreadpoolController())
                # One thread per trial: parallelism comes from worker processes, and OpenMP threads
                # (HGB) spin-waiting against other workers on 2 cores made trials 5-10x slower.
                with warnings.catch_warnings(), pools[0].limit(limits=1):
                    warnings.simplefilter("ignore")  # convergence chatter; the score tells the story
                    model.fit(data.X.iloc[train_idx], data.y.iloc[train_idx])
                    value = score(config.metric, model, data.X.iloc[test_idx], data.y.iloc[test_idx])
                if not np.isfinite(value):
                    raise TuneError(f"The {config.metric} of fold {fold + 1} is not a number ({value}).")
                scores.append(value)
                running = float(np.mean(scores))
                trial.report(running, fold)
                # After the last fold the trial is done: it is COMPLETE with its mean, never PRUNED.
                if fold < len(splits) - 1 and trial.should_prune():
                    raise optuna.TrialPruned(f"Pruned after fold {fold + 1} of {len(splits)} "
                                             f"(running {config.metric} {running:.4g}).")
        except optuna.TrialPruned:
            raise
        except StopRequested as err:
            trial.set_user_attr(FAIL_ATTR, str(err))
            trial.set_user_attr(RETRY_ATTR, "true")
            raise
        except Exception as err:  # noqa: BLE001 - a failing trial is recorded, the study goes on
            trial.set_user_attr(FAIL_ATTR, f"{type(err).__name__}: {one_line(err)}"[:1000])
            raise
        finally:
            if scores:  # one storage write per trial, whichever way it ended (not one per fold)
                with contextlib.suppress(Exception):
                    trial.set_user_attr(FOLDS_ATTR, json.dumps(scores))
        return float(np.mean(scores))

    return objective
