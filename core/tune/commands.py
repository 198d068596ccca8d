"""``python -m core tune`` (run a study and register its best model) and ``tune-worker`` (join one)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.errors import DataError, TuneError
from core.models import FAMILIES

SAMPLERS = ("tpe", "random", "grid", "cmaes", "gp")
PRUNERS = ("median", "sh", "hyperband", "none")
METRICS = ("accuracy", "f1_macro", "roc_auc", "log_loss", "rmse", "mae", "r2")
# A stopped `tune` registers its best model only when at least this share of the budget finished
# (or with --register-partial): the best of 3 of 20 trials is not what the person asked for.
MIN_SHARE_TO_REGISTER = 0.5


def register(sub: Any) -> None:
    p = sub.add_parser("tune", help="run an Optuna study on a dataset version and register the best model",
                       description="Run a study (every trial an MLflow child run), refit the best "
                                   "configuration and register it as a new version of the project's model.")
    p.add_argument("--data", required=True, metavar="VERSION_OR_FILE",
                   help="dataset version (NAME, NAME:vN or run id) or a CSV / Parquet file (saved as a version first)")
    p.add_argument("--target", required=True, metavar="COL")
    p.add_argument("--model", required=True, choices=FAMILIES)
    p.add_argument("--trials", type=int, default=20, metavar="N", help="trial budget of the study (default 20)")
    p.add_argument("--metric", choices=METRICS, default=None, help="default accuracy / rmse")
    p.add_argument("--task", choices=("classification", "regression"), default=None, help="default: inferred")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe")
    p.add_argument("--pruner", choices=PRUNERS, default="median")
    p.add_argument("--folds", type=int, default=3, help="cross-validation folds (default 3)")
    p.add_argument("--space", default=None, metavar="JSON_OR_@FILE", help="search space (default: the family's)")
    p.add_argument("--storage", default=None, metavar="URL", help="Optuna storage (default $OPTUNA_STORAGE or the "
                   "workspace journal file)")
    p.add_argument("--study", default=None, metavar="NAME", help="study name (an existing one is resumed)")
    p.add_argument("--timeout", type=float, default=None, metavar="S", help="time budget in seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, metavar="OUT", help="write the result as JSON to this file")
    p.add_argument("--register-partial", action="store_true",
                   help=f"when stopped (SIGTERM / Ctrl-C) before {MIN_SHARE_TO_REGISTER:.0%}% of the budget finished, "
                        "still register the best model so far")
    p.set_defaults(func=run_tune)

    w = sub.add_parser("tune-worker", help="join a running study as one more worker process",
                       description="Run trials of an existing study until its budget is spent, --trials are done, "
                                   "or SIGTERM (the running trial is failed as 'stopped' and re-queued).")
    w.add_argument("--study", required=True, metavar="NAME")
    w.add_argument("--storage", default=None, metavar="URL")
    w.add_argument("--trials", type=int, default=None, metavar="N", help="at most N trials from this worker")
    w.add_argument("--seed", type=int, default=None, help="sampler seed (default: derived from the pid)")
    w.add_argument("--finalize", action="store_true",
                   help="when the budget is spent, refit and register the best model")
    w.set_defaults(func=run_worker)


def _print_trial(result: Any, trial: Any) -> None:
    value = f"{trial.value:.5g}" if trial.value is not None else "—"
    best = f"{result.best_value:.5g}" if result.best_value is not None else "—"
    note = trial.user_attrs.get("workbench.fail_reason", "")
    print(f"trial {trial.number:>4} {trial.state.name:<8} value {value:<10} best {best}"
          f"{'  ' + note if note else ''}", flush=True)


def _read_space(text: str | None) -> str | None:
    if text and text.startswith("@"):
        try:
            return Path(text[1:]).read_text()
        except OSError as err:
            raise TuneError(f"Cannot read the search-space file {text[1:]!r}: {err.strerror}.") from err
    return text


def _dataset_from_file(tracker: Any, project: str, path: Path, target: str) -> Any:
    """Save a file as a dataset version (stage data) so the study's lineage holds."""
    from core.data.files import read_for_models
    from core.tracking.datasets import log_dataset_version

    frame, _notes = read_for_models(path)
    if frame.empty:
        raise DataError(f"The file {path} has no rows.")
    with tracker.stage_run(project, "data", name=f"import {path.name}") as run_id:
        return log_dataset_version(tracker, run_id, project, frame, path.stem, target=target,
                                   source=str(path.resolve()))


@contextlib.contextmanager
def _interrupt_flag() -> Iterator[threading.Event]:
    """SIGTERM / SIGINT set a flag the objective polls between folds (a second signal exits at once)."""
    flag = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        if flag.is_set():
            raise SystemExit(128 + signum)
        print(f"signal {signum}: stopping after the current fold", file=sys.stderr, flush=True)
        flag.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _quiet() -> None:
    """Library chatter (schema hints, deprecations, download bars) is not for the terminal."""
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", module=r"optuna\.")  # "experimental" notices (multivariate TPE, retry)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _charter_metric(tracker: Any, project: str, target: str, task: str) -> str | None:
    """The project charter's success metric when it is about this target and task (None otherwise)."""
    try:
        from core.plan.charter import load_charter

        charter = load_charter(tracker, project)
    except Exception:  # noqa: BLE001 - no Plan stage or an unreadable charter: the task's default metric
        return None
    if charter is None or charter.target != target or charter.task != task:
        return None
    return charter.tune_metric()


def run_tune(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.models import infer_task
    from core.tracking.datasets import load_dataset, resolve_dataset
    from core.tune.storage import make_storage
    from core.tune.study import StudyConfig, counted_trials, finalize_study, open_study, run_trials

    if args.trials < 1:
        raise TuneError(f"--trials must be at least 1. Got {args.trials} instead.")
    _quiet()
    settings, tracker, project = settings_and_tracker(args)
    storage = make_storage(args.storage or settings.optuna_storage)
    path = Path(args.data)
    if path.suffix.lower() in (".csv", ".parquet", ".pq") or path.is_file():
        if not path.is_file():
            raise DataError(f"The data file {args.data!r} does not exist.")
        version = _dataset_from_file(tracker, project, path, args.target)
        print(f"saved {path.name} as dataset version {version.label} ({version.run_id})", flush=True)
    else:
        version = resolve_dataset(tracker, project, args.data)
    frame = load_dataset(tracker, version.run_id, part="train" if version.has_split else "all")
    if args.target not in frame.columns:
        raise DataError(f"The target column {args.target!r} is not in {version.label}; "
                        f"columns: {', '.join(map(str, list(frame.columns)[:15]))}.")
    missing = int(frame[args.target].isna().sum())
    if missing:
        print(f"note: {missing} row(s) with a missing {args.target!r} are left out of the study", flush=True)
    task = args.task or infer_task(frame[args.target].dropna())
    config = StudyConfig.create(project=project, data_run_id=version.run_id, target=args.target, task=task,
                                family=args.model, metric=args.metric or _charter_metric(tracker, project, args.target,
                                                                                           task),
                                space=_read_space(args.space),
                                study_name=args.study, n_trials=args.trials, timeout_s=args.timeout,
                                sampler=args.sampler, pruner=args.pruner, cv_folds=args.folds, seed=args.seed)
    print(f"study {config.study_name}: {config.family} on {version.label}, {config.metric} ({config.direction}), "
          f"{config.sampler} / {config.pruner}, {config.n_trials} trials", flush=True)
    with _interrupt_flag() as flag:
        result = run_trials(config, storage, tracker, on_trial=_print_trial, should_stop=flag.is_set)
    finished = counted_trials(open_study(storage, config.study_name)[0])
    partial = flag.is_set() and finished < config.n_trials
    mv = None
    if partial and not args.register_partial and finished < MIN_SHARE_TO_REGISTER * config.n_trials:
        print(f"stopped after {finished} of {config.n_trials} trials (under {MIN_SHARE_TO_REGISTER:.0%} of the "
              f"budget), so no model was registered; finish with `python -m core tune-worker --study "
              f"{config.study_name} --finalize` (or re-run this command), or pass --register-partial.", flush=True)
    else:
        mv = finalize_study(config, storage, tracker)
        source = f" from {finished} of {config.n_trials} trials" if partial else ""
        print(f"best {config.metric} {result.best_value:.5g} (trial {result.best_trial}, {result.n_complete} complete, "
              f"{result.n_pruned} pruned, {result.n_failed} failed) → registered {mv.name} v{mv.version}{source}",
              flush=True)
    if args.json:
        out = {"study_name": result.study_name, "n_complete": result.n_complete, "n_pruned": result.n_pruned,
               "n_failed": result.n_failed, "best_value": result.best_value, "best_params": result.best_params,
               "best_trial": result.best_trial, "parent_run_id": result.parent_run_id,
               "trials_finished": finished, "n_trials": config.n_trials, "stopped": flag.is_set(),
               "model": {"name": mv.name, "version": mv.version, "uri": mv.uri} if mv else None,
               "data_version": version.run_id, "metric": config.metric, "direction": config.direction}
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))
    return 0


def run_worker(args: argparse.Namespace) -> int:
    import dataclasses

    from core.config import Settings
    from core.tracking import Tracker
    from core.tune.storage import make_storage
    from core.tune.study import TRACKING_ATTR, counted_trials, finalize_study, open_study, run_trials

    if args.trials is not None and args.trials < 1:
        raise TuneError(f"--trials must be at least 1. Got {args.trials} instead.")
    _quiet()
    settings = Settings.from_env()
    storage = make_storage(args.storage or settings.optuna_storage)
    seed = args.seed if args.seed is not None else os.getpid()
    study, config = open_study(storage, args.study, seed)
    recorded_uri = study.user_attrs.get(TRACKING_ATTR)
    if recorded_uri and not os.environ.get("MLFLOW_TRACKING_URI"):
        settings = dataclasses.replace(settings, tracking_uri=recorded_uri)
    tracker = Tracker.connect(settings)
    print(f"worker {os.getpid()} joined study {config.study_name} ({config.family}, {config.metric}, "
          f"budget {config.n_trials})", flush=True)
    with _interrupt_flag() as flag:
        result = run_trials(config, storage, tracker, n_trials=args.trials, on_trial=_print_trial,
                            should_stop=flag.is_set, seed=seed)
    if flag.is_set():
        print(f"stopped: {result.n_complete} complete, {result.n_pruned} pruned, {result.n_failed} failed", flush=True)
        return 0
    print(f"done: {result.n_complete} complete, {result.n_pruned} pruned, {result.n_failed} failed; "
          f"best {result.best_value}", flush=True)
    study, _ = open_study(storage, args.study)
    # Fix by the scale-out helper: only RUNNING trials block finalizing. Once the budget is spent
    # nobody runs a WAITING trial (e.g. the re-queued trial of a worker killed near the end), so
    # waiting for it made `--finalize` silently skip registration forever.
    running = [t for t in study.get_trials(deepcopy=False) if t.state.name == "RUNNING"]
    if args.finalize and counted_trials(study) >= config.n_trials and not running:
        mv = finalize_study(config, storage, tracker)
        print(f"registered {mv.name} v{mv.version}", flush=True)
    return 0
