"""Benchmark the training-time and feature extraction recipe steps against the plain library call.

    .venv/bin/python bench/bench_recipe_train_extract.py [--quick]

One row per step: the workbench's ``apply_step`` on the training rows of a split (fit + resample /
transform + change report) and the plain imbalanced-learn / pandas / NumPy call doing the same
work, and their ratio. Every call runs once first (imports, numba-free warm-up), then is timed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.recipe import Step, apply_step  # noqa: E402
from core.data.recipe.engine import FitContext  # noqa: E402


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """8 numbers, a category, a 10 %-minority target, a time column, a 100-value group key, 64-value signals."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"x{i}" for i in range(8)])
    frame["c"] = rng.choice(list("abcde"), n)
    frame["y"] = np.where(rng.random(n) < 0.1, "q", "p")
    frame["t"] = rng.permutation(n)
    frame["g"] = rng.choice(100, n).astype(str)
    frame["sig"] = [" ".join(map(str, row)) for row in np.round(rng.normal(size=(n, 64)), 3)]
    return frame


def best_of(fn, repeat: int = 3) -> float:  # noqa: ANN001
    fn()  # warm-up: first imports and caches are not what a person waits for on the next preview
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(n: int) -> list[tuple[str, int, float, float]]:
    from imblearn.over_sampling import SMOTE, SMOTENC, RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    frame = make_frame(n)
    numeric = frame.drop(columns=["c", "g", "sig", "t"])
    mixed = frame.drop(columns=["g", "sig", "t"])
    train = pd.Index(np.flatnonzero(np.arange(n) % 5 != 0))  # 80 % training rows
    ctx = FitContext(train, "y")
    tr = frame.loc[train]
    x_num, x_mix, y = tr.drop(columns=["c", "g", "sig", "t", "y"]), tr[mixed.columns].drop(columns="y"), tr["y"]
    cases = [
        ("rebalance oversample", lambda: apply_step(numeric, Step("rebalance", {"method": "oversample"}), context=ctx),
         lambda: RandomOverSampler(random_state=0).fit_resample(x_num, y)),
        ("rebalance undersample", lambda: apply_step(numeric, Step("rebalance", {"method": "undersample"}),
                                                     context=ctx),
         lambda: RandomUnderSampler(random_state=0).fit_resample(x_num, y)),
        ("rebalance smote", lambda: apply_step(numeric, Step("rebalance", {"method": "smote"}), context=ctx),
         lambda: SMOTE(random_state=0).fit_resample(x_num, y)),
        ("rebalance smote-nc", lambda: apply_step(mixed, Step("rebalance", {"method": "smote"}), context=ctx),
         lambda: SMOTENC(categorical_features=["c"], random_state=0).fit_resample(x_mix, y)),
        ("augment_noise", lambda: apply_step(numeric, Step("augment_noise"), context=ctx),
         lambda: pd.concat([x_num, x_num + np.random.default_rng(0).normal(0, 0.05 * x_num.std(ddof=0),
                                                                            x_num.shape)])),
        ("group_stats (5 stats)", lambda: apply_step(frame, Step("group_stats", {
            "column": "x0", "by": "g", "stats": ["mean", "median", "std", "min", "max"]}), context=ctx),
         lambda: frame.merge(tr.groupby("g")["x0"].agg(["mean", "median", "std", "min", "max"]),
                             left_on="g", right_index=True, how="left")),
        ("rolling (8 cols × 3 stats)", lambda: apply_step(frame, Step("rolling", {
            "time_column": "t", "window": 10, "stats": ["mean", "std", "max"]}), context=ctx),
         lambda: frame.sort_values("t")[[f"x{i}" for i in range(8)]].rolling(10).agg(["mean", "std", "max"])),
        ("fourier sequence (64)", lambda: apply_step(frame, Step("fourier", {"column": "sig", "k": 3}), context=ctx),
         lambda: np.abs(np.fft.rfft(np.array([s.split() for s in frame["sig"]], dtype=float), axis=1))),
        ("fourier window (32)", lambda: apply_step(frame, Step("fourier", {
            "column": "x0", "mode": "window", "time_column": "t", "window": 32, "k": 3}), context=ctx),
         lambda: np.abs(np.fft.rfft(np.lib.stride_tricks.sliding_window_view(
             frame.sort_values("t")["x0"].to_numpy(), 32), axis=1))),
    ]
    return [(name, n, best_of(ours), best_of(plain)) for name, ours, plain in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 rows instead of 20,000")
    n = 2_000 if parser.parse_args().quick else 20_000
    print(f"{'step':28s} {'rows':>7s} {'workbench s':>12s} {'plain s':>9s} {'ratio':>6s}")
    for name, rows, ours, plain in run(n):
        print(f"{name:28s} {rows:7,d} {ours:12.3f} {plain:9.3f} {ours / plain:6.1f}")


if __name__ == "__main__":
    main()
