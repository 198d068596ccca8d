"""Models in MLflow: log a scikit-learn model as an MLflow 3 logged model, register it, move aliases.

Every trained model is a **logged model** (``models:/m-…``) created in its training run's
experiment, with the training facts (features, target, task, family, params) as its params and
its held-out scores as model metrics linked to the dataset they were computed on; registered
versions come from logged models, so the MLflow UI's Models tab, lineage and ``model_id`` work.

**One registered model per prediction job**, not per project: ``<project>-<target>`` (task fixed
per registered model, recorded in its tags ``workbench.project`` / ``workbench.target`` /
``workbench.task``; a second task for the same target gets ``<project>-<target>-<task>``). Models
of different targets never share version numbers. Stores written before this (one registered model
named after the project, facts in version tags) keep working: readers accept both shapes.

Models are saved with MLflow's safe ``skops`` format (loading trusts only the workbench's own types,
see :mod:`core.tracking.safe_load`). ``pip_requirements`` is given explicitly: inferring it costs ~8 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import TrackingError
from core.tracking.tracker import Tracker

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from core.tracking.logged import LoggedSklearn, log_model_metrics, log_sklearn_model  # noqa: E402,F401 - re-exported

ALIASES = ("champion", "challenger")


JOB_TAGS = ("workbench.project", "workbench.target", "workbench.task")
PROMOTION_METRIC_TAG = "workbench.promotion_metric"
# the facts a version carries as its logged model's params (older stores: as version tags)
FACT_KEYS = ("workbench.features", "workbench.numeric", "workbench.categorical", "workbench.params")


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered model version.

    ``tags`` holds the version's registry tags merged with the training facts recorded as its
    logged model's params (features, numeric / categorical columns, params), so readers find
    ``workbench.features`` in one place whatever the store's age.
    """

    name: str
    version: int
    run_id: str
    source: str
    aliases: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    created: int = 0
    model_id: str = ""

    @property
    def ref(self) -> str:
        """``NAME/3``: what every command and picker accepts."""
        return f"{self.name}/{self.version}"

    @property
    def is_onnx(self) -> bool:
        """True for a Deploy-stage ONNX export (not loadable as a scikit-learn model)."""
        return self.tags.get("workbench.format") == "onnx"

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @property
    def label(self) -> str:
        alias = f" ({', '.join(self.aliases)})" if self.aliases else ""
        return f"{self.name} v{self.version}{alias}"

    @classmethod
    def from_mlflow(cls, mv: Any) -> ModelVersionInfo:
        return cls(
            name=mv.name,
            version=int(mv.version),
            run_id=mv.run_id or "",
            source=mv.source or "",
            aliases=tuple(getattr(mv, "aliases", []) or []),
            tags=dict(mv.tags or {}),
            created=int(mv.creation_timestamp or 0),
            # some stores leave model_id empty on search results; the source of a version made from a
            # logged model names it (models:/m-…)
            model_id=getattr(mv, "model_id", None) or ((mv.source or "").removeprefix("models:/")
                                                       if (mv.source or "").startswith("models:/m-") else ""),
        )


def job_model_name(project: str, target: str, task: str = "", tracker: Tracker | None = None) -> str:
    """The registered model of a prediction job: ``<project>-<target>`` (``-<task>`` when that name has another task)."""
    import re

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(target)).strip("_.") or "target"
    name = f"{project}-{safe}"[:120]
    if tracker is not None and task:
        existing = registered_model_tags(tracker, name)
        if existing is not None and existing.get("workbench.task") not in (None, "", task):
            name = f"{name}-{task}"
    return name


def registered_model_tags(tracker: Tracker, name: str) -> dict[str, str] | None:
    """The tags of registered model ``name``, or None when it does not exist."""
    try:
        rm = tracker.client.get_registered_model(name)
    except Exception:  # noqa: BLE001 - not found
        return None
    return dict(rm.tags or {})


def project_models(tracker: Tracker, project: str) -> list[str]:
    """Names of the project's registered models (prediction jobs), sorted; ONNX exports left out.

    Registered models tagged with the project, plus an older store's single model named after it.
    """
    try:
        found = tracker.client.search_registered_models(filter_string=f"tags.`workbench.project` = '{project}'")
    except Exception:  # noqa: BLE001 - a store that cannot filter on tags: fall back to the legacy name
        found = []
    names = {rm.name for rm in found if (rm.tags or {}).get("workbench.format") != "onnx"}
    if registered_model_tags(tracker, project) is not None:
        names.add(project)
    return sorted(names)


def register_model(
    tracker: Tracker,
    name: str,
    run_id: str,
    artifact_path: str = "model",
    tags: dict[str, str] | None = None,
    description: str = "",
    *,
    model_id: str = "",
    job: dict[str, str] | None = None,
) -> ModelVersionInfo:
    """Register a model of ``run_id`` as a new version of ``name`` — from its logged model when ``model_id``.

    ``job`` (project, target, task) goes on a new registered model's tags; an existing one must have
    the same task (one registered model, one task).

    Raises:
        TrackingError: the registered model predicts another task.
    """
    client = tracker.client
    existing = registered_model_tags(tracker, name)
    job = {k: str(v) for k, v in (job or {}).items() if v}
    if existing is None:
        tracker._call("create the registered model", client.create_registered_model, name,
                      tags={f"workbench.{k}": v for k, v in job.items()} or None)
    elif job.get("task") and existing.get("workbench.task") not in (None, "", job["task"]):
        raise TrackingError(f"The registered model {name!r} predicts {existing.get('workbench.target')!r} as "
                            f"{existing.get('workbench.task')}; a {job['task']} model cannot be a version of it. "
                            "Give the model another name.")
    if not model_id:  # the logged model this run made under ``artifact_path`` (log_sklearn_model), if any
        model_id = _logged_model_of(tracker, run_id, artifact_path)
    if model_id:
        source = f"models:/{model_id}"
    else:
        run = tracker.get_run(run_id)
        source = f"{run.artifact_uri.rstrip('/')}/{artifact_path}"
    mv = tracker._call(
        "register the model",
        client.create_model_version,
        name,
        source,
        run_id=run_id,
        tags={k: str(v) for k, v in (tags or {}).items()},
        description=description or None,
        model_id=model_id or None,
    )
    if model_id:  # what mlflow.register_model does: the logged model lists its versions (the UI's link)
        import json

        try:
            existing = json.loads(client.get_logged_model(model_id).tags.get("mlflow.modelVersions") or "[]")
        except (ValueError, Exception):  # noqa: BLE001
            existing = []
        tracker._call("link the logged model to its version", client.set_logged_model_tags, model_id,
                      {"mlflow.modelVersions": json.dumps([*existing, {"name": mv.name, "version": mv.version}])})
    return ModelVersionInfo.from_mlflow(mv)


VERSION_TAG_KEYS = ("workbench.target", "workbench.task", "workbench.family", "workbench.data_version",
                    "workbench.study", "workbench.trial", "workbench.source_version", "workbench.format")


def register_trained(
    tracker: Tracker,
    run_id: str,
    model: Any,
    X: pd.DataFrame,
    *,
    project: str,
    tags: dict[str, str],
    artifact_path: str = "model",
    metrics: dict[str, float] | None = None,
    description: str = "",
    model_name: str | None = None,
) -> ModelVersionInfo:
    """Log ``model`` as a logged model of ``run_id`` and register it under its prediction job's model.

    ``tags`` is everything the workbench knows of the model (:func:`core.models.model_tags` and more):
    a handful go on the registry version (target, task, family, data version, study, trial), the rest
    (features, columns, params, metric values…) become the logged model's params. The training data
    version is logged as the run's ``training`` dataset input and the ``metrics`` are linked to it.
    """
    from core.tracking.datasets import DatasetVersion, log_dataset_inputs

    data_run = tags.get("workbench.data_version", "")
    dataset = None
    if data_run:
        try:
            dv = DatasetVersion.from_run(tracker.get_run(data_run))
            dataset = (f"{dv.name}:v{dv.version}", dv.digest) if dv.digest else None
            run = tracker.client.get_run(run_id)
            if not (run.inputs and run.inputs.dataset_inputs):  # a study run logged it when it started
                log_dataset_inputs(tracker, run_id, [(data_run, "training")])
        except TrackingError:
            dataset = None
    target, task = tags.get("workbench.target", ""), tags.get("workbench.task", "")
    name = model_name or job_model_name(project, target, task, tracker)
    version_tags = {k: v for k, v in tags.items() if k in VERSION_TAG_KEYS}
    facts = {k: v for k, v in tags.items() if k not in VERSION_TAG_KEYS}
    logged = log_sklearn_model(tracker, run_id, model, X, artifact_path=artifact_path,
                               params={**facts, **version_tags}, metrics=metrics, dataset=dataset)
    mv = register_model(tracker, name, run_id, artifact_path, version_tags, description, model_id=logged.model_id,
                        job={"project": project, "target": target, "task": task})
    return _with_facts(tracker, mv)


def _logged_model_of(tracker: Tracker, run_id: str, name: str) -> str:
    try:
        run = tracker.client.get_run(run_id)
        outputs = list(getattr(run.outputs, "model_outputs", None) or []) if run.outputs else []
        for out in reversed(outputs):
            if tracker.client.get_logged_model(out.model_id).name == name:
                return out.model_id
    except Exception:  # noqa: BLE001 - an older store: register from the run's artifact path
        return ""
    return ""


def set_promotion_metric(tracker: Tracker, name: str, metric: str) -> None:
    """Record the metric promotions of ``name`` are decided on (set once; the gate never switches silently)."""
    tracker._call("set the promotion metric", tracker.client.set_registered_model_tag, name, PROMOTION_METRIC_TAG,
                  metric)


def promotion_metric(tracker: Tracker, name: str) -> str:
    """The promotion metric of registered model ``name`` ('' when none is set yet)."""
    return (registered_model_tags(tracker, name) or {}).get(PROMOTION_METRIC_TAG, "")


_FACTS: dict[str, dict[str, str]] = {}  # model_id -> the logged model's params (a logged model never changes them)


def _facts(tracker: Tracker, model_id: str) -> dict[str, str]:
    if model_id not in _FACTS:
        try:
            params = dict(tracker.client.get_logged_model(model_id).params or {})
        except Exception:  # noqa: BLE001 - an older store or a deleted model: the version's tags stand alone
            return {}
        _FACTS[model_id] = params
    return _FACTS[model_id]


def _with_facts(tracker: Tracker, mv: ModelVersionInfo) -> ModelVersionInfo:
    if not mv.model_id:
        return mv
    facts = {k: v for k, v in _facts(tracker, mv.model_id).items() if k.startswith("workbench.")}
    return ModelVersionInfo(mv.name, mv.version, mv.run_id, mv.source, mv.aliases, {**facts, **mv.tags}, mv.created,
                            mv.model_id)


def model_versions(tracker: Tracker, name: str, *, sklearn_only: bool = False) -> list[ModelVersionInfo]:
    """All versions of a registered model, newest first ([] if it does not exist).

    ``sklearn_only`` leaves out the ONNX exports registered by the Deploy stage.
    """
    try:
        found = tracker.client.search_model_versions(f"name = '{name}'")
    except Exception:  # noqa: BLE001
        return []
    out = [ModelVersionInfo.from_mlflow(mv) for mv in found]
    # search_model_versions does not always fill aliases; read them from the model.
    try:
        aliases = tracker.client.get_registered_model(name).aliases or {}
    except Exception:  # noqa: BLE001
        aliases = {}
    by_version: dict[int, list[str]] = {}
    for alias, ver in aliases.items():
        by_version.setdefault(int(ver), []).append(alias)
    out = [
        _with_facts(tracker, ModelVersionInfo(m.name, m.version, m.run_id, m.source,
                                              tuple(sorted(by_version.get(m.version, []))), m.tags, m.created,
                                              m.model_id))
        for m in out
    ]
    if sklearn_only:
        out = [m for m in out if not m.is_onnx]
    return sorted(out, key=lambda m: m.version, reverse=True)


def get_model_version(tracker: Tracker, name: str, version_or_alias: str | int) -> ModelVersionInfo:
    """A version by number or alias; a clear TrackingError if absent."""
    text = str(version_or_alias).strip()
    for mv in model_versions(tracker, name):
        if text.isdigit() and mv.version == int(text):
            return mv
        if text in mv.aliases:
            return mv
    kind = "version" if text.isdigit() else "alias"
    raise TrackingError(f"Registered model {name!r} has no {kind} {text!r}.")


def parse_model_ref(ref: str) -> tuple[str, str]:
    """Split ``NAME@ALIAS``, ``NAME/VERSION`` or ``NAME:VERSION`` into (name, version_or_alias)."""
    for sep in ("@", "/", ":"):
        if sep in ref:
            name, _, rest = ref.partition(sep)
            if name and rest:
                return name, rest
    raise TrackingError(f"A model reference looks like NAME@champion or NAME/3. Got {ref!r} instead.")


def set_alias(tracker: Tracker, name: str, alias: str, version: int) -> None:
    tracker._call("move the alias", tracker.client.set_registered_model_alias, name, alias, str(version))


def delete_alias(tracker: Tracker, name: str, alias: str) -> None:
    tracker._call("delete the alias", tracker.client.delete_registered_model_alias, name, alias)


def load_sklearn_model(tracker: Tracker, mv: ModelVersionInfo) -> Any:
    """Load a registered scikit-learn model version, trusting only the workbench's own types.

    Raises:
        TrackingError: an ONNX export, a pickle model, or a type outside ``safe_load.ALLOWED_TYPES``.
    """
    from core.tracking.safe_load import load_registered

    if mv.is_onnx:
        source = mv.tags.get("workbench.source_version", "?")
        raise TrackingError(f"{mv.label} is an ONNX export (of v{source}), not a scikit-learn model; "
                            "pick the scikit-learn version it came from.")
    return load_registered(tracker, mv.uri, mv.label)
