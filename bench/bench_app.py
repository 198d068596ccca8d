"""App responsiveness: server start to first page, import costs, and a Data-page rerun at 100k rows.

Usage: python bench/bench_app.py [--quick]

Prints a table. Budgets (issues 2 and 9): the app serves within a few seconds (heavy
imports deferred); a Data-page rerun after a widget change at 100k rows ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def import_cost(stmt: str) -> float:
    code = f"import time; t=time.perf_counter(); {stmt}; print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def server_start(home: Path) -> tuple[float, float]:
    """Seconds from process start to /_stcore/health and to the Home page rendered in Chromium.

    The browser is launched before the server, so its own start-up is not counted.
    """
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                        break
                except OSError:
                    time.sleep(0.05)
            health = time.perf_counter() - t0
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_text("Registered model").first.wait_for(timeout=120_000)
            first = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            browser.close()
    return health, first


def data_rerun(rows: int, repeats: int = 5) -> tuple[float, float]:
    """Median seconds of the first Data-page run and of a rerun after a widget change (AppTest, in process)."""
    import numpy as np
    import pandas as pd
    from streamlit.testing.v1 import AppTest

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"n{i}": rng.normal(size=rows) for i in range(15)})
    for i in range(5):
        frame[f"c{i}"] = rng.choice(["a", "b", "c", "NA"], size=rows)
    home = Path(tempfile.mkdtemp(prefix="wb-bench-app-"))
    os.environ["WORKBENCH_HOME"] = str(home)
    from ui.data import SOURCE
    from core.data.versions import frame_digest

    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=300)
    at.session_state[SOURCE] = {"frame": frame, "name": "bench", "kind": "upload", "ref": "bench",
                                "digest": frame_digest(frame), "notes": (), "fmt": "csv"}
    at.session_state["data_draft_checked"] = True
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    times = []
    for i in range(repeats):
        radio = at.radio(key="data_profile_which")
        radio.set_value("raw table" if i % 2 == 0 else "cleaned table")
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    assert not at.exception, at.exception
    return first, statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rows = []
    for stmt in ("import core, core.cli, core.config, core.tracking, core.models", "import streamlit",
                 "import mlflow", "import evidently", "import umap", "import optuna"):
        rows.append((f"import: {stmt.split(',')[0].replace('import ', '')}", f"{import_cost(stmt):.2f} s", ""))
    with tempfile.TemporaryDirectory() as tmp:
        health, first = server_start(Path(tmp))
        rows.append(("server start → /_stcore/health", f"{health:.2f} s", "budget: a few seconds"))
        rows.append(("server start → Home rendered (Chromium), new store", f"{first:.2f} s",
                     "incl. MLflow store creation (once)"))
        health, first = server_start(Path(tmp))
        rows.append(("server restart → Home rendered, existing store", f"{first:.2f} s", ""))
    n = 20_000 if args.quick else 100_000
    first_run, rerun = data_rerun(n)
    rows.append((f"Data page first run, {n:,} rows (AppTest)", f"{first_run * 1000:.0f} ms", "profile computed"))
    rows.append((f"Data page rerun after a widget change, {n:,} rows", f"{rerun * 1000:.0f} ms", "budget ≤ 300 ms"))
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'value':>10}  note")
    for name, value, note in rows:
        print(f"{name:<{w}}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
