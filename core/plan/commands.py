"""Headless ``charter`` and ``pipeline`` commands (heavy imports happen in the handlers).

::

    python -m core charter show [--json]
    python -m core charter set --problem … --target COL --task classification --metric f1_macro --threshold 0.9 …
    python -m core charter set --from-json FILE
    python -m core pipeline serve | stop | status
    python -m core pipeline runs [--json] [--limit N]
    python -m core pipeline run NAME [--watch DIR] [--n-trials N]
    python -m core pipeline schedule NAME (--cron "0 6 * * *" | --interval-days N) [--watch DIR] [--reference REF]
    python -m core pipeline pause NAME [--resume]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

_CHARTER_OPTIONS = (
    # (flag, dest, type, help)
    ("--problem", "problem", str, "the problem statement, one sentence"),
    ("--target", "target", str, "the prediction target column"),
    ("--task", "task", str, "classification or regression"),
    ("--metric", "metric", str, "the success metric (e.g. f1_macro, accuracy, rmse)"),
    ("--threshold", "threshold", float, "the value the champion must reach on the metric"),
    ("--margin", "margin", float, "the promotion margin a challenger must beat the champion by"),
    ("--cost-fp", "cost_fp", float, "cost of one false positive (classification)"),
    ("--cost-fn", "cost_fn", float, "cost of one false negative (classification)"),
    ("--positive-class", "positive_class", str, "the positive class for the costs"),
    ("--cost-per-unit", "cost_per_unit", float, "cost per unit of absolute error (regression)"),
    ("--columns", "expected_columns", str, "expected columns, comma-separated"),
    ("--batch-size", "batch_size", int, "expected rows per batch"),
    ("--freshness-days", "freshness_days", float, "the newest data must be at most this many days old"),
    ("--families", "families", str, "allowed model families, comma-separated"),
    ("--protected-column", "protected_column", str, "the protected column for the fairness constraint"),
    ("--max-gap", "max_gap", float, "the largest metric gap allowed across the protected column's groups"),
    ("--drift-share", "drift_share", float, "share of drifted columns that counts as dataset drift"),
    ("--quality-drop", "quality_drop", float, "quality drop of the champion that triggers retraining"),
)


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("charter", help="the project charter: the bar the champion must reach")
    csub = c.add_subparsers(dest="charter_command", metavar="ACTION", parser_class=sub._parser_class)
    csub.required = True
    show = csub.add_parser("show", help="print the current charter")
    show.add_argument("--json", action="store_true", help="print it as JSON")
    _project(show)
    show.set_defaults(func=_charter_show)
    put = csub.add_parser("set", help="write a new charter version (options not given keep their current value)")
    for flag, dest, typ, text in _CHARTER_OPTIONS:
        put.add_argument(flag, dest=dest, type=typ, default=None, help=text)
    put.add_argument("--from-json", default=None, help="read the whole charter from this JSON file")
    put.add_argument("--note", default="", help="why it changed (kept on the plan run)")
    _project(put)
    put.set_defaults(func=_charter_set)

    p = sub.add_parser("pipeline", help="pipelines on Prefect: serve, schedule, run, list runs")
    psub = p.add_subparsers(dest="pipeline_command", metavar="ACTION", parser_class=sub._parser_class)
    psub.required = True
    for name, text, fn in (("serve", "start (or find) the embedded Prefect server and worker", _serve),
                           ("stop", "stop the embedded Prefect server and worker", _stop),
                           ("status", "where the Prefect API is and whether it answers", _status)):
        q = psub.add_parser(name, help=text)
        q.set_defaults(func=fn)
    runs = psub.add_parser("runs", help="recent flow runs: state, duration, failing task and its error")
    runs.add_argument("--json", action="store_true")
    runs.add_argument("--limit", type=int, default=20)
    runs.set_defaults(func=_runs)
    run = psub.add_parser("run", help="one run in the foreground")
    _flow_arg(run)
    _flow_params(run)
    _project(run)
    run.set_defaults(func=_run)
    sch = psub.add_parser("schedule", help="create or change a pipeline's deployment and schedule")
    _flow_arg(sch)
    when = sch.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", default=None, help='cron expression, e.g. "*/10 * * * *"')
    when.add_argument("--interval-days", type=float, default=None, help="every N days")
    _flow_params(sch)
    sch.add_argument("--paused", action="store_true", help="create it paused")
    _project(sch)
    sch.set_defaults(func=_schedule)
    pause = psub.add_parser("pause", help="pause a pipeline's schedule (--resume to resume)")
    _flow_arg(pause)
    pause.add_argument("--resume", action="store_true")
    _project(pause)
    pause.set_defaults(func=_pause)


def _project(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", default=argparse.SUPPRESS, help="project (MLflow experiment)")


def _flow_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=("monitor-and-retrain", "scheduled-retrain", "tune"), metavar="NAME",
                        help="monitor-and-retrain, scheduled-retrain or tune")


def _flow_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--watch", default=None, help="folder or glob of batch files (monitor-and-retrain)")
    parser.add_argument("--reference", default=None, help="reference dataset version (default: the champion's data)")
    parser.add_argument("--model", default=None, help="registered model (<project>-<target>); default: the "
                                                       "project's only one")
    parser.add_argument("--n-trials", type=int, default=None, help="trials of the retraining / tuning study")
    parser.add_argument("--no-export", action="store_true", help="do not export a promoted champion to ONNX")
    parser.add_argument("--data", default=None, help="dataset version to tune on (tune)")
    parser.add_argument("--target", default=None, help="target column (tune)")
    parser.add_argument("--family", default=None, help="model family (tune)")
    parser.add_argument("--metric", default=None, help="metric (tune; default: the charter's)")


def _parameters(args: argparse.Namespace, project: str) -> dict[str, Any]:
    """The flow's parameters from the options that apply to it."""
    params: dict[str, Any] = {"project": project}
    if args.name == "monitor-and-retrain":
        params["watch"] = args.watch or ""
        if args.reference:
            params["reference"] = args.reference
    if args.name in ("monitor-and-retrain", "scheduled-retrain"):
        params["export"] = not args.no_export
        if args.model:
            params["model"] = args.model
    if args.n_trials is not None:
        params["n_trials"] = args.n_trials
    if args.name == "tune":
        params.update({k: v for k, v in (("data", args.data), ("target", args.target), ("family", args.family),
                                         ("metric", args.metric)) if v})
    return params


# -- charter -------------------------------------------------------------------------------------------
def _charter_show(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.plan.charter import current_charter_run, load_charter

    _s, tracker, project = settings_and_tracker(args)
    charter = load_charter(tracker, project)
    if charter is None:
        if args.json:
            print("null")
        else:
            print(f"Project {project!r} has no charter yet; write one with `python -m core charter set …`.")
        return 0
    if args.json:
        print(charter.to_json())
        return 0
    print(f"charter of {project!r} (plan run {current_charter_run(tracker, project)}):")
    for key, value in charter.params().items():
        print(f"  {key:<17} {value}")
    from core.plan.verdict import champion_verdict

    verdict = champion_verdict(tracker, project)
    print(f"verdict: {verdict.sentence}" if verdict else "verdict: no champion yet, so there is nothing to judge.")
    return 0


def _charter_set(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.plan import PlanError
    from core.plan.charter import Charter, load_charter, save_charter

    _s, tracker, project = settings_and_tracker(args)
    given = {dest: getattr(args, dest) for _f, dest, _t, _h in _CHARTER_OPTIONS if getattr(args, dest) is not None}
    for key in ("expected_columns", "families"):
        if key in given:
            given[key] = tuple(v for v in given[key].split(","))
    if args.from_json:
        path = Path(args.from_json)
        try:
            text = path.read_text()
        except OSError as err:
            raise PlanError(f"The charter file {str(path)!r} cannot be read ({err.strerror or err}).") from None
        base = Charter.from_json(text).to_dict()
    else:
        current = load_charter(tracker, project)
        base = current.to_dict() if current else {}
    charter = Charter.from_dict({**base, **given})
    run_id = save_charter(tracker, project, charter, note=args.note)
    print(f"saved the charter of {project!r} as plan run {run_id}")
    return 0


# -- pipelines -----------------------------------------------------------------------------------------------
def _settings():  # noqa: ANN202
    from core.config import Settings

    return Settings.from_env()


def _serve(args: argparse.Namespace) -> int:
    from core.plan.orchestrator import start

    st = start(_settings())
    print(f"Prefect API {st.url} ({'embedded' if st.embedded else 'PREFECT_API_URL'}); UI {st.ui_url}")
    if st.server:
        print(f"  server pid {st.server.pid}")
    if st.worker:
        print(f"  worker pid {st.worker.pid} on work pool 'workbench'")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from core.plan.orchestrator import stop

    stopped = stop(_settings())
    print(f"stopped {', '.join(stopped)}" if stopped else "nothing to stop: no embedded Prefect server or worker runs")
    return 0


def _status(args: argparse.Namespace) -> int:
    from core.plan.orchestrator import status

    st = status(_settings())
    print(f"Prefect API: {st.url or '-'} — {'answers' if st.reachable else st.message}")
    for svc in (st.server, st.worker):
        if svc:
            print(f"  {svc.name}: {'running, pid ' + str(svc.pid) if svc.running else 'not running'}")
    return 0 if st.reachable else 2


def _runs(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from core.plan.runs import recent_runs

    rows = recent_runs(_settings(), limit=max(1, args.limit))
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return 0
    if not rows:
        print("no flow runs yet")
    for r in rows:
        dur = f"{r.duration_s:.1f} s" if r.duration_s is not None else "-"
        where = f" at {r.failed_task}" if r.failed_task else ""
        print(f"{r.start:<24} {r.flow:<20} {r.deployment or '(local)':<14} {r.state:<10} {dur:>9}{where}"
              + (f" — {r.error}" if r.error else ""))
    return 0


def _run(args: argparse.Namespace) -> int:
    from core.plan.runs import run_in_foreground, task_runs

    settings = _settings()
    project = getattr(args, "project", None) or settings.project
    params = _parameters(args, project)
    if args.name == "monitor-and-retrain":
        from core.plan.flows import batch_files

        batch_files(params["watch"])  # one sentence before any Prefect work
    run_id, state = run_in_foreground(settings, args.name, params)
    for name, st, message in task_runs(settings, run_id):
        print(f"  {name:<18} {st}" + (f" — {message}" if message else ""))
    if state.is_failed():
        from core.plan.runs import _clean_message

        sys.stderr.write(f"error: the {args.name} run failed: {_clean_message(state.message or '')}\n")
        return 1
    print(f"{args.name} run {run_id}: {state.name}")
    return 0


def _schedule(args: argparse.Namespace) -> int:
    from core.plan.runs import schedule

    settings = _settings()
    project = getattr(args, "project", None) or settings.project
    dep = schedule(settings, args.name, project, cron=args.cron, interval_days=args.interval_days,
                   parameters={k: v for k, v in _parameters(args, project).items() if k != "project"},
                   paused=args.paused)
    print(f"scheduled {args.name}/{project} (deployment {dep}) on work pool 'workbench'")
    return 0


def _pause(args: argparse.Namespace) -> int:
    from core.plan.runs import set_paused

    settings = _settings()
    project = getattr(args, "project", None) or settings.project
    set_paused(settings, args.name, project, paused=not args.resume)
    print(f"{'resumed' if args.resume else 'paused'} {args.name}/{project}")
    return 0
