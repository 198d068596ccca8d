"""A tiny ONNX graph builder: one ``[N, 1]`` tensor per live column, inputs created on first use.

Shared by the native preprocessing compiler (:mod:`core.deploy.export`) and the recipe
compiler (:mod:`core.deploy.recipe`). Numbers are float64 (``tensor(double)``) so that the
arithmetic matches scikit-learn's float64 exactly; text is ``tensor(string)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.deploy.export import InputField
from core.errors import ExportError


class Graph:
    """Builds the prefix graph: one tensor per live column, inputs created on first use."""

    def __init__(self, raw_kinds: Mapping[str, str]) -> None:
        self.raw_kinds = dict(raw_kinds)
        self.live: dict[str, tuple[str, str]] = {c: ("", k) for c, k in raw_kinds.items()}  # col -> (tensor, kind)
        self.inputs: list[InputField] = []
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"rc{self._n}_{''.join(ch if ch.isalnum() else '_' for ch in hint)[:40]}"

    def tensor(self, col: str) -> tuple[str, str]:
        if col not in self.live:
            raise ExportError(f"The recipe uses column {col!r}, which is not in the table at that step.")
        t, kind = self.live[col]
        if not t:
            if kind not in ("double", "string"):
                raise ExportError(f"Raw column {col!r} is neither numeric nor text; it cannot be an ONNX input.")
            self.inputs.append(InputField(col, kind))  # type: ignore[arg-type]
            t = col
            self.live[col] = (t, kind)
        return t, kind

    def const(self, value: Any, hint: str) -> str:
        import numpy as np
        from onnx import numpy_helper

        name = self.name(hint)
        arr = np.array(value)
        if arr.dtype.kind in "UO":
            from onnx import TensorProto, helper

            self.inits.append(helper.make_tensor(name, TensorProto.STRING, arr.shape, [str(v).encode() for v in arr.ravel()]))
        else:
            self.inits.append(numpy_helper.from_array(arr.astype(np.float64), name))
        return name

    def node(self, op: str, inputs: Sequence[str], hint: str, **attrs: Any) -> str:
        from onnx import helper

        out = self.name(hint)
        self.nodes.append(helper.make_node(op, list(inputs), [out], **attrs))
        return out


def str_eq(g: Graph, t: str, value: str, hint: str) -> str:
    """Boolean ``t == value`` for a string tensor (onnxruntime has no string Equal; LabelEncoder does it)."""
    from onnx import TensorProto

    code = g.node("LabelEncoder", [t], hint, domain="ai.onnx.ml", keys_strings=[value], values_int64s=[1], default_int64=0)
    return g.node("Cast", [code], f"{hint}_b", to=TensorProto.BOOL)


def sum_all(g: Graph, tensors: list[str], col: str) -> str:
    acc = tensors[0]
    for t in tensors[1:]:
        acc = g.node("Add", [acc, t], f"{col}_sum")
    return acc


def int64_const(name: str, values: list[int]) -> Any:
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def dedupe_opsets(model: Any) -> Any:
    """``onnx.compose.merge_models`` lists each domain twice; keep one entry per domain (the highest version)."""
    from onnx import helper

    best: dict[str, int] = {}
    for o in model.opset_import:
        best[o.domain] = max(best.get(o.domain, 0), o.version)
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(d, v) for d, v in best.items())
    return model
