"""A generic form for one recipe step, rendered from the step's declarative param schema."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.data.recipe import ParamSpec, StepSpec


def _widget(p: ParamSpec, columns: list[str], value: Any, key: str, token_counts: dict[str, int]) -> Any:
    label = p.name.replace("_", " ").capitalize() + ("" if p.optional else " *")
    help_text = p.help or None
    if p.type == "columns":
        default = [c for c in (value or []) if c in columns]
        picked = st.multiselect(label, columns, default=default, key=key, help=(help_text or "") +
                                (" Leave empty for the step's default set." if p.optional else ""))
        return picked or None
    if p.type == "column":
        options = ["—", *columns]
        index = options.index(value) if value in options else 0
        picked = st.selectbox(label, options, index=index, key=key, help=help_text)
        return None if picked == "—" else picked
    if p.type == "choice":
        choices = list(p.choices)
        index = choices.index(value) if value in choices else 0
        return st.selectbox(label, choices, index=index, key=key, help=help_text)
    if p.type == "multichoice":
        default = [v for v in (value or []) if v in p.choices]
        return st.multiselect(label, list(p.choices), default=default, key=key, help=help_text) or None
    if p.type == "bool":
        return st.checkbox(label, value=bool(value), key=key, help=help_text)
    if p.type == "int":
        text = st.text_input(label, value="" if value is None else str(value), key=key, help=help_text,
                             placeholder="automatic" if p.optional else "")
        return text.strip() or None
    if p.type == "float":
        text = st.text_input(label, value="" if value is None else str(value), key=key, help=help_text,
                             placeholder="automatic" if p.optional else "")
        return text.strip() or None
    if p.type == "tokens":
        found = [t for t in token_counts]
        options = list(dict.fromkeys([*found, *(value or [])]))
        fmt = {t: f"{t!r} ({token_counts[t]:,} cells)" if t in token_counts else repr(t) for t in options}
        default = [t for t in (value or []) if t in token_counts] if token_counts else list(value or [])
        picked = st.multiselect(label, options, default=default, format_func=lambda t: fmt.get(t, repr(t)), key=key,
                                help="Tokens found in the table, with how many cells hold each. "
                                     "Untick any that are real values.")
        extra = st.text_input("Other tokens (comma-separated)", key=f"{key}_extra")
        return picked + [t.strip() for t in extra.split(",") if t.strip()]
    return st.text_input(label, value="" if value is None else str(value), key=key, help=help_text) or None


def _coerce(p: ParamSpec, value: Any) -> Any:
    """Numbers typed as text → int / float; anything unparsable is passed on so the step says why."""
    if value is None or p.type not in ("int", "float"):
        return value
    try:
        return int(value) if p.type == "int" else float(value)
    except (TypeError, ValueError):
        return value


def step_params_form(spec: StepSpec, columns: list[str], current: dict[str, Any], key: str,
                     token_counts: dict[str, int]) -> dict[str, Any]:
    """Render the params of ``spec``; returns the values (None = use the default)."""
    values: dict[str, Any] = {}
    for p in spec.params:
        start = current.get(p.name, p.default)
        values[p.name] = _coerce(p, _widget(p, columns, start, f"{key}_{spec.kind}_{p.name}", token_counts))
    return {k: v for k, v in values.items() if v is not None}
