"""The bundle's server (serve.py: Starlette on uvicorn) as a real process on loopback.

Strict contract (every breach a 4xx with a JSON sentence naming the columns), limits, a read
timeout for a client that declares more than it sends, Prometheus metrics, graceful SIGTERM,
a bounded fuzz loop after which /health still answers, and the in-process path's latency.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.deploy.bundle import BUNDLE_FILES, CardFacts, build_bundle, dockerfile, model_card, serving_requirements
from core.deploy.export import export_onnx
from core.deploy.parity import check_parity
from core.models import build_pipeline, feature_spec, prepare_xy
from tests.integration.deploy_fixtures import FAST_PARAMS, small_frame, target_of


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bundle(folder: Path, task: str) -> Path:
    family = "hgb" if task == "classification" else "linear"
    frame = small_frame(task)
    target = target_of(task)
    spec = feature_spec(frame, target)
    X, y = prepare_xy(frame, target, spec)
    model = build_pipeline(family, task, spec, FAST_PARAMS.get(family, {})).fit(X, y)
    export = export_onnx(model, spec, task, X.head(), family=family)
    parity = check_parity(model, export, frame.head(40), spec)
    card = model_card(export, parity, None, CardFacts(model=f"toy-{task} v1", target=target))
    zpath = build_bundle(folder / "out", export, parity, card, {"source_model": f"toy-{task} v1"},
                         example={"length": 41.5, "depth": 17.2, "island": "Dream"})
    with zipfile.ZipFile(zpath) as zf:
        assert set(zf.namelist()) == set(BUNDLE_FILES)
        zf.extractall(folder / "bundle")
    return folder / "bundle"


class Server:
    def __init__(self, folder: Path, *extra: str) -> None:
        self.folder = folder
        self.port = _free_port()
        self.proc = subprocess.Popen([sys.executable, "serve.py", "--port", str(self.port), *extra], cwd=folder,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while True:  # wait for the state "ready answers 200", not for a fixed time
            assert self.proc.poll() is None, self.proc.stdout.read() if self.proc.stdout else ""
            try:
                if self.get("/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.05)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 10) -> tuple[int, bytes, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read(), r.getheader("Content-Type", "")
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, object]:
        status, data, ctype = self.request("GET", path, timeout=2)
        return status, json.loads(data) if "json" in ctype else data.decode()

    def post(self, body: object, raw: bytes | None = None) -> tuple[int, dict]:
        data = raw if raw is not None else json.dumps(body).encode()
        status, out, _ = self.request("POST", "/predict", data, {"Content-Type": "application/json"})
        return status, json.loads(out)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bundles")
    return {task: _bundle(root / task, task) for task in ("classification", "regression")}


@pytest.fixture(scope="module")
def server(bundles: dict[str, Path]) -> Iterator[Server]:
    srv = Server(bundles["classification"])
    yield srv
    srv.stop()


ROW = {"length": 41.5, "depth": 17.2, "island": "Dream"}


def test_rows_and_columns_give_the_same_answer(server: Server) -> None:
    status, by_rows = server.post({"rows": [ROW, {**ROW, "length": None, "island": None}]})
    assert status == 200, by_rows
    status, by_cols = server.post({"columns": {"length": [41.5, None], "depth": [17.2, 17.2], "island": ["Dream", None]}})
    assert by_rows.pop("request_id") != by_cols.pop("request_id")  # each answer carries its own id (the log's key)
    assert status == 200 and by_cols == by_rows
    assert len(by_rows["predictions"]) == 2 and set(by_rows["predictions"]) <= set(by_rows["classes"])
    assert np.allclose(np.sum(by_rows["probabilities"], axis=1), 1, atol=1e-5)


BAD = [
    ({"rows": [{**ROW, "colour": "red"}]}, 400, ["unknown columns 'colour'"]),
    ({"rows": [{"length": 40.0}]}, 400, ["missing columns 'depth', 'island'"]),
    ({"rows": [{"bill": 1, "flipper": 2}]}, 400, ["unknown columns 'bill', 'flipper'", "missing columns"]),
    ({"rows": [{**ROW, "length": "long"}]}, 400, ["column 'length' must be a number or null, got 'long'"]),
    ({"rows": [{**ROW, "length": True}]}, 400, ["column 'length' must be a number"]),
    ({"rows": [{**ROW, "island": [1, 2]}]}, 400, ["column 'island' must be a string or null, not a nested list"]),
    ({"rows": [{**ROW, "depth": {"a": {"b": 1}}}]}, 400, ["column 'depth'", "nested dict"]),
    ({"rows": [{**ROW, "length": 10**400}]}, 400, ["column 'length' has a number too large"]),
    ({"rows": []}, 400, ['"rows" must be a non-empty list']),
    ({"rows": [1]}, 400, ["Row 0 must be an object"]),
    ({"rows": [ROW], "extra": 1}, 400, ["one key"]),
    ([ROW], 400, ["one key"]),
    ({"columns": {"length": [1.0], "depth": [1.0, 2.0], "island": ["a"]}}, 400, ["same number of values"]),
    ({"columns": {"length": 1.0, "depth": [1.0], "island": ["a"]}}, 400, ["must be a list", "'length'"]),
    ({"rows": [ROW] * 10_001}, 400, ["At most 10000 rows"]),
]


@pytest.mark.parametrize(("body", "status", "fragments"), BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_contract_breaches_are_400_naming_the_columns(server: Server, body, status, fragments) -> None:  # noqa: ANN001
    got, answer = server.post(body)
    assert got == status and set(answer) == {"error"}, answer
    for fragment in fragments:
        assert fragment in answer["error"]
    assert "\n" not in answer["error"]


@pytest.mark.parametrize("raw", [b'{"rows": [{"length": NaN, "depth": 1, "island": "a"}]}',
                                 b'{"rows": [{"length": Infinity, "depth": 1, "island": "a"}]}',
                                 b'{"rows": [{"length": -Infinity, "depth": 1, "island": "a"}]}',
                                 b'{"rows": [{"length": 1e999, "depth": 1, "island": "a"}]}',
                                 b'{"rows": [{"length": -1e999, "depth": 1, "island": "a"}]}'])
def test_non_finite_numbers_are_refused(server: Server, raw: bytes) -> None:
    status, answer = server.post(None, raw)
    assert status == 400 and ("not finite" in answer["error"] or "not a number" in answer["error"]), answer


def test_malformed_bodies_and_lengths(server: Server) -> None:
    for raw in (b"{", b"not json", b"\xff\xfe", b"[" * 100_000, b'{"rows": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
        status, answer = server.post(None, raw)
        assert status == 400 and answer["error"], (raw[:20], answer)
    status, data, _ = server.request("POST", "/predict", b"")
    assert status == 400 and "empty" in json.loads(data)["error"]
    status, data, _ = server.request("POST", "/predict", b"{}", {"Content-Length": "abc"})
    assert 400 <= status < 500  # refused by the HTTP parser (a plain 400) before the app sees it
    status, data, _ = server.request("POST", "/predict", b"{}", {"Content-Length": str(10**12)})
    assert status == 413 and "at most" in json.loads(data)["error"]
    big = json.dumps({"rows": [ROW] * 5000}).encode()
    small = Server(server.folder, "--max-body-mb", "0.1")
    try:
        status, data, _ = small.request("POST", "/predict", big, {"Content-Type": "application/json"})
        assert status == 413
    finally:
        assert small.stop() == 0
    for method, path in (("GET", "/predict"), ("GET", "/nope"), ("DELETE", "/schema")):
        status, data, ctype = server.request(method, path)
        assert status in (404, 405) and "json" in ctype and "POST /predict" in json.loads(data)["error"]
    assert server.get("/health") == (200, {"status": "ok"})


def test_a_client_that_sends_less_than_declared_gets_408_and_others_are_served(bundles: dict[str, Path]) -> None:
    srv = Server(bundles["classification"], "--read-timeout", "1")
    try:
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"rows\": [")
        assert srv.post({"rows": [ROW]})[0] == 200  # the stalled client holds no worker
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
        sock.close()
        assert reply.startswith(b"HTTP/1.1 408") and b"did not arrive within 1 s" in reply
        assert srv.get("/health")[0] == 200
    finally:
        assert srv.stop() == 0


def test_fuzz_every_malformed_request_gets_a_clean_4xx(server: Server) -> None:
    rng = random.Random(15)
    good = json.dumps({"rows": [ROW]})
    pieces = ['{', '}', '[', ']', '"rows"', ':', ',', 'null', 'NaN', '1e999', '-0', '"\\ud800"', 'true', '"length"',
              '"island"', '{"rows": [', '"columns"', '1' * 50, '\x00', 'é', '\\', '"']
    statuses: dict[int, int] = {}
    for i in range(300):
        kind = i % 3
        if kind == 0:  # a valid body mutated at random positions
            chars = list(good)
            for _ in range(rng.randint(1, 6)):
                chars[rng.randrange(len(chars))] = rng.choice(pieces)
            raw = "".join(chars).encode("utf-8", "surrogatepass")
        elif kind == 1:  # random tokens
            raw = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))).encode("utf-8", "surrogatepass")
        else:  # random bytes
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
        status, data, ctype = server.request("POST", "/predict", raw, {"Content-Type": "application/json"})
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            continue  # a mutation can still be a valid request
        assert 400 <= status < 500, (raw[:80], status, data[:200])
        assert "json" in ctype and json.loads(data)["error"], (raw[:80], data[:200])
    assert statuses.get(400, 0) > 250
    assert server.get("/health") == (200, {"status": "ok"})
    assert server.post({"rows": [ROW]})[0] == 200


def _raw(port: int, data: bytes, *, half_close: bool = True) -> bytes:
    """Send raw bytes, half-close (unless told not to), read the whole answer (the server closes after a
    protocol error, or after answering a ``Connection: close`` request). A valid request is not half-closed:
    uvicorn may take the early end of input for a client that went away and drop its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "0x10", "12, 13", " ", "99999999999999999999999"])
def test_bad_content_length_headers_are_a_clean_4xx(server: Server, length: str) -> None:
    body = json.dumps({"rows": [ROW]}).encode()
    reply = _raw(server.port, b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {length}\r\n\r\n".encode() + body)
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500, reply[:200]
    assert server.get("/health") == (200, {"status": "ok"})


def test_chunked_bodies_are_bounded_and_bad_chunking_is_refused(server: Server) -> None:
    body = json.dumps({"rows": [ROW]}).encode()
    ok = _raw(server.port, b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close"
              b"\r\n\r\n" + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n", half_close=False)
    assert ok.startswith(b"HTTP/1.1 200"), ok[:200]
    bad = _raw(server.port, b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n")
    assert bad == b"" or 400 <= int(bad.split(b" ", 2)[1]) < 500, bad[:200]
    assert server.get("/health") == (200, {"status": "ok"})


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def test_metrics_count_requests_rows_classes_and_missing(server: Server) -> None:
    before = server.get("/metrics")[1]
    rows_before = _metric(before, "workbench_rows_scored_total")
    status, answer = server.post({"rows": [ROW, {**ROW, "length": None}, {**ROW, "length": None}]})
    assert status == 200
    server.post({"rows": [{"nope": 1}]})
    text = server.get("/metrics")[1]
    assert _metric(text, "workbench_rows_scored_total") == rows_before + 3
    assert _metric(text, 'workbench_requests_total{endpoint="predict",status="200"}') >= 1
    assert _metric(text, 'workbench_requests_total{endpoint="predict",status="400"}') >= 1
    assert _metric(text, 'workbench_request_duration_seconds_count{endpoint="predict"}') >= 2
    assert 'workbench_request_duration_seconds_bucket{endpoint="predict",le="0.001"}' in text
    for cls in set(answer["predictions"]):
        assert _metric(text, f'workbench_predicted_class_total{{class="{cls}"}}') >= 1
    assert _metric(text, 'workbench_missing_values_total{feature="length"}') >= 2
    assert 0 < _metric(text, 'workbench_missing_share{feature="length"}') <= 1
    assert _metric(text, 'workbench_missing_share{feature="depth"}') >= 0


def test_regression_server_reports_a_prediction_summary_and_stops_on_sigterm(bundles: dict[str, Path]) -> None:
    srv = Server(bundles["regression"])
    try:
        status, answer = srv.post({"columns": {"length": [40.0, 45.0, None], "depth": [17.0, 18.0, 16.0],
                                               "island": ["Dream", "Biscoe", "Torgersen"]}})
        assert status == 200 and len(answer["predictions"]) == 3 and "probabilities" not in answer
        text = srv.get("/metrics")[1]
        assert _metric(text, 'workbench_prediction{stat="p50"}') == pytest.approx(np.median(answer["predictions"]))
        assert _metric(text, 'workbench_prediction{stat="max"}') == pytest.approx(max(answer["predictions"]))
        assert _metric(text, "workbench_predictions_total") == 3
        assert srv.get("/schema")[1]["task"] == "regression"
    finally:
        assert srv.stop() == 0  # SIGTERM: uvicorn's graceful shutdown, exit status 0


def test_in_process_path_matches_the_server_without_pandas(bundles: dict[str, Path], server: Server) -> None:
    """The in-process path (what bench/bench_deploy.py times) answers like the server and never imports pandas."""
    folder = bundles["classification"]
    probe = ("import json, sys; sys.path.insert(0, '.'); import serve; "
             "m = serve.Model('model.onnx', 'schema.json', threads=1); "
             f"print(json.dumps(m.predict({{'rows': [{ROW!r}]}})['predictions'])); "
             "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    predictions, pandas_loaded = out.stdout.split("\n")[:2]
    assert json.loads(predictions) == server.post({"rows": [ROW]})[1]["predictions"]
    assert pandas_loaded == "False"


def test_bundle_files_dockerfile_and_readme(bundles: dict[str, Path]) -> None:
    folder = bundles["classification"]
    text = (folder / "Dockerfile").read_text()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert re.fullmatch(r"FROM python:3\.\d+-slim", lines[0])
    assert "RUN pip install --no-cache-dir -r requirements.txt" in lines
    assert lines.index("COPY requirements.txt ./") < lines.index("RUN pip install --no-cache-dir -r requirements.txt")
    user = [ln for ln in lines if ln.startswith("USER ")]
    assert user and user[-1] not in ("USER root", "USER 0")
    assert lines.index(user[-1]) > max(i for i, ln in enumerate(lines) if ln.startswith("RUN "))
    assert any(ln.startswith("HEALTHCHECK ") and "/ready" in ln for ln in lines)
    assert 'ENTRYPOINT ["python", "serve.py"]' in lines and "--host" in lines[-1] and "0.0.0.0" in lines[-1]
    for ln in lines:  # every instruction is a known one; exec-form JSON arrays parse
        assert ln.split()[0] in {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "EXPOSE", "HEALTHCHECK",
                                 "STOPSIGNAL", "ENTRYPOINT", "CMD", "VOLUME"}, ln
        if ln.startswith(("ENTRYPOINT", "CMD")):
            json.loads(ln.split(" ", 1)[1])
    copied = [w for ln in lines if ln.startswith("COPY ") for w in ln.split()[1:-1]]
    assert set(copied) <= set(BUNDLE_FILES) and {"serve.py", "model.onnx", "schema.json"} <= set(copied)
    probe = re.search(r'CMD \["python", "-c", "(.*)"\]$', [ln for ln in lines if ln.startswith("HEALTHCHECK")][0])
    assert probe is not None
    compile(probe.group(1), "healthcheck", "exec")
    reqs = (folder / "requirements.txt").read_text().splitlines()
    assert reqs == serving_requirements().splitlines() and all("==" in r for r in reqs)
    names = {r.split("==")[0].lower().replace("_", "-") for r in reqs}
    assert {"onnxruntime", "numpy", "starlette", "uvicorn", "prometheus-client", "anyio", "h11", "click", "pyarrow"} <= names
    assert "/srv/model/predictions" in text and "chown model /srv/model/predictions" in text  # the log is writable
    readme = (folder / "README.md").read_text()
    assert "pip install -r requirements.txt" in readme and "python serve.py --port 8080" in readme
    assert "docker build -t toy-classification-v1-server ." in readme and "docker run --rm -p 8080:8080" in readme
    example = json.loads(re.search(r"-d '(.*)'", readme).group(1))
    assert example == {"rows": [{"length": 41.5, "depth": 17.2, "island": "Dream"}]}
    with Server(folder) as srv:
        assert srv.post(example)[0] == 200  # the README's example request is accepted by the server


@pytest.mark.slow
def test_bundle_runs_from_a_fresh_virtualenv(bundles: dict[str, Path], tmp_path: Path) -> None:
    """The README's 'without Docker' commands, and what the Dockerfile runs, in a venv holding only requirements.txt."""
    folder = bundles["classification"]
    venv = tmp_path / "venv"
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", "requirements.txt"],
                         cwd=folder, capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr[-2000:]
    installed = time.monotonic() - t0
    port = _free_port()
    proc = subprocess.Popen([str(venv / "bin" / "python"), "serve.py", "--port", str(port)], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        srv = Server.__new__(Server)
        srv.folder, srv.port, srv.proc = folder, port, proc
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if srv.get("/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert srv.post({"rows": [ROW]})[0] == 200
        probe = re.search(r'CMD \["python", "-c", "(.*)"\]$',
                          [ln for ln in dockerfile(port).splitlines() if ln.startswith("HEALTHCHECK")][0]).group(1)
        hc = subprocess.run([str(venv / "bin" / "python"), "-c", probe], timeout=30)
        assert hc.returncode == 0  # the Dockerfile's HEALTHCHECK command, in the fresh venv
        print(f"\nfresh venv + pip install -r requirements.txt: {installed:.1f} s")
    finally:
        assert srv.stop() == 0
