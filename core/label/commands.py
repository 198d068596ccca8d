"""``python -m core label-sim``: which query strategy saves the most labels on this table?"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.errors import LabelError

STRATEGY_CHOICES = ("uncertainty", "margin", "entropy", "density", "expected_change", "committee", "ranked",
                    "random")  # = query.STRATEGIES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "label-sim",
        help="replay active learning on a fully labelled table: strategy vs random",
        description="Hide the labels of FILE, start from INIT random labels and query BATCH rows at a time up to "
                    "BUDGET labels with the strategy and with random sampling, on the same held-out split (25 %%); "
                    "print the mean learning curves. Logged to MLflow (stage 'label') when --project is given or "
                    "FILE is a dataset version.",
    )
    p.add_argument("file", metavar="FILE", help="a CSV / Parquet file, or a dataset version (NAME, NAME:vN, run id)")
    p.add_argument("--target", required=True, help="the label column (fully labelled)")
    p.add_argument("--strategy", required=True, choices=STRATEGY_CHOICES)
    p.add_argument("--budget", type=int, default=200, help="labels to reach (default 200)")
    p.add_argument("--batch", type=int, default=10, help="rows queried per round (default 10)")
    p.add_argument("--init", type=int, default=10, help="random starting labels (default 10)")
    p.add_argument("--seeds", type=int, default=3, help="repetitions averaged (default 3)")
    p.add_argument("--learner", default="logreg", choices=("logreg", "rf", "hgb", "knn"))
    p.add_argument("--no-diverse", dest="diverse", action="store_false",
                   help="take the plain top BATCH rows instead of one per cluster of the best candidates")
    p.add_argument("--features", default="", help="comma-separated feature columns (default: all numeric)")
    p.add_argument("--json", dest="json_out", default=None, help="write the result JSON here ('-' = stdout)")
    p.set_defaults(func=run_label_sim)
    _register_exchange(sub)


def _register_exchange(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("label", help="export or import the labels of a dataset version (CSV, Label Studio JSON)",
                       description="Move labels between the workbench's label log and a file: CSV (row,label,…) "
                                   "or Label Studio JSON tasks.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=sub._parser_class)
    verbs.required = True
    for verb, what in (("export", "write the current labels to FILE"),
                       ("import", "read FILE and show what matches; --yes writes the matched labels")):
        v = verbs.add_parser(verb, help=what, description=what)
        v.add_argument("dataset", metavar="DATASET", help="a dataset version (NAME, NAME:vN, run id)")
        v.add_argument("file", metavar="FILE", help="the label file ('-' = stdout for export)")
        v.add_argument("--column", required=True, help="the label column")
        v.add_argument("--format", dest="fmt", choices=("csv", "labelstudio"), default=None,
                       help="default: from FILE's extension (.json = labelstudio)")
        if verb == "import":
            v.add_argument("--yes", action="store_true", help="apply the matched labels (default: only count them)")
        v.set_defaults(func=run_label_exchange)


def run_label_exchange(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.label import exchange as ex
    from core.label.history import history_table
    from core.label.labellog import LabelLog
    from core.label.session import label_text
    from core.tracking.datasets import load_dataset, resolve_dataset

    settings, tracker, project = settings_and_tracker(args)
    version = resolve_dataset(tracker, project, args.dataset)
    frame = load_dataset(tracker, version.run_id)
    log = LabelLog.for_version(settings.labels_dir, project, version.run_id, args.column)
    fmt = args.fmt or ("labelstudio" if args.file.lower().endswith(".json") else "csv")
    table = {} if args.column not in frame.columns else {
        i: v for i, v in enumerate(label_text(x) for x in frame[args.column].tolist()) if v is not None}
    if args.verb == "export":
        entries = history_table(log.events(), table)
        text = ex.export_csv(entries) if fmt == "csv" else ex.export_labelstudio(entries, frame, list(frame.columns))
        if args.file == "-":
            sys.stdout.write(text)
        else:
            Path(args.file).write_text(text, encoding="utf-8")
            sys.stderr.write(f"{len(entries)} label(s) of {version.ref} written to {args.file} ({fmt})\n")
        return 0
    path = Path(args.file)
    if not path.exists():
        raise LabelError(f"The label file {args.file!r} does not exist.")
    classes = [*dict.fromkeys([*sorted(set(table.values())), *log.session().get("classes", [])])]
    from core.label.history import replay

    current = {**table, **replay(log.events()).labels}
    preview = ex.read_import(path.read_text(encoding="utf-8", errors="replace"), fmt, rows=len(frame),
                             classes=classes, current=current)
    print(preview.summary)
    if not args.yes:
        sys.stderr.write("nothing applied; run again with --yes to write the matched labels\n")
        return 0
    n = ex.apply_import(log, preview, session="cli")
    print(f"{n} label(s) written to the log of {version.ref} / {args.column}")
    return 0


def _read_file(path: Path):  # noqa: ANN202 - pandas DataFrame
    from core.data.files import read_for_models

    return read_for_models(path)[0]


def run_label_sim(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.label.session import label_text, numeric_columns
    from core.label.simulate import simulate

    path = Path(args.file)
    tracker = source = None
    project = args.project
    if path.exists():
        frame = _read_file(path)
    else:
        from core.tracking.datasets import load_dataset, resolve_dataset

        if path.suffix.lower() in (".csv", ".parquet", ".pq") or "/" in args.file:
            raise LabelError(f"The file {args.file!r} does not exist.")
        _, tracker, project = settings_and_tracker(args)
        source = resolve_dataset(tracker, project, args.file)
        frame = load_dataset(tracker, source.run_id)
    if args.target not in frame.columns:
        raise LabelError(f"The target column {args.target!r} is not in the table; columns: "
                         f"{', '.join(map(str, list(frame.columns)[:12]))}.")
    features = [f.strip() for f in args.features.split(",") if f.strip()] or numeric_columns(frame, [args.target])
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise LabelError(f"These feature columns are not in the table: {', '.join(missing[:5])}.")
    if not features:
        raise LabelError("The table has no numeric feature columns; simulation needs at least one.")
    y = [label_text(v) for v in frame[args.target].tolist()]
    if any(v is None for v in y):
        raise LabelError(f"The target {args.target!r} has {sum(v is None for v in y)} empty values; simulation "
                         "needs a fully labelled table (drop those rows in the Data stage).")
    try:
        X = frame[features].to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        raise LabelError(f"The features must be numeric; pick numeric columns with --features ({err}).") from err
    result = simulate(X, y, strategy=args.strategy, budget=args.budget, batch=args.batch, init=args.init,
                      seeds=args.seeds, learner=args.learner, diverse=args.diverse,
                      on_progress=lambda i, n: sys.stderr.write(f"seed {i}/{n} done\n"))
    out = result.to_json()
    if project is not None:
        if tracker is None:
            _, tracker, project = settings_and_tracker(args)
        out["run_id"] = log_simulation(tracker, project, result, source_run=source.run_id if source else None,
                                       file=str(path) if source is None else source.ref, target=args.target)
    text = json.dumps(out, indent=1)
    if args.json_out and args.json_out != "-":
        Path(args.json_out).write_text(text)
    else:
        print(text)
    _print_table(result)
    return 0


def log_simulation(tracker, project: str, result, *, source_run: str | None, file: str, target: str) -> str:  # noqa: ANN001
    """One ``label`` run tagged ``workbench.label.kind = simulation``: curves as step metrics + the JSON."""
    params = {"strategy": result.strategy, "learner": result.learner, "budget": result.budget,
              "batch": result.batch, "init": result.init, "seeds": result.seeds, "target": target, "source": file}
    with tracker.stage_run(project, "label", name=f"label-sim {result.strategy}",
                           inputs=[source_run] if source_run else [], params=params,
                           tags={"workbench.label.kind": "simulation"}) as run_id:
        rows = [("sim_accuracy", p.accuracy, p.labels) for p in result.curve]
        rows += [("random_accuracy", p.accuracy, p.labels) for p in result.random]
        tracker.log_metric_rows(run_id, rows)
        tracker.log_json(run_id, result.to_json(), "simulation.json")
    return run_id


def _print_table(result) -> None:  # noqa: ANN001
    sys.stderr.write(f"{'labels':>7}  {result.strategy:>12}  {'random':>8}\n")
    for a, b in zip(result.curve, result.random, strict=False):
        sys.stderr.write(f"{a.labels:>7}  {a.accuracy:>12.3f}  {b.accuracy:>8.3f}\n")
