"""Saving a scikit-learn model as an MLflow 3 logged model of a run (skops, signature, params, linked metrics).

Split out of :mod:`core.tracking.models` (registration, versions, aliases); that module re-exports these names.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import TrackingError
from core.tracking.tracker import Tracker

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("scikit-learn", "numpy", "pandas", "scipy", "skops")]


@dataclass(frozen=True)
class LoggedSklearn:
    model_id: str
    model_uri: str  # models:/m-…


def log_sklearn_model(
    tracker: Tracker,
    run_id: str,
    model: Any,
    input_example: pd.DataFrame,
    *,
    artifact_path: str = "model",
    params: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    dataset: tuple[str, str] | None = None,
) -> LoggedSklearn:
    """Log ``model`` as an MLflow 3 logged model of run ``run_id`` (skops, signature, input example).

    Args:
        params: training facts and hyper-parameters, stored as the logged model's params.
        metrics: held-out scores, logged on the run and linked to the logged model (and ``dataset``).
        dataset: (name, digest) of the dataset the metrics were computed on.
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
    # Created here, in the run's experiment: log_model(run_id=…) alone creates the logged model in the
    # process's current experiment, which is MLflow's 'Default' when no run is active.
    experiment_id = tracker._call("read the run", tracker.client.get_run, run_id).info.experiment_id
    created = tracker._call("create the logged model", tracker.client.create_logged_model, experiment_id,
                            name=artifact_path, source_run_id=run_id, model_type="sklearn-pipeline",
                            params={str(k): str(v)[:6000] for k, v in (params or {}).items()} or None)
    # Saved locally, then uploaded as the logged model's artifacts: log_model would also load the model back to
    # validate the serving example, which costs a load and needs the pickle switch the workbench keeps off.
    from mlflow.entities import LoggedModelOutput
    from mlflow.models import Model

    with tempfile.TemporaryDirectory(prefix="wb-model-") as tmp:
        path = Path(tmp) / "model"
        meta = Model(artifact_path=created.artifact_location, run_id=run_id, model_uuid=created.model_id,
                     model_id=created.model_id)
        tracker._call("save the model", mlflow.sklearn.save_model, model, str(path), mlflow_model=meta,
                      signature=signature, input_example=example, pip_requirements=_requirements(),
                      skops_trusted_types=trusted)
        tracker._call("upload the model", tracker.client.log_model_artifacts, created.model_id, str(path))
    tracker._call("link the model to its run", tracker.client.log_outputs, run_id,
                  [LoggedModelOutput(created.model_id, step=0)])
    tracker._call("finalize the logged model", tracker.client.finalize_logged_model, created.model_id, "READY")
    if metrics:
        log_model_metrics(tracker, run_id, created.model_id, metrics, dataset)
    return LoggedSklearn(created.model_id, f"models:/{created.model_id}")


def log_model_metrics(tracker: Tracker, run_id: str, model_id: str, metrics: dict[str, float],
                      dataset: tuple[str, str] | None = None) -> None:
    """Metrics of a logged model (in its run), linked to the dataset they were computed on."""
    import math
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    name, digest = dataset or (None, None)
    items = [Metric(str(k), float(v), now, 0, model_id=model_id, dataset_name=name, dataset_digest=digest)
             for k, v in metrics.items() if v is not None and math.isfinite(float(v))]
    if items:
        tracker._call("log the model's metrics", tracker.client.log_batch, run_id, metrics=items)
