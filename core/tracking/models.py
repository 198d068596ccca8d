"""Models in MLflow: log a scikit-learn model into a run, register it, move aliases.

Models are saved with MLflow's safe ``skops`` format. skops refuses types it does
not know (tree nodes, optimisers); we compute exactly the types this model needs
with ``skops.io.get_untrusted_types`` and trust those, instead of falling back to
pickle. ``pip_requirements`` is given explicitly: inferring it costs ~8 s a model.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import TrackingError
from core.tracking.tracker import Tracker

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ALIASES = ("champion", "challenger")


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered model version."""

    name: str
    version: int
    run_id: str
    source: str
    aliases: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    created: int = 0

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
        )


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("scikit-learn", "numpy", "pandas", "scipy", "skops")]


def log_sklearn_model(
    tracker: Tracker,
    run_id: str,
    model: Any,
    input_example: pd.DataFrame,
    *,
    artifact_path: str = "model",
) -> str:
    """Save ``model`` (with signature and input example) under ``artifact_path`` of the run.

    Returns:
        The artifact URI of the saved model (``runs:/<run_id>/<artifact_path>``).
    """
    import mlflow.sklearn
    import skops.io as sio
    from mlflow.models import infer_signature

    example = input_example.head(5)
    try:
        output = model.predict(example)
        signature = infer_signature(example, output)
        trusted = sio.get_untrusted_types(data=sio.dumps(model))
    except Exception as err:  # noqa: BLE001
        raise TrackingError(f"The model cannot be saved: {str(err).splitlines()[0]}") from err
    with tempfile.TemporaryDirectory(prefix="wb-model-") as tmp:
        path = Path(tmp) / artifact_path.replace("/", "_")
        tracker._call(
            "save the model",
            mlflow.sklearn.save_model,
            model,
            str(path),
            signature=signature,
            input_example=example,
            pip_requirements=_requirements(),
            skops_trusted_types=trusted,
        )
        tracker.log_dir(run_id, path, artifact_path)
    return f"runs:/{run_id}/{artifact_path}"


def register_model(
    tracker: Tracker,
    name: str,
    run_id: str,
    artifact_path: str = "model",
    tags: dict[str, str] | None = None,
    description: str = "",
) -> ModelVersionInfo:
    """Register the model saved in ``run_id`` as a new version of ``name``."""
    client = tracker.client
    try:
        client.get_registered_model(name)
    except Exception:  # noqa: BLE001 - not found
        tracker._call("create the registered model", client.create_registered_model, name)
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
    )
    return ModelVersionInfo.from_mlflow(mv)


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
        ModelVersionInfo(m.name, m.version, m.run_id, m.source, tuple(sorted(by_version.get(m.version, []))), m.tags, m.created)
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
