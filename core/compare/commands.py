"""``python -m core compare`` and ``python -m core promote``.

Exit codes: 0 done / gate passed, 4 gate refused, 2 bad input (one ``error:`` line).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="evaluate registered model versions side by side on one dataset version",
                       description="Evaluate model versions on the held-out rows (test part if split) of a dataset "
                                   "version; log a compare run. Models: 3, v3, champion, NAME/3 or NAME@champion.")
    p.add_argument("--models", nargs="+", required=True, metavar="MODEL", help="model versions to compare")
    p.add_argument("--data", required=True, metavar="VERSION", help="dataset version: NAME, NAME:vN or run id")
    p.add_argument("--json", metavar="OUT", help="also write metrics, best per metric and notes as JSON here")
    p.add_argument("--no-importance", action="store_true", help="skip permutation importance (faster)")
    p.set_defaults(func=_compare)

    q = sub.add_parser("promote", help="promote a model version to champion through the gate (exit 4 if refused)",
                       description="Evaluate champion and challenger on the same data; move the champion alias only "
                                   "if the challenger beats it on METRIC by at least MARGIN.")
    q.add_argument("--version", required=True, help="challenger version (number, NAME/3 or an alias)")
    q.add_argument("--data", required=True, metavar="VERSION", help="dataset version to evaluate on")
    q.add_argument("--metric", default="accuracy", help="gate metric (default accuracy; e.g. f1_macro, r2, rmse)")
    q.add_argument("--margin", type=float, default=0.0, help="minimum improvement over the champion (default 0)")
    q.set_defaults(func=_promote)


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4g}"


def _compare(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.compare.record import run_comparison

    _, tracker, project = settings_and_tracker(args)
    evaluation, data, part, run_id = run_comparison(tracker, project, args.models, args.data,
                                                    importance=not args.no_importance)
    values = evaluation.metrics_dict()
    names = list(evaluation.models)
    metrics = [*evaluation.metrics.index, *evaluation.resources.index]
    width = max(len(m) for m in metrics) + 2
    print(f"{data.label} ({part}, {evaluation.rows} rows, {evaluation.task}) — * marks the best")
    print("metric".ljust(width) + "".join(n.rjust(14) for n in names))
    for m in metrics:
        cells = [(_fmt(values[n][m]) + ("*" if evaluation.best.get(m) == n else " ")).rjust(14) for n in names]
        print(m.ljust(width) + "".join(cells))
    for note in evaluation.notes:
        print(f"note: {note}")
    print(f"logged compare run {run_id}")
    if args.json:
        out = {"project": project, "data": data.ref, "part": part, "rows": evaluation.rows, "task": evaluation.task,
               "metrics": values, "best": dict(evaluation.best), "notes": list(evaluation.notes), "run_id": run_id}
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


def _promote(args: argparse.Namespace) -> int:
    from core.cli import EXIT_GATE_REFUSED, settings_and_tracker
    from core.compare.gate import promote

    _, tracker, project = settings_and_tracker(args)
    decision = promote(tracker, project, args.version, args.data, args.metric, args.margin)
    print(("PASSED: " if decision.passed else "REFUSED: ") + decision.reason)
    print(f"logged compare run {decision.run_id}")
    if not decision.passed:
        sys.stderr.write("gate refused: aliases unchanged\n")
        return EXIT_GATE_REFUSED
    return 0
