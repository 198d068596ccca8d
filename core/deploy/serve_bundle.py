#!/usr/bin/env python3
"""Serve an exported workbench model over HTTP — standard library, numpy and onnxruntime only.

No pickle anywhere: the model is ``model.onnx`` and the contract is ``schema.json``.

    python serve.py --port 8080            # then:
    curl -s localhost:8080/predict -d '{"rows": [{"bill_length_mm": 39.1, "island": "Torgersen"}]}'

``POST /predict`` (or ``/``) with ``{"rows": [{column: value, ...}, ...]}`` answers
``{"predictions": [...], "probabilities": [[...]], "classes": [...]}`` (probabilities only
for classifiers). A missing key or ``null`` is a missing value. ``GET /health`` and
``GET /schema`` describe the service. Bad requests get status 400 and ``{"error": "..."}``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_ROWS = 10_000
MAX_BODY = 50 * 1024 * 1024


class BadRequest(ValueError):
    """A request the client can fix."""


class Model:
    def __init__(self, model_path: str, schema_path: str) -> None:
        with open(schema_path, encoding="utf-8") as fh:
            self.schema = json.load(fh)
        self.session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
        self.inputs = [(i["name"], i.get("tensor", i["type"])) for i in self.schema["inputs"]]
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.task = self.schema["task"]

    def feeds(self, rows: object) -> dict:
        if not isinstance(rows, list) or not rows:
            raise BadRequest('"rows" must be a non-empty list of objects, e.g. {"rows": [{"col": 1.5}]}.')
        if len(rows) > MAX_ROWS:
            raise BadRequest(f"At most {MAX_ROWS} rows per request. Got {len(rows)}.")
        for n, row in enumerate(rows):
            if not isinstance(row, dict):
                raise BadRequest(f"Row {n} must be an object of column: value. Got {type(row).__name__}.")
        feeds = {}
        for name, kind in self.inputs:
            values = [row.get(name) for row in rows]
            if kind in ("double", "float"):
                out = []
                for n, v in enumerate(values):
                    if v is None:
                        out.append(math.nan)
                    elif isinstance(v, bool) or not isinstance(v, (int, float, str)):
                        raise BadRequest(f"Column {name!r} of row {n} must be a number or null. Got {v!r}.")
                    else:
                        try:
                            out.append(float(v))
                        except ValueError:
                            raise BadRequest(f"Column {name!r} of row {n} must be a number or null. Got {v!r}.") from None
                feeds[name] = np.array(out, dtype=np.float64 if kind == "double" else np.float32).reshape(-1, 1)
            else:
                feeds[name] = np.array(["" if v is None else str(v) for v in values], dtype=object).reshape(-1, 1)
        return feeds

    def predict(self, rows: object) -> dict:
        result = dict(zip(self.outputs, self.session.run(None, self.feeds(rows))))
        if self.task == "classification":
            return {"predictions": np.asarray(result["label"]).ravel().tolist(),
                    "probabilities": np.asarray(result["probabilities"], dtype=float).tolist(),
                    "classes": self.schema.get("classes", [])}
        return {"predictions": np.asarray(result[self.outputs[0]], dtype=float).ravel().tolist()}


def make_handler(model: Model) -> type:
    class Handler(BaseHTTPRequestHandler):
        server_version = "workbench-onnx/1"

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            if self.path == "/health":
                self._send(200, {"status": "ok"})
            elif self.path == "/schema":
                self._send(200, model.schema)
            else:
                self._send(404, {"error": "Use POST /predict, GET /health or GET /schema."})

        def do_POST(self) -> None:  # noqa: N802
            if self.path not in ("/", "/predict"):
                self._send(404, {"error": "Use POST /predict."})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length <= 0 or length > MAX_BODY:
                    raise BadRequest(f"The body must be JSON of at most {MAX_BODY} bytes.")
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError as err:
                    raise BadRequest(f"The body is not valid JSON ({err}).") from None
                if not isinstance(body, dict) or "rows" not in body:
                    raise BadRequest('The body must be an object with a "rows" list.')
                self._send(200, model.predict(body["rows"]))
            except BadRequest as err:
                self._send(400, {"error": str(err)})
            except Exception as err:  # noqa: BLE001 - a service answers, it does not die
                self._send(500, {"error": f"{type(err).__name__}: {err}"})

        def log_message(self, fmt: str, *args: object) -> None:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    return Handler


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve model.onnx over HTTP (JSON in, JSON out).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--model", default=os.path.join(HERE, "model.onnx"))
    parser.add_argument("--schema", default=os.path.join(HERE, "schema.json"))
    args = parser.parse_args(argv)
    model = Model(args.model, args.schema)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(model))
    print(f"serving {args.model} on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
