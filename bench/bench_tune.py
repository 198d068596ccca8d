"""Tune benchmark: workbench overhead per trial, and trials/minute with 1 and 2 workers.

1. Overhead: the same cross-validated objective (random forest on penguins, ~1 s a
   trial on a quiet machine, same sampler seed so the same parameters) run N times by
   a) a plain in-memory Optuna study, and
   b) the workbench's ``run_trials`` (journal storage + one MLflow child run per trial
      in one log_batch + parent-run bookkeeping).
   overhead/trial = (b − a) / N, reported against the mean trial time (budget ≤ 10 %).
2. Throughput: ``tune-worker`` processes on one shared journal file; trials/minute are
   measured from the storage (first trial start → last trial end), so process start-up
   is excluded. Speed-up 2 workers / 1 worker (budget ≥ 1.7× on 2 cores).

Run: ``.venv/bin/python bench/bench_tune.py [--quick]`` (a quiet machine matters for part 2).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPACE = {"n_estimators": {"kind": "int", "low": 160, "high": 240}, "max_depth": {"kind": "int", "low": 3, "high": 8},
         "min_samples_leaf": {"kind": "int", "low": 1, "high": 5}}


def _setup(home: Path):  # noqa: ANN202
    import palmerpenguins

    from core.config import Settings
    from core.tracking import Tracker
    from core.tracking.datasets import log_dataset_version

    settings = Settings.from_env({"WORKBENCH_HOME": str(home)})
    tracker = Tracker.connect(settings)
    frame = palmerpenguins.load_penguins().dropna().reset_index(drop=True)
    with tracker.stage_run("bench", "data", name="penguins") as rid:
        version = log_dataset_version(tracker, rid, "bench", frame, "penguins", target="species")
    return settings, tracker, version


def _config(version, name: str, n: int):  # noqa: ANN001, ANN202
    from core.tune.study import StudyConfig

    return StudyConfig.create(project="bench", data_run_id=version.run_id, target="species", task="classification",
                              family="rf", space=SPACE, study_name=name, n_trials=n, pruner="none", sampler="random",
                              seed=7)


def overhead(settings, tracker, version, n: int) -> dict:  # noqa: ANN001
    import optuna

    from core.tune.objective import load_training_data, make_objective
    from core.tune.storage import make_storage
    from core.tune.study import make_pruner, make_sampler, run_trials

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = _config(version, "overhead", n)
    data = load_training_data(tracker, config)
    plain = optuna.create_study(direction=config.direction, sampler=make_sampler(config), pruner=make_pruner(config))
    objective = make_objective(config, data)
    objective(plain.ask())  # warm-up (imports, first fit) outside both timings
    plain = optuna.create_study(direction=config.direction, sampler=make_sampler(config), pruner=make_pruner(config))
    t0 = time.perf_counter()
    plain.optimize(objective, n_trials=n)
    t_plain = time.perf_counter() - t0
    storage = make_storage(settings.optuna_storage)
    t0 = time.perf_counter()
    run_trials(config, storage, tracker)
    t_wb = time.perf_counter() - t0
    per_trial = t_plain / n
    over = (t_wb - t_plain) / n
    return {"n": n, "plain_s": t_plain, "wb_s": t_wb, "trial_s": per_trial, "overhead_s": over,
            "ratio": over / per_trial}


def throughput(settings, tracker, version, n: int, workers: int) -> dict:  # noqa: ANN001
    from core.tune.storage import make_storage
    from core.tune.study import create_or_load_study, open_study

    name = f"tp-{workers}"
    storage = make_storage(settings.optuna_storage)
    create_or_load_study(_config(version, name, n), storage, tracker)
    env = {**os.environ, "WORKBENCH_HOME": str(settings.home), "MLFLOW_TRACKING_URI": settings.tracking_uri}
    procs = [subprocess.Popen([sys.executable, "-m", "core", "tune-worker", "--study", name, "--storage",
                               settings.optuna_storage, "--seed", str(100 + i)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(workers)]
    for p in procs:
        p.wait(timeout=3600)
    study, _ = open_study(storage, name)
    trials = [t for t in study.get_trials() if t.state.is_finished() and t.datetime_complete]
    span = (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()
    return {"workers": workers, "trials": len(trials), "span_s": span, "per_min": 60 * len(trials) / span}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials (a smoke run)")
    args = parser.parse_args()
    n_over, n_tp = (6, 8) if args.quick else (20, 24)
    home = Path(tempfile.mkdtemp(prefix="bench-tune-"))
    try:
        settings, tracker, version = _setup(home)
        load = os.getloadavg()[0]
        o = overhead(settings, tracker, version, n_over)
        one = throughput(settings, tracker, version, n_tp, 1)
        two = throughput(settings, tracker, version, n_tp, 2)
        load_end = os.getloadavg()[0]
        print(f"\nTune benchmark ({'quick' if args.quick else 'full'}; {os.cpu_count()} cores; "
              f"load average {load:.1f} at start, {load_end:.1f} at end)\n")
        print("| measure | value | budget |")
        print("|---|---|---|")
        print(f"| plain in-memory Optuna, {o['n']} trials | {o['plain_s']:.1f} s ({o['trial_s']:.2f} s/trial) | |")
        print(f"| workbench run_trials (journal + MLflow), {o['n']} trials | {o['wb_s']:.1f} s | |")
        print(f"| overhead per trial | {o['overhead_s'] * 1000:.0f} ms = {o['ratio'] * 100:.1f} % of a trial "
              "| ≤ 10 % |")
        for r in (one, two):
            print(f"| {r['workers']} worker(s), shared journal | {r['per_min']:.1f} trials/min "
                  f"({r['trials']} in {r['span_s']:.0f} s) | |")
        print(f"| speed-up 2 / 1 workers | {two['per_min'] / one['per_min']:.2f}× | ≥ 1.7× |")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
