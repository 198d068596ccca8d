"""Every headless command prints its help (a '%' in a help text once broke `tune --help`)."""

from __future__ import annotations

import pytest

from core.cli import build_parser


def _commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_a_working_help(command: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--help"])
    assert done.value.code == 0
    assert f"usage: core {command}" in capsys.readouterr().out


def test_the_loop_commands_are_all_there() -> None:
    assert {"save", "profile", "clean", "tune", "compare", "promote", "shadow", "ab", "export", "monitor",
            "retrain", "charter", "pipeline"} <= set(_commands())
