"""``python -m core export``: the Deploy stage headless.

Exit codes: 0 equivalent export (recorded and registered), 2 bad input (one ``error:`` line),
5 parity failed (recorded, not registered unless ``--acknowledge-mismatch``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from core.errors import ExportError


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1); got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1); got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="Export a registered model to ONNX, prove parity, measure, bundle.",
                       description="Export a registered model version to ONNX with proven parity, latency "
                                   "figures and a serving bundle; record it in MLflow.")
    p.add_argument("--model", required=True, help="NAME@ALIAS or NAME/VERSION (or just an alias / version of the project's model)")
    p.add_argument("--out", required=True, help="folder for model.onnx, schema.json, serve.py, MODEL_CARD.md, bundle.zip")
    p.add_argument("--check", default=None, help="held-out rows: a dataset version (NAME:vN or run id) or a .csv/.parquet file; "
                                                 "default: the test split of the model's data version")
    p.add_argument("--quantize", action="store_true", help="ship the dynamic int8 model when it helps")
    p.add_argument("--json", dest="json_out", default=None, help="write the summary JSON here ('-' for stdout)")
    p.add_argument("--tolerance", type=_tolerance, default=1e-4, help="largest probability (or relative output) difference accepted (default 1e-4)")
    p.add_argument("--calls", type=int, default=300, help="single-row calls timed per runtime (default 300)")
    p.add_argument("--batch-rows", type=int, default=10_000, help="rows in the batch timing (default 10000)")
    p.add_argument("--no-recipe", action="store_true", help="export the model alone, without the data version's cleaning steps")
    p.add_argument("--no-register", action="store_true", help="log the deploy run but do not register a model version")
    p.add_argument("--acknowledge-mismatch", action="store_true", help="register even when parity fails (exit code stays 5)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.cli import EXIT_OK, EXIT_PARITY, settings_and_tracker
    from core.deploy.service import prepare_export, record_export

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # keep stderr to our lines
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out must be a folder. Got the file {args.out!r} instead.")
    _, tracker, project = settings_and_tracker(args)
    outcome = prepare_export(tracker, project, args.model, out, check=args.check, quantize=args.quantize,
                             tolerance=args.tolerance, calls=args.calls, batch_rows=args.batch_rows,
                             with_recipe=not args.no_recipe,
                             on_progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    rec = record_export(tracker, project, outcome, register=not args.no_register,
                        acknowledged=args.acknowledge_mismatch)
    summary = {**outcome.summary(), "deploy_run": rec.run_id,
               "registered_version": rec.registered.version if rec.registered else None}
    if args.json_out:
        text = json.dumps(summary, indent=2, default=str)
        if args.json_out == "-":
            print(text)
        else:
            try:
                Path(args.json_out).write_text(text + "\n")
            except OSError as err:
                raise ExportError(f"Cannot write --json {args.json_out!r}: {err.strerror or err}.") from err
    print(outcome.parity.verdict, file=sys.stderr)
    print(f"{rec.message} Bundle: {outcome.bundle}", file=sys.stderr)
    return EXIT_OK if outcome.parity.equivalent else EXIT_PARITY
