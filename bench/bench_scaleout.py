"""Scale-out benchmark: team servers (PostgreSQL 15 + ``mlflow server``) against the embedded default.

1. Trials per minute of one study with 1 and 2 ``tune-worker`` processes on the PostgreSQL Optuna
   storage (trials logged to the MLflow server). "steady" counts from the first trial's start to
   the last trial's end (what a long study sees); "wall" includes process start-up.
2. Per-call latency of the workbench's common tracking calls, MLflow server vs embedded SQLite:
   log a run (start, params, metrics, end), search runs, save and load a dataset version.

Usage: ``python bench/bench_scaleout.py [--quick]``. Starts and stops its own servers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import Settings  # noqa: E402
from tests.integration.servers import team_servers  # noqa: E402

PROJECT = "bench"


def _frame(rows: int):
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=rows, n_features=12, n_informative=6, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["target"] = np.where(y == 1, "yes", "no")
    return frame


def _env(servers, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "OPTUNA_", "WORKBENCH_"))}
    env.update(servers.env(home), MLFLOW_ENABLE_ASYNC_LOGGING="false", GIT_PYTHON_REFRESH="quiet")
    return env


def trials_per_minute(servers, tracker, env: dict[str, str], data_run: str, workers: int, n_trials: int) -> dict:
    import optuna

    from core.tune.storage import make_storage
    from core.tune.study import StudyConfig, create_or_load_study

    name = f"bench-{workers}w-{uuid.uuid4().hex[:6]}"
    space = json.dumps({"n_estimators": {"kind": "int", "low": 20, "high": 60},
                        "max_depth": {"kind": "int", "low": 3, "high": 10}})
    config = StudyConfig.create(project=PROJECT, data_run_id=data_run, target="target", task="classification",
                                family="rf", space=space, study_name=name, n_trials=n_trials, pruner="none",
                                sampler="random", cv_folds=3)
    create_or_load_study(config, make_storage(servers.optuna_storage), tracker)
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "core", "--project", PROJECT, "tune-worker", "--study", name,
                               "--storage", servers.optuna_storage, "--seed", str(i)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for i in range(workers)]
    try:
        for p in procs:
            _, err = p.communicate(timeout=900)
            if p.returncode != 0:
                raise RuntimeError(f"worker failed: {err[-2000:]}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    wall = time.perf_counter() - start
    trials = [t for t in optuna.load_study(study_name=name, storage=servers.optuna_storage).trials
              if t.state.name == "COMPLETE"]
    first = min(t.datetime_start for t in trials)
    last = max(t.datetime_complete for t in trials)
    steady = (last - first).total_seconds()
    mean_trial = statistics.mean((t.datetime_complete - t.datetime_start).total_seconds() for t in trials)
    return {"workers": workers, "trials": len(trials), "steady_s": steady, "wall_s": wall,
            "per_min_steady": 60 * len(trials) / steady, "per_min_wall": 60 * len(trials) / wall,
            "mean_trial_s": mean_trial}


def _timed(fn, repeat: int) -> float:
    fn()  # warm-up (connections, experiment id cache)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def call_latencies(tracker, repeat: int, rows: int) -> dict[str, float]:
    from core.tracking.datasets import load_dataset, log_dataset_version

    frame = _frame(rows)

    def log_a_run() -> None:
        rid = tracker.start_run(PROJECT, "tune", name="bench", params={f"p{i}": i for i in range(5)})
        tracker.log_metrics(rid, {f"m{i}": i / 10 for i in range(5)})
        tracker.end_run(rid)

    for _ in range(30):  # something to search
        log_a_run()
    with tracker.stage_run(PROJECT, "data", name="bench-data") as ds_run:
        log_dataset_version(tracker, ds_run, PROJECT, frame, "bench-table", target="target")

    def load_cold() -> None:  # download from the store (load_dataset caches versions on disk by run id)
        shutil.rmtree(tracker.settings.cache_dir / "datasets" / ds_run, ignore_errors=True)
        load_dataset(tracker, ds_run)

    def save_version() -> None:
        with tracker.stage_run(PROJECT, "data", name="bench-save") as rid:
            log_dataset_version(tracker, rid, PROJECT, frame, "bench-save", target="target")

    return {
        "log a run (start+params+metrics+end)": _timed(log_a_run, repeat),
        "search runs (project, ~30-60 runs)": _timed(lambda: tracker.runs(PROJECT, stage="tune"), repeat),
        f"save a dataset version ({rows} rows)": _timed(save_version, max(3, repeat // 3)),
        f"load a dataset version, cold ({rows} rows)": _timed(load_cold, repeat),
        f"load a dataset version, cached ({rows} rows)": _timed(lambda: load_dataset(tracker, ds_run), repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials and repetitions")
    parser.add_argument("--latency-only", action="store_true", help="skip the trials-per-minute part")
    args = parser.parse_args()
    n_trials, repeat, rows = (6, 5, 500) if args.quick else (16, 15, 2000)

    from core.tracking import Tracker
    from core.tracking.datasets import log_dataset_version

    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        local = Tracker.connect(Settings.from_env({"WORKBENCH_HOME": str(Path(tmp) / "local")}))
        local_lat = call_latencies(local, repeat, rows)
        t0 = time.perf_counter()
        with team_servers(mlflow_workers=1) as servers:  # 2+ uvicorn workers restart-loop on a loaded box
            startup = time.perf_counter() - t0
            env = _env(servers, Path(tmp) / "team")
            remote = Tracker.connect(Settings.from_env(env))
            remote_lat = call_latencies(remote, repeat, rows)
            with remote.stage_run(PROJECT, "data", name="tune-data") as data_run:
                log_dataset_version(remote, data_run, PROJECT, _frame(600), "tune-table", target="target")
            rates = [] if args.latency_only else [
                trials_per_minute(servers, remote, env, data_run, w, n_trials) for w in (1, 2)]

    print(f"\nTeam servers up in {startup:.1f} s (initdb + pg_ctl + mlflow server migrations); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n")
    if rates:
        _print_rates(rates)
    print("\nPer-call latency (median ms): MLflow server on PostgreSQL (fsync off: a test cluster) vs embedded SQLite")
    print(f"{'call':<44} {'SQLite':>8} {'server':>8} {'ratio':>6}")
    for key, local_ms in local_lat.items():
        print(f"{key:<44} {local_ms:>8.1f} {remote_lat[key]:>8.1f} {remote_lat[key] / local_ms:>5.2f}x")


def _print_rates(rates: list[dict]) -> None:
    print("Trials per minute, one study on the PostgreSQL Optuna storage, trials logged to the MLflow server")
    print(f"{'workers':>7} {'trials':>6} {'mean trial s':>12} {'steady /min':>11} {'wall /min':>9} {'speed-up':>8}")
    for r in rates:
        print(f"{r['workers']:>7} {r['trials']:>6} {r['mean_trial_s']:>12.2f} {r['per_min_steady']:>11.1f} "
              f"{r['per_min_wall']:>9.1f} {r['per_min_steady'] / rates[0]['per_min_steady']:>7.2f}x")


if __name__ == "__main__":
    main()
