"""The Plan stage: the project charter (the bar the champion must reach) and the pipelines on Prefect 3.

::

    charter.py       Charter (frozen), validation, cost metric, verdict; save / load as ``plan`` runs
    stages.py        the ONE adapter from Prefect tasks to the stage packages (save, check, retrain, export)
    flows.py         Prefect flows: monitor-and-retrain, scheduled-retrain, tune (tasks are thin wrappers)
    orchestrator.py  the embedded Prefect server + worker: start / find again / stop, status
    runs.py          the Prefect API: deployments and schedules, Run now / pause, flow and task runs
    notify.py        alerts in the workspace (JSON lines) and to a webhook
    commands.py      ``python -m core charter …`` and ``python -m core pipeline …``
"""

from __future__ import annotations

from core.errors import WorkbenchError


class PlanError(WorkbenchError):
    """A charter, pipeline or orchestrator problem a person can fix."""
