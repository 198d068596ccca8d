"""MLflow calls the Monitor stage needs beyond the Tracker: project (experiment) tags."""

from __future__ import annotations

from core.tracking.tracker import Tracker


def set_project_tag(tracker: Tracker, project: str, key: str, value: str) -> None:
    """Set one tag on the project's experiment (e.g. the retraining policy)."""
    exp_id = tracker.ensure_project(project)
    tracker._call("tag the project", tracker.client.set_experiment_tag, exp_id, key, value)


def project_tags(tracker: Tracker, project: str) -> dict[str, str]:
    """All tags of the project's experiment."""
    exp_id = tracker.ensure_project(project)
    exp = tracker._call("read the project", tracker.client.get_experiment, exp_id)
    return dict(exp.tags or {})
