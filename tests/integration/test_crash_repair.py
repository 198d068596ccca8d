"""SIGKILL at every step of a multi-call write: the record is complete, or repaired at the next start (issue 15.5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.tracking.datasets import dataset_versions
from core.tracking.repair import FAILURE_TAG, repair_project

ROOT = Path(__file__).resolve().parents[2]
SAVE = """
import pandas as pd
from core.config import Settings
from core.data.versions import save_version
from core.tracking import Tracker
t = Tracker.connect(Settings.from_env())
raw = pd.DataFrame({"x": [float(i) for i in range(40)], "y": ["a", "b"] * 20})
save_version(t, "crash", name="toy", raw=raw, cleaned=raw, target="y")
print("saved")
"""


def _save(home: Path, kill_at: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("WORKBENCH_TEST_KILL_AT", None)
    if kill_at:
        env["WORKBENCH_TEST_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-c", SAVE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("step", ["raw-saved", "cleaned-written"])
def test_a_save_killed_at_any_step_leaves_no_stray_version_and_is_repaired(settings, tracker, step: str) -> None:  # noqa: ANN001
    killed = _save(settings.home, step)
    assert killed.returncode == -signal.SIGKILL and "saved" not in killed.stdout
    assert dataset_versions(tracker, "crash") == []  # neither the raw half nor a half-written cleaned run is listed
    repaired = repair_project(tracker, "crash", force=True)
    runs = tracker.runs("crash")
    assert all(r.status != "RUNNING" for r in runs)
    if step == "cleaned-written":
        assert len(repaired.failed) == 1
        failed = tracker.get_run(repaired.failed[0])
        assert failed.status == "FAILED" and "died before it finished" in failed.tags[FAILURE_TAG]
    # the next save completes the record and reuses the raw half that was already written
    done = _save(settings.home, None)
    assert done.returncode == 0, done.stderr[-1000:]
    versions = dataset_versions(tracker, "crash")
    assert sorted(v.name for v in versions) == ["toy", "toy-raw"] and all(v.version == 1 for v in versions)
    assert len([r for r in tracker.runs("crash") if r.tags.get("workbench.dataset.kind") == "raw"]) == 1


def test_a_half_written_trial_child_is_removed_so_it_is_written_again(tracker) -> None:  # noqa: ANN001
    """A RUNNING child with no params whose worker is dead: deleted, so exactly one whole child gets written."""
    import socket

    from core.tracking.tune import trial_children

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer runs
    parent = tracker.start_run("crash", "tune", name="study s")
    exp = tracker.ensure_project("crash")
    child = tracker.client.create_run(exp, tags={"workbench.stage": "tune", "workbench.project": "crash",
                                                 "mlflow.parentRunId": parent, "optuna.trial_number": "0",
                                                 "workbench.worker": f"{socket.gethostname()}:{gone.pid}"})
    alive = tracker.start_run("crash", "compare", name="still being written")  # this process: alive, untouched
    assert trial_children(tracker, "crash", parent) == {0: [child.info.run_id]}
    repaired = repair_project(tracker, "crash", force=True)
    assert repaired.deleted_children == (child.info.run_id,)
    assert trial_children(tracker, "crash", parent) == {}  # the next writer logs the trial once, whole
    assert parent not in repaired.failed and tracker.get_run(alive).status == "RUNNING"
