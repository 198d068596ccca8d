"""``python -m core profile FILE [--json OUT] [--max-mb N]`` — profile a table headless.

Registered by ``core/data/commands.py`` (``register_profile(sub)``). pandas and the
profiler are imported inside :func:`run_profile`, so building the parser stays light.
A readable summary goes to stdout; ``--json -`` prints only the JSON instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from core.errors import DataError

_SUMMARY_COLUMNS = 40


def register_profile(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser(
        "profile", help="profile a table (CSV, Parquet, JSON Lines): types, missing values, alerts",
        description="Read FILE like the Data page does and print its profile; --json writes the full profile.",
    )
    p.add_argument("file", help="CSV (any common delimiter / encoding), Parquet or JSON Lines file")
    p.add_argument("--json", metavar="OUT",
                   help="write the profile as JSON to OUT ('-' for stdout, instead of the summary)")  # fmt: skip
    p.add_argument("--max-mb", type=float, default=None, metavar="N",
                   help="refuse files larger than N MB (default: the upload limit, 200 MB)")  # fmt: skip
    p.set_defaults(func=run_profile)


def run_profile(args: argparse.Namespace) -> int:
    from core.data.io import MB, read_table
    from core.data.profile import profile_frame

    if args.max_mb is not None and not args.max_mb > 0:
        raise DataError(f"--max-mb must be a positive number of megabytes. Got {args.max_mb} instead.")
    max_bytes = None if args.max_mb is None else int(args.max_mb * MB)
    table = read_table(Path(args.file), max_bytes=max_bytes)
    profile = profile_frame(table.frame)
    payload = profile.to_json() | {
        "file": table.name, "format": table.format, "encoding": table.encoding,
        "delimiter": table.delimiter, "notes": list(table.notes),
    }  # fmt: skip
    if args.json == "-":
        json.dump(payload, sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    if args.json:
        _write_json(Path(args.json), payload)  # before any output: a failure prints only the error line
    sys.stdout.write(summary(table, profile) + "\n")
    if args.json:
        sys.stdout.write(f"profile written to {args.json}\n")
    return 0


def _write_json(path: Path, payload: dict) -> None:
    """Write through a temporary file so a failure never leaves half a file."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1, allow_nan=False)
        os.replace(tmp, path)
    except OSError as err:
        raise DataError(f"Cannot write the profile to '{path}': {err.strerror or err}.") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def summary(table, profile) -> str:  # noqa: ANN001
    """A short human-readable report: table facts, one line per column, then the alerts."""
    how = table.format + (f", {table.encoding}" if table.encoding else "")
    if table.delimiter:
        how += ", " + {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[table.delimiter] + "-separated"
    lines = [
        f"{table.name} ({how}): {profile.rows:,} rows × {profile.n_columns:,} columns, "
        f"{profile.duplicate_rows:,} duplicate rows, {profile.memory_bytes / 1024 / 1024:.1f} MB in memory",
    ]
    lines += [f"note: {n}" for n in table.notes]
    width = min(30, max(len(c.name) for c in profile.columns))
    lines.append(f"{'column':<{width}}  {'type':<11}  {'missing':>9}  {'distinct':>9}")
    for col in profile.columns[:_SUMMARY_COLUMNS]:
        name = col.name if len(col.name) <= width else col.name[: width - 1] + "…"
        lines.append(f"{name:<{width}}  {col.dtype:<11}  {col.missing:>9,}  {col.distinct:>9,}")
    if profile.n_columns > _SUMMARY_COLUMNS:
        lines.append(f"… and {profile.n_columns - _SUMMARY_COLUMNS:,} more columns (use --json for all)")
    warnings = [a for a in profile.alerts if a.severity == "warning"]
    lines.append(f"alerts: {len(warnings)} warnings, {len(profile.alerts) - len(warnings)} notes")
    lines += [f"  [{a.severity}] {a.message}" for a in profile.alerts[:20]]
    if len(profile.alerts) > 20:
        lines.append(f"  … and {len(profile.alerts) - 20} more")
    return "\n".join(lines)
