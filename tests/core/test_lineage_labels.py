"""Lineage node labels show whole run names (wrapped), never a name cut mid-word."""

from __future__ import annotations

from core.lineage import LineageGraph, LineageNode, _wrapped


def test_a_long_run_name_is_wrapped_whole() -> None:
    name = "gate default-species v1 vs no champion"
    text = _wrapped(name)
    assert text.replace("\\n", " ") == name and all(len(p) <= 26 for p in text.split("\\n"))


def test_a_very_long_name_keeps_three_lines_and_says_it_was_shortened() -> None:
    text = _wrapped("study " + "word " * 40)
    assert text.count("\\n") == 2 and text.endswith("…")


def test_the_dot_carries_the_wrapped_name() -> None:
    node = LineageNode("r" * 32, "compare", "gate default-species v1 vs no champion", "FINISHED", 0, True)
    dot = LineageGraph((node,), ()).to_dot()
    assert "gate default-species v1 vs\\nno champion" in dot
