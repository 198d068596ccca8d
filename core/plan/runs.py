"""The Prefect API as the Plan stage uses it: deployments and schedules, Run now / pause, flow and task runs.

Every call goes through :func:`api`, which finds the API (``$PREFECT_API_URL`` or the embedded server, see
:mod:`core.plan.orchestrator`) and turns an unreachable server into one sentence.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from core.plan import PlanError
from core.plan.orchestrator import HEALTH_TIMEOUT_S, POOL, api_url, ensure_pool, healthy, start, unreachable

if TYPE_CHECKING:  # pragma: no cover
    from core.config import Settings


@dataclass(frozen=True)
class DeploymentRow:
    flow: str
    name: str
    id: str
    schedule: str
    paused: bool
    next_run: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class RunRow:
    id: str
    name: str
    flow: str
    deployment: str
    state: str
    start: str
    duration_s: float | None
    failed_task: str
    error: str


# -- the API -------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def api(settings: Settings) -> Iterator[Any]:
    """A sync Prefect client on this workspace's API; PlanError (one sentence) when it does not answer."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = api_url(settings)
    if not url:
        raise PlanError("The embedded Prefect server is not running; start it on the Plan page or with "
                        "`python -m core pipeline serve`.")
    if not healthy(url) and not healthy(url, timeout=3 * HEALTH_TIMEOUT_S):
        raise PlanError(unreachable(url))
    with temporary_settings(updates={PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        yield client


def check_cron(cron: str) -> str:
    """The cron expression, or PlanError when it does not parse."""
    from prefect.client.schemas.schedules import CronSchedule

    cron = str(cron or "").strip()
    try:
        CronSchedule(cron=cron)
    except ValueError:
        raise PlanError(f"The cron expression {cron!r} does not parse; use five fields such as '0 6 * * *' "
                        f"(every day at 06:00).") from None
    return cron


def schedule(settings: Settings, flow_name: str, project: str, *, cron: str | None = None,
             interval_days: float | None = None, parameters: dict[str, Any] | None = None,
             paused: bool = False) -> str:
    """Create or change the deployment ``<flow>/<project>`` with its schedule; return its id.

    Raises:
        PlanError: unknown flow, bad cron / interval, missing watch folder, unreachable API.
    """
    from prefect.deployments.runner import EntrypointType

    from core.plan.flows import FLOWS, batch_files

    if flow_name not in FLOWS:
        raise PlanError(f"The pipeline must be one of {', '.join(FLOWS)}. Got {flow_name!r} instead.")
    if cron and interval_days:
        raise PlanError("Give either a cron expression or an interval in days, not both.")
    params = {"project": project, **(parameters or {})}
    if flow_name == "monitor-and-retrain":
        batch_files(params.get("watch", ""))  # the folder must exist and be readable now
    kwargs: dict[str, Any] = {}
    if cron:
        kwargs["cron"] = check_cron(cron)
    elif interval_days is not None:
        try:
            days = float(interval_days)
        except (TypeError, ValueError):
            days = 0.0
        if not days > 0:
            raise PlanError(f"The interval must be a positive number of days. Got {interval_days!r} instead.")
        kwargs["interval"] = timedelta(days=days)
    with api(settings):  # checks the API answers; the deployment calls below use the same settings
        from prefect.settings import PREFECT_API_URL, temporary_settings

        ensure_pool(api_url(settings))
        with temporary_settings(updates={PREFECT_API_URL: api_url(settings)}):
            deployment = FLOWS[flow_name].to_deployment(
                # a module entrypoint (core.plan.flows.…) and no working_dir: a worker on any host imports the
                # flows from its own checkout (PYTHONPATH), wherever that checkout lives
                name=project, parameters=params, paused=paused, entrypoint_type=EntrypointType.MODULE_PATH,
                tags=["workbench", project], _sync=True, **kwargs)  # sync even where an event loop runs
            return str(deployment.apply(work_pool_name=POOL, _sync=True))


def _schedule_text(schedules: list[Any]) -> str:
    parts = []
    for s in schedules or []:
        sch = s.schedule
        if getattr(sch, "cron", None):
            parts.append(f"cron {sch.cron}")
        elif getattr(sch, "interval", None):
            days = sch.interval.total_seconds() / 86400
            parts.append(f"every {days:g} day{'s' if days != 1 else ''}")
        else:
            parts.append(type(sch).__name__)
        if not s.active:
            parts[-1] += " (inactive)"
    return "; ".join(parts) or "none (run on demand)"


def deployments(settings: Settings) -> list[DeploymentRow]:
    """The workbench's deployments with their schedule and next scheduled run."""
    from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterId, FlowRunFilter,
                                                FlowRunFilterState, FlowRunFilterStateType)
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    rows = []
    with api(settings) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        for d in client.read_deployments():
            nxt = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[d.id])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
                    any_=[StateType.SCHEDULED]))), sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=1)
            when = nxt[0].expected_start_time if nxt else None
            rows.append(DeploymentRow(flows.get(d.flow_id, "?"), d.name, str(d.id), _schedule_text(d.schedules),
                                      bool(d.paused), _when(when) if when and not d.paused else "-",
                                      dict(d.parameters or {})))
    return sorted(rows, key=lambda r: (r.flow, r.name))


def _when(dt: datetime | None) -> str:
    if dt is None:
        return ""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _deployment_id(client: Any, flow_name: str, project: str) -> Any:
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name(f"{flow_name}/{project}").id
    except ObjectNotFound:
        raise PlanError(f"There is no pipeline {flow_name!r} for project {project!r}; schedule it first "
                        f"(`python -m core pipeline schedule {flow_name} …`).") from None


def run_now(settings: Settings, flow_name: str, project: str, parameters: dict[str, Any] | None = None) -> str:
    """Queue one run of the deployment for the worker; return the flow run id."""
    with api(settings) as client:
        dep = _deployment_id(client, flow_name, project)
        return str(client.create_flow_run_from_deployment(dep, parameters=parameters or None).id)


def set_paused(settings: Settings, flow_name: str, project: str, paused: bool = True) -> None:
    """Pause (no new scheduled runs) or resume a deployment."""
    with api(settings) as client:
        dep = _deployment_id(client, flow_name, project)
        (client.pause_deployment if paused else client.resume_deployment)(dep)


def recent_runs(settings: Settings, limit: int = 20, flow_run_id: str = "") -> list[RunRow]:
    """Recent flow runs, newest first: state, duration, the failing task and its error message."""
    from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterId, FlowRunFilterState,
                                                FlowRunFilterStateType, TaskRunFilter, TaskRunFilterState,
                                                TaskRunFilterStateType)
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    rows = []
    with api(settings) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        deps = {d.id: d.name for d in client.read_deployments()}
        # runs that started or ended, not the future runs the scheduler has queued
        fr_filter = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])) if flow_run_id else FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(not_any_=[StateType.SCHEDULED])))
        for run in client.read_flow_runs(flow_run_filter=fr_filter, sort=FlowRunSort.START_TIME_DESC, limit=limit):
            failed_task = error = ""
            state = run.state
            if state is not None and state.type in (StateType.FAILED, StateType.CRASHED):
                tasks = client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                    task_run_filter=TaskRunFilter(state=TaskRunFilterState(type=TaskRunFilterStateType(
                        any_=[StateType.FAILED, StateType.CRASHED]))))
                if tasks:
                    failed_task = tasks[0].name
                    error = _clean_message(tasks[0].state.message if tasks[0].state else "")
                error = _clean_message(state.message or "") or error
            duration = run.total_run_time.total_seconds() if run.total_run_time else None
            if run.start_time and run.end_time:
                duration = (run.end_time - run.start_time).total_seconds()
            rows.append(RunRow(str(run.id), run.name, flows.get(run.flow_id, "?"), deps.get(run.deployment_id, "")
                               if run.deployment_id else "", state.name if state else "?",
                               _when(run.start_time or run.expected_start_time), duration, failed_task, error))
    return rows


def _clean_message(text: str) -> str:
    """Prefect's 'Task run encountered an exception PlanError: …' → the sentence after the class name."""
    import re

    text = (text or "").strip()
    match = re.search(r"encountered an exception:?\s*(\w+(?:Error|Exception)): (.*)", text, re.S)
    if match:
        text = match.group(2)
    return text.splitlines()[0] if text else ""


def task_runs(settings: Settings, flow_run_id: str) -> list[tuple[str, str, str]]:
    """(task name, state, message) of one flow run's task runs, in start order."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    with api(settings) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                                      sort=TaskRunSort.EXPECTED_START_TIME_ASC)
        return [(t.name, t.state.name if t.state else "?", _clean_message(t.state.message if t.state else ""))
                for t in tasks]


def run_in_foreground(settings: Settings, flow_name: str, parameters: dict[str, Any]) -> tuple[str, Any]:
    """Run one flow in this process against the workbench's API (the embedded server is started if needed).

    Returns (flow run id, its state); a failed run does not raise — its state says why.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from core.plan.flows import FLOWS

    if flow_name not in FLOWS:
        raise PlanError(f"The pipeline must be one of {', '.join(FLOWS)}. Got {flow_name!r} instead.")
    url = api_url(settings) or start(settings, worker=False).url
    if not healthy(url):
        raise PlanError(unreachable(url))
    with temporary_settings(updates={PREFECT_API_URL: url}):
        state = FLOWS[flow_name](**parameters, return_state=True)
    return str(state.state_details.flow_run_id), state


def wait_for_run(settings: Settings, flow_run_id: str, timeout: float = 600.0) -> RunRow:
    """Poll one flow run until it is final (for *Run now* and the CLI); its row."""
    deadline = time.monotonic() + timeout
    while True:
        rows = recent_runs(settings, limit=1, flow_run_id=flow_run_id)
        if rows and rows[0].state in ("Completed", "Failed", "Crashed", "Cancelled"):
            return rows[0]
        if time.monotonic() > deadline:
            raise PlanError(f"The flow run {flow_run_id} did not finish within {timeout:.0f} s.")
        time.sleep(1.0)  # polling the API for a run's state

