"""Convert a workbench pipeline to ONNX with one typed input per raw column.

The ONNX model takes **one input per raw feature column**, shaped ``[N, 1]``:
``tensor(float)`` for numeric columns (missing = NaN) and ``tensor(string)`` for
categorical ones (missing = the empty string ``""``). :func:`to_feeds` turns a
DataFrame into those inputs exactly the way :func:`core.models.prepare_xy` prepares
it for scikit-learn, and the serving script in the bundle does the same from JSON.

Two conversion problems of the pinned stack are handled here (see ``_patch_skl2onnx``
and ``_export_copy``):

* **HistGradientBoosting** fails with "Expected an int, got a boolean". Cause: skl2onnx
  1.20 passes a Python ``False`` for the ``nodes_missing_value_tracks_true`` attribute of
  leaf nodes (branch nodes get ``numpy.uint8``); protobuf 7, which onnx 1.23 runs on here,
  refuses ``bool`` in a repeated int64 field. We coerce that one argument to ``int`` —
  same value, so the tree is unchanged.
* The categorical ``SimpleImputer`` is fitted with ``missing_values=nan`` on object
  columns; skl2onnx only converts string imputers whose missing marker is a string. The
  exported copy uses ``""`` as the marker and fills it with whatever scikit-learn really
  does with a missing cell (probed on the fitted imputer), so both agree.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from core.errors import ExportError
from core.models import FeatureSpec

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

InputKind = Literal["double", "float", "string"]
MISSING_STRING = ""  # how a missing categorical cell is sent to the ONNX model
TARGET_OPSET = 17  # ai.onnx default domain: widely supported; onnxruntime 1.32 and skl2onnx 1.20 handle it


@dataclass(frozen=True)
class InputField:
    """One ONNX input: a raw column and its tensor type (shape ``[N, 1]``): double, float or string."""

    name: str
    kind: InputKind


@dataclass(frozen=True)
class ExportResult:
    """An ONNX model and everything needed to feed it and read its outputs."""

    onnx_bytes: bytes
    inputs: tuple[InputField, ...]
    outputs: tuple[str, ...]  # ("label", "probabilities") or ("variable",)
    task: str
    family: str
    estimator: str  # class name of the final estimator
    classes: tuple[Any, ...] = ()
    opset: int = TARGET_OPSET
    recipe_included: tuple[str, ...] = ()  # recipe steps inside the graph, in order ("impute (median) on a, b")
    recipe_outside: tuple[tuple[str, str], ...] = ()  # (step, why it must run before the model)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def size_bytes(self) -> int:
        return len(self.onnx_bytes)

    @property
    def input_names(self) -> list[str]:
        return [f.name for f in self.inputs]

    def schema(self) -> dict[str, Any]:
        """The input/output contract as plain JSON (shipped in the bundle as ``schema.json``)."""
        return {
            "inputs": [{"name": f.name, "type": "string" if f.kind == "string" else "number",
                        "tensor": f.kind, "shape": [None, 1]} for f in self.inputs],
            "outputs": list(self.outputs),
            "task": self.task,
            "classes": [_native(c) for c in self.classes],
            "missing": {"number": "null or NaN", "string": f"null is sent as {MISSING_STRING!r}"},
            "recipe_included": list(self.recipe_included),
            "recipe_outside": [{"step": s, "why": w} for s, w in self.recipe_outside],
            "family": self.family,
            "estimator": self.estimator,
            "opset": self.opset,
        }


def _native(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


# --- the skl2onnx / protobuf 7 fix ---------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _patch_skl2onnx() -> None:
    """Make skl2onnx's tree builder pass an int, not a bool, for missing-value tracking (idempotent)."""
    from skl2onnx.common import tree_ensemble

    original = tree_ensemble.add_node
    if getattr(original, "_workbench_int_missing", False):
        return

    @functools.wraps(original)
    def add_node(*args: Any, **kwargs: Any) -> Any:
        if "nodes_missing_value_tracks_true" in kwargs:
            kwargs["nodes_missing_value_tracks_true"] = int(kwargs["nodes_missing_value_tracks_true"])
        return original(*args, **kwargs)

    add_node._workbench_int_missing = True  # type: ignore[attr-defined]
    tree_ensemble.add_node = add_node


# --- feeding -------------------------------------------------------------------------------------
def input_fields(spec: FeatureSpec, numeric: InputKind = "double") -> tuple[InputField, ...]:
    return tuple([InputField(c, numeric) for c in spec.numeric] + [InputField(c, "string") for c in spec.categorical])


def to_feeds(frame: pd.DataFrame, inputs: Sequence[InputField]) -> dict[str, np.ndarray]:
    """One ``[N, 1]`` array per ONNX input, prepared like :func:`core.models.prepare_xy`.

    Raises:
        ExportError: a required column is missing from ``frame``.
    """
    import numpy as np
    import pandas as pd

    missing = [f.name for f in inputs if f.name not in frame.columns]
    if missing:
        raise ExportError(f"The table lacks the model's input columns {', '.join(map(repr, missing[:8]))}; "
                          "score a table with the columns the model was trained on.")
    feeds: dict[str, np.ndarray] = {}
    for f in inputs:
        s = frame[f.name]
        if f.kind in ("double", "float"):
            values = pd.to_numeric(s, errors="coerce") if not pd.api.types.is_numeric_dtype(s) else s
            dtype = np.float64 if f.kind == "double" else np.float32
            feeds[f.name] = values.astype(float).to_numpy(dtype=dtype, na_value=np.nan).reshape(-1, 1)
        else:
            obj = s.astype("object")
            feeds[f.name] = np.array([MISSING_STRING if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
                                      for v in obj], dtype=object).reshape(-1, 1)
    return feeds


# --- conversion ----------------------------------------------------------------------------------
def _categorical_imputers(model: Any) -> list[Any]:
    """Every SimpleImputer in the pipeline that works on string columns."""
    from sklearn.impute import SimpleImputer

    found = []
    prep = model.named_steps.get("prep") if hasattr(model, "named_steps") else None
    if prep is None or not hasattr(prep, "named_transformers_"):
        return found
    for name, trans in prep.named_transformers_.items():
        steps = trans.named_steps.values() if hasattr(trans, "named_steps") else [trans]
        for step in steps:
            if isinstance(step, SimpleImputer) and getattr(step, "statistics_", None) is not None \
                    and step.statistics_.dtype == object:
                found.append(step)
    return found


def _export_copy(model: Any) -> Any:
    """A deep copy whose string imputers use ``""`` as the missing marker (see module docstring)."""
    import numpy as np

    clone = copy.deepcopy(model)
    for imp in _categorical_imputers(clone):
        n = len(imp.statistics_)
        # What scikit-learn does with a missing cell (None after prepare_xy): impute it, or pass it on.
        with warnings.catch_warnings():  # "X does not have valid feature names": the probe is a bare array
            warnings.simplefilter("ignore", UserWarning)
            probe = imp.transform(np.array([[None] * n], dtype=object))[0]
        fills = [MISSING_STRING if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in probe]
        imp.missing_values = MISSING_STRING
        imp.statistics_ = np.array(fills, dtype=object)
        # A None category learnt by the encoder that follows becomes "" too.
        for enc in _encoders_after(clone, imp):
            enc.categories_ = [np.array([MISSING_STRING if c is None else c for c in cats], dtype=object)
                               for cats in enc.categories_]
    return clone


def _encoders_after(model: Any, imputer: Any) -> list[Any]:
    from sklearn.preprocessing import OneHotEncoder

    for trans in model.named_steps["prep"].named_transformers_.values():
        steps = list(trans.named_steps.values()) if hasattr(trans, "named_steps") else [trans]
        if any(s is imputer for s in steps):
            return [s for s in steps if isinstance(s, OneHotEncoder)]
    return []


def _final_estimator(model: Any) -> Any:
    return model.steps[-1][1] if hasattr(model, "steps") else model


def export_onnx(model: Any, spec: FeatureSpec, task: str, sample: pd.DataFrame | None = None, *,
                family: str = "") -> ExportResult:
    """Convert a fitted workbench pipeline to ONNX (one typed input per raw column).

    Args:
        model: fitted ``Pipeline`` from :func:`core.models.build_pipeline`.
        spec: its feature columns (numeric → float inputs, categorical → string inputs).
        task: ``classification`` (outputs ``label`` and a ``probabilities`` tensor — no ZipMap)
            or ``regression`` (output ``variable``).
        sample: a few rows used to check the converted model runs (optional).
        family: the workbench family name, recorded in the result.

    Raises:
        ExportError: the model (or one of its steps) cannot be converted; the message names it.
    """
    import numpy as np

    if task not in ("classification", "regression"):
        raise ExportError(f"The task must be 'classification' or 'regression'. Got {task!r} instead.")
    if not hasattr(model, "predict"):
        raise ExportError(f"Only fitted scikit-learn models can be exported. Got {type(model).__name__} instead.")
    est = _final_estimator(model)
    clf = task == "classification"
    if type(est).__name__ in ("VotingClassifier", "VotingRegressor"):
        raise ExportError("This version is an ensemble of two pipelines (retrained by the ensemble mode), which the "
                          "ONNX export does not convert yet; export the champion it was built from, or retrain by "
                          "refit or study for a single exportable model.")
    if clf and not hasattr(est, "predict_proba"):
        raise ExportError(f"{type(est).__name__} has no predict_proba; the export needs class probabilities. "
                          "Train it with probabilities enabled (e.g. SVC(probability=True)).")
    classes = tuple(getattr(est, "classes_", ())) if clf else ()
    if clf and classes and isinstance(classes[0], (bool, np.bool_)):
        raise ExportError("Boolean class labels cannot be exported to ONNX; encode the target as 0/1 or text first.")

    _patch_skl2onnx()
    native = _native_prefix(model, spec)
    try:
        if native is not None:
            graph, n_features = native
            onx = _join_estimator(graph, est, n_features, clf)
            fields = tuple(graph.inputs)
            note = "preprocessing compiled in float64; estimator converted by skl2onnx"
        else:
            fields = input_fields(spec, "float")
            onx = _convert_whole(model, fields, clf)
            note = "whole pipeline converted by skl2onnx (float32 inputs)"
    except ExportError:
        raise
    except Exception as err:  # noqa: BLE001 - skl2onnx raises many types; name what failed
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise ExportError(f"skl2onnx cannot convert {type(est).__name__} ({family or 'unknown family'}): {first}") from err
    outputs = tuple(o.name for o in onx.graph.output)
    result = ExportResult(
        onnx_bytes=onx.SerializeToString(), inputs=fields, outputs=outputs, task=task, family=family,
        estimator=type(est).__name__, classes=classes, notes=(note,),
    )
    if sample is not None and len(sample):
        run_onnx(result, sample.head(5))
    return result


def _convert_whole(model: Any, fields: Sequence[InputField], clf: bool) -> Any:
    """Fallback for pipelines of another shape: skl2onnx converts everything (float32 inputs)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    initial = [(f.name, FloatTensorType([None, 1]) if f.kind == "float" else StringTensorType([None, 1])) for f in fields]
    clone = _export_copy(model)
    return convert_sklearn(clone, initial_types=initial, options=_converter_options(_final_estimator(clone), clf),
                           target_opset=TARGET_OPSET)


def _converter_options(est: Any, clf: bool) -> dict[int, dict[str, Any]] | None:
    """skl2onnx options for the final estimator: probabilities as a tensor (no ZipMap); for k-NN the
    onnxruntime ``CDist`` kernel instead of the default Scan over training rows (5-10x faster on a batch)."""
    options: dict[str, Any] = {"zipmap": False} if clf else {}
    if type(est).__name__ in ("KNeighborsClassifier", "KNeighborsRegressor"):
        options["optim"] = "cdist"
    return {id(est): options} if options else None


def _native_prefix(model: Any, spec: FeatureSpec) -> tuple[Any, int] | None:
    """Compile the workbench ColumnTransformer (see core.models.make_preprocessor) into float64 ONNX nodes.

    scikit-learn imputes and scales in float64 and tree ensembles cast the result to float32;
    doing the same here (double inputs, double arithmetic, one Cast to float at the end)
    makes tree splits land exactly where scikit-learn's do. A float32 pipeline (what skl2onnx
    builds) rounds the raw input first and flips rows that sit within rounding of a threshold.
    Returns None for pipelines of another shape (then skl2onnx converts everything).
    """
    import numpy as np
    from onnx import TensorProto
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from core.deploy.graph import Graph, int64_const

    prep = getattr(model, "named_steps", {}).get("prep") if hasattr(model, "named_steps") else None
    if not isinstance(prep, ColumnTransformer) or len(model.steps) != 2:
        return None
    g = Graph({**{c: "double" for c in spec.numeric}, **{c: "string" for c in spec.categorical}})
    # Whole blocks, not one node chain per column: a one-row request pays onnxruntime's per-node cost
    # (a few µs each), so the prefix is a handful of nodes whatever the column count.
    parts: list[str] = []
    n_features = 0
    for name, trans, cols in prep.transformers_:
        if trans == "drop" or (name == "remainder" and trans in ("drop", None)):
            continue
        steps = list(getattr(trans, "named_steps", {}).values())
        kinds = [type(s) for s in steps]
        if name == "num" and kinds == [SimpleImputer, StandardScaler]:
            imp, sc = steps
            k = len(cols)
            mean = sc.mean_ if sc.mean_ is not None else np.zeros(k)
            scale = sc.scale_ if sc.scale_ is not None else np.ones(k)
            ins = [g.tensor(col)[0] for col in cols]
            x = ins[0] if k == 1 else g.node("Concat", ins, "num_x", axis=1)
            filled = g.node("Where", [g.node("IsNaN", [x], "num_nan"), g.const([imp.statistics_], "num_med"), x], "num_imp")
            centred = g.node("Sub", [filled, g.const([mean], "num_mean")], "num_c")
            parts.append(g.node("Div", [centred, g.const([scale], "num_scale")], "num_z"))
            n_features += k
        elif name == "cat" and kinds == [SimpleImputer, OneHotEncoder] and steps[1].drop_idx_ is None \
                and getattr(steps[1], "_infrequent_enabled", False) is False:
            imp, enc = steps
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                probe = imp.transform(np.array([[None] * len(cols)], dtype=object))[0]
            for i, col in enumerate(cols):
                fill = None if probe[i] is None or (isinstance(probe[i], float) and np.isnan(probe[i])) else str(probe[i])
                keys = [MISSING_STRING if cat is None else str(cat) for cat in enc.categories_[i]]
                if len(set(keys)) != len(keys):
                    return None  # two categories print alike: let skl2onnx convert the whole pipeline
                index = {key: j for j, key in enumerate(keys)}
                if fill is not None:  # the imputer turns a missing cell into its fill before encoding
                    index[MISSING_STRING] = index.get(fill, -1)
                # category -> its position (unknown -> -1, no column: handle_unknown="ignore"), then one-hot
                code = g.node("LabelEncoder", [g.tensor(col)[0]], f"{col}_code", domain="ai.onnx.ml",
                              keys_strings=list(index), values_int64s=list(index.values()), default_int64=-1)
                g.inits.append(int64_const(g.name(f"{col}_pos"), [list(range(len(keys)))]))
                hot = g.node("Equal", [code, g.inits[-1].name], f"{col}_is")
                parts.append(g.node("Cast", [hot], f"{col}_oh", to=TensorProto.DOUBLE))
                n_features += len(keys)
        else:
            return None
    if not parts or not n_features:
        return None
    joined = parts[0] if len(parts) == 1 else g.node("Concat", parts, "features64", axis=1)
    g.nodes.append(__import__("onnx").helper.make_node("Cast", [joined], ["features"], to=TensorProto.FLOAT))
    return g, n_features


def _join_estimator(g: Any, est: Any, n_features: int, clf: bool) -> Any:
    """Convert the bare estimator on a float [N, n_features] input and chain it after the prefix graph."""
    import onnx
    from onnx import TensorProto, compose, helper
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    model = convert_sklearn(est, initial_types=[("features", FloatTensorType([None, n_features]))],
                            options=_converter_options(est, clf), target_opset=TARGET_OPSET)
    opsets = {o.domain: o.version for o in model.opset_import}
    opsets["ai.onnx.ml"] = max(opsets.get("ai.onnx.ml", 1), 2)  # LabelEncoder with string keys
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(d, v) for d, v in opsets.items())
    inputs = [helper.make_tensor_value_info(f.name, TensorProto.DOUBLE if f.kind == "double" else TensorProto.STRING, [None, 1])
              for f in g.inputs]
    out = helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_features])
    prefix = helper.make_model(helper.make_graph(g.nodes, "preprocess", inputs, [out], initializer=g.inits),
                               opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                               ir_version=model.ir_version)
    model = compose.add_prefix(model, "m_", rename_outputs=False)
    from core.deploy.graph import dedupe_opsets

    joined = dedupe_opsets(compose.merge_models(prefix, model, io_map=[("features", "m_features")]))
    onnx.checker.check_model(joined)
    return joined


def session(result: ExportResult | bytes, threads: int = 0) -> Any:
    """An onnxruntime InferenceSession on the CPU for an export (or raw ONNX bytes); ``threads=0``: ORT default."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    data = result.onnx_bytes if isinstance(result, ExportResult) else result
    try:
        return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001
        raise ExportError(f"onnxruntime cannot load the exported model: {str(err).splitlines()[0][:200]}") from err


def run_onnx(result: ExportResult, frame: pd.DataFrame, sess: Any = None) -> Mapping[str, np.ndarray]:
    """Run the ONNX model on ``frame``; returns ``{output name: array}``."""
    sess = sess or session(result)
    try:
        values = sess.run(None, to_feeds(frame, result.inputs))
    except ExportError:
        raise
    except Exception as err:  # noqa: BLE001
        raise ExportError(f"onnxruntime failed on the exported model: {str(err).splitlines()[0][:200]}") from err
    return dict(zip([o.name for o in sess.get_outputs()], values, strict=True))
