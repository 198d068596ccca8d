"""Benchmark of the Compare stage: evaluation parts and statistics against the plain library calls.

    .venv/bin/python bench/bench_compare.py [--quick]

Prints one table: what was timed, our time, the plain library call's time, and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(fn, repeat: int = 3) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repeats")
    args = parser.parse_args()
    n = 1000 if args.quick else 5000
    repeat = 2 if args.quick else 5

    import pandas as pd
    from scipy import stats
    from sklearn import metrics as skm
    from sklearn.datasets import make_classification
    from statsmodels.stats.proportion import proportions_ztest

    from core.compare import abtest, measures
    from core.compare.evaluate import evaluate_fitted
    from core.models import build_pipeline, feature_spec, prepare_xy

    X, y = make_classification(n_samples=2 * n, n_features=12, n_informative=6, n_classes=3, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(12)]).assign(target=np.array(["a", "b", "c"])[y])
    train, test = frame.iloc[:n], frame.iloc[n:]
    spec = feature_spec(train, "target")
    Xt, yt = prepare_xy(train, "target", spec)
    models = {"linear": build_pipeline("linear", "classification", spec).fit(Xt, yt),
              "rf": build_pipeline("rf", "classification", spec, {"n_estimators": 50}).fit(Xt, yt)}
    Xe, ye = test.drop(columns="target"), test["target"].to_numpy()
    rows: list[tuple[str, float, float | None]] = []

    def plain_predict() -> None:
        for m in models.values():
            m.predict(Xe)
            m.predict_proba(Xe)

    def plain_metrics() -> None:
        for m in models.values():
            p = m.predict(Xe)
            skm.accuracy_score(ye, p)
            skm.f1_score(ye, p, average="macro")
            skm.log_loss(ye, m.predict_proba(Xe), labels=m.classes_)
            skm.roc_auc_score(ye, m.predict_proba(Xe), multi_class="ovr")

    core_only = timed(lambda: evaluate_fitted(models, test, "target", importance=False, resources=False), repeat)
    rows.append((f"evaluate 2 models, metrics+curves ({n} rows)", core_only, timed(plain_metrics, repeat)))
    rows.append(("  of which predict + predict_proba", timed(plain_predict, repeat), None))
    res = timed(lambda: measures.resource_figures(models["rf"], Xe), 1)
    rows.append(("resource figures, one model (30 single + 3×1k)", res, None))
    imp = timed(lambda: measures.permutation_importances(models["rf"], Xe, test["target"], "rf"), 1)
    rows.append(("permutation importance, 300 rows × 3 repeats", imp, None))
    full = timed(lambda: evaluate_fitted(models, test, "target"), 1)
    rows.append(("evaluate 2 models, everything", full, None))

    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, n), rng.normal(0.1, 1, n)
    reps = 50 if args.quick else 200
    rows.append(("two-proportion z-test", timed(lambda: [abtest.two_proportion_ztest(400, n, 450, n)
                                                          for _ in range(reps)]) / reps,
                 timed(lambda: [proportions_ztest([450, 400], [n, n]) for _ in range(reps)]) / reps))
    rows.append(("Welch's t-test", timed(lambda: [abtest.welch_ttest(a, b) for _ in range(reps)]) / reps,
                 timed(lambda: [stats.ttest_ind(b, a, equal_var=False).confidence_interval()
                                for _ in range(reps)]) / reps))
    rows.append(("bootstrap CI, 4000 resamples", timed(lambda: abtest.bootstrap_diff(a, b), repeat),
                 timed(lambda: stats.bootstrap((b, a), lambda x, y, axis: x.mean(axis) - y.mean(axis),
                                               n_resamples=4000, method="percentile", vectorized=True), repeat)))

    with tempfile.TemporaryDirectory() as tmp:
        from core.config import Settings
        from core.tracking import Tracker
        from tests.compare_seed import seed_project

        tracker = Tracker.connect(Settings.from_env({"WORKBENCH_HOME": tmp}))
        seed_project(tracker, "bench")
        from core.compare.gate import promote

        rows.append(("promote: first gate (evaluate + log + alias)", timed(
            lambda: promote(tracker, "bench", 1, "iris", "accuracy", 0.0), 1), None))
        rows.append(("promote: v2 vs champion v1", timed(
            lambda: promote(tracker, "bench", 2, "iris", "accuracy", 0.0), 1), None))

    print(f"\n{'what':<52}{'ours':>12}{'plain':>12}{'ratio':>8}")
    for what, ours, plain in rows:
        fmt = (lambda s: f"{s * 1000:,.2f} ms") if ours < 1 else (lambda s: f"{s:,.2f} s")
        print(f"{what:<52}{fmt(ours):>12}{(fmt(plain) if plain else '—'):>12}"
              f"{(f'{ours / plain:.2f}×' if plain else '—'):>8}")


if __name__ == "__main__":
    main()
