"""Benchmark: load + profile against plain pandas (``read_csv`` + ``describe``).

Run ``python bench/bench_data.py`` (100k and 1M rows × 20 mixed columns) or
``--quick`` (100k only). Every case runs in its own subprocess so peak memory
(``ru_maxrss``) is that case's alone; the table prints seconds, the ratio
workbench / pandas, and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 2.0


def generate_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Write ``rows`` × 20 columns of mixed types (ints, floats, categories, text, dates, bools, blanks, tokens)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)

    def with_blanks(values: np.ndarray, share: float, token: str = "") -> np.ndarray:
        out = values.astype(object)
        out[rng.random(rows) < share] = token
        return out

    cities = np.array([f"city_{i}" for i in range(1000)])
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "age": rng.integers(18, 90, rows),
            "visits": rng.poisson(3, rows),
            "score_int": with_blanks(rng.integers(0, 1000, rows), 0.05),
            "year": rng.integers(2000, 2025, rows),
            "income": rng.lognormal(10, 1, rows).round(2),
            "height": rng.normal(170, 10, rows).round(1),
            "weight": with_blanks(rng.normal(70, 12, rows).round(1), 0.05),
            "ratio": with_blanks(rng.random(rows).round(4), 0.10),
            "temp": rng.normal(15, 8, rows).round(2),
            "colour": rng.choice(["red", "green", "blue", "black", "white"], rows),
            "grade": rng.choice([f"g{i}" for i in range(20)], rows),
            "city": with_blanks(rng.choice(cities, rows), 0.03),
            "segment": rng.choice([f"seg_{i}" for i in range(100)], rows),
            "email": [f"user{i}@example.org" for i in rng.integers(0, rows, rows)],
            "comment": [f"note {i} about item {j}"
                        for i, j in zip(rng.integers(0, 10**6, rows), rng.integers(0, 50, rows))],  # fmt: skip
            "signup": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D"),
            "last_seen": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, rows), unit="s"),
            "active": rng.random(rows) < 0.7,
            "balance_na": with_blanks(rng.normal(100, 30, rows).round(2), 0.05, "NA"),
        }
    )
    frame.to_csv(path, index=False)


def _child(case: str, path: str) -> None:
    """One measured case in a fresh interpreter; prints a JSON line."""
    import resource

    sys.path.insert(0, str(ROOT))
    import pandas as pd

    from core.data.io import read_table
    from core.data.profile import profile_frame

    start = time.perf_counter()
    if case == "pandas":
        frame = pd.read_csv(path)
        loaded = time.perf_counter()
        frame.describe(include="all")
    else:
        frame = read_table(path).frame
        loaded = time.perf_counter()
        profile_frame(frame)
    done = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load": loaded - start, "analyse": done - loaded, "total": done - start, "peak_mb": peak_mb}))


def _measure(case: str, path: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", case, str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k rows only")
    parser.add_argument("--repeat", type=int, default=2, help="runs per case, alternating; the best is reported")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=2, metavar=("ROWS", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        generate_csv(Path(args.generate[1]), int(args.generate[0]))
        return 0
    if args.child:
        _child(*args.child)
        return 0
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    rows_out = []
    with tempfile.TemporaryDirectory(prefix="bench_data_") as tmp:
        for rows in sizes:
            path = Path(tmp) / f"mixed_{rows}.csv"
            start = time.perf_counter()
            # in a child: ru_maxrss survives fork + exec, so a big parent would inflate every case's peak
            subprocess.run([sys.executable, __file__, "--generate", str(rows), str(path)], check=True)
            print(f"generated {rows:,} rows × 20 columns ({path.stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
            runs: dict[str, list[dict]] = {"pandas": [], "workbench": []}
            for _ in range(args.repeat):
                for case in runs:  # alternate, so a busy spell on a shared machine hits both cases
                    runs[case].append(_measure(case, path))
            best = {case: min(r, key=lambda m: m["total"]) for case, r in runs.items()}
            ratio = best["workbench"]["total"] / best["pandas"]["total"]
            rows_out.append((rows, best["pandas"], best["workbench"], ratio))
    load = os.getloadavg()[0]
    print()
    print(f"load + profile vs pandas read_csv + describe(include='all')  (best of {args.repeat}; load avg {load:.1f})")
    header = (f"{'rows':>10} | {'pandas s':>9} | {'(read':>6} {'describe)':>9} | {'workbench s':>11} | {'(load':>6} "
              f"{'profile)':>8} | {'ratio':>5} | {'pandas MB':>9} | {'workbench MB':>12} | budget")  # fmt: skip
    print(header)
    print("-" * len(header))
    for rows, pd_m, wb_m, ratio in rows_out:
        verdict = "ok" if ratio <= BUDGET else f"OVER {BUDGET}x"
        print(f"{rows:>10,} | {pd_m['total']:>9.2f} | {pd_m['load']:>6.2f} {pd_m['analyse']:>9.2f} | "
              f"{wb_m['total']:>11.2f} | {wb_m['load']:>6.2f} {wb_m['analyse']:>8.2f} | {ratio:>5.2f} | "
              f"{pd_m['peak_mb']:>9.0f} | {wb_m['peak_mb']:>12.0f} | {verdict}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
