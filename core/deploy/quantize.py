"""Dynamic int8 quantization of an export, with its size and accuracy cost measured.

``onnxruntime.quantization.quantize_dynamic`` rewrites ``MatMul`` / ``Gemm`` weights to
int8. It pays off for the MLP (its layers are MatMul + Add); scikit-learn's linear
models, tree ensembles, SVMs and k-NN are converted to ``ai.onnx.ml`` operators
(LinearClassifier, TreeEnsemble*, SVM*) or to distance arithmetic on the training
rows, which it leaves alone — the report then says it does not help and why.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.deploy.export import ExportResult, run_onnx, session
from core.errors import ExportError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

QUANTIZED_OPS = ("MatMulInteger", "DynamicQuantizeLinear", "QLinearMatMul", "ConvInteger", "DynamicQuantizeMatMul")
MIN_GAIN = 0.05  # smaller than 5 % is reported as "does not help"


@dataclass(frozen=True)
class QuantizeReport:
    """Before / after figures of dynamic quantization."""

    helps: bool
    reason: str
    bytes_before: int
    bytes_after: int
    metric: str  # "accuracy" | "r2" | "agreement" (no target: agreement with the float model)
    score_before: float | None
    score_after: float | None
    agreement: float | None  # classification: share of labels unchanged by quantization
    max_abs_diff: float  # probabilities / outputs: quantized vs float ONNX
    quantized: ExportResult | None = None  # the int8 export when it helps

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("quantized")
        return d


def _ops(onnx_bytes: bytes) -> Counter:
    import onnx

    return Counter(n.op_type for n in onnx.load_from_string(onnx_bytes).graph.node)


def _score(result: ExportResult, out: dict, y: Any) -> float:
    import numpy as np

    if result.task == "classification":
        pred = np.asarray(out["label"]).ravel()
        return float((pred.astype(str) == np.asarray(y).astype(str)).mean())
    pred = np.asarray(out[result.outputs[0]], dtype=float).ravel()
    yt = np.asarray(y, dtype=float)
    ss = float(((yt - yt.mean()) ** 2).sum())
    return float(1 - ((yt - pred) ** 2).sum() / ss) if ss > 0 else float("nan")


def quantize_export(result: ExportResult, frame: pd.DataFrame, y: Any = None) -> QuantizeReport:
    """Quantize ``result`` dynamically (int8 weights) and compare it with the float model on ``frame``.

    Args:
        result: the float export.
        frame: rows to evaluate on (the ONNX inputs' columns).
        y: true targets for ``frame`` (optional); without them the metric is agreement with the float model.

    Raises:
        ExportError: no rows to evaluate on.
    """
    import numpy as np
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if frame is None or len(frame) == 0:
        raise ExportError("Quantization needs rows to evaluate on; pick a dataset version with rows.")
    before_ops = _ops(result.onnx_bytes)
    with tempfile.TemporaryDirectory(prefix="wb-quant-") as tmp:
        src, dst = Path(tmp) / "model.onnx", Path(tmp) / "model.int8.onnx"
        src.write_bytes(result.onnx_bytes)
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantizer warns on the root logger about pre-processing
        try:
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
            q_bytes = dst.read_bytes()
        except Exception as err:  # noqa: BLE001 - the quantizer raises anything; report, do not fail the export
            first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
            return QuantizeReport(False, f"Dynamic quantization failed on this graph ({first}).",
                                  result.size_bytes, result.size_bytes, "agreement", None, None, None, 0.0)
        finally:
            root.setLevel(level)
    quant = dataclasses.replace(result, onnx_bytes=q_bytes, notes=(*result.notes, "int8 dynamic quantization"))
    after_ops = _ops(q_bytes)
    touched = sum(after_ops[o] for o in QUANTIZED_OPS)
    out_f = run_onnx(result, frame, session(result))
    out_q = run_onnx(quant, frame, session(quant))
    main = "probabilities" if result.task == "classification" else result.outputs[0]
    max_diff = float(np.abs(np.asarray(out_f[main], dtype=float) - np.asarray(out_q[main], dtype=float)).max())
    agreement = None
    if result.task == "classification":
        agreement = float((np.asarray(out_f["label"]).astype(str) == np.asarray(out_q["label"]).astype(str)).mean())
    if y is not None:
        metric = "accuracy" if result.task == "classification" else "r2"
        before, after = _score(result, out_f, y), _score(quant, out_q, y)
    else:
        metric, before, after = "agreement", 1.0, agreement if agreement is not None else None
    gain = 1 - len(q_bytes) / max(1, result.size_bytes)
    if touched == 0:
        kinds = ", ".join(sorted(o for o in before_ops if o not in ("Cast", "Identity", "Concat", "Reshape")))[:160]
        helps, reason = False, (f"Does not help: the graph has no MatMul/Gemm weights to quantize "
                                f"(it is made of {kinds}); size {result.size_bytes:,} → {len(q_bytes):,} bytes.")
    elif gain < MIN_GAIN:
        helps, reason = False, (f"Does not help: {touched} quantized nodes but only {gain:.1%} smaller "
                                f"({result.size_bytes:,} → {len(q_bytes):,} bytes).")
    else:
        helps, reason = True, (f"{gain:.0%} smaller ({result.size_bytes:,} → {len(q_bytes):,} bytes); "
                               f"largest output change {max_diff:.2e}.")
    return QuantizeReport(helps, reason, result.size_bytes, len(q_bytes), metric, before, after, agreement,
                          max_diff, quant if helps else None)
