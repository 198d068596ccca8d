#!/usr/bin/env python3
"""Serve an exported workbench model over HTTP: Starlette on uvicorn, onnxruntime, numpy — no pickle.

The model is ``model.onnx`` and the contract is ``schema.json`` (both next to this file)::

    pip install -r requirements.txt
    python serve.py --port 8080
    curl -s localhost:8080/predict -H 'Content-Type: application/json' -d @example.json

Why this stack: uvicorn is a production ASGI server (graceful shutdown on SIGTERM, bounded
connections, keep-alive timeouts, httptools/uvloop when installed). Starlette rather than
FastAPI: the contract below is checked by hand in plain Python, so FastAPI's pydantic layer
would only add dependencies and a validation cost on every request. Inputs become numpy
tensors without pandas: a one-row request costs tens of microseconds before onnxruntime.

Endpoints:

``POST /predict`` (or ``/``)  ``{"rows": [{column: value, ...}, ...]}`` or ``{"columns": {column: [values]}}``;
    answers ``{"predictions": [...], "probabilities": [[...]], "classes": [...], "request_id": "..."}``
    (probabilities for classifiers; the id is the client's ``X-Request-ID`` or a new one, also a header).
``GET /health``   the process answers.     ``GET /ready``   the model is loaded and warmed up (503 while stopping).
``GET /schema``   the contract.            ``GET /metrics`` Prometheus text: requests by status, latency,
    rows scored, predicted classes (or a prediction summary), missing-value share per feature.

The contract is strict, and every breach is a 4xx with ``{"error": "<one sentence>"}``, after which
the server keeps answering: every column of the schema must be present in every row, and no other;
numbers are JSON numbers (finite: ``NaN``, ``Infinity`` and ``1e999`` are refused); ``null`` is a
missing value (the model imputes it); text columns take strings (a number or boolean is converted
with ``str()``, as in training); cells are scalars (anything nested is refused). Limits: body size
(413), rows per request (400), the time a client may take to send its declared body (408).

Prediction log (on by default, ``serve_log.py``): every scored row — sampled with ``--log-sample``, the
folder capped at ``--log-max-mb`` — with its prediction, probability, latency and request id, as
rotating Parquet files in ``--log-dir``; buffered and written by a background thread, flushed at
graceful shutdown. A folder that cannot be written is said at start, and the server serves without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import sys
import time
import uuid

import numpy as np
import onnxruntime as ort
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_ROWS = 10_000
MAX_BODY = 16 * 1024 * 1024
READ_TIMEOUT_S = 10.0
MISSING_STRING = ""  # what the exported graph takes for a missing text cell
LATENCY_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
RESERVOIR = 1024  # recent regression predictions kept for the quantiles in /metrics
_NUMBER = (int, float)
_NUMERIC_CELLS = frozenset((int, float, type(None)))  # the cell types the fast path takes as is
_TEXT_CELLS = frozenset((str, type(None)))


class BadRequest(ValueError):
    """A request the client can fix; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadRequest(f"The number {text[:30]} is not finite; send a finite number, or null for a missing value.")
    return value


def _no_constant(text: str) -> float:
    raise BadRequest(f"{text} is not a number the model takes; send a finite number, or null for a missing value.")


def parse_json(raw: bytes) -> object:
    """The body as JSON with non-finite numbers refused (``NaN``, ``Infinity``, overflowing literals)."""
    try:
        return json.loads(raw, parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError:
        raise BadRequest("The JSON is nested too deeply; cells must be numbers, strings or null.") from None
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8 text; send JSON.") from None
    except ValueError as err:
        if isinstance(err, BadRequest):
            raise
        raise BadRequest(f"The body is not valid JSON ({str(err)[:120]}).") from None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _names(names: object, limit: int = 8) -> str:
    items = sorted(map(str, names))
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(repr(n) for n in items[:limit]) + more


class Model:
    """The ONNX sessions and the input contract; :meth:`predict` is the whole in-process serving path.

    Two sessions of one model: ``threads`` intra-op threads for batches, one thread for one-row requests.
    """

    def __init__(self, model_path: str, schema_path: str, threads: int = 0, max_rows: int = MAX_ROWS) -> None:
        with open(schema_path, encoding="utf-8") as fh:
            self.schema = json.load(fh)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-wait between requests
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        if threads == 1:
            self.single = self.session
        else:  # one-row requests on their own 1-thread session: a thread pool only costs them wake-ups
            one = ort.SessionOptions()
            one.intra_op_num_threads = one.inter_op_num_threads = 1
            one.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.single = ort.InferenceSession(model_path, one, providers=["CPUExecutionProvider"])
        self.inputs = [(i["name"], i.get("tensor", i["type"]), bool(i.get("nullable", True)))
                       for i in self.schema["inputs"]]
        self.names = frozenset(name for name, _, _ in self.inputs)
        self.outputs = [o.name for o in self.session.get_outputs()]
        # The bound C++ run skips the Python wrapper's per-call input-name check (the contract checked them).
        self._run_many = getattr(self.session, "_sess", self.session).run
        self._run_one = getattr(self.single, "_sess", self.single).run
        self._blocks = [(np.float32 if kind == "float" else np.float64,
                         [name for name, k, _ in self.inputs if k == kind],
                         [nullable for name, k, nullable in self.inputs if k == kind])
                        for kind in ("double", "float") if any(k == kind for _, k, _ in self.inputs)]
        self._texts = [(name, nullable) for name, kind, nullable in self.inputs if kind == "string"]
        self.task = self.schema["task"]
        self.classes = list(self.schema.get("classes", []))
        self.max_rows = max_rows

    # -- input contract -------------------------------------------------------------------------
    def _rows(self, rows: object) -> tuple[dict[str, list], int]:
        if not isinstance(rows, list) or not rows:
            raise BadRequest('"rows" must be a non-empty list of objects, e.g. {"rows": [{"column": 1.5}]}.')
        if len(rows) > self.max_rows:
            raise BadRequest(f"At most {self.max_rows} rows per request. Got {len(rows)}; split the batch.")
        names = self.names
        for n, row in enumerate(rows):
            if type(row) is not dict:
                raise BadRequest(f"Row {n} must be an object of column: value. Got {type(row).__name__}.")
            if row.keys() != names:
                self._columns_error(row.keys(), f" (row {n})")
        return {name: [row[name] for row in rows] for name in names}, len(rows)

    def _columns(self, columns: object) -> tuple[dict[str, list], int]:
        if not isinstance(columns, dict) or not columns:
            raise BadRequest('"columns" must be an object of column: [values], e.g. {"columns": {"column": [1.5]}}.')
        if columns.keys() != self.names:
            self._columns_error(columns.keys(), "")
        lengths = {name: len(v) if isinstance(v, list) else -1 for name, v in columns.items()}
        not_lists = [name for name, n in lengths.items() if n < 0]
        if not_lists:
            raise BadRequest(f"Each column must be a list of values; these are not: {_names(not_lists)}.")
        sizes = set(lengths.values())
        if len(sizes) > 1:
            raise BadRequest(f"All columns must have the same number of values. Got lengths {sorted(sizes)[:6]}.")
        n = sizes.pop()
        if n == 0:
            raise BadRequest("The columns hold no values; send at least one row.")
        if n > self.max_rows:
            raise BadRequest(f"At most {self.max_rows} rows per request. Got {n}; split the batch.")
        return columns, n

    def _columns_error(self, keys: object, where: str) -> None:
        got = set(keys)  # type: ignore[call-overload]
        unknown, missing = got - self.names, self.names - got
        parts = []
        if unknown:
            parts.append(f"unknown columns {_names(unknown)}")
        if missing:
            parts.append(f"missing columns {_names(missing)} (send null for a missing value)")
        raise BadRequest(f"The request does not fit this model{where}: {'; '.join(parts)}. "
                         f"The model reads: {_names(self.names, 30)} (GET /schema).")

    def tensors(self, body: object) -> tuple[dict[str, np.ndarray], int, dict[str, int]]:
        """The ONNX feeds for a parsed request body, the row count and the missing cells per column.

        Raises:
            BadRequest: the body breaks the contract (the message names the columns).
        """
        values, n = self.values(body)
        feeds, missing = self.feeds(values)
        return feeds, n, missing

    def values(self, body: object) -> tuple[dict[str, list], int]:
        """The request's cells as one list per column (raw, as sent) and the row count."""
        if type(body) is not dict or len(body) != 1 or not ({"rows", "columns"} & body.keys()):
            raise BadRequest('The body must be an object with one key, "rows" (a list of objects) or "columns" '
                             '(an object of lists).')
        return self._rows(body["rows"]) if "rows" in body else self._columns(body["columns"])

    def feeds(self, values: dict[str, list]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        """ONNX feeds and missing cells per column for :meth:`values`' lists (BadRequest for a wrong value)."""
        return self._whole_columns(values) or self._cell_by_cell(values)

    def _whole_columns(self, values: dict[str, list]) -> tuple[dict[str, np.ndarray], dict[str, int]] | None:
        """The fast path: each block of numeric columns checked and converted at once with numpy.

        None when any cell needs a closer look (a wrong type, a non-finite or overflowing number, a
        number in a text column): :meth:`_cell_by_cell` then converts or names the offending cells.
        """
        feeds: dict[str, np.ndarray] = {}
        missing: dict[str, int] = dict.fromkeys(self.names, 0)
        for dtype, names, nullable in self._blocks:
            lists = [values[name] for name in names]
            if not all(set(map(type, cells)) <= _NUMERIC_CELLS for cells in lists):
                return None
            try:
                with np.errstate(over="ignore"):
                    block = np.array(lists, dtype=dtype)  # None -> NaN
            except (OverflowError, ValueError, TypeError):
                return None
            finite = np.isfinite(block)
            if not finite.all():  # only None may be non-finite: a NaN or inf sent as a number is refused
                for i in np.flatnonzero(~finite.all(axis=1)).tolist():
                    cells, where = lists[i], np.flatnonzero(~finite[i]).tolist()
                    if not nullable[i] or any(cells[j] is not None for j in where):
                        return None
                    missing[names[i]] = len(where)
            feeds.update(zip(names, block.reshape(len(names), -1, 1)))  # views: one [N, 1] row per column
        for name, nullable in self._texts:
            cells = values[name]
            kinds = set(map(type, cells))
            if kinds != {str}:
                if not (nullable and kinds <= _TEXT_CELLS):
                    return None
                missing[name] = gaps = cells.count(None)
                cells = [MISSING_STRING if v is None else v for v in cells] if gaps else cells
            feeds[name] = np.array(cells, dtype=object).reshape(-1, 1)
        return feeds, missing

    def _cell_by_cell(self, values: dict[str, list]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        feeds: dict[str, np.ndarray] = {}
        missing: dict[str, int] = {}
        problems: list[str] = []
        for name, kind, nullable in self.inputs:
            cells = values[name]
            gaps = 0
            if kind == "string":
                out = []
                for i, v in enumerate(cells):
                    t = type(v)
                    if t is str:
                        out.append(v)
                    elif v is None and nullable:
                        out.append(MISSING_STRING)
                        gaps += 1
                    elif t in (int, float, bool):
                        out.append(str(v))
                    else:
                        problems.append(self._bad(name, i, v, "a string" + (" or null" if nullable else "")))
                        break
                else:
                    feeds[name] = np.array(out, dtype=object).reshape(-1, 1)
            else:
                nums = []
                for i, v in enumerate(cells):
                    t = type(v)
                    if t is float or t is int:
                        nums.append(v)
                    elif v is None and nullable:
                        nums.append(math.nan)
                        gaps += 1
                    else:
                        problems.append(self._bad(name, i, v, "a number" + (" or null" if nullable else "")))
                        break
                else:
                    try:
                        with np.errstate(over="ignore"):
                            arr = np.array(nums, dtype=np.float32 if kind == "float" else np.float64).reshape(-1, 1)
                    except OverflowError:  # an int beyond float64 (refused even when the column has a gap)
                        arr = np.full((len(nums), 1), math.inf)
                        gaps = -1
                    if int(np.count_nonzero(~np.isfinite(arr))) != gaps:
                        problems.append(f"column {name!r} has a number too large for the model ({kind})")
                    feeds[name] = arr
            missing[name] = gaps
        if problems:
            raise BadRequest(f"Wrong values: {'; '.join(problems[:6])}.")
        return feeds, missing

    @staticmethod
    def _bad(name: str, row: int, value: object, wanted: str) -> str:
        if isinstance(value, (list, dict)):
            return f"column {name!r} must be {wanted}, not a nested {type(value).__name__} (row {row})"
        return f"column {name!r} must be {wanted}, got {_shown(value)} (row {row})"

    # -- scoring --------------------------------------------------------------------------------
    def run(self, feeds: dict[str, np.ndarray]) -> dict:
        rows = len(next(iter(feeds.values())))
        result = dict(zip(self.outputs, (self._run_one if rows == 1 else self._run_many)(self.outputs, feeds, None)))
        if self.task == "classification":
            return {"predictions": np.asarray(result["label"]).ravel().tolist(),
                    "probabilities": np.asarray(result["probabilities"]).tolist(),  # float32 -> float: exact
                    "classes": self.classes}
        return {"predictions": np.asarray(result[self.outputs[0]], dtype=float).ravel().tolist()}

    def predict(self, body: object) -> dict:
        """Parsed JSON body in, answer out (the in-process path; :class:`BadRequest` for a broken contract)."""
        feeds, _, _ = self.tensors(body)
        return self.run(feeds)

    def warm_up(self) -> None:
        """One all-missing row through the graph, so the first request does not pay for initialisation."""
        row = {name: None for name, _, nullable in self.inputs}
        if all(nullable for _, _, nullable in self.inputs):
            self.predict({"rows": [row]})
            self.predict({"rows": [row, row]})  # the batch session too


class Metrics:
    """The Prometheus series of one server (its own registry: nothing global)."""

    def __init__(self, model: Model) -> None:
        self.registry = reg = CollectorRegistry()
        try:
            from prometheus_client import ProcessCollector

            ProcessCollector(registry=reg)  # memory and CPU of the served model (resource drift)
        except Exception:  # noqa: BLE001 - not every platform has /proc
            pass
        self.requests = Counter("workbench_requests", "HTTP requests by endpoint and status.",
                                ("endpoint", "status"), registry=reg)
        self.latency = Histogram("workbench_request_duration_seconds", "Time to answer a request.", ("endpoint",),
                                 buckets=LATENCY_BUCKETS, registry=reg)
        self.rows = Counter("workbench_rows_scored", "Rows scored.", registry=reg)
        self.missing = Counter("workbench_missing_values", "Missing (null) cells received, by feature.", ("feature",),
                               registry=reg)
        share = Gauge("workbench_missing_share", "Share of scored rows with this feature missing.", ("feature",),
                      registry=reg)
        self._missing = {name: 0 for name, _, _ in model.inputs}
        self._rows = 0
        self._missing_children = {name: self.missing.labels(name) for name in self._missing}
        for name in self._missing:
            share.labels(name).set_function(lambda name=name: self._missing[name] / self._rows if self._rows else 0.0)
        self._latency = {e: self.latency.labels(e) for e in ("predict", "health", "ready", "schema", "metrics", "other")}
        self.task = model.task
        if model.task == "classification":
            self.classes = Counter("workbench_predicted_class", "Predictions by class.", ("class",), registry=reg)
            self._class_children: dict[str, object] = {}
        else:
            self.predictions = Counter("workbench_predictions", "Regression predictions made.", registry=reg)
            summary = Gauge("workbench_prediction", "Recent regression predictions (last "
                            f"{RESERVOIR}): quantiles, min, max and mean.", ("stat",), registry=reg)
            self._recent = np.full(RESERVOIR, np.nan)
            self._next = 0
            for q in (0.05, 0.25, 0.5, 0.75, 0.95):
                summary.labels(f"p{int(q * 100)}").set_function(lambda q=q: self._stat(np.nanquantile, q))
            summary.labels("min").set_function(lambda: self._stat(np.nanmin))
            summary.labels("max").set_function(lambda: self._stat(np.nanmax))
            summary.labels("mean").set_function(lambda: self._stat(np.nanmean))

    def _stat(self, fn, *args) -> float:  # noqa: ANN001
        if np.isnan(self._recent).all():
            return math.nan
        return float(fn(self._recent, *args))

    def answered(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self._latency.get(endpoint, self._latency["other"]).observe(seconds)

    def scored(self, n: int, missing: dict[str, int], answer: dict) -> None:
        self.rows.inc(n)
        self._rows += n
        for name, gaps in missing.items():
            if gaps:
                self._missing[name] += gaps
                self._missing_children[name].inc(gaps)
        preds = answer["predictions"]
        if self.task == "classification":
            counts: dict[str, int] = {}
            for p in preds:
                key = str(p)
                counts[key] = counts.get(key, 0) + 1
            for key, k in counts.items():
                child = self._class_children.get(key)
                if child is None:
                    child = self._class_children[key] = self.classes.labels(key)
                child.inc(k)  # type: ignore[attr-defined]
        else:
            self.predictions.inc(len(preds))
            tail = preds[-RESERVOIR:]
            idx = (self._next + np.arange(len(tail))) % RESERVOIR
            self._recent[idx] = tail
            self._next = int((self._next + len(tail)) % RESERVOIR)


async def read_body(request: Request, limit: int = MAX_BODY, timeout: float = READ_TIMEOUT_S) -> bytes:
    """The request body, within ``limit`` bytes and ``timeout`` seconds (a stalled client gets 408)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadRequest(f"The Content-Length header must be a number of bytes. Got {_shown(declared)}.")
        if int(declared) > limit:
            raise BadRequest(f"The body may be at most {limit:,} bytes. Content-Length says {int(declared):,}; "
                             "split the batch.", 413)
    chunks: list[bytes] = []
    size = 0

    async def collect() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BadRequest(f"The body may be at most {limit:,} bytes; split the batch.", 413)
            chunks.append(chunk)

    try:
        await asyncio.wait_for(collect(), timeout)
    except asyncio.TimeoutError:
        raise BadRequest(f"The body did not arrive within {timeout:g} s (fewer bytes than Content-Length "
                         "declared?).", 408) from None
    except ClientDisconnect:
        raise BadRequest("The client disconnected before the body arrived.") from None
    if not size:
        raise BadRequest('The body is empty; send JSON such as {"rows": [{"column": 1.5}]}.')
    return b"".join(chunks)


def _request_id(request: Request) -> str:
    """The client's ``X-Request-ID`` when it is a short printable token, else a fresh one."""
    given = request.headers.get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isprintable():
        return given
    return uuid.uuid4().hex


def make_app(model: Model, *, max_body: int = MAX_BODY, read_timeout: float = READ_TIMEOUT_S,
             log: object = None) -> Starlette:
    """The ASGI application serving ``model``; ``log`` (a ``serve_log.PredictionLog``) records scored rows."""
    metrics = Metrics(model)
    if log is not None:
        logged = Gauge("workbench_log_rows", "Rows written to the prediction log.", registry=metrics.registry)
        logged.set_function(lambda: log.logged)
        dropped = Gauge("workbench_log_dropped_rows", "Rows the prediction log dropped (buffer full or a failed "
                        "write).", registry=metrics.registry)
        dropped.set_function(lambda: log.dropped)
        files = Gauge("workbench_log_files", "Prediction-log files written.", registry=metrics.registry)
        files.set_function(lambda: log.files)
    state = {"ready": False}
    inline_rows = 64  # small batches run on the event loop (no thread hop); larger ones in a worker thread

    def answer(endpoint: str, started: float, status: int, body: dict) -> JSONResponse:
        metrics.answered(endpoint, status, time.perf_counter() - started)
        return JSONResponse(body, status_code=status)

    async def predict(request: Request) -> Response:
        started = time.perf_counter()
        rid = _request_id(request)
        try:
            body = parse_json(await read_body(request, max_body, read_timeout))
            values, n = model.values(body)
            feeds, missing = model.feeds(values)
            if n <= inline_rows:
                out = model.run(feeds)
            else:
                from starlette.concurrency import run_in_threadpool

                out = await run_in_threadpool(model.run, feeds)
        except BadRequest as err:
            return answer("predict", started, err.status, {"error": str(err)})
        except Exception as err:  # noqa: BLE001 - a service answers, it does not die
            return answer("predict", started, 500, {"error": f"The model failed on this request ({type(err).__name__}: "
                                                             f"{str(err)[:200]})."})
        metrics.scored(n, missing, out)
        if log is not None:  # appends references only: the writer thread builds the Parquet file
            log.add(rid, time.perf_counter() - started, values, n, out)
        out["request_id"] = rid
        response = answer("predict", started, 200, out)
        response.headers["X-Request-ID"] = rid
        return response

    async def health(request: Request) -> Response:
        return answer("health", time.perf_counter(), 200, {"status": "ok"})

    async def ready(request: Request) -> Response:
        ok = state["ready"]
        return answer("ready", time.perf_counter(), 200 if ok else 503, {"ready": ok})

    async def schema(request: Request) -> Response:
        return answer("schema", time.perf_counter(), 200, model.schema)

    async def prometheus(request: Request) -> Response:
        started = time.perf_counter()
        metrics.answered("metrics", 200, time.perf_counter() - started)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        where = "Use POST /predict, GET /health, /ready, /schema or /metrics."
        return answer("other", time.perf_counter(), status, {"error": f"{request.method} {request.url.path[:80]} "
                                                                     f"is not served here. {where}"})

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette):  # noqa: ANN202
        model.warm_up()
        if log is not None:
            log.start()
        state["ready"] = True
        yield
        state["ready"] = False  # stopping: load balancers see 503 while in-flight requests finish
        if log is not None:
            log.close()  # uvicorn runs this after in-flight requests finished: every answered row is written

    routes = [Route("/predict", predict, methods=["POST"]), Route("/", predict, methods=["POST"]),
              Route("/health", health, methods=["GET"]), Route("/ready", ready, methods=["GET"]),
              Route("/schema", schema, methods=["GET"]), Route("/metrics", prometheus, methods=["GET"])]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.state.metrics = metrics
    return app


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve model.onnx over HTTP (JSON in, JSON out).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--model", default=os.path.join(HERE, "model.onnx"))
    parser.add_argument("--schema", default=os.path.join(HERE, "schema.json"))
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads for batches (0: one "
                        "per core); one-row requests run on a 1-thread session")
    parser.add_argument("--max-rows", type=int, default=MAX_ROWS, help="rows per request")
    parser.add_argument("--max-body-mb", type=float, default=MAX_BODY / 2**20, help="request body limit")
    parser.add_argument("--read-timeout", type=float, default=READ_TIMEOUT_S, help="seconds to receive a body")
    parser.add_argument("--max-connections", type=int, default=256, help="concurrent connections (503 beyond)")
    parser.add_argument("--access-log", action="store_true", help="log every request (off: it costs latency)")
    parser.add_argument("--log-dir", default=os.path.join(HERE, "predictions"),
                        help="prediction log folder (rotating Parquet files; default ./predictions)")
    parser.add_argument("--no-log", action="store_true", help="do not keep a prediction log")
    parser.add_argument("--log-sample", type=float, default=1.0, help="share of scored rows logged (0-1]")
    parser.add_argument("--log-max-mb", type=float, default=512.0, help="size cap of the log folder (oldest files go)")
    parser.add_argument("--log-flush-rows", type=int, default=10_000, help="write a file when this many rows wait")
    parser.add_argument("--log-flush-seconds", type=float, default=60.0, help="... or when this much time passed")
    args = parser.parse_args(argv)
    if not 0 < args.log_sample <= 1:
        parser.error(f"--log-sample must be in (0, 1]. Got {args.log_sample:g}.")
    import uvicorn

    try:
        model = Model(args.model, args.schema, threads=args.threads, max_rows=args.max_rows)
    except (OSError, ValueError, KeyError) as err:
        sys.stderr.write(f"error: cannot load the model: {err}\n")
        return 2
    log, where = None, "no prediction log (--no-log)"
    if not args.no_log:
        from serve_log import PredictionLog  # shipped beside this file

        log, why = PredictionLog.open(args.log_dir, model.schema, sample=args.log_sample,
                                      max_bytes=int(args.log_max_mb * 2**20), flush_rows=args.log_flush_rows,
                                      flush_seconds=args.log_flush_seconds)
        if log is None:
            sys.stderr.write(f"warning: the prediction log folder {args.log_dir!r} cannot be written ({why}); "
                             "serving WITHOUT a prediction log. Give --log-dir a writable folder (or --no-log).\n")
            sys.stderr.flush()
            where = "prediction log OFF (folder not writable)"
        else:
            where = f"prediction log in {args.log_dir} (sample {args.log_sample:g})"
    app = make_app(model, max_body=int(args.max_body_mb * 2**20), read_timeout=args.read_timeout, log=log)
    config = uvicorn.Config(app, host=args.host, port=args.port, lifespan="on", log_level="warning",
                            access_log=args.access_log, server_header=False, timeout_keep_alive=5,
                            timeout_graceful_shutdown=10, limit_concurrency=args.max_connections)
    print(f"serving {os.path.basename(args.model)} on http://{args.host}:{args.port} (SIGTERM stops gracefully); "
          f"{where}", flush=True)
    # uvicorn finishes in-flight requests on SIGTERM / SIGINT, then re-raises the signal with the handler
    # found at start: this one, so a graceful stop exits with status 0 instead of "killed by SIGTERM".
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.Server(config).run()
    return 0


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    raise SystemExit(main())
