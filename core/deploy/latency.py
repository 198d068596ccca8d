"""Latency and throughput, scikit-learn against onnxruntime, measured in one interleaved run.

Both runtimes run single-threaded (threadpoolctl for scikit-learn's OpenMP / BLAS,
``intra_op_num_threads=1`` for onnxruntime): on a shared 2-core machine spinning worker
threads make p99 meaningless, and a serving process usually runs one model per core.
Single-row calls alternate between the two runtimes (sklearn, onnx, sklearn, onnx …) so
that a noisy, shared machine slows both equally and the ratio holds. Each single-row ONNX
call includes turning the one-row DataFrame into input tensors, as a service would;
each scikit-learn call is ``predict_proba`` (classification) or ``predict`` on the same row.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.deploy.export import ExportResult, session, to_feeds
from core.deploy.parity import sklearn_input
from core.errors import ExportError
from core.models import FeatureSpec

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass(frozen=True)
class LatencyReport:
    """Milliseconds per call and bytes on disk."""

    calls: int
    batch_rows: int
    sklearn_p50_ms: float
    sklearn_p99_ms: float
    onnx_p50_ms: float
    onnx_p99_ms: float
    sklearn_batch_ms: float
    onnx_batch_ms: float
    sklearn_bytes: int  # skops-serialised pipeline (what MLflow stores)
    onnx_bytes: int

    @property
    def single_speedup(self) -> float:
        return self.sklearn_p50_ms / self.onnx_p50_ms if self.onnx_p50_ms else float("nan")

    @property
    def batch_speedup(self) -> float:
        return self.sklearn_batch_ms / self.onnx_batch_ms if self.onnx_batch_ms else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "single_speedup": self.single_speedup, "batch_speedup": self.batch_speedup}

    def rows(self) -> list[dict[str, Any]]:
        """Table rows for display: one per runtime."""
        return [
            {"runtime": "scikit-learn", "p50 ms (1 row)": self.sklearn_p50_ms, "p99 ms (1 row)": self.sklearn_p99_ms,
             f"{self.batch_rows:,} rows ms": self.sklearn_batch_ms, "size bytes": self.sklearn_bytes},
            {"runtime": "onnxruntime", "p50 ms (1 row)": self.onnx_p50_ms, "p99 ms (1 row)": self.onnx_p99_ms,
             f"{self.batch_rows:,} rows ms": self.onnx_batch_ms, "size bytes": self.onnx_bytes},
        ]


def sklearn_size(model: Any) -> int:
    """Bytes of the model in skops format (the safe format the workbench stores)."""
    import skops.io as sio

    return len(sio.dumps(model))


def _pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values) * 1000.0, q))


def measure_latency(model: Any, result: ExportResult, frame: pd.DataFrame, spec: FeatureSpec, *,
                    calls: int = 300, batch_rows: int = 10_000, onnx_frame: pd.DataFrame | None = None,
                    warmup: int = 10) -> LatencyReport:
    """Time single-row calls (p50 / p99 over ``calls``) and one ``batch_rows`` batch for both runtimes.

    Args:
        model: the scikit-learn pipeline.
        result: its ONNX export.
        frame: rows to sample from (the model's feature columns); resampled to ``batch_rows``.
        spec: the model's feature columns.
        onnx_frame: the ONNX inputs for the same rows when they differ (recipe steps in the graph).
        calls: single-row calls per runtime (≥ 10).
        batch_rows: rows in the batch measurement (≥ 1).

    Raises:
        ExportError: bad counts or no rows.
    """

    if not isinstance(calls, int) or not 10 <= calls <= 100_000:
        raise ExportError(f"The 'calls' parameter of measure_latency must be an int in [10, 100000]. Got {calls!r} instead.")
    if not isinstance(batch_rows, int) or not 1 <= batch_rows <= 1_000_000:
        raise ExportError(f"The 'batch_rows' parameter must be an int in [1, 1000000]. Got {batch_rows!r} instead.")
    if frame is None or len(frame) == 0:
        raise ExportError("Latency needs at least one row; pick a dataset version with rows.")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _measure(model, result, frame, spec, calls, batch_rows, onnx_frame, warmup)


def _measure(model: Any, result: ExportResult, frame: pd.DataFrame, spec: FeatureSpec, calls: int, batch_rows: int,
             onnx_frame: pd.DataFrame | None, warmup: int) -> LatencyReport:
    import numpy as np

    X = sklearn_input(frame, spec).reset_index(drop=True)
    onnx_in = (onnx_frame if onnx_frame is not None else frame).reset_index(drop=True)
    sess = session(result, threads=1)
    predict = model.predict_proba if result.task == "classification" else model.predict
    n = len(X)
    rng = np.random.default_rng(0)
    picks = rng.integers(0, n, size=calls + warmup)
    x_rows = [X.iloc[[i]] for i in picks]
    o_rows = [onnx_in.iloc[[i]] for i in picks]
    t_skl: list[float] = []
    t_onx: list[float] = []
    for k in range(calls + warmup):
        t0 = time.perf_counter()
        predict(x_rows[k])
        t1 = time.perf_counter()
        sess.run(None, to_feeds(o_rows[k], result.inputs))
        t2 = time.perf_counter()
        if k >= warmup:
            t_skl.append(t1 - t0)
            t_onx.append(t2 - t1)
    idx = rng.integers(0, n, size=batch_rows)
    xb, ob = X.iloc[idx], onnx_in.iloc[idx]
    t0 = time.perf_counter()
    predict(xb)
    t1 = time.perf_counter()
    sess.run(None, to_feeds(ob, result.inputs))
    t2 = time.perf_counter()
    return LatencyReport(
        calls=calls, batch_rows=batch_rows,
        sklearn_p50_ms=_pct(t_skl, 50), sklearn_p99_ms=_pct(t_skl, 99),
        onnx_p50_ms=_pct(t_onx, 50), onnx_p99_ms=_pct(t_onx, 99),
        sklearn_batch_ms=(t1 - t0) * 1000, onnx_batch_ms=(t2 - t1) * 1000,
        sklearn_bytes=sklearn_size(model), onnx_bytes=result.size_bytes,
    )


def serving_baseline(model_path: Any, schema: dict, body: dict, calls: int = 300) -> dict[str, Any]:
    """p50 / p99 of the bundle server's in-process path (JSON text → tensors → onnxruntime) on one request.

    Measured at export on the bundle's own ``serve.py`` code, single-threaded, so the served
    ``latency_ms`` in the prediction log (the same path, inside the server) has a like-for-like baseline.
    """
    import importlib.util
    import json
    import tempfile
    from datetime import datetime, timezone
    from pathlib import Path

    import numpy as np

    spec = importlib.util.spec_from_file_location("_wb_serve_bundle", Path(__file__).with_name("serve_bundle.py"))
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory(prefix="wb-baseline-") as tmp:
        schema_path = Path(tmp) / "schema.json"
        schema_path.write_text(json.dumps(schema, default=str))
        model = serve.Model(str(model_path), str(schema_path), threads=1)
    raw = json.dumps(body).encode()
    times = []
    for k in range(calls + 20):
        t0 = time.perf_counter()
        model.predict(serve.parse_json(raw))
        if k >= 20:  # the first calls pay for onnxruntime's lazy initialisation
            times.append(time.perf_counter() - t0)
    ms = np.asarray(times) * 1000.0
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)), "calls": calls,
            "rows": 1, "path": "in-process: JSON → tensors → onnxruntime, 1 thread",
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
