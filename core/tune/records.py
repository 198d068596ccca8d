"""Keeping MLflow and the Optuna storage in step: one child run per finished trial.

* the worker that finishes a trial writes its child run right away through its
  :class:`TrialWriter` (:func:`log_trial`), which retries a failing call, never half-writes
  a child, and leaves what it could not write to the recovery below;
* a worker that dies (kill -9, crash) leaves at most a RUNNING trial and perhaps a
  finished trial it had no time to log. The next worker on this machine calls
  :func:`recover`: it fails the RUNNING trials of dead local workers (message
  "worker … died", params re-queued once) and logs the missing child runs of
  trials whose worker is gone. Live workers' trials are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

from core.tune.objective import FAIL_ATTR, FOLDS_ATTR, RETRY_ATTR, WORKER_ATTR, worker_id

if TYPE_CHECKING:  # pragma: no cover
    import optuna

    from core.tracking import Tracker
    from core.tune.study import StudyConfig

FINISHED = ("COMPLETE", "PRUNED", "FAIL")
# Study user attribute "mlflow_run_id.<trial number>" -> the trial's MLflow child run. Not a trial user
# attribute: both Optuna storages refuse to change a finished trial (UpdateFinishedTrialError), and the
# child run is written only after the trial has finished (so a kill never leaves a half-written child).
RUN_ID_ATTR = "mlflow_run_id"
WRITE_RETRIES = 3
WRITE_BACKOFF_S = 0.5  # doubled on each retry: 0.5 s, 1 s, 2 s


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except OSError:
        pass
    return True


def heartbeat_failed(trials: list[optuna.trial.FrozenTrial]) -> set[int]:
    """Numbers of trials an RDB storage's heartbeat failed (their worker died, on any machine).

    ``RetryHeartbeatStaleTrialCallback`` re-queues such a trial and records the chain in the
    copy's system attribute ``retry_history``; nothing else writes it.
    """
    return {n for t in trials for n in t.system_attrs.get("retry_history", ())}


def owner_alive(trial: optuna.trial.FrozenTrial) -> bool | None:
    """Whether the worker that ran ``trial`` is alive: None when unknown (other host / no record)."""
    owner = trial.user_attrs.get(WORKER_ATTR, "")
    host, _, pid = owner.rpartition(":")
    if not pid.isdigit() or host != socket.gethostname():
        return None
    return pid_alive(int(pid))


def _ms(dt: Any) -> int:
    return int(dt.timestamp() * 1000) if dt is not None else 0


def trial_metric_rows(trial: optuna.trial.FrozenTrial, metric: str) -> list[tuple[str, float, int]]:
    """The metric rows of a trial's child run: ``(key, value, step)``.

    * ``cv_<metric>`` — the mean over the folds, the value Optuna optimised (step 0, once);
      for a pruned trial the mean over the folds it ran (``folds_run`` says how many);
    * ``cv_<metric>_std`` — the folds' spread (population std, as ``cross_val_score(...).std()``);
    * ``fold_<metric>`` — one value per fold, step = fold index;
    * a failed trial logs its folds and ``folds_run`` only: it has no value.
    """
    import statistics

    folds = [float(v) for v in json.loads(trial.user_attrs.get(FOLDS_ATTR, "[]") or "[]")]
    rows = [(f"fold_{metric}", v, i) for i, v in enumerate(folds)]
    state = trial.state.name
    if state == "COMPLETE" and trial.value is not None:
        rows.append((f"cv_{metric}", float(trial.value), 0))
    elif state == "PRUNED" and folds:
        rows.append((f"cv_{metric}", statistics.fmean(folds), 0))
    if state in ("COMPLETE", "PRUNED") and len(folds) >= 2:
        rows.append((f"cv_{metric}_std", statistics.pstdev(folds), 0))
    rows.append(("folds_run", float(len(folds)), 0))
    if trial.datetime_start and trial.datetime_complete:
        rows.append(("duration_s", (trial.datetime_complete - trial.datetime_start).total_seconds(), 0))
    return rows


def remember_run_id(study: optuna.Study, number: int, run_id: str) -> None:
    """Record trial ``number``'s child run id in the study (best effort: MLflow already has the run)."""
    with contextlib.suppress(Exception):
        study.set_user_attr(f"{RUN_ID_ATTR}.{number}", run_id)


def trial_run_ids(study: optuna.Study) -> dict[int, str]:
    """Trial number -> MLflow child run id, as recorded in the study's user attributes."""
    prefix = f"{RUN_ID_ATTR}."
    return {int(k[len(prefix):]): str(v) for k, v in study.user_attrs.items()
            if k.startswith(prefix) and k[len(prefix):].isdigit()}


def log_trial(tracker: Tracker, config: StudyConfig, parent_run_id: str, trial: optuna.trial.FrozenTrial) -> str:
    """Write the child run of a finished trial (params incl. fixed ones, fold metrics, state, message)."""
    from core.tracking.tune import log_trial_run
    from core.tune.space import fixed_values, parse_space

    state = trial.state.name
    message = trial.user_attrs.get(FAIL_ATTR, "")
    if state == "PRUNED":
        intermediate = trial.intermediate_values
        last = max(intermediate) if intermediate else None
        message = f"Pruned at fold {last + 1}." if last is not None else "Pruned."
    params = {**fixed_values(parse_space(config.space)), **trial.params}
    end = trial.datetime_complete or trial.datetime_start
    return log_trial_run(
        tracker,
        project=config.project,
        parent_run_id=parent_run_id,
        study_name=config.study_name,
        number=trial.number,
        state=state,
        params=params,
        metric_rows=trial_metric_rows(trial, config.metric),
        start_ms=_ms(trial.datetime_start) or _ms(end),
        end_ms=_ms(end),
        message=message,
        inputs=[config.data_run_id],
        tags={"workbench.worker": trial.user_attrs.get(WORKER_ATTR, ""), "workbench.family": config.family},
    )


class TrialWriter:
    """Writes each finished trial's child run (and the parent's best-value rows) as the trial ends.

    In the worker's own thread, on purpose: a background writer thread was measured to slow
    the trials' model fits by 5–35 % (the GIL and cache traffic of SQLAlchemy running beside
    a CPU-bound fit) — far more than the ~25 ms the three tracking calls cost inline.

    A failing write is retried (``retries`` times, with back-off); during an outage (the
    previous write failed too) it is tried once, without waiting, so the search never stalls
    on MLflow. A trial whose child run could not be written is reported on stderr and left
    to :func:`log_missing_children` (at the end of ``run_trials``, at finalisation, or by the
    next worker).
    """

    def __init__(self, tracker: Tracker, config: StudyConfig, parent_run_id: str) -> None:
        self.tracker, self.config, self.parent = tracker, config, parent_run_id
        self.retries, self.backoff_s = WRITE_RETRIES, WRITE_BACKOFF_S
        self.failed: list[str] = []
        self._down = False  # the last write failed: MLflow is probably unreachable

    def submit(self, trial: optuna.trial.FrozenTrial, study: optuna.Study | None = None) -> None:
        run_id = self._write(f"trial {trial.number}", lambda: log_trial(self.tracker, self.config, self.parent, trial))
        if run_id and study is not None:
            remember_run_id(study, trial.number, run_id)

    def submit_parent_rows(self, rows: list[tuple[str, float, int]]) -> None:
        self._write("the study's best value", lambda: self.tracker.log_metric_rows(self.parent, rows))

    def _write(self, what: str, write: Any) -> Any:
        attempts = 1 if self._down else self.retries + 1
        for attempt in range(attempts):
            try:
                done = write()
                self._down = False
                return done
            except Exception as err:  # noqa: BLE001 - a tracking hiccup must not stop the study
                if attempt == attempts - 1:
                    self._down = True
                    self.failed.append(f"{what}: {err}")
                    print(f"warning: could not record {what} in MLflow ({err}); it is written when the "
                          f"study is finalised or the next worker starts.", file=sys.stderr, flush=True)
                else:
                    time.sleep(self.backoff_s * 2**attempt)
        return None


def fail_dead_running(study: optuna.Study) -> list[int]:
    """Fail RUNNING trials of dead local workers and re-queue their params once; return their numbers."""
    import optuna
    from optuna.trial import TrialState

    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if owner_alive(t) is not False:
            continue
        storage = study._storage
        try:
            storage.set_trial_user_attr(t._trial_id, FAIL_ATTR, f"Worker {t.user_attrs.get(WORKER_ATTR)} died "
                                        f"during this trial; its parameters were queued again.")
            storage.set_trial_user_attr(t._trial_id, RETRY_ATTR, "true")
            storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        except (RuntimeError, optuna.exceptions.UpdateFinishedTrialError):
            continue  # finished or failed by someone else meanwhile
        if t.params and "workbench.retried_from" not in t.user_attrs:
            study.enqueue_trial(t.params, user_attrs={"workbench.retried_from": t.number}, skip_if_exists=False)
        failed.append(t.number)
    return failed


def log_missing_children(tracker: Tracker, config: StudyConfig, parent_run_id: str, study: optuna.Study,
                         *, everything: bool = False) -> list[int]:
    """Log child runs for finished trials that have none and whose worker is gone (or all, if ``everything``).

    Trials of this very process count as "gone": it is only called when this process's
    own :class:`TrialWriter` is not running (before the first trial, after the last).
    """
    from core.tracking.tune import trial_children

    children = trial_children(tracker, config.project, parent_run_id)
    me = worker_id()
    trials = study.get_trials(deepcopy=False)
    dead_elsewhere = heartbeat_failed(trials)  # the heartbeat says their worker died, whatever its host
    known = trial_run_ids(study)
    done = []
    for t in trials:
        if t.number in children and t.number not in known:
            remember_run_id(study, t.number, children[t.number][0])  # a store written before run ids were kept
        if t.state.name not in FINISHED or t.number in children:
            continue
        owner = t.user_attrs.get(WORKER_ATTR)
        if (not everything and owner and owner != me and t.number not in dead_elsewhere
                and owner_alive(t) is not False):
            continue  # its worker is alive or elsewhere: it logs its own trials
        remember_run_id(study, t.number, log_trial(tracker, config, parent_run_id, t))
        done.append(t.number)
    return done
