"""kill -9 a tune-worker mid-study, resume with another worker: finished trials kept, 1:1 child runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.tracking.tune import trial_children
from core.tune.storage import make_storage
from core.tune.study import StudyConfig, counted_trials, create_or_load_study, open_study, run_trials
from tests.tune_data import penguins, save_version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "tune-resume"
# ~0.5–1.5 s trials; the worker is frozen (SIGSTOP) in an early fold before it is signalled, so the
# outcome does not depend on how busy the machine is
SPACE = {"n_estimators": {"kind": "int", "low": 60, "high": 120}, "max_depth": {"kind": "int", "low": 2, "high": 8}}


def _worker(settings, name: str) -> subprocess.Popen:  # noqa: ANN001
    env = {**os.environ, "WORKBENCH_HOME": str(settings.home), "MLFLOW_TRACKING_URI": settings.tracking_uri}
    return subprocess.Popen([sys.executable, "-m", "core", "tune-worker", "--study", name,
                             "--storage", settings.optuna_storage], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _freeze_in_a_fit(settings, storage, proc: subprocess.Popen, finished: int) -> None:  # noqa: ANN001
    """Return with ``proc`` frozen (SIGSTOP) inside the first or second fold of a RUNNING trial.

    The state is read while the worker is frozen, so it holds whatever the machine's load: at
    most one fold of the trial has reported (so a stop request is still seen before the last
    fold), at least ``finished`` trials are done, and the worker does not hold the journal's lock.
    The caller sends its signal and then SIGCONT (or SIGKILL).
    """
    lock = Path(settings.optuna_storage + ".lock")
    deadline = time.time() + 600  # a bound on waiting for the state, not a budget
    while time.time() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        if _in_early_fold(storage, finished):
            proc.send_signal(signal.SIGSTOP)
            if _in_early_fold(storage, finished) and not lock.exists():
                return
            proc.send_signal(signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("the worker did not reach a running trial in time")


def _in_early_fold(storage, finished: int) -> bool:  # noqa: ANN001
    trials = open_study(storage, "rf-resume")[0].get_trials()
    running = [t for t in trials if t.state.name == "RUNNING"]
    return (sum(t.state.is_finished() for t in trials) >= finished and len(running) == 1
            and len(running[0].params) == 2 and len(running[0].intermediate_values) <= 1)


def test_stopped_and_killed_workers_keep_finished_trials_and_the_study_completes(
        tracker, settings) -> None:  # noqa: ANN001
    version = save_version(tracker, PROJECT, penguins())
    storage = make_storage(settings.optuna_storage)
    config = StudyConfig.create(project=PROJECT, data_run_id=version.run_id, target="species", task="classification",
                                family="rf", space=SPACE, study_name="rf-resume", n_trials=7, pruner="none")
    create_or_load_study(config, storage, tracker)

    # 1. Stop: SIGTERM makes the worker fail its running trial as "stopped", re-queue it, and exit 0.
    proc = _worker(settings, "rf-resume")
    try:
        _freeze_in_a_fit(settings, storage, proc, finished=1)
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGCONT)
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "stopped: " in out
    study, _ = open_study(storage, "rf-resume")
    stopped = [t for t in study.get_trials() if "Stopped on request" in t.user_attrs.get("workbench.fail_reason", "")]
    assert len(stopped) == 1 and stopped[0].state.name == "FAIL"
    waiting = [t for t in study.get_trials() if t.state.name == "WAITING"]
    assert [t.system_attrs.get("fixed_params") for t in waiting] == [stopped[0].params]  # queued again

    # 2. Crash: kill -9 another worker in the middle of a trial.
    proc = _worker(settings, "rf-resume")
    try:
        _freeze_in_a_fit(settings, storage, proc, finished=3)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    study, _ = open_study(storage, "rf-resume")
    before = {t.number: (t.state.name, t.value, t.params) for t in study.get_trials() if t.state.is_finished()}
    stuck = [t.number for t in study.get_trials() if t.state.name == "RUNNING"]
    assert stuck, "the kill should leave a RUNNING trial behind"

    # another worker (here: in this process) joins, recovers the dead worker's trial and finishes the budget
    result = run_trials(config, storage, tracker)
    study, _ = open_study(storage, "rf-resume")
    trials = study.get_trials()
    after = {t.number: (t.state.name, t.value, t.params) for t in trials}
    assert all(after[n] == v for n, v in before.items()), "finished trials must be kept as they were"
    dead = after[stuck[0]]
    assert dead[0] == "FAIL" and "died" in study.trials[stuck[0]].user_attrs["workbench.fail_reason"]
    retried = [t for t in trials if t.user_attrs.get("workbench.retried_from") == stuck[0]]
    assert len(retried) == 1 and retried[0].params == dead[2] and retried[0].state.name == "COMPLETE"
    assert counted_trials(study) == 7 and result.n_complete == 7
    assert not [t for t in trials if not t.state.is_finished()]
    assert any(t.user_attrs.get("workbench.retried_from") == stopped[0].number and t.state.name == "COMPLETE"
               for t in trials), "the stopped trial's params ran again"

    children = trial_children(tracker, PROJECT, result.parent_run_id)
    assert sorted(children) == [t.number for t in trials]
    assert all(len(ids) == 1 for ids in children.values()), children
    assert tracker.get_run(children[stuck[0]][0]).tags["optuna.state"] == "FAIL"
