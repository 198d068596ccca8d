"""``python -m core status``: which backends this machine uses, and whether they answer."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import TrackingError, TuneError


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="show the tracking store and Optuna storage in use and whether they answer",
                       description="Probe MLFLOW_TRACKING_URI and OPTUNA_STORAGE (the two variables that switch "
                                   "the workbench to team servers). Exit 0 when both answer, 2 otherwise.")
    p.set_defaults(func=run_status)


def run_status(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.scaleout.status import backend_status

    settings, tracker, _project = settings_and_tracker(args)
    tracking, tuning = backend_status(settings, tracker)
    for s in (tracking, tuning):
        state = f"ok ({s.latency_ms:.0f} ms)" if s.ok else "DOES NOT ANSWER"
        print(f"{s.role:<9} {s.kind:<16} {state:<18} {s.where}", flush=True)
    if not tracking.ok:
        raise TrackingError(tracking.message)
    if not tuning.ok:
        raise TuneError(tuning.message)
    return 0
