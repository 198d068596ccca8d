"""MLflow calls of the Deploy stage: log an ONNX model as an MLflow 3 logged model and register it.

ONNX exports are versions of their own registered model, ``<source model>.onnx``, so the
scikit-learn model's version list stays scikit-learn only. Each version carries
``workbench.format = onnx``, ``workbench.source_model`` and ``workbench.source_version``.
Stores written before this change registered the exports inside the scikit-learn model;
:func:`onnx_versions` reads both shapes.

What MLflow stores is the exported graph behind a thin ONNX adapter (:func:`pyfunc_graph`),
so that ``mlflow.pyfunc`` and ``mlflow models predict`` work on a plain table: MLflow's ONNX
flavour feeds each DataFrame column as a rank-1 array (``data[name].values``), while the
exported graph takes one ``[N, 1]`` tensor per column (the bundle keeps that contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import TrackingError
from core.tracking.models import ModelVersionInfo, model_versions
from core.tracking.tracker import Tracker

if TYPE_CHECKING:  # pragma: no cover
    import onnx
    import pandas as pd

FORMAT_TAG = "workbench.format"
SOURCE_TAG = "workbench.source_version"
SOURCE_MODEL_TAG = "workbench.source_model"
ONNX_SUFFIX = ".onnx"
CPU_ONLY = ["CPUExecutionProvider"]  # MLflow's default also declares CUDA, and every CPU load then warns
_AXES = "wb_unsqueeze_axes"


@dataclass(frozen=True)
class LoggedOnnx:
    """An ONNX model logged in a run: its MLflow 3 logged-model id and URI."""

    model_id: str
    model_uri: str  # models:/m-…


def onnx_model_name(source_name: str) -> str:
    """The registered model that holds the ONNX exports of ``source_name`` (``<name>.onnx``)."""
    return f"{source_name}{ONNX_SUFFIX}"


def _rename_inputs(graph: Any, rename: dict[str, str]) -> None:
    """Point every node (also inside sub-graphs) that reads an input at its new name."""
    for node in graph.node:
        node.input[:] = [rename.get(n, n) for n in node.input]
        for attr in node.attribute:
            if attr.HasField("g"):
                _rename_inputs(attr.g, rename)
            for sub in attr.graphs:
                _rename_inputs(sub, rename)


def pyfunc_graph(onnx_bytes: bytes, classes: tuple[Any, ...] = (), int_inputs: frozenset[str] = frozenset()
                 ) -> onnx.ModelProto:
    """The exported graph with inputs and outputs a pyfunc DataFrame fits, computing the same values.

    Each ``[N, 1]`` input becomes a rank-1 ``[N]`` input of the same name (``Unsqueeze`` inside); a
    float32 input is taken as float64 and a number input named in ``int_inputs`` (an integer column of
    the training table) as int64 (``Cast`` inside), the dtypes a DataFrame of such rows has; a
    ``probabilities`` output ``[N, C]`` is split into one ``probability.<class>`` output per class,
    because pyfunc returns one DataFrame column per output and flattens each to ``[N]``.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load_from_string(onnx_bytes)
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    rename: dict[str, str] = {}
    inputs, before = [], []
    for inp in graph.input:
        tensor = inp.type.tensor_type
        dims = tensor.shape.dim
        if len(dims) != 2 or dims[1].dim_value != 1:
            inputs.append(inp)
            continue
        inner = f"{inp.name}__wb_2d"
        rename[inp.name] = inner
        numeric = tensor.elem_type in (TensorProto.FLOAT, TensorProto.DOUBLE)
        outer = (TensorProto.INT64 if numeric and inp.name in int_inputs
                 else TensorProto.DOUBLE if tensor.elem_type == TensorProto.FLOAT else tensor.elem_type)
        inputs.append(helper.make_tensor_value_info(inp.name, outer, [dims[0].dim_param or None]))
        src = inp.name
        if outer != tensor.elem_type:
            src = f"{inp.name}__wb_cast"
            before.append(helper.make_node("Cast", [inp.name], [src], to=tensor.elem_type))
        if opset >= 13:
            before.append(helper.make_node("Unsqueeze", [src, _AXES], [inner]))
        else:
            before.append(helper.make_node("Unsqueeze", [src], [inner], axes=[1]))
    if not rename:
        return model
    _rename_inputs(graph, rename)
    if opset >= 13:
        graph.initializer.append(numpy_helper.from_array(np.array([1], dtype=np.int64), _AXES))
    after, outputs = [], []
    for out in graph.output:
        dims = out.type.tensor_type.shape.dim
        if out.name == "probabilities" and classes and len(dims) == 2 and dims[1].dim_value == len(classes):
            names = [f"probability.{c}" for c in classes]
            after.append(helper.make_node("Split", [out.name], names, axis=1))
            outputs += [helper.make_tensor_value_info(n, out.type.tensor_type.elem_type, [None, 1]) for n in names]
        else:
            outputs.append(out)
    nodes = [*before, *graph.node, *after]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.output[:]
    graph.output.extend(outputs)
    onnx.checker.check_model(model)
    return model


def pyfunc_example(frame: pd.DataFrame, inputs: Any) -> pd.DataFrame:
    """The rows the pyfunc model takes: one column per raw feature, text as str, numbers as float64 —
    or int64 where ``frame`` holds integers, so the signature matches the scikit-learn model's (MLflow
    refuses to cast int64 to float64 "safely", so an integer column must be declared as one)."""
    import numpy as np
    import pandas as pd

    from core.deploy.export import to_feeds

    feeds = to_feeds(frame, inputs)
    out = {}
    for name, v in feeds.items():
        if v.dtype.kind != "f":
            out[name] = v.ravel().astype(str)
        elif pd.api.types.is_integer_dtype(frame[name]):
            out[name] = frame[name].to_numpy(dtype=np.int64)
        else:
            out[name] = v.ravel().astype(np.float64)
    return pd.DataFrame(out)


def log_onnx_model(tracker: Tracker, run_id: str, onnx_bytes: bytes, input_example: pd.DataFrame, *,
                   classes: tuple[Any, ...] = (), name: str = "onnx_model",
                   params: dict[str, Any] | None = None) -> LoggedOnnx:
    """Log the export as an MLflow 3 logged model of run ``run_id`` (ONNX flavour, CPU provider).

    ``input_example`` holds the rows as :func:`pyfunc_example` gives them; the signature and the
    serving example MLflow writes come from it and from the model's own outputs on it.
    """
    from importlib.metadata import version

    import mlflow.onnx
    import onnxruntime as ort
    from mlflow.models import infer_signature

    example = input_example.head(5).reset_index(drop=True)
    try:
        ints = frozenset(c for c in example.columns if example[c].dtype.kind in "iu")
        model = pyfunc_graph(onnx_bytes, classes, ints)
        sess = ort.InferenceSession(model.SerializeToString(), providers=CPU_ONLY)
        feeds = {i.name: example[i.name].to_numpy() for i in sess.get_inputs()}
        outs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds), strict=True))
        import pandas as pd

        signature = infer_signature(example, pd.DataFrame({k: v.reshape(-1) for k, v in outs.items()}))
    except Exception as err:  # noqa: BLE001
        raise TrackingError(f"The ONNX model cannot be described for MLflow: {str(err).splitlines()[0][:200]}") from err
    requirements = [f"onnxruntime=={version('onnxruntime')}", f"onnx=={version('onnx')}",
                    f"numpy=={version('numpy')}", f"pandas=={version('pandas')}"]
    # Created here, in the run's experiment: log_model(run_id=…) alone puts the logged model in the
    # process's current experiment, which is MLflow's 'Default' (0) when no run is active.
    experiment_id = tracker._call("read the run", tracker.client.get_run, run_id).info.experiment_id
    created = tracker._call("create the logged model", tracker.client.create_logged_model, experiment_id,
                            name=name, source_run_id=run_id, model_type="onnx",
                            params={k: str(v) for k, v in (params or {}).items()} or None)
    info = tracker._call("log the ONNX model", mlflow.onnx.log_model, model, name=name, run_id=run_id,
                         model_id=created.model_id, signature=signature, input_example=example,
                         pip_requirements=requirements, onnx_execution_providers=CPU_ONLY,
                         save_as_external_data=False)
    return LoggedOnnx(info.model_id, f"models:/{info.model_id}")


def register_onnx(tracker: Tracker, run_id: str, logged: LoggedOnnx, source: ModelVersionInfo,
                  tags: dict[str, str]) -> ModelVersionInfo:
    """Register a logged ONNX model as the next version of ``<source name>.onnx``."""
    name = onnx_model_name(source.name)
    client = tracker.client
    try:
        client.get_registered_model(name)
    except Exception:  # noqa: BLE001 - not found
        tracker._call("create the registered model", client.create_registered_model, name,
                      tags={FORMAT_TAG: "onnx", SOURCE_MODEL_TAG: source.name},
                      description=f"ONNX exports of {source.name} (Deploy stage).")
    all_tags = {**tags, FORMAT_TAG: "onnx", SOURCE_MODEL_TAG: source.name, SOURCE_TAG: str(source.version)}
    mv = tracker._call("register the ONNX model", client.create_model_version, name, logged.model_uri,
                       run_id=run_id, tags={k: str(v) for k, v in all_tags.items()},
                       description=f"ONNX export of {source.label}", model_id=logged.model_id)
    return ModelVersionInfo.from_mlflow(mv)


def onnx_versions(tracker: Tracker, source_name: str) -> list[ModelVersionInfo]:
    """The ONNX exports of ``source_name``, newest first: ``<name>.onnx`` versions, then older stores'
    exports registered inside ``source_name`` itself (tag ``workbench.format = onnx``)."""
    own = model_versions(tracker, onnx_model_name(source_name))
    legacy = [m for m in model_versions(tracker, source_name) if m.is_onnx]
    return sorted([*own, *legacy], key=lambda m: -m.created)
