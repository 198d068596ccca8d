"""The promotion gate's paired tests: time per metric at 10k held-out rows, 2,000 resamples.

Usage: python bench/bench_significance.py [--rows N] [--resamples B]

Prints a table (best of 3 after a warm-up). Budget (issue 13): accuracy-like metrics well
under a second; the looped scikit-learn bootstrap is timed on 100 resamples for the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _best(fn, repeats: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    import numpy as np
    from sklearn.metrics import f1_score

    from core.compare.significance import gate_significance, paired_bootstrap

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--resamples", type=int, default=2000)
    args = parser.parse_args()
    n, b = args.rows, args.resamples
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    champ = np.where(rng.random(n) < 0.80, y, rng.integers(0, 3, n))
    chall = np.where(rng.random(n) < 0.82, y, rng.integers(0, 3, n))
    logits = rng.normal(size=(n, 3)) + 1.5 * np.eye(3)[y]
    pa = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    pb = np.exp(logits * 1.1) / np.exp(logits * 1.1).sum(1, keepdims=True)
    yr = rng.normal(size=n)
    ra, rb = yr + rng.normal(0, 1.0, n), yr + rng.normal(0, 0.97, n)
    cases = [(m, "classification", y, champ, chall, None, None) for m in
             ("accuracy", "balanced_accuracy", "f1_macro", "precision_macro", "recall_macro")]
    cases += [(m, "classification", y, champ, chall, pa, pb) for m in ("roc_auc", "log_loss")]
    cases += [(m, "regression", yr, ra, rb, None, None) for m in ("rmse", "mae", "mse", "r2")]
    print(f"{n:,} rows, {b:,} resamples (3 classes for classification)")
    print(f"{'metric':<18} {'test':<17} {'seconds':>8}")
    for metric, task, yy, a, c, qa, qb in cases:
        result = gate_significance(metric, task, yy, a, c, qa, qb, classes=[0, 1, 2], n_resamples=b)
        seconds = _best(lambda: gate_significance(metric, task, yy, a, c, qa, qb, classes=[0, 1, 2],  # noqa: B023
                                                  n_resamples=b))
        print(f"{metric:<18} {result.test:<17} {seconds:>8.3f}")
    looped = _best(lambda: paired_bootstrap(lambda t, p: f1_score(t, p, average="macro"), y, champ, chall,
                                            higher_is_better=True, n_resamples=100), repeats=1)
    print(f"{'f1_macro (sklearn loop, 100 resamples)':<36} {looped:>8.3f}  "
          f"→ {looped * b / 100:.1f} s for {b:,}")


if __name__ == "__main__":
    main()
