"""``python -m core compare``, ``promote``, ``shadow`` and ``ab``.

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
    q.add_argument("--metric", default=None,
                   help="gate metric (default: the model's promotion metric, set by its first promotion; else the "
                        "charter's; else accuracy / rmse); business_cost = the charter's mean cost per prediction "
                        "(lower is better), when the charter sets costs")
    q.add_argument("--change-metric", action="store_true",
                   help="allow --metric to change the registered model's promotion metric")
    q.add_argument("--margin", type=float, default=None,
                   help="minimum improvement over the champion (default: the charter's, else 0.005)")
    q.add_argument("--alpha", type=float, default=0.05, help="significance level of the paired test (default 0.05)")
    q.set_defaults(func=_promote)

    c = sub.add_parser("challenger", help="give a model version the challenger alias (what shadow / ab compare)",
                       description="Set the project's challenger alias; the champion moves only through `promote`.")
    c.add_argument("--version", required=True, help="version (number, NAME/3 or an alias)")
    c.set_defaults(func=_challenger)

    s = sub.add_parser("shadow", help="replay a dataset version through the champion and challengers",
                       description="Only the champion's predictions are served; every model's are logged in a "
                                   "compare run with the disagreement rate (and who was right, when labels exist).")
    s.add_argument("--data", required=True, metavar="VERSION", help="dataset version (all rows are replayed)")
    s.add_argument("--challengers", nargs="*", default=[], metavar="MODEL",
                   help="challenger versions (default: the one holding the challenger alias)")
    s.add_argument("--model", default=None, metavar="NAME",
                   help="registered model (prediction job) whose champion serves (default: the project's only one)")
    s.add_argument("--json", metavar="OUT", help="also write the figures as JSON here")
    s.set_defaults(func=_shadow)

    a = sub.add_parser("ab", help="A/B analysis of a batch between champion (A) and challenger (B)",
                       description="Split the rows of a dataset version between champion and challenger (or use an "
                                   "arm column), test the difference and log a compare run.")
    a.add_argument("--data", required=True, metavar="VERSION", help="dataset version holding the batch")
    a.add_argument("--column", required=True, help="the label column (--kind label) or the outcome column")
    a.add_argument("--kind", choices=("label", "outcome"), default="label",
                   help="label: each arm's model predicts its rows, the outcome is being right (default); "
                        "outcome: a measured value per row (conversion 0/1, revenue)")
    a.add_argument("--fraction", type=float, default=0.5, help="share of rows for B, in (0, 1) (default 0.5)")
    a.add_argument("--arm-column", help="use this column's A / B assignment instead of a random split")
    a.add_argument("--test", default="auto", help="auto, ztest, welch or bootstrap (default auto)")
    a.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    a.add_argument("--mde", type=float, default=None, help="minimum detectable effect, for the power warning")
    a.add_argument("--seed", type=int, default=0, help="seed of the random split (default 0)")
    a.add_argument("--model", default=None, metavar="NAME",
                   help="registered model whose champion (A) and challenger (B) are compared (default: the only one)")
    a.add_argument("--json", metavar="OUT", help="also write the result as JSON here")
    a.set_defaults(func=_ab)


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
    from core.compare.gate import DEFAULT_MARGIN, promote
    from core.compare.heldout import NoHeldOutRows

    _, tracker, project = settings_and_tracker(args)
    margin = args.margin if args.margin is not None else _charter_margin(tracker, project, DEFAULT_MARGIN)
    try:
        decision = promote(tracker, project, args.version, args.data, args.metric, margin, alpha=args.alpha,
                           change_metric=args.change_metric)
    except NoHeldOutRows as err:
        sys.stderr.write(f"error: {err}\n")
        sys.stderr.write("gate refused: aliases unchanged\n")
        return EXIT_GATE_REFUSED
    print(("PASSED: " if decision.passed else "REFUSED: ") + decision.reason)
    print(f"held-out rows: {decision.rows:,}" + (f" ({decision.removed_rows:,} training rows left out)"
                                                  if decision.removed_rows else ""))
    for caution in decision.cautions:
        print(f"caution: {caution}")
    print(f"logged compare run {decision.run_id}")
    if not decision.passed:
        sys.stderr.write("gate refused: aliases unchanged\n")
        return EXIT_GATE_REFUSED
    return 0


def _charter_margin(tracker, project: str, default: float) -> float:  # noqa: ANN001
    """The charter's promotion margin when the project has a charter, else ``default``."""
    try:
        from core.plan.charter import load_charter

        charter = load_charter(tracker, project)
    except Exception:  # noqa: BLE001 - no Plan stage or no charter: the default margin
        return default
    return float(charter.margin) if charter is not None and charter.margin else default


def _challenger(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.compare.gate import set_challenger

    _, tracker, project = settings_and_tracker(args)
    mv = set_challenger(tracker, project, args.version)
    print(f"{mv.name} v{mv.version} is the challenger (project {project!r})")
    return 0


def _shadow(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.compare.shadow import run_shadow

    _, tracker, project = settings_and_tracker(args)
    result = run_shadow(tracker, project, args.data, args.challengers, model_name=args.model)
    print(f"shadow replay of {result.rows} rows: {result.champion} served (champion)")
    for name, share in result.disagreement.items():
        line = f"{name}: disagrees with the champion on {share:.1%} of rows"
        if result.has_labels:
            line += f"; right on {result.right_when_disagree.get(name, 0)} of those rows"
        print(line)
    if result.has_labels:
        scores = ", ".join(f"{m} {v:.4g}" for m, v in result.scores.items())
        champ_right = result.right_when_disagree.get(result.champion, 0)
        print(f"{result.score_name}: {scores}; the champion was right on {champ_right} disagreeing rows")
    print(f"logged compare run {result.run_id}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "project": project, "data": args.data, "rows": result.rows, "champion": result.champion,
            "challengers": list(result.challengers), "disagreement": dict(result.disagreement),
            "scores": dict(result.scores), "score_name": result.score_name,
            "right_when_disagree": dict(result.right_when_disagree), "run_id": result.run_id}, indent=2))
    return 0


def _ab(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.compare.abtest import TESTS, describe, run_ab
    from core.errors import CompareError, TrackingError
    from core.tracking.datasets import load_dataset, resolve_dataset

    if args.test not in TESTS:
        raise CompareError(f"--test must be one of {', '.join(TESTS)}. Got {args.test!r} instead.")
    if not 0 < args.fraction < 1:
        raise CompareError(f"--fraction must be between 0 and 1 (exclusive). Got {args.fraction} instead.")
    if not 0 < args.alpha < 0.5:
        raise CompareError(f"--alpha must be in (0, 0.5). Got {args.alpha} instead.")
    _, tracker, project = settings_and_tracker(args)
    try:
        data = resolve_dataset(tracker, project, args.data)
    except TrackingError as err:
        raise CompareError(str(err)) from err
    frame = load_dataset(tracker, data.run_id, "all")
    report = run_ab(tracker, project, frame, args.column, args.fraction, kind=args.kind, test=args.test,
                    alpha=args.alpha, mde=args.mde, seed=args.seed, data_run_id=data.run_id,
                    arm_column=args.arm_column, model_name=args.model)
    r = report.result
    print(f"A: {report.champion} on {r.n_a} rows, mean {r.outcome} {r.mean_a:.4g}")
    print(f"B: {report.challenger} on {r.n_b} rows, mean {r.outcome} {r.mean_b:.4g}")
    print(r.verdict)
    if r.warning:
        print(f"warning: {r.warning}")
    print(f"logged compare run {r.run_id}")
    if args.json:
        Path(args.json).write_text(json.dumps({"project": project, "data": data.ref, "champion": report.champion,
                                               "challenger": report.challenger, "verdict": r.verdict,
                                               "run_id": r.run_id, **describe(r)}, indent=2, default=str))
    return 0
