"""Benchmark the cleaning recipe: each step (fit + apply + change report) against the plain library call.

    .venv/bin/python bench/bench_recipe.py [--quick]

Prints one row per step: workbench seconds, plain pandas / scikit-learn seconds for the same
transformation, and their ratio. The workbench also computes the change report (cells and rows
changed) for the preview, which the plain call does not — that is most of the difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.recipe import Recipe, Step, apply_step, replay  # noqa: E402

TOKENS = ["NA", "-", "?", ""]


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """20 columns as the loader delivers a dirty CSV: 8 numbers-as-text with tokens, 8 text, 4 floats."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for i in range(8):
        v = rng.normal(size=n).round(3).astype(str).astype(object)
        v[rng.random(n) < 0.05] = rng.choice(TOKENS)
        cols[f"num{i}"] = v
    for i in range(8):
        cols[f"txt{i}"] = rng.choice(["alpha", " beta", "gamma ", "delta", "-"], size=n).astype(object)
    for i in range(4):
        v = rng.normal(size=n)
        v[rng.random(n) < 0.03] = np.nan
        cols[f"f{i}"] = v
    return pd.DataFrame(cols)


def timed(fn) -> tuple[float, object]:  # noqa: ANN001
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(n: int) -> list[tuple[str, int, float, float]]:
    raw = make_frame(n)
    text = [f"txt{i}" for i in range(8)]
    rows: list[tuple[str, int, float, float]] = []

    def both(name: str, step: Step, frame: pd.DataFrame, baseline) -> pd.DataFrame:  # noqa: ANN001
        ours, result = timed(lambda: apply_step(frame, step))
        plain, _ = timed(lambda: baseline(frame))
        rows.append((name, n, ours, plain))
        return result.frame

    def plain_tokens(f: pd.DataFrame) -> pd.DataFrame:
        out = f.replace(TOKENS, np.nan)
        for c in [f"num{i}" for i in range(8)]:
            out[c] = pd.to_numeric(out[c])
        return out

    clean = both("missing_tokens", Step("missing_tokens", {"tokens": TOKENS}), raw, plain_tokens)
    clean = both("trim_case", Step("trim_case", {"columns": text, "case": "lower"}), clean,
                 lambda f: f[text].apply(lambda s: s.str.strip().str.lower()))
    clean = both("drop_duplicates", Step("drop_duplicates"), clean, lambda f: f.drop_duplicates())
    clean = both("impute median", Step("impute", {"strategy": "median"}), clean,
                 lambda f: f.fillna(f.median(numeric_only=True)))
    clean = both("impute most_frequent", Step("impute", {"strategy": "most_frequent", "columns": text}), clean,
                 lambda f: f[text].fillna(f[text].mode().iloc[0]))
    numeric = [c for c in clean.columns if pd.api.types.is_float_dtype(clean[c])]

    def plain_clip(f: pd.DataFrame) -> pd.DataFrame:
        q1, q3 = f[numeric].quantile(0.25), f[numeric].quantile(0.75)
        return f[numeric].clip(q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1), axis=1)

    clean = both("outliers clip", Step("outliers", {"action": "clip"}), clean, plain_clip)

    def plain_scale(f: pd.DataFrame):  # noqa: ANN202
        from sklearn.preprocessing import StandardScaler

        return StandardScaler().fit_transform(f[numeric])

    clean = both("scale zscore", Step("scale", {"method": "zscore"}), clean, plain_scale)
    clean = both("encode onehot", Step("encode", {"columns": text}), clean, lambda f: pd.get_dummies(f, columns=text))

    def plain_pca(f: pd.DataFrame):  # noqa: ANN202
        from sklearn.decomposition import PCA
        from sklearn.preprocessing import StandardScaler

        return PCA(n_components=3, svd_solver="full").fit_transform(StandardScaler().fit_transform(f[numeric]))

    both("pca (3 of 12)", Step("pca", {"columns": numeric, "n_components": 3}), clean, plain_pca)

    recipe = Recipe((Step("missing_tokens", {"tokens": TOKENS}), Step("trim_case", {"columns": text}),
                     Step("drop_duplicates"), Step("impute", {"strategy": "median"}), Step("scale"),
                     Step("encode", {"columns": text}), Step("split")))
    fit_s, fitted = timed(lambda: replay(raw, recipe, "fit"))
    transform_s, _ = timed(lambda: replay(raw, fitted.recipe, "transform"))
    rows.append(("replay fit (7 steps)", n, fit_s, float("nan")))
    rows.append(("replay transform (7 steps)", n, transform_s, float("nan")))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k rows only")
    args = parser.parse_args()
    sizes = (20_000,) if args.quick else (100_000, 1_000_000)
    import sklearn.decomposition  # noqa: F401 - import cost is not part of any step
    import sklearn.preprocessing  # noqa: F401

    print(f"{'step':28s} {'rows':>10s} {'workbench s':>12s} {'plain s':>9s} {'ratio':>7s}")
    for n in sizes:
        for name, rows, ours, plain in run(n):
            ratio = f"{ours / plain:6.1f}x" if plain == plain and plain > 0 else "    -"
            plain_text = f"{plain:9.3f}" if plain == plain else "        -"
            print(f"{name:28s} {rows:>10,d} {ours:12.3f} {plain_text} {ratio:>7s}")


if __name__ == "__main__":
    main()
