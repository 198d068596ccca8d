"""MLflow calls of the Deploy stage: log an ONNX model with ``mlflow.onnx`` and register it.

Registered ONNX versions carry ``workbench.format = onnx`` and ``workbench.source_version``
(the scikit-learn version they were exported from); stages that load scikit-learn
models should skip versions whose format is ``onnx``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import TrackingError
from core.tracking.models import ModelVersionInfo, register_model
from core.tracking.tracker import Tracker

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FORMAT_TAG = "workbench.format"
SOURCE_TAG = "workbench.source_version"


def log_onnx_model(tracker: Tracker, run_id: str, onnx_bytes: bytes, input_example: pd.DataFrame,
                   output_example: Any, *, artifact_path: str = "onnx_model") -> str:
    """Save an ONNX model (signature from the raw input columns, input example) into the run.

    Returns:
        The artifact URI ``runs:/<run_id>/<artifact_path>``.
    """
    import mlflow.onnx
    import onnx
    from mlflow.models import infer_signature

    try:
        model = onnx.load_from_string(onnx_bytes)
        example = input_example.head(5)
        signature = infer_signature(example, output_example)
    except Exception as err:  # noqa: BLE001
        raise TrackingError(f"The ONNX model cannot be described for MLflow: {str(err).splitlines()[0][:200]}") from err
    with tempfile.TemporaryDirectory(prefix="wb-onnx-") as tmp:
        path = Path(tmp) / "onnx_model"
        from importlib.metadata import version

        tracker._call("save the ONNX model", mlflow.onnx.save_model, model, str(path), signature=signature,
                      input_example=example, pip_requirements=[f"onnxruntime=={version('onnxruntime')}",
                                                               f"onnx=={version('onnx')}", f"numpy=={version('numpy')}"],
                      save_as_external_data=False)
        tracker.log_dir(run_id, path, artifact_path)
    return f"runs:/{run_id}/{artifact_path}"


def register_onnx(tracker: Tracker, name: str, run_id: str, source: ModelVersionInfo, tags: dict[str, str],
                  artifact_path: str = "onnx_model") -> ModelVersionInfo:
    """Register the logged ONNX model as a new version of ``name``, linked to its source version."""
    all_tags = {**tags, FORMAT_TAG: "onnx", SOURCE_TAG: str(source.version)}
    return register_model(tracker, name, run_id, artifact_path, all_tags,
                          description=f"ONNX export of {source.label}")
