"""Crash consistency: a record written in several calls is complete, or repaired at the next start.

Every workbench run carries ``workbench.owner`` (``host:pid`` of the process writing it). When a
process dies mid-write (SIGKILL, power loss) it leaves a RUNNING run behind; :func:`repair_project`,
called once per process and project (the app's first page of a project, every headless command),
finds the RUNNING runs of this host whose owner is gone and

* marks them FAILED with the reason in ``workbench.failure`` (the stage runs: data, compare, deploy …);
* deletes a trial's child run that has no params yet (it was being written), so the next worker or
  the finalisation writes it again — exactly one child per finished trial;
* leaves the raw half of a half-saved version hidden (``workbench.dataset.pending``) and marks it
  ``workbench.failure`` too, so nobody takes it for a version of its own.

Runs of other hosts are never touched: their owner cannot be checked from here.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from core.tracking.tracker import PROJECT_TAG, Tracker

OWNER_TAG = "workbench.owner"
FAILURE_TAG = "workbench.failure"
PENDING_TAG = "workbench.dataset.pending"


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(owner: str) -> bool | None:
    """Whether the owning process lives: None when it is on another host (or unknown)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    from core.tune.records import pid_alive

    return pid_alive(int(pid))


@dataclass(frozen=True)
class Repair:
    failed: tuple[str, ...] = ()
    deleted_children: tuple[str, ...] = ()


_DONE: set[tuple[str, str]] = set()


def repair_project(tracker: Tracker, project: str, *, force: bool = False) -> Repair:
    """Repair the orphaned runs of ``project`` on this host (once per process unless ``force``)."""
    key = (tracker.settings.tracking_uri, project)
    if key in _DONE and not force:
        return Repair()
    _DONE.add(key)
    try:
        exp = tracker.client.get_experiment_by_name(project)
        if exp is None:
            return Repair()
        running = tracker.client.search_runs([exp.experiment_id], filter_string="attributes.status = 'RUNNING'",
                                             max_results=1000)
    except Exception:  # noqa: BLE001 - a store that does not answer is reported elsewhere; never block on repair
        return Repair()
    failed, deleted = [], []
    for run in running:
        tags = run.data.tags
        if tags.get(PROJECT_TAG) != project:
            continue
        owner = tags.get(OWNER_TAG) or tags.get("workbench.worker", "")
        if _alive(owner) is not False:
            continue
        rid = run.info.run_id
        try:
            if tags.get("optuna.trial_number") is not None and not run.data.params:
                tracker.client.delete_run(rid)  # a half-written trial child: the next writer makes it whole
                deleted.append(rid)
                continue
            why = (f"The process {owner} that was writing this run died before it finished; the workbench marked "
                   "it failed at the next start.")
            tracker.client.set_tag(rid, FAILURE_TAG, why)
            tracker.client.set_terminated(rid, "FAILED")
            failed.append(rid)
        except Exception:  # noqa: BLE001 - best effort: the next start tries again
            continue
    return Repair(tuple(failed), tuple(deleted))
