"""Headless commands: ``python -m core COMMAND …``.

Each stage owns a ``core/<stage>/commands.py`` with ``register(subparsers)``;
this module only wires them together and turns errors into one line:

* success: exit 0;
* bad input (any :class:`WorkbenchError`, bad arguments): exit 2 and one line
  ``error: …`` on stderr — never a traceback;
* stage-specific verdicts use their own codes (3 drift, 4 gate refused, 5 parity).

Set ``WORKBENCH_DEBUG=1`` to get the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from core.errors import WorkbenchError, one_line

EXIT_OK, EXIT_BUG, EXIT_BAD_INPUT = 0, 1, 2
EXIT_DRIFT, EXIT_GATE_REFUSED, EXIT_PARITY = 3, 4, 5

COMMAND_MODULES = (
    "core.data.commands",
    "core.label.commands",
    "core.tune.commands",
    "core.compare.commands",
    "core.deploy.commands",
    "core.monitor.commands",
    "core.scaleout.commands",
    "core.plan.commands",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one ``error:`` line, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see: python -m core {self.prog.split()[-1]} --help)\n")
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="core", description="MLOps workbench stages as headless commands.")
    parser.add_argument("--project", default=None, help="project (MLflow experiment); default $WORKBENCH_PROJECT or 'default'")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name and name.startswith(err.name):
                continue  # that stage is not part of this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WorkbenchError as err:
        sys.stderr.write(f"error: {one_line(err)}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except BrokenPipeError:  # `… | head` closed the pipe: not an error of ours, stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 - last line of defence: no traceback for the person
        if os.environ.get("WORKBENCH_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(f"error: unexpected {type(err).__name__}: {one_line(err)} (set WORKBENCH_DEBUG=1 for details)\n")
        return EXIT_BUG


def settings_and_tracker(args: argparse.Namespace):  # noqa: ANN201 - avoids importing at module load
    """Shared helper for commands: (settings, tracker, project)."""
    from core.config import Settings
    from core.tracking import Tracker

    settings = Settings.from_env()
    project = args.project or settings.project
    tracker = Tracker.connect(settings)
    from core.tracking.repair import repair_project

    repair_project(tracker, project)  # runs a killed process left half-written are repaired first
    return settings, tracker, project
