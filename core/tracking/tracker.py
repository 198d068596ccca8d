"""Runs, tags, metrics and artifacts on an MLflow store, with explicit run ids."""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import Settings
from core.errors import TrackingError
from core.names import check_project, project_artifact_location
from core.tracking.context import CLASSIC_ML, EXPERIMENT_KIND_TAG, home_default_experiment, run_context_tags

if TYPE_CHECKING:  # pragma: no cover
    from mlflow import MlflowClient

STAGE_TAG = "workbench.stage"
INPUTS_TAG = "workbench.inputs"
PROJECT_TAG = "workbench.project"
STAGES = ("plan", "data", "label", "tune", "compare", "deploy", "monitor", "retrain")
_MAX_PARAM = 6000  # MLflow's param value limit is 6000 characters
@dataclass(frozen=True)
class StoreHealth:
    """Whether the tracking store answers, for the sidebar."""

    ok: bool
    uri: str
    kind: str  # "embedded SQLite" | "tracking server" | other scheme
    message: str
    latency_ms: float


@dataclass(frozen=True)
class RunSummary:
    """What the pages need of an MLflow run."""

    run_id: str
    name: str
    stage: str
    status: str
    start_time: int
    end_time: int | None
    inputs: tuple[str, ...]
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    artifact_uri: str = ""

    @classmethod
    def from_mlflow(cls, run: Any) -> RunSummary:
        tags = dict(run.data.tags)
        inputs = tuple(i for i in tags.get(INPUTS_TAG, "").split(",") if i)
        return cls(
            run_id=run.info.run_id,
            name=run.info.run_name or tags.get("mlflow.runName", ""),
            stage=tags.get(STAGE_TAG, ""),
            status=run.info.status,
            start_time=run.info.start_time or 0,
            end_time=run.info.end_time,
            inputs=inputs,
            params=dict(run.data.params),
            metrics=dict(run.data.metrics),
            tags=tags,
            artifact_uri=run.info.artifact_uri or "",
        )


# A remote tracking server that is down must cost seconds, not minutes: MLflow's HTTP client
# retries 7 times with exponential backoff (~4 min) and waits 120 s per request by default.
# These bounds apply only when the person did not set the variables (theirs always win).
HTTP_CLIENT_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}
HEALTH_TIMEOUT_S = 3.0
_UNREACHABLE = ("Failed to establish a new connection", "Connection refused", "Max retries exceeded",
                "Read timed out", "Connection aborted", "Name or service not known", "RemoteDisconnected")


def is_remote(uri: str) -> bool:
    """True for an MLflow tracking server (http / https URI)."""
    return uri.startswith(("http://", "https://"))


def unreachable_message(uri: str, what: str = "") -> str:
    """The sentence a person sees when the tracking server does not answer."""
    import re

    uri = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", uri)  # never print a password
    doing = f" (while trying to {what})" if what else ""
    return (f"The MLflow tracking server at {uri} does not answer{doing}. Start it (see README, "
            f"'Run for a team') or fix MLFLOW_TRACKING_URI (unset, the embedded SQLite store is used); "
            f"what was saved before is safe on the server, retry once it answers.")


def _is_unreachable(err: BaseException) -> bool:
    """Whether ``err`` (or an exception it was raised from) is a connection failure."""
    seen: set[int] = set()
    cur: BaseException | None = err
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        name = type(cur).__name__
        if name in ("ConnectionError", "ConnectTimeout", "ReadTimeout", "NewConnectionError", "MaxRetryError"):
            return True
        if any(marker in str(cur) for marker in _UNREACHABLE):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def _kind(uri: str) -> str:
    if uri.startswith("sqlite:"):
        return "embedded SQLite"
    if uri.startswith(("http://", "https://")):
        return "tracking server"
    return uri.split(":", 1)[0]


class Tracker:
    """A handle on one MLflow store. Build once per process with :meth:`connect`."""

    def __init__(self, client: MlflowClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._experiment_ids: dict[str, str] = {}

    # -- connection ---------------------------------------------------------
    @classmethod
    def connect(cls, settings: Settings) -> Tracker:
        """Open the store named by ``settings`` (creating the SQLite file if needed).

        The first connection to a new SQLite store runs migrations (seconds), so
        callers keep one Tracker per process.
        """
        import os

        import mlflow
        from mlflow import MlflowClient

        settings.ensure_dirs()
        # MLflow draws a tqdm bar on stderr for every artifact download: noise in logs and CLI output
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        if is_remote(settings.tracking_uri):
            for key, value in HTTP_CLIENT_DEFAULTS.items():
                os.environ.setdefault(key, value)
        # Registry URI follows the tracking URI; set it explicitly so that
        # models:/ URIs resolve against the same store in load calls.
        mlflow.set_tracking_uri(settings.tracking_uri)
        mlflow.set_registry_uri(settings.tracking_uri)
        try:
            client = MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)
        except Exception as err:  # noqa: BLE001 - any backend failure is a tracking error
            raise TrackingError(f"Cannot open the MLflow store at {settings.tracking_uri}: {err}") from err
        return cls(client, settings)

    def health(self) -> StoreHealth:
        """Ask the store for one experiment; report whether and how fast it answered."""
        uri = self.settings.tracking_uri
        start = time.perf_counter()
        if is_remote(uri) and not self._server_answers():
            ms = (time.perf_counter() - start) * 1000
            return StoreHealth(False, uri, _kind(uri), unreachable_message(uri), ms)
        try:
            self.client.search_experiments(max_results=1)
        except Exception as err:  # noqa: BLE001
            ms = (time.perf_counter() - start) * 1000
            return StoreHealth(False, uri, _kind(uri), f"The store does not answer: {str(err).splitlines()[0][:200]}", ms)
        ms = (time.perf_counter() - start) * 1000
        return StoreHealth(True, uri, _kind(uri), "ok", ms)

    def _server_answers(self) -> bool:
        """One GET of the server's ``/health``, no retries, short timeout (for the sidebar)."""
        import requests

        try:
            resp = requests.get(f"{self.settings.tracking_uri.rstrip('/')}/health", timeout=HEALTH_TIMEOUT_S)
        except requests.RequestException:
            return False
        # 401/403: a server behind basic auth answers; the MLflow call that follows reports the credentials.
        return resp.status_code < 500

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one client call and turn backend failures into a TrackingError."""
        try:
            return fn(*args, **kwargs)
        except TrackingError:
            raise
        except Exception as err:  # noqa: BLE001
            if is_remote(self.settings.tracking_uri) and _is_unreachable(err):
                raise TrackingError(unreachable_message(self.settings.tracking_uri, what)) from err
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise TrackingError(f"MLflow could not {what}: {first[:300]}") from err

    # -- projects -----------------------------------------------------------
    def projects(self) -> list[str]:
        """Names of all workbench projects (experiments tagged as such), sorted."""
        exps = self._call("list projects", self.client.search_experiments, filter_string=f"tags.`{PROJECT_TAG}` = 'true'")
        return sorted(e.name for e in exps)

    def ensure_project(self, name: str) -> str:
        """Return the experiment id of project ``name``, creating it if missing.

        Raises:
            UnsafeNameError: a new project's name is outside :mod:`core.names`' safe set.
            PathEscapeError: its artifact folder would resolve outside the artifact root.
        """
        name = name.strip()
        if not name:
            raise TrackingError("A project name must not be blank.")
        if name in self._experiment_ids:
            return self._experiment_ids[name]
        exp = self._call("look up the project", self.client.get_experiment_by_name, name)
        if exp is None:
            # Checked on creation only: a project made under an older, looser name still opens.
            name = check_project(name)
            kwargs: dict[str, Any] = {"tags": {PROJECT_TAG: "true"}}
            if self.settings.embedded:
                kwargs["artifact_location"] = project_artifact_location(self.settings.artifact_root, name)
            exp_id = self._call("create the project", self.client.create_experiment, name, **kwargs)
        else:
            if exp.lifecycle_stage == "deleted":
                raise TrackingError(f"Project {name!r} was deleted in MLflow; restore it there or pick another name.")
            exp_id = exp.experiment_id
            if exp.tags.get(PROJECT_TAG) != "true":
                self._call("tag the project", self.client.set_experiment_tag, exp_id, PROJECT_TAG, "true")
        self._experiment_ids[name] = exp_id
        return exp_id

    # -- runs ---------------------------------------------------------------
    def _prepare_experiment(self, exp_id: str) -> None:
        """Once per project and process: mark the experiment as classic ML for the MLflow UI and, on the
        embedded store, keep MLflow's 'Default' experiment inside the workspace."""
        done: set[str] = self.__dict__.setdefault("_prepared", set())
        if exp_id in done:
            return
        done.add(exp_id)
        self._call("tag the project", self.client.set_experiment_tag, exp_id, EXPERIMENT_KIND_TAG, CLASSIC_ML)
        if self.settings.embedded and "0" not in done:
            done.add("0")
            with contextlib.suppress(Exception):  # cosmetic: never block a run for it
                home_default_experiment(self)

    def start_run(
        self,
        project: str,
        stage: str,
        name: str | None = None,
        inputs: Sequence[str] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
    ) -> str:
        """Create a run for ``stage`` with lineage tags and return its id."""
        if stage not in STAGES:
            raise TrackingError(f"The stage must be one of {', '.join(STAGES)}. Got {stage!r} instead.")
        exp_id = self.ensure_project(project)
        self._prepare_experiment(exp_id)
        all_tags = {STAGE_TAG: stage, INPUTS_TAG: ",".join(i for i in inputs if i), PROJECT_TAG: project,
                    **run_context_tags(self.settings.tracking_uri)}
        if parent_run_id:
            all_tags["mlflow.parentRunId"] = parent_run_id
        from core.tracking.repair import OWNER_TAG, owner_id

        all_tags[OWNER_TAG] = owner_id()  # a run left RUNNING by a dead owner is repaired at the next start
        all_tags.update(tags or {})
        run = self._call("start a run", self.client.create_run, exp_id, run_name=name, tags=all_tags)
        run_id = run.info.run_id
        if params:
            self.log_params(run_id, params)
        return run_id

    def end_run(self, run_id: str, status: str = "FINISHED") -> None:
        self._call("end the run", self.client.set_terminated, run_id, status)

    @contextlib.contextmanager
    def stage_run(self, project: str, stage: str, **kwargs: Any) -> Iterator[str]:
        """Context manager: a stage run that ends FINISHED, or FAILED on error."""
        run_id = self.start_run(project, stage, **kwargs)
        try:
            yield run_id
        except BaseException:
            with contextlib.suppress(Exception):
                self.end_run(run_id, "FAILED")
            raise
        self.end_run(run_id, "FINISHED")

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(str(k), str(v)) for k, v in tags.items()]
        if items:
            self._call("set tags", self.client.log_batch, run_id, tags=items)

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Log params in one batch; long values are cut to MLflow's limit."""
        from mlflow.entities import Param

        items = [Param(str(k), str(v)[:_MAX_PARAM]) for k, v in params.items()]
        for i in range(0, len(items), 100):  # MLflow accepts at most 100 params per batch
            self._call("log params", self.client.log_batch, run_id, params=items[i : i + 100])

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None:
        """Log several metrics at one step in one batch (NaN / None skipped)."""
        self.log_metric_rows(run_id, [(k, v, step) for k, v in metrics.items()])

    def log_metric_rows(self, run_id: str, rows: Sequence[tuple[str, float, int]]) -> None:
        """Log ``(key, value, step)`` rows with ``log_batch`` in chunks of 1,000."""
        import math

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(str(k), float(v), now, int(s))
            for k, v, s in rows
            if v is not None and not (isinstance(v, float) and math.isnan(v))
        ]
        for i in range(0, len(items), 1000):
            self._call("log metrics", self.client.log_batch, run_id, metrics=items[i : i + 1000])

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self._call("save an artifact", self.client.log_text, run_id, text, artifact_file)

    def log_json(self, run_id: str, obj: Any, artifact_file: str) -> None:
        self.log_text(run_id, json.dumps(obj, indent=2, default=str), artifact_file)

    def log_file(self, run_id: str, local_path: str | Path, artifact_dir: str | None = None) -> None:
        self._call("save an artifact", self.client.log_artifact, run_id, str(local_path), artifact_dir)

    def log_dir(self, run_id: str, local_dir: str | Path, artifact_dir: str | None = None) -> None:
        self._call("save artifacts", self.client.log_artifacts, run_id, str(local_dir), artifact_dir)

    def download(self, run_id: str, artifact_path: str, dst: str | Path | None = None) -> Path:
        """Download one artifact (file or folder) and return its local path."""
        dst = Path(dst) if dst else Path(tempfile.mkdtemp(prefix="wb-dl-"))
        path = self._call(
            f"download {artifact_path!r} of run {run_id}",
            self.client.download_artifacts,
            run_id,
            artifact_path,
            str(dst),
        )
        return Path(path)

    def load_json(self, run_id: str, artifact_file: str) -> Any:
        return json.loads(self.download(run_id, artifact_file).read_text())

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[str]:
        return [f.path for f in self._call("list artifacts", self.client.list_artifacts, run_id, path)]

    def get_run(self, run_id: str) -> RunSummary:
        """One run by id; a clear TrackingError if it does not exist."""
        run_id = run_id.strip()
        try:
            run = self.client.get_run(run_id)
        except Exception as err:  # noqa: BLE001
            if is_remote(self.settings.tracking_uri) and _is_unreachable(err):
                raise TrackingError(unreachable_message(self.settings.tracking_uri, f"read run {run_id}")) from err
            raise TrackingError(f"No MLflow run with id {run_id!r} in {self.settings.tracking_uri}.") from err
        return RunSummary.from_mlflow(run)

    def runs(
        self,
        project: str,
        stage: str | None = None,
        filter_string: str = "",
        max_results: int = 1000,
        order_by: Sequence[str] = ("attributes.start_time DESC",),
    ) -> list[RunSummary]:
        """Runs of ``project`` (optionally of one stage), newest first."""
        exp_id = self.ensure_project(project)
        clauses = [c for c in (filter_string,) if c]
        if stage:
            clauses.append(f"tags.`{STAGE_TAG}` = '{stage}'")
        runs = self._call(
            "search runs",
            self.client.search_runs,
            [exp_id],
            filter_string=" and ".join(clauses),
            max_results=max_results,
            order_by=list(order_by),
        )
        return [RunSummary.from_mlflow(r) for r in runs]

    def lineage(self, run_id: str, max_depth: int = 50) -> list[RunSummary]:
        """Walk ``workbench.inputs`` back from ``run_id``; the run itself first, breadth-first."""
        seen: dict[str, RunSummary] = {}
        frontier = [run_id]
        for _ in range(max_depth):
            nxt: list[str] = []
            for rid in frontier:
                if rid in seen:
                    continue
                try:
                    summary = self.get_run(rid)
                except TrackingError:
                    continue
                seen[rid] = summary
                nxt.extend(summary.inputs)
            if not nxt:
                break
            frontier = nxt
        return list(seen.values())
