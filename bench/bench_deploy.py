"""Deploy benchmark: per family, scikit-learn vs onnxruntime latency, sizes and the quantization effect.

    .venv/bin/python bench/bench_deploy.py            # 600 single-row calls, 10k-row batch, 2,000-row training set
    .venv/bin/python bench/bench_deploy.py --quick    # 100 calls, 2k batch, 600 rows

Both runtimes run single-threaded with interleaved calls (see core/deploy/latency.py), on the
California-housing-like synthetic table below (8 numeric + 1 categorical column, missing cells).
Ratio = scikit-learn time / onnxruntime time (> 1: ONNX faster).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core.deploy.export import export_onnx  # noqa: E402
from core.deploy.latency import measure_latency  # noqa: E402
from core.deploy.parity import check_parity  # noqa: E402
from core.deploy.quantize import quantize_export  # noqa: E402
from core.models import FAMILIES, build_pipeline, feature_spec, prepare_xy  # noqa: E402


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    calls, batch, rows = (100, 2_000, 600) if args.quick else (600, 10_000, 2_000)
    params = {"rf": {"n_estimators": 100}, "hgb": {"max_iter": 100}, "mlp": {"hidden_layer_sizes": 128}}
    print(f"calls={calls} batch={batch:,} train rows={rows:,} (single-threaded, interleaved)\n")
    head = (f"{'family':<7}{'task':<6}{'skl p50':>9}{'onnx p50':>9}{'ratio':>7}{'skl p99':>9}{'onnx p99':>9}"
            f"{'skl batch':>11}{'onnx batch':>11}{'ratio':>7}{'skops B':>10}{'onnx B':>10}{'int8 B':>10}"
            f"{'score f32→int8':>18}{'parity':>9}")
    print(head)
    print("-" * len(head))
    for task in ("classification", "regression"):
        full = table(rows + max(400, rows // 4), task)
        train, held = full.iloc[:rows], full.iloc[rows:].reset_index(drop=True)
        spec = feature_spec(train, "target")
        X, y = prepare_xy(train, "target", spec)
        for fam in FAMILIES:
            t0 = time.perf_counter()
            model = build_pipeline(fam, task, spec, params.get(fam, {})).fit(X, y)
            export = export_onnx(model, spec, task, family=fam)
            parity = check_parity(model, export, held, spec)
            lat = measure_latency(model, export, held, spec, calls=calls, batch_rows=batch)
            q = quantize_export(export, held, held["target"])
            score = f"{q.score_before:.3f}→{q.score_after:.3f}" if q.score_before is not None else "—"
            print(f"{fam:<7}{task[:5]:<6}{lat.sklearn_p50_ms:>9.3f}{lat.onnx_p50_ms:>9.3f}{lat.single_speedup:>7.1f}"
                  f"{lat.sklearn_p99_ms:>9.3f}{lat.onnx_p99_ms:>9.3f}{lat.sklearn_batch_ms:>11.1f}{lat.onnx_batch_ms:>11.1f}"
                  f"{lat.batch_speedup:>7.1f}{lat.sklearn_bytes:>10,}{lat.onnx_bytes:>10,}{q.bytes_after:>10,}"
                  f"{score:>18}{'ok' if parity.equivalent else 'FAIL':>9}   ({time.perf_counter() - t0:.0f}s)",
                  flush=True)
            if not parity.equivalent:
                print(f"        {parity.verdict}", flush=True)
    print("\nms per call; p50/p99 over single-row calls; batch = one call on the whole batch. "
          "int8 B = size after dynamic quantization (shipped only when ≥ 5 % smaller).")


if __name__ == "__main__":
    main()
