"""Benchmark: the Monitor check vs a plain Evidently ``Report([DataDriftPreset()])`` on the same frames.

Tables of N rows × 20 columns (15 numeric, 5 categorical), reference and current
of N rows each, 6 columns shifted. Every measurement runs in a fresh process so
the peak memory (VmHWM minus the resident size after building the data) is its own.

    .venv/bin/python bench/bench_monitor.py           # 10k, 100k, 1M rows (1M Evidently: minutes)
    .venv/bin/python bench/bench_monitor.py --quick   # 10k and 100k

Columns: time and peak memory of our whole check (schema + per-column tests +
dataset verdict), the same for plain Evidently (import excluded, reported once),
the ratio, and whether the verdicts are identical (same test per column, same
statistic to 1e-6, same threshold, same decision, same dataset verdict).
Last line: time to reopen a stored Evidently report from the MLflow store.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_frames(n: int, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)

    def table(shift: float):
        cols = {}
        for i in range(15):
            s = shift if i < 5 else 0.0  # 5 numeric columns move
            cols[f"num{i}"] = rng.normal(s, 1 + i / 10, n)
        for j in range(5):
            cats = [f"c{k}" for k in range(3 + j)]
            p = np.ones(len(cats)) / len(cats)
            if j == 0 and shift:
                p = np.linspace(1, 2, len(cats))  # 1 categorical column moves
                p /= p.sum()
            cols[f"cat{j}"] = rng.choice(cats, n, p=p)
        return pd.DataFrame(cols)

    return table(0.0), table(0.3)


def _rss(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def child(kind: str, n: int) -> None:
    """Run one measurement; print a JSON line."""
    import numpy as np  # noqa: F401

    out: dict = {}
    if kind == "ours":  # imports excluded on both sides: SciPy / pandas for us, Evidently for them
        t = time.perf_counter()
        import scipy.spatial.distance  # noqa: F401
        import scipy.stats  # noqa: F401

        from core.monitor.check import run_check

        out["import_s"] = time.perf_counter() - t
    if kind == "evidently":
        t = time.perf_counter()
        from evidently import Report
        from evidently.presets import DataDriftPreset

        out["import_s"] = time.perf_counter() - t
    ref, cur = make_frames(n)
    base = _rss("VmRSS")
    t = time.perf_counter()
    if kind == "ours":
        result = run_check(ref, cur, multivariate=False)
        summary = result.drift
        cols = {c.name: [c.test, c.statistic, c.threshold, c.drifted] for c in summary.columns}
        out.update(n_drifted=summary.n_drifted, dataset_drift=summary.dataset_drift, columns=cols)
    else:
        snap = Report([DataDriftPreset()]).run(cur, ref).dict()
        from core.monitor.drift import BY_DISPLAY_NAME, TESTS

        cols = {}
        for m in snap["metrics"]:
            cfg = m["config"]
            if cfg["type"].endswith("ValueDrift"):
                test = BY_DISPLAY_NAME[cfg["method"]]
                cols[cfg["column"]] = [test, m["value"], cfg["threshold"], TESTS[test].decide(m["value"], cfg["threshold"])]
            elif cfg["type"].endswith("DriftedColumnsCount"):
                out["n_drifted"] = int(m["value"]["count"])
                out["dataset_drift"] = m["value"]["share"] >= 0.5
        out["columns"] = cols
    out["seconds"] = time.perf_counter() - t
    out["peak_mb"] = _rss("VmHWM") - base
    print(json.dumps(out))


def measure(kind: str, n: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, str(n)], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        raise SystemExit(f"{kind} at {n} rows failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def identical(a: dict, b: dict) -> bool:
    if a["n_drifted"] != b["n_drifted"] or a["dataset_drift"] != b["dataset_drift"] or a["columns"].keys() != b["columns"].keys():
        return False
    for name, (test, stat, thr, drifted) in a["columns"].items():
        t2, s2, th2, d2 = b["columns"][name]
        if test != t2 or abs(stat - s2) > 1e-6 or thr != th2 or drifted != d2:
            return False
    return True


def reopen_time() -> tuple[float, float, int]:
    """Build a report at 10k rows, store it in a temp MLflow store, and time reopening it."""
    from core.config import Settings
    from core.monitor.check import Table, load_stored_report, record_check, run_check
    from core.monitor.evidently_report import build_evidently_report
    from core.tracking import Tracker

    ref, cur = make_frames(10_000)
    with tempfile.TemporaryDirectory() as tmp:
        tracker = Tracker.connect(Settings.from_env({"WORKBENCH_HOME": tmp}))
        result = run_check(ref, cur, multivariate=False)
        t = time.perf_counter()
        report = build_evidently_report(ref, cur)
        build_s = time.perf_counter() - t
        rid = record_check(tracker, "bench", result, reference=Table(ref, "ref"), current=Table(cur, "cur"),
                           html=report.html, report_json=report.json)
        t = time.perf_counter()
        html = load_stored_report(tracker, rid)
        reopen_s = time.perf_counter() - t
        return build_s, reopen_s, len(html or "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1M-row size")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    print(f"{'rows':>10} | {'ours s':>8} | {'ours +MB':>8} | {'Evidently s':>11} | {'Evid. +MB':>9} | "
          f"{'ratio':>6} | {'drifted':>7} | identical")
    print("-" * 90)
    import_s = None
    for n in sizes:
        ours, theirs = measure("ours", n), measure("evidently", n)
        import_s = theirs.get("import_s", import_s)
        print(f"{n:>10,} | {ours['seconds']:>8.2f} | {ours['peak_mb']:>8.0f} | {theirs['seconds']:>11.2f} | "
              f"{theirs['peak_mb']:>9.0f} | {theirs['seconds'] / ours['seconds']:>5.1f}x | "
              f"{ours['n_drifted']:>3}/{len(ours['columns'])} | {identical(ours, theirs)}", flush=True)
    print(f"(Evidently import, not in the times above: {import_s:.1f} s)")
    build_s, reopen_s, size = reopen_time()
    print(f"Full Evidently HTML report at 10k rows: built in {build_s:.1f} s ({size / 1e6:.1f} MB); "
          f"reopened from the MLflow store in {reopen_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
