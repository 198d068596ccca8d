"""Load: N concurrent browser sessions (one Chromium, N contexts) on one ``streamlit run`` server.

Usage: python bench/bench_load.py [--sessions 10] [--scenario idle|tune|both] [--server serve|plain]
                                  [--profile-seconds 0] [--env KEY=VALUE ...]

Every context opens the Data page, opens a table (the bundled penguins, or a small
upload of its own), then switches to the Clean and Versions tabs. All contexts act at
the same moment, so the server serves them concurrently. Times are taken *in the page*
(``performance.now()`` from the action to the state on screen, polled every 20 ms), so
the order in which the script collects them does not matter.

Each scenario (idle; with a ``tune`` study of 500 trials running in its own process on the same
store) starts a fresh server on the same workspace (an existing store with penguins saved),
times one session alone, then the N sessions. Prints first page load and per-interaction
p50/p95/max with the machine's load average, and per step the work behind it, which a busy machine
does not inflate the way it inflates time: each page's main-thread CPU seconds (CDP Performance,
thread time) and the KB the server wrote per page (its /proc io: WebSocket messages and the script
chunks a page loads on first use; a Playwright frame listener would cost the driver an event per
message). Budget (issue 15): with 10 sessions interaction p95 ≤ 2 s and first page ≤ 6 s; one
session's first page ≤ 3 s. ``--server plain`` runs a bare ``streamlit run app.py`` (no warm-up)
for the ratio.

``--env`` passes settings to the server only, to try a change without editing the repo
(e.g. ``--env STREAMLIT_RUNNER_POST_SCRIPT_GC=false``). ``--profile-seconds S`` samples
the server with py-spy (if installed) for S seconds from the first navigation and prints
where its CPU went, by package and by function.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_app import PLAIN, SERVE, Server  # noqa: E402
from bench.load_probes import browser_cpu, cpu_seconds, main_thread_s, print_profile, written  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

# Wait in the page until `cond` holds, store the elapsed ms in window.__bench[name].
_WATCH = """([name, cond]) => {
  window.__bench = window.__bench || {};
  const t0 = performance.now(), test = new Function('return (' + cond + ')');
  const iv = setInterval(() => { try { if (test()) { window.__bench[name] = performance.now() - t0;
    clearInterval(iv); } } catch (e) {} }, 20);
}"""
_IDLE = "document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'notRunning'"


# A probe runs every 20 ms in every page, so it must cost next to nothing: the text is looked for first
# (textContent does not lay out the page), and only a text node that holds it is asked whether it is shown.
# The old probe asked every element for its offsetParent and the first-page probe read body.innerText,
# each of which forces a layout — 50 layouts a second in each of 10 pages, counted as the app's time.
_SHOWN = """((text) => { const main = document.querySelector('[data-testid="stMain"]');
  if (!main || !main.textContent.includes(text)) return false;
  const walk = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode())
    if (n.data.includes(text) && n.parentElement.offsetParent !== null) return true;
  return false; })"""


def _visible_text(text: str) -> str:
    return f"{_SHOWN}({text!r})"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _act(pages: list, name: str, cond: str, action) -> list[float]:  # noqa: ANN001
    """Start a watcher and the action on every page at once, then collect each page's elapsed seconds."""
    for i, pg in enumerate(pages):
        pg.evaluate(_WATCH, [name, cond(i)])
        action(i, pg)
    out = []
    for pg in pages:
        pg.wait_for_function(f"window.__bench && window.__bench[{name!r}] !== undefined", timeout=300_000)
        out.append(pg.evaluate(f"window.__bench[{name!r}]") / 1000)
    return out


def _first_load(pages: list, url: str) -> list[float]:  # noqa: ANN001
    """Navigation start to the Data page's first complete render, per page (``_INIT`` watches in the page)."""
    for pg in pages:
        pg.goto(f"{url}/data", wait_until="commit")
    out = []
    for pg in pages:
        pg.wait_for_function("window.__firstReady !== null", timeout=300_000)
        out.append(pg.evaluate("window.__firstReady") / 1000)  # performance.now() counts from navigation start
    return out


_INIT = f"""
window.__firstReady = null;
const __iv = setInterval(() => {{
  const app = document.querySelector('[data-testid="stApp"]');
  if (app && app.dataset.testScriptState === 'notRunning' && {_SHOWN}('Pick a bundled data set')) {{
    window.__firstReady = performance.now(); clearInterval(__iv);
  }}
}}, 20);
"""


def _core(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_sessions(browser, home: Path, uploads: list[Path], args, env: dict[str, str], label: str) -> dict:  # noqa: ANN001
    """One fresh server on ``home``: health, one session alone, then N concurrent sessions."""
    server = Server(home, SERVE if args.server == "serve" else PLAIN, env)
    spy = None
    load0 = os.getloadavg()[0]
    try:
        health = server.wait_health()
        # one session alone first: the single-session first page on a healthy server
        solo_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        solo_ctx.add_init_script(_INIT)
        solo = _first_load([solo_ctx.new_page()], server.url)[0]
        solo_ctx.close()

        contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(args.sessions)]
        for c in contexts:
            c.add_init_script(_INIT)
        pages = [c.new_page() for c in contexts]
        for pg in pages:
            pg.set_default_timeout(300_000)
        probes = [c.new_cdp_session(pg) for c, pg in zip(contexts, pages, strict=True)]
        for cdp in probes:
            cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
        if args.profile_seconds and args.py_spy:
            spy = subprocess.Popen([args.py_spy, "record", "--pid", str(server.proc.pid), "--duration",
                                    str(int(args.profile_seconds)), "--format", "raw", "--output",
                                    str(home / f"spy-{label}.txt"), "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu0 = (time.perf_counter(), cpu_seconds(server.proc.pid), cpu_seconds(), browser_cpu(server.proc.pid))
        rows: dict[str, list[float]] = {}
        work: dict[str, tuple[float, int]] = {}  # step → (pages' main-thread CPU s, bytes the server wrote)

        def step(name: str, run) -> None:  # noqa: ANN001
            cpu, sent = main_thread_s(probes), written(server.proc.pid)
            rows[name] = run()
            work[name] = (main_thread_s(probes) - cpu, written(server.proc.pid) - sent)

        step("first page load", lambda: _first_load(pages, server.url))

        def open_table(i: int, pg) -> None:  # noqa: ANN001
            if i == 0:
                pg.get_by_role("button", name="Open", exact=True).and_(
                    pg.get_by_test_id("stBaseButton-primary")).click()
                return
            pg.get_by_text("Upload a file", exact=True).click()
            pg.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(uploads[i]))
            pg.get_by_role("button", name="Open", exact=True).and_(pg.get_by_test_id("stBaseButton-primary")).click()

        captions = ["344 rows × 8 columns"] + [f"{50 + i} rows × 3 columns" for i in range(1, args.sessions)]
        step("open a table", lambda: _act(pages, "open", lambda i: f"{_IDLE} && {_visible_text(captions[i])}",
                                          open_table))
        for tab, shows in (("Clean", "Add a step"), ("Versions", "Save version"), ("Profile", "Duplicate rows")):
            # the script idle too: a tab that reruns the page is done when its content is drawn and the run over
            step(f"tab: {tab}", lambda tab=tab, shows=shows: _act(
                pages, tab, lambda i: f"{_IDLE} && {_visible_text(shows)}",
                lambda i, pg: pg.get_by_role("tab", name=tab).click()))
        wall, server_cpu, machine_cpu, chromium_cpu = (a - b for a, b in zip(
            (time.perf_counter(), cpu_seconds(server.proc.pid), cpu_seconds(), browser_cpu(server.proc.pid)),
            cpu0, strict=True))
        for c in contexts:
            c.close()
    finally:
        server.stop()
        if spy is not None:
            spy.wait(timeout=120)
    return {"label": label, "health": health, "solo": solo, "rows": rows, "work": work, "wall": wall,
            "server_cpu": server_cpu,
            "machine_cpu": machine_cpu, "browser_cpu": chromium_cpu, "load": (load0 + os.getloadavg()[0]) / 2,
            "spy": home / f"spy-{label}.txt"}


def _report(r: dict, sessions: int, env: str) -> None:
    rows = r["rows"]
    interactions = [v for k, vals in rows.items() if k != "first page load" for v in vals]
    print(f"\n{sessions} concurrent sessions, {r['label']}{env} · load average {r['load']:.1f} · server healthy "
          f"after {r['health']:.1f} s · one session alone: first page {r['solo']:.2f} s\n")
    print(f"{'step':<18}{'n':>4}{'p50 s':>9}{'p95 s':>9}{'max s':>9}   browser CPU s/page  server KB/page")
    for name, vals in [*rows.items(), ("all interactions", interactions)]:
        cpu, sent = r["work"].get(name, (None, None))
        extra = f"{cpu / sessions:>21.2f}{sent / sessions / 1024:>15.1f}" if cpu is not None else ""
        print(f"{name:<18}{len(vals):>4}{statistics.median(vals):>9.2f}{_pct(vals, 0.95):>9.2f}{max(vals):>9.2f}"
              + extra)
    p95, first = _pct(interactions, 0.95), _pct(rows["first page load"], 0.95)
    print(f"budget: interaction p95 {p95:.2f} s (≤ 2 s: {'ok' if p95 <= 2 else 'OVER'}) · "
          f"first page p95 {first:.2f} s (≤ 6 s: {'ok' if first <= 6 else 'OVER'}) · "
          f"single first page {r['solo']:.2f} s (≤ 3 s: {'ok' if r['solo'] <= 3 else 'OVER'})")
    wall, cpus = r["wall"], os.cpu_count() or 1
    print(f"the concurrent part took {wall:.1f} s wall on {cpus} cores: server {r['server_cpu']:.1f} CPU s, "
          f"Chromium + driver {r['browser_cpu']:.1f} CPU s, other processes "
          f"{r['machine_cpu'] - r['server_cpu'] - r['browser_cpu']:.1f} CPU s, "
          f"machine idle {max(0.0, wall * cpus - r['machine_cpu']):.1f} CPU s")
    if r["spy"].exists():
        print_profile(r["spy"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--scenario", choices=("idle", "tune", "both"), default="both",
                    help="idle, with a tune study running beside the sessions, or one after the other")
    ap.add_argument("--server", choices=("serve", "plain"), default="serve",
                    help="serve: python -m ui.serve (make run, warmed); plain: streamlit run app.py")
    ap.add_argument("--profile-seconds", type=float, default=0.0)
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="server environment")
    ap.add_argument("--py-spy", default=shutil.which("py-spy") or "", help="path of the py-spy binary")
    args = ap.parse_args()
    import pandas as pd
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    home = tmp / "workspace"
    uploads = []
    for i in range(args.sessions):
        path = tmp / f"table{i}.csv"
        pd.DataFrame({"a": range(50 + i), "b": [i] * (50 + i), "c": ["x"] * (50 + i)}).to_csv(path, index=False)
        uploads.append(path)
    # an existing store with a dataset version (what the tune study trains on)
    if _core(home, "save", str(ROOT / "data" / "penguins.csv"), "--target", "species").wait() != 0:
        raise SystemExit("python -m core save failed")
    env = dict(kv.split("=", 1) for kv in args.env)
    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        if args.scenario in ("idle", "both"):
            results.append(run_sessions(browser, home, uploads, args, env, "idle"))
        if args.scenario in ("tune", "both"):
            study = _core(home, "tune", "--data", "penguins", "--target", "species", "--model", "rf",
                          "--trials", "500", "--study", "bench-load-study")
            try:
                results.append(run_sessions(browser, home, uploads, args, env, "a tune study running"))
            finally:
                study.terminate()
                study.wait(timeout=60)
        browser.close()
    suffix = f" · {args.server}" + (" · " + " ".join(args.env) if args.env else "")
    for r in results:
        _report(r, args.sessions, suffix)


if __name__ == "__main__":
    main()
