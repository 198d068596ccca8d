"""Deploy benchmark: the bundle's serving path against scikit-learn, and its HTTP server against MLflow's.

    .venv/bin/python bench/bench_deploy.py            # 600 single-row calls, 2,000 training rows, 1,000 HTTP requests/client
    .venv/bin/python bench/bench_deploy.py --quick    # 200 calls, 1,000 rows, 300 requests/client

1. **In-process, one row** (per family and task): the bundle's own input code (``serve.py``'s
   ``Model.predict`` on a JSON-like ``{"rows": [row]}``) against the scikit-learn pipeline on the same
   row (``predict_proba`` / ``predict`` on a one-row DataFrame built from it). Single-threaded, calls
   interleaved so a busy machine slows both alike.
2. **Batch of 10,000 rows**: ``Model.predict`` on ``{"columns": ...}`` with 2 onnxruntime intra-op
   threads against scikit-learn's ``predict_proba`` / ``predict`` on the DataFrame (its own threading).
3. **HTTP on loopback** (one 100-tree forest): ``python serve.py`` (prediction log on, and off) against
   ``mlflow models serve --env-manager local`` on the same model (saved with skops), the same rows;
   one-row requests over keep-alive connections from 1 and 8 concurrent client threads: p50 / p99 and
   requests per second. The client threads share this machine's cores with the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core.deploy.bundle import CardFacts, build_bundle, model_card  # noqa: E402
from core.deploy.export import export_onnx  # noqa: E402
from core.deploy.parity import check_parity, sklearn_input  # noqa: E402
from core.models import FAMILIES, build_pipeline, feature_spec, prepare_xy  # noqa: E402

PARAMS = {"rf": {"n_estimators": 100}, "hgb": {"max_iter": 100}, "mlp": {"hidden_layer_sizes": 128}}


def table(n: int, task: str, seed: int = 0) -> pd.DataFrame:
    from sklearn.datasets import make_classification, make_regression

    if task == "classification":
        X, y = make_classification(n_samples=n, n_features=8, n_informative=5, n_classes=3, random_state=seed)
    else:
        X, y = make_regression(n_samples=n, n_features=8, n_informative=5, noise=5.0, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)])
    frame["region"] = np.random.default_rng(seed).choice(["north", "south", "east", "west"], n)
    frame.loc[::17, "x0"] = np.nan
    frame["target"] = y
    return frame


def json_rows(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as a client sends them: floats, strings, null for missing."""
    out = []
    for rec in frame[columns].to_dict("records"):
        out.append({k: (None if isinstance(v, float) and v != v else (v.item() if hasattr(v, "item") else v))
                    for k, v in rec.items()})
    return out


def serve_module(folder: Path):  # noqa: ANN201
    sys.path.insert(0, str(folder))
    try:
        import serve  # the bundle's own serve.py
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("serve", None)
    return serve


def make_bundle(model, spec, task: str, family: str, held: pd.DataFrame, folder: Path) -> Path:  # noqa: ANN001
    export = export_onnx(model, spec, task, family=family)
    parity = check_parity(model, export, held.head(200), spec)
    card = model_card(export, parity, None, CardFacts(model=f"bench {family}", target="target"))
    build_bundle(folder, export, parity, card, {"source_model": f"bench-{family}-{task}"})
    return folder


def in_process(model, spec, task: str, folder: Path, rows: list[dict], calls: int) -> tuple[float, float]:  # noqa: ANN001
    from threadpoolctl import threadpool_limits

    serve = serve_module(folder)
    m = serve.Model(str(folder / "model.onnx"), str(folder / "schema.json"), threads=1)
    predict = model.predict_proba if task == "classification" else model.predict
    t_on, t_sk = [], []
    # Side by side in alternating blocks of consecutive calls, as a server answers consecutive requests:
    # one sklearn/pandas call between two ONNX calls evicts the caches of the small ONNX path (measured
    # 0.12 ms per row interleaved call by call against ~0.03 ms in blocks), which says nothing of either.
    block = 20
    with threadpool_limits(limits=1):
        for start in range(0, calls + block, block):
            for k in range(start, start + block):
                row = rows[k % len(rows)]
                t0 = time.perf_counter()
                m.predict({"rows": [row]})
                if start:  # the first block of each side warms up
                    t_on.append(time.perf_counter() - t0)
            for k in range(start, start + block):
                row = rows[k % len(rows)]
                t0 = time.perf_counter()
                predict(sklearn_input(pd.DataFrame([row]), spec))
                if start:
                    t_sk.append(time.perf_counter() - t0)
    return float(np.median(t_sk) * 1e3), float(np.median(t_on) * 1e3)


def batch(model, spec, task: str, folder: Path, frame: pd.DataFrame, columns: list[str], n: int,  # noqa: ANN001
          repeat: int = 3) -> tuple[float, float, float]:
    """Best of ``repeat``: scikit-learn on the DataFrame, the server path from JSON lists (contract checks and
    tensors included), and ONNX Runtime alone on ready tensors (the model against the model)."""
    serve = serve_module(folder)
    m = serve.Model(str(folder / "model.onnx"), str(folder / "schema.json"), threads=2, max_rows=n)
    big = frame.sample(n, replace=True, random_state=0).reset_index(drop=True)
    body = {"columns": {c: [r[c] for r in json_rows(big, [c])] for c in columns}}
    X = sklearn_input(big, spec)
    predict = model.predict_proba if task == "classification" else model.predict
    feeds, _n, _missing = m.tensors(body)
    m.predict(body)
    predict(X.head(100))
    best = [float("inf")] * 3
    for _ in range(repeat):
        for i, call in enumerate((lambda: predict(X), lambda: m.predict(body),
                                  lambda: m.session.run(m.outputs, feeds))):
            t0 = time.perf_counter()
            call()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best[0] * 1e3, best[1] * 1e3, best[2] * 1e3


# -- HTTP ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read() if proc.stdout else ''}"[-2000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def load(port: int, path: str, bodies: list[bytes], clients: int, per_client: int) -> tuple[float, float, float, int]:
    """p50 ms, p99 ms, requests/s (answered ones) of one-row POSTs from ``clients`` keep-alive connections, and
    how many requests failed or timed out (30 s; a client stops at its first failure)."""
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    start = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        start.wait()
        for k in range(per_client):
            body = bodies[(i * per_client + k) % len(bodies)]
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                r = conn.getresponse()
                r.read()
            except OSError as err:  # a timeout counts against the server; the rest of this client's requests too
                errors.extend([type(err).__name__] * (per_client - k))
                break
            lat[i].append(time.perf_counter() - t0)
            if r.status != 200:
                errors.append(str(r.status))
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    allv = np.concatenate([np.asarray(v) for v in lat]) * 1e3
    return float(np.percentile(allv, 50)), float(np.percentile(allv, 99)), len(allv) / wall, len(errors)


def http_bench(model, spec, folder: Path, rows: list[dict], per_client: int, tmp: Path) -> list[tuple]:  # noqa: ANN001
    import mlflow.sklearn
    import skops.io as sio

    ours = [json.dumps({"rows": [r]}).encode() for r in rows]
    theirs = [json.dumps({"dataframe_records": [r]}).encode() for r in rows]
    results = []
    servers = [("serve.py (log on)", [sys.executable, "serve.py", "--threads", "1", "--log-dir", str(tmp / "log")],
                folder, "/ready", "/predict", ours),
               ("serve.py (--no-log)", [sys.executable, "serve.py", "--threads", "1", "--no-log"], folder, "/ready",
                "/predict", ours)]
    mdir = tmp / "mlflow-model"
    mlflow.sklearn.save_model(model, str(mdir), serialization_format="skops", pip_requirements=[],
                              skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(model)))
    mlflow_bin = str(Path(sys.executable).with_name("mlflow"))
    servers.append(("mlflow models serve", [mlflow_bin, "models", "serve", "-m", str(mdir), "--env-manager", "local",
                                            "--host", "127.0.0.1"], tmp, "/ping", "/invocations", theirs))
    for name, cmd, cwd, ready, path, bodies in servers:
        port = free_port()
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # mlflow execs uvicorn
        proc = subprocess.Popen([*cmd, "--port", str(port)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            wait_ready(f"http://127.0.0.1:{port}{ready}", proc)
            load(port, path, bodies, 1, 50)  # warm up
            for clients in (1, 8):
                results.append((name, clients, *load(port, path, bodies, clients, per_client)))
                print(f"  {name:<22} {clients} client(s): p50 {results[-1][2]:.3f} ms p99 {results[-1][3]:.3f} ms "
                      f"{results[-1][4]:,.0f} req/s, {results[-1][5]} failed", flush=True)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    return results


def log_cost(folder: Path, rows: list[dict], calls: int, tmp: Path) -> tuple[float, float, float]:
    """µs per request that the prediction log adds on the request path (p50), and the writer's flush of 10k rows."""
    serve = serve_module(folder)
    sys.path.insert(0, str(folder))
    try:
        from serve_log import PredictionLog
    finally:
        sys.path.remove(str(folder))
    m = serve.Model(str(folder / "model.onnx"), str(folder / "schema.json"), threads=1)
    log, why = PredictionLog.open(str(tmp / "log-cost"), m.schema, flush_rows=10**9)
    assert log is not None, why
    prepared = []
    for k in range(calls):
        values, n = m.values({"rows": [rows[k % len(rows)]]})
        prepared.append((values, n, m.run(m.feeds(values)[0])))
    t_add = []
    for k in range(10_000):
        values, n, out = prepared[k % calls]
        t0 = time.perf_counter()
        log.add("r", 0.001, values, n, out)
        t_add.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    log.flush()
    flush_ms = (time.perf_counter() - t0) * 1e3
    t_pred = []
    for k in range(calls):
        t0 = time.perf_counter()
        m.predict({"rows": [rows[k % len(rows)]]})
        t_pred.append(time.perf_counter() - t0)
    return float(np.median(t_add) * 1e6), float(np.median(t_pred) * 1e6), flush_ms


def budget_misses(fam: str, task: str, skl: float, onx: float, bskl: float, bonx: float, bort: float) -> list[str]:
    """Issue #17's in-process budgets this row misses: 1-row p50 ≤ 0.1 ms (forest 0.2), ≥ 20× scikit-learn
    (k-NN exempt), and a 10k batch at least as fast as scikit-learn (server path and ONNX Runtime alone)."""
    name, limit = f"{fam} {task[:5]}", 0.2 if fam == "rf" else 0.1
    misses = [f"{name} 1-row {onx:.3f} ms > {limit}"] if onx > limit else []
    if fam != "knn" and skl / onx < 20:
        misses.append(f"{name} 1-row {skl / onx:.1f}× < 20×")
    misses += [f"{name} 10k {what} {bskl / t:.2f}× < 1" for what, t in (("serve", bonx), ("ort", bort)) if bskl < t]
    return misses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-http", action="store_true", help="skip the HTTP comparison")
    args = ap.parse_args()
    calls, rows_n, per_client = (200, 1_000, 300) if args.quick else (600, 2_000, 1_000)
    n_batch = 10_000
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min), "
          f"{os.cpu_count()} cores; calls={calls} train rows={rows_n:,} batch={n_batch:,}\n")
    head = (f"{'family':<7}{'task':<7}{'skl 1-row':>10}{'serve 1-row':>12}{'ratio':>7}"
            f"{'skl 10k':>10}{'serve 10k':>10}{'ratio':>7}{'ort 10k':>10}{'ratio':>7}")
    print("in-process single row p50 (ms) and 10k-row batch (ms, best of 3; 'serve' = the server path from JSON "
          "lists, 'ort' = ONNX Runtime alone on ready tensors, 2 intra-op threads)")
    print(head)
    print("-" * len(head))
    tmp = Path(tempfile.mkdtemp(prefix="wb-bench-deploy-"))
    http_model = None
    unmet: list[str] = []
    for task in ("classification", "regression"):
        full = table(rows_n + 500, task)
        train, held = full.iloc[:rows_n], full.iloc[rows_n:].reset_index(drop=True)
        spec = feature_spec(train, "target")
        X, y = prepare_xy(train, "target", spec)
        rows = json_rows(held, spec.columns)
        for fam in FAMILIES:
            model = build_pipeline(fam, task, spec, PARAMS.get(fam, {})).fit(X, y)
            folder = make_bundle(model, spec, task, fam, held, tmp / f"{task}-{fam}")
            skl, onx = in_process(model, spec, task, folder, rows, calls)
            bskl, bonx, bort = batch(model, spec, task, folder, held, spec.columns, n_batch)
            print(f"{fam:<7}{task[:5]:<7}{skl:>10.3f}{onx:>12.3f}{skl / onx:>7.1f}{bskl:>10.1f}{bonx:>10.1f}"
                  f"{bskl / bonx:>7.2f}{bort:>10.1f}{bskl / bort:>7.2f}", flush=True)
            unmet += budget_misses(fam, task, skl, onx, bskl, bonx, bort)
            if fam == "rf" and task == "classification":
                http_model = (model, spec, folder, rows)
    print(f"budgets (issue #17; absolute times hold on a quiet machine only): "
          f"{'all met' if not unmet else 'unmet: ' + '; '.join(unmet)}")
    if http_model is not None:
        add_us, pred_us, flush_ms = log_cost(http_model[2], http_model[3], calls, tmp)
        print(f"\nprediction log on the request path: add() {add_us:.2f} µs per one-row request (p50) against "
              f"{pred_us:.1f} µs for the in-process predict ({add_us / pred_us:.1%}); writing 10,000 rows to "
              f"Parquet: {flush_ms:.0f} ms in the writer thread")
    if not args.no_http and http_model is not None:
        print("\nHTTP on loopback, one-row requests, 100-tree random forest (classification), keep-alive clients")
        res = http_bench(*http_model, per_client, tmp)
        print(f"\n{'server':<24}{'clients':>8}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'failed':>8}")
        for name, clients, p50, p99, rps, failed in res:
            print(f"{name:<24}{clients:>8}{p50:>9.3f}{p99:>9.3f}{rps:>9,.0f}{failed:>8}")
        by = {(n, c): rps for n, c, _, _, rps, _ in res}
        for c in (1, 8):
            if ("mlflow models serve", c) in by:
                print(f"throughput ratio at {c} client(s): serve.py (log on) / MLflow = "
                      f"{by[('serve.py (log on)', c)] / by[('mlflow models serve', c)]:.1f}×; log on / off = "
                      f"{by[('serve.py (log on)', c)] / by[('serve.py (--no-log)', c)]:.2f}")
    print(f"\nload after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
