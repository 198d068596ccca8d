"""Headless ``monitor`` and ``retrain`` commands (kept light: heavy imports happen in the handlers).

::

    python -m core monitor --reference REF --current CUR [--model NAME@champion] [--batch-name NAME]
                           [--json OUT] [--html OUT] [--fail-on-drift]
    python -m core retrain --project P [--if-drift] [--current REF]

REF / CUR are dataset versions (NAME, NAME:vN, run id) or CSV / Parquet files. A CUR file is saved as a
dataset version of kind ``batch`` (the rows as checked) that the check run lists as its ``current`` input.
Exit codes: 0 ok, 2 bad input (one ``error:`` line), 3 dataset drift with ``--fail-on-drift``.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="check a batch for drift against a reference")
    p.add_argument("--reference", required=True, help="dataset version (NAME, NAME:vN, run id) or CSV / Parquet file")
    p.add_argument("--current", default=None, help="dataset version or CSV / Parquet file (or --served)")
    p.add_argument("--served", default=None, help="prediction-log folder of the bundle server: its rows are the batch")
    p.add_argument("--since", default=None, help="with --served: first served time (ISO, UTC)")
    p.add_argument("--until", default=None, help="with --served: end of the window (ISO, UTC)")
    p.add_argument("--labels", default=None, help="with --served: CSV of request_id → true value (quality drift)")
    p.add_argument("--p99-rise", type=float, default=None, help="with --served: allowed p99 latency rise over the "
                                                              "export baseline (1.0 = double; default: charter or 1.0)")
    p.add_argument("--json", dest="json_out", default=None, help="write the drift summary JSON here")
    p.add_argument("--html", dest="html_out", default=None, help="build the full Evidently report and write it here")
    p.add_argument("--fail-on-drift", action="store_true", help="exit 3 when the dataset drifts")
    p.add_argument("--drift-share", type=float, default=None, help="share of drifted columns for dataset drift "
                                                                    "(default: the charter's, else 0.5)")
    p.add_argument("--quality-drop", type=float, default=None, help="model-quality drop that is concept drift "
                                                                     "(default: the charter's, else 0.05)")
    p.add_argument("--method", default=None, help="drift test for every column (ks, chisquare, z, jensenshannon, "
                                                  "wasserstein, psi, kl_div)")
    p.add_argument("--threshold", type=float, default=None, help="threshold for every column")
    p.add_argument("--no-record", action="store_true", help="do not store the check (nor the batch) in MLflow")
    p.add_argument("--model", default=None, help="registered model (NAME@champion, NAME/3): adds prediction drift, "
                                                 "model quality (when the batch has the target) and multivariate checks")
    p.add_argument("--multivariate", action=argparse.BooleanOptionalAction, default=None,
                   help="domain classifier and cluster checks (default: on with --model, off without)")
    p.add_argument("--batch-name", default=None, help="dataset name of the recorded batch (default: the file's stem)")
    _project_option(p)
    p.set_defaults(func=_monitor)

    r = sub.add_parser("retrain", help="retrain the champion's configuration and run the promotion gate")
    r.add_argument("--if-drift", action="store_true", help="only when the project's policy is triggered")
    r.add_argument("--current", default=None, help="new batch (dataset version or file); default: the newest "
                                                   "dataset version that is not the champion's training data")
    r.add_argument("--model", default=None, help="registered model to retrain (default: the project's only one)")
    r.add_argument("--mode", default=None, choices=("study", "refit", "fine-tune", "incremental", "ensemble"),
                   help="how the challenger learns the new rows (default: the policy's, else study): a warm-started "
                        "study, a refit of the champion's params, fine-tuning the champion on the new rows, "
                        "incremental partial_fit with a replay sample, or an ensemble of champion and refit")
    _project_option(r)
    r.set_defaults(func=_retrain)


def _project_option(parser: argparse.ArgumentParser) -> None:
    # ``retrain --project P`` as well as the global ``--project P retrain``; SUPPRESS keeps the global value.
    parser.add_argument("--project", default=argparse.SUPPRESS, help="project (MLflow experiment)")


def _monitor(args: argparse.Namespace) -> int:
    from core.tracking.context import run_source

    with run_source("python -m core monitor"):
        return _check(args)


def _check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.cli import EXIT_DRIFT, settings_and_tracker
    from core.errors import MonitorError
    from core.monitor.check import load_table, prepare_current, record_batch, record_check, run_check
    from core.monitor.drift import DriftOptions

    # validated before any work; the charter's drift share replaces the 0.5 below when none was given
    options = DriftOptions(method=args.method, threshold=args.threshold,
                           drift_share=0.5 if args.drift_share is None else args.drift_share)
    if args.batch_name is not None:  # refused before any work, not after the check
        from core.tracking.datasets import clean_name

        clean_name(args.batch_name)
    served = None
    if args.served or not args.current:  # served traffic is the current batch (core/monitor/served.py)
        from core.monitor.served import served_batch

        if not args.served or args.current:
            raise MonitorError("Give the current batch: --current (a dataset version or file) or --served (a "
                               "prediction-log folder), not both.")
        served = served_batch(args.served, args.since, args.until, labels=args.labels, p99_rise=args.p99_rise)
        args.current = str(Path(args.served).expanduser().resolve())
    needs_store = not (_is_file(args.reference) and (served or _is_file(args.current)) and args.no_record
                       and not args.model)
    tracker, project = None, args.project or "default"
    if needs_store:
        _settings, tracker, project = settings_and_tracker(args)
    reference = load_table(tracker, project, args.reference)
    if served and args.p99_rise is None and tracker is not None:
        served = served.with_charter(tracker, project)  # the charter's extra["served_p99_rise"], when set
    current = served.table if served else load_table(tracker, project, args.current)
    frame, note = current.frame, ""
    if tracker is not None and reference.run_id and not current.run_id:
        frame, note = prepare_current(tracker, reference.run_id, current.frame)
    model = spec = None
    mv = None
    target, task, columns = reference.target, "", None
    if args.model:
        mv, model, spec = _load_model(tracker, project, args.model)
        target, task = mv.tags.get("workbench.target", ""), mv.tags.get("workbench.task", "")
        columns = [c for c in spec.columns if c in reference.frame.columns]
    target = target if target in reference.frame.columns else ""
    multivariate = args.multivariate if args.multivariate is not None else model is not None
    charter, options, max_drop, source = _thresholds(tracker, project, args, options)
    from core.monitor.service import scoring_rows

    rows = scoring_rows(tracker, reference, frame, mv, target)  # never score the rows the model learned
    result = run_check(reference.frame, frame, options=options, columns=columns, model=model, spec=spec,
                       target=target, task=task, multivariate=multivariate,
                       max_quality_drop=max_drop, quality_reference=rows.reference, quality_current=rows.current,
                       charter=charter, file_time=None if current.run_id or served else _file_time(args.current),
                       thresholds_from=source,
                       notes=([note] if note else []) + list(served.notes if served else ()) + list(rows.notes))
    if result.schema.blocking:
        raise MonitorError(result.schema.blocking_sentence())
    html = js = None
    if args.html_out:
        from core.monitor.evidently_report import build_evidently_report

        # the columns the check tested (never the target), so the report's drift share is the check's
        report = build_evidently_report(reference.frame, frame, options=options,
                                        columns=[c.name for c in result.drift.columns] or None)
        html, js = report.html, report.json
        Path(args.html_out).write_text(html)
        if report.excluded:
            sys.stderr.write(f"the Evidently report leaves out {', '.join(report.excluded)} (missing, empty or of "
                             f"another type on one side)\n")
    if args.json_out:
        Path(args.json_out).write_text(__import__("json").dumps(result.to_dict(), indent=2))
    if tracker is not None and not args.no_record:
        checked = type(current)(frame, current.label, current.run_id)
        if not current.run_id:  # a file: the batch becomes a dataset version the check (and a retrain) can name
            stem = Path(args.current).stem
            checked = record_batch(tracker, project, frame, name=args.batch_name or stem, source=str(args.current),
                                   reference_run=reference.run_id, note=note)
            sys.stderr.write(f"recorded batch {checked.label} ({checked.run_id})\n")
        run_id = record_check(tracker, project, result, reference=reference, current=checked, html=html,
                              report_json=js, model_run=mv.run_id if mv else "", model_label=mv.label if mv else "")
        if served:
            tracker.log_metrics(run_id, served.resource.metrics())
        sys.stderr.write(f"recorded monitor run {run_id}\n")
    d = result.drift
    print(f"dataset drift: {'YES' if d.dataset_drift else 'no'} — {d.n_drifted}/{d.n_columns} columns drifted "
          f"(share {d.drift_share:.2f}, threshold {d.share_threshold:.2f})")
    for c in d.columns:
        print(f"  {'DRIFT' if c.drifted else 'ok   '} {c.name:<24} {c.test:<14} {c.statistic:.4g} (threshold {c.threshold:g})")
    if result.prediction:
        p = result.prediction
        print(f"prediction drift: {'YES' if p.drifted else 'no'} — {p.test} {p.statistic:.4g} (threshold {p.threshold:g})")
    if result.quality:
        q = result.quality
        print(f"model quality: {'DROPPED' if q.concept_drift else 'ok'} — drop {q.drop:.4f}")
    if result.domain:
        print(f"multivariate drift: {'YES' if result.domain.drifted else 'no'} — domain classifier AUC "
              f"{result.domain.auc:.3f}")
    for line in _extra_lines(result):
        print(line)
    for f in result.findings:
        print(f"  note: {f}")
    for line in served.resource.lines() if served else ():
        print(line)
    # a batch that lost a reference column fails the gate too: the model cannot score it
    lost = [f.column for f in result.schema.findings if f.kind == "missing_column"]
    if args.fail_on_drift and lost and not d.dataset_drift:
        sys.stderr.write(f"failing: the batch lacks {', '.join(lost[:5])}\n")
    return EXIT_DRIFT if args.fail_on_drift and (d.dataset_drift or lost) else 0


def _load_model(tracker, project: str, ref: str):  # noqa: ANN001, ANN202
    """(version, fitted scikit-learn pipeline, feature spec) of ``--model REF``."""
    from core.compare.loading import resolve_model
    from core.models import spec_from_tags
    from core.tracking.models import load_sklearn_model

    mv = resolve_model(tracker, project, ref)
    model = load_sklearn_model(tracker, mv)
    return mv, model, spec_from_tags(mv.tags)


def _is_file(ref: str) -> bool:
    from pathlib import Path

    return Path(ref).suffix.lower() in (".csv", ".parquet", ".pq", ".tsv")


def _newest_batch(tracker, project: str, data_version: str):  # noqa: ANN001, ANN202
    """The newest dataset version that can be a new batch for the champion, as a Table (or None).

    Skipped: the champion's training data and its ancestors (e.g. the raw table it was cleaned
    from), raw tables (they need the recipe; give them with --current), the training sets
    earlier retrainings wrote (reference + batch: their rows are not new), and batches a retrain
    already used (listed among its inputs).
    """
    from core.data.versions import KIND_TAG
    from core.monitor.check import load_table
    from core.tracking.datasets import dataset_versions

    ancestors = {r.run_id for r in tracker.lineage(data_version)}
    # a batch a retrain (run or skipped) already looked at is not new any more
    used = {i for r in tracker.runs(project, stage="retrain") for i in r.inputs}
    for v in dataset_versions(tracker, project):
        if v.run_id in ancestors or v.run_id in used:
            continue
        tags = tracker.get_run(v.run_id).tags
        if tags.get(KIND_TAG) == "raw" or tags.get("workbench.dataset.source", "").startswith("retrain:"):
            continue
        return load_table(tracker, project, v.run_id)
    return None


def _retrain(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.monitor.check import load_table, prepare_current
    from core.monitor.retrain import champion_config, retrain

    _settings, tracker, project = settings_and_tracker(args)
    _champion, cfg = champion_config(tracker, project, args.model)
    current = None
    current_run = ""
    if args.current:
        table = load_table(tracker, project, args.current)
        current, current_run = table.frame, table.run_id
        if not table.run_id:  # a raw file: clean it the way the training data was cleaned
            current, note = prepare_current(tracker, cfg["data_version"], current)
            sys.stderr.write(f"{note}\n")
    else:
        table = _newest_batch(tracker, project, cfg["data_version"])
        if table is not None:
            sys.stderr.write(f"new batch: {table.label}\n")
            current, current_run = table.frame, table.run_id
    result = retrain(tracker, project, current=current, current_run=current_run, if_drift=args.if_drift,
                     on_progress=lambda m: sys.stderr.write(f"{m}…\n"), model_name=args.model, mode=args.mode)
    print(result.summary)
    return 0


def _thresholds(tracker, project: str, args: argparse.Namespace, options):  # noqa: ANN001, ANN202
    """(charter, drift options, quality drop, where they came from): the charter's unless given on the line."""
    from dataclasses import replace

    from core.monitor.charter_checks import monitor_thresholds

    charter = None
    if tracker is not None:
        from core.plan.charter import load_charter

        charter = load_charter(tracker, project)
    base = monitor_thresholds(charter)
    share = base.drift_share if args.drift_share is None else args.drift_share
    drop = base.quality_drop if args.quality_drop is None else args.quality_drop
    overridden = args.drift_share is not None or args.quality_drop is not None
    return charter, replace(options, drift_share=share), drop, "the command line" if overridden else base.source


def _file_time(ref: str) -> float | None:
    """The batch file's modification time (freshness when it has no time column)."""
    from pathlib import Path

    path = Path(ref).expanduser()
    return path.stat().st_mtime if path.is_file() else None


def _extra_lines(result) -> list[str]:  # noqa: ANN001
    """The autoencoder, fairness and business-KPI lines of the printed summary."""
    out = []
    if result.autoencoder:
        a = result.autoencoder
        out.append(f"autoencoder drift: {'YES' if a.drifted else 'no'} — {a.share:.1%} of rows above the reference's "
                   f"95th percentile (binomial p-value {a.p_value:.3g}); most changed: "
                   + ", ".join(c for c, _ in a.top_columns))
    o = result.outcomes
    if o and o.fairness:
        f = o.fairness
        out.append(f"fairness: {f.metric} gap {f.gap:.3f} across {f.column!r}"
                   + (f" (largest allowed {f.max_gap:g}){' — EXCEEDED' if f.exceeded else ''}" if f.max_gap is not None
                      else ""))
    if o and o.cost_per_row is not None:
        out.append(f"business KPI: cost per row {o.cost_per_row:.4g} on {o.n_rows:,} labelled rows")
    if result.thresholds_from != "the defaults":
        out.append(f"thresholds from {result.thresholds_from}: drift share {result.drift.share_threshold:g}, "
                   f"quality drop {result.quality_drop_threshold:g}")
    return out
