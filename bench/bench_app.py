"""App responsiveness for one person: server start → health → first page, every page after a full loop.

Usage: python bench/bench_app.py [--quick] [--no-loop] [--no-rerun] [--no-imports] [--repeat N]

Tables (issue 20, Performance; issue 2 and 9 for the imports and the Data rerun):

1. heavy imports, each in a fresh interpreter;
2. server start → ``/_stcore/health`` → Home rendered in Chromium (no skeleton, the script idle),
   on a new store and after a restart on the existing one, and with the tab opened at start — for
   ``make run`` (``python -m ui.serve``: health says ok once the store is open, the first pages imported
   and Home's reads cached; the warm-up's own time is shown) and a plain ``streamlit run app.py`` (ratio);
3. every page's first render after a full loop (save → tune ×2 → compare → promote → export →
   monitor, through the headless commands), each page opened in its own fresh browser context, after
   Home as the first page of a fresh server on that store (table 2's measure on a store with content);
4. a Data-page rerun after a widget change at 100k rows (AppTest).

Budgets (2 cores, one session): first page ≤ 3 s after health on an existing store, ≤ 8 s on a new
store; each page ≤ 2 s after a full loop; Data rerun ≤ 300 ms. Times are taken in the page
(``performance.now()`` from navigation start), so the script's own polling does not count. The
machine's load average is printed with every table: on a shared machine compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import os
import re
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

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port  # noqa: E402

SERVE = ("-m", "ui.serve")                       # make run
PLAIN = ("-m", "streamlit", "run", "app.py")     # no warm-up
PAGES = [("home", "", "MLOps workbench"), ("plan", "plan", "Plan"), ("data", "data", "Data"),
         ("label", "label", "Label"), ("tune", "tune", "Tune"), ("compare", "compare", "Compare"),
         ("deploy", "deploy", "Deploy"), ("monitor", "monitor", "Monitor")]

# in the page: navigation start → the title drawn, the script idle and no app skeleton left
_READY = """
window.__ready = null;
const __iv = setInterval(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  if (app && app.dataset.testScriptState === 'notRunning' && h1 && h1.textContent.includes(window.__title || '')
      && !document.querySelector('[data-testid="stAppSkeleton"]')) {
    window.__ready = performance.now(); clearInterval(__iv);
  }
}, 20);
"""


def load() -> str:
    """The 1-minute load average (what every table is measured beside)."""
    return f"{os.getloadavg()[0]:.1f}"


def import_cost(stmt: str) -> float:
    code = f"import time; t=time.perf_counter(); {stmt}; print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


class Server:
    """One app server process on a free port (``python -m ui.serve`` or a plain ``streamlit run``)."""

    def __init__(self, home: Path, cmd: tuple[str, ...], extra_env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "WORKBENCH_HOME": str(home), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        env.pop("MLFLOW_TRACKING_URI", None)
        home.mkdir(parents=True, exist_ok=True)
        self.log = home / f"server-{self.port}.log"
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, *cmd, "--server.port", str(self.port),
                                      "--server.headless", "true"], cwd=ROOT, env=env,
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def wait_health(self, timeout: float = 300) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return time.perf_counter() - self.t0
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"no health answer in {timeout:.0f} s")

    def wait_port(self, timeout: float = 300) -> float:
        """Seconds until the server accepts connections (it may not be healthy yet)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                    return time.perf_counter() - self.t0
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"the port did not open in {timeout:.0f} s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def first_render(browser, url: str, title: str, timeout_ms: int = 300_000) -> float:  # noqa: ANN001
    """Seconds from navigation start to the page rendered, in a fresh context (no cache, no session)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        ctx.add_init_script(f"window.__title = {title!r};" + _READY)
        pg = ctx.new_page()
        pg.goto(url, wait_until="commit", timeout=timeout_ms)
        pg.wait_for_function("window.__ready !== null", timeout=timeout_ms)
        return pg.evaluate("window.__ready") / 1000
    finally:
        ctx.close()


def warm_seconds(log: Path) -> tuple[str, str]:
    """The warm-up's own time and its steps, from the server's log line (``make run`` only)."""
    found = re.findall(r"warm-up done in ([0-9.]+) s \(([^)]*)\)", log.read_text(errors="replace"))
    return (f"{float(found[-1][0]):.2f} s", found[-1][1]) if found else ("—", "")


def _serve_once(browser, home: Path, cmd: tuple[str, ...],  # noqa: ANN001
                at_once: bool = False) -> tuple[float, float, float, tuple[str, str]]:
    """One server start: (start → health, health → Home rendered, start → Home rendered, warm-up time).

    ``at_once``: the browser opens the page as soon as the port accepts (someone who runs ``make run`` and
    opens the tab straight away), so the front end itself waits for health; the second value is then
    navigation → rendered.
    """
    server = Server(home, cmd)
    try:
        health = server.wait_port() if at_once else server.wait_health()
        after = first_render(browser, server.url, "MLOps workbench")
        total = time.perf_counter() - server.t0
    finally:
        server.stop()
    return health, after, total, warm_seconds(server.log)


def start_rows(browser, home: Path, cmd: tuple[str, ...], name: str, repeat: int = 1) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """New store, then restarts on it: health and Home rendered (after health, and from process start).

    With ``repeat`` > 1 the existing-store numbers are medians of that many restarts (a new store is new once).
    """
    rows = []
    for store in ("new store", "existing store"):
        runs = [_serve_once(browser, home, cmd) for _ in range(1 if store == "new store" else repeat)]
        health, after, total = (statistics.median(r[i] for r in runs) for i in range(3))
        budget = 8.0 if store == "new store" else 3.0
        ok = "ok" if after <= budget else "OVER"
        n = f" (median of {len(runs)})" if len(runs) > 1 else ""
        rows.append((f"{name}, {store}: start → health", f"{health:.2f} s", f"load {load()}{n}"))
        if cmd == SERVE:
            rows.append((f"{name}, {store}: warm-up, before health", *runs[-1][3]))
        rows.append((f"{name}, {store}: health → Home rendered", f"{after:.2f} s", f"budget ≤ {budget:.0f} s: {ok}"))
        rows.append((f"{name}, {store}: start → Home rendered", f"{total:.2f} s", ""))
    _, _, total, _ = _serve_once(browser, home, cmd, at_once=True)
    rows.append((f"{name}, existing store, tab opened at start: start → Home rendered", f"{total:.2f} s",
                 "the front end waits for health itself"))
    return rows


def _core(home: Path, *args: str) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def full_loop(home: Path, out: Path) -> float:
    """Save → tune ×2 → compare → promote → export → monitor with the headless commands; seconds taken."""
    t0 = time.perf_counter()
    penguins = str(ROOT / "data" / "penguins.csv")
    _core(home, "save", penguins, "--target", "species")
    _core(home, "tune", "--data", "penguins", "--target", "species", "--model", "linear", "--trials", "3")
    _core(home, "tune", "--data", "penguins", "--target", "species", "--model", "rf", "--trials", "3")
    _core(home, "compare", "--models", "default-species/1", "default-species/2", "--data", "penguins")
    _core(home, "promote", "--version", "default-species/1", "--data", "penguins")
    _core(home, "export", "--model", "default-species@champion", "--out", str(out))
    _core(home, "monitor", "--reference", "penguins", "--current", penguins, "--model", "default-species@champion")
    return time.perf_counter() - t0


def page_rows(browser, home: Path) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """Every page's first render on the loop's store, one fresh context each, on a warmed server."""
    server = Server(home, SERVE)
    rows = []
    try:
        health = server.wait_health()
        first = first_render(browser, server.url, "MLOps workbench")  # the server's first page: table 2's measure
        warm, steps = warm_seconds(server.log)
        rows.append(("after a full loop: start → health", f"{health:.2f} s", f"warm-up {warm}: {steps}"))
        rows.append(("after a full loop: health → Home, the server's first page", f"{first:.2f} s",
                     f"budget ≤ 3 s: {'ok' if first <= 3 else 'OVER'} · load {load()}"))
        for name, url, title in PAGES:
            secs = first_render(browser, f"{server.url}/{url}", title)
            rows.append((f"after a full loop: {name}", f"{secs:.2f} s",
                         f"budget ≤ 2 s: {'ok' if secs <= 2 else 'OVER'} · load {load()}"))
    finally:
        server.stop()
    return rows


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
    from core.data.versions import frame_digest
    from ui.data import SOURCE

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


def _print(title: str, rows: list[tuple[str, str, str]]) -> None:
    w = max(len(r[0]) for r in rows)
    print(f"\n{title}\n{'measure':<{w}}  {'value':>9}  note")
    for name, value, note in rows:
        print(f"{name:<{w}}  {value:>9}  {note}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20k rows for the Data rerun")
    ap.add_argument("--no-loop", action="store_true", help="skip table 3 (the full loop takes minutes)")
    ap.add_argument("--no-rerun", action="store_true", help="skip table 4")
    ap.add_argument("--no-imports", action="store_true", help="skip table 1")
    ap.add_argument("--repeat", type=int, default=1, help="table 2: median of this many restarts on the existing store")
    ap.add_argument("--workspace", type=Path, help="table 3 only, on a copy of this workspace (a full loop's, "
                    "kept from an earlier run: pages can be measured again and again without the loop)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    if args.workspace:
        import shutil

        # a stopped server's last writes can race the clean-up: a leftover temp folder is not an error
        with sync_playwright() as pw, tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            home = Path(shutil.copytree(args.workspace, Path(tmp) / "loop"))
            _print(f"3. every page's first render, workspace {args.workspace} · load {load()}", page_rows(browser, home))
            browser.close()
        return

    print(f"machine: {os.cpu_count()} cores, load average at start {load()}")
    if not args.no_imports:
        rows = []
        for stmt in ("import core, core.cli, core.config, core.tracking, core.models", "import streamlit",
                     "import mlflow", "import evidently", "import umap", "import optuna"):
            rows.append((f"import: {stmt.split(',')[0].replace('import ', '')}", f"{import_cost(stmt):.2f} s",
                         f"load {load()}"))
        _print("1. imports (fresh interpreter)", rows)
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        rows = start_rows(browser, Path(tmp) / "serve", SERVE, "make run", args.repeat)
        rows += start_rows(browser, Path(tmp) / "plain", PLAIN, "plain streamlit run", args.repeat)
        _print("2. server start and first page (one session)", rows)
        if not args.no_loop:
            home = Path(tmp) / "loop"
            took = full_loop(home, Path(tmp) / "export")
            _print(f"3. every page's first render after a full loop (the loop took {took:.0f} s)",
                   page_rows(browser, home))
        browser.close()
    if not args.no_rerun:
        n = 20_000 if args.quick else 100_000
        first_run, rerun = data_rerun(n)
        _print("4. Data page (AppTest)", [
            (f"Data page first run, {n:,} rows", f"{first_run * 1000:.0f} ms", f"load {load()}"),
            (f"Data page rerun after a widget change, {n:,} rows", f"{rerun * 1000:.0f} ms", "budget ≤ 300 ms")])


if __name__ == "__main__":
    main()
