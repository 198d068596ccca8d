"""Streamlit glue for the Tune page: cached storage, the search-space editor, session keys."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from core.errors import TuneError
from core.tune.space import ParamSpec, parse_space

SELECTED = "tune_selected_study"  # the study shown in the live panel
KINDS = ["float", "int", "categorical", "fixed"]
STUDY_NAME = "tune_study_name"  # the study-name box
_AUTO_NAME = "tune_study_name_auto"  # the name last proposed (the box still holding it = not typed by the person)
_STAMP = "tune_study_stamp"  # the time stamp of the proposed names, fixed until a study starts


@st.cache_resource(show_spinner=False)
def _storage(url: str) -> Any:
    from core.tune.storage import make_storage

    return make_storage(url)


def storage(url: str) -> Any:
    """One Optuna storage object per URL for this server process (a TuneError is not cached)."""
    return _storage(url)


@st.cache_data(show_spinner="Reading the dataset version…", max_entries=8)
def dataset_frame(run_id: str, part: str) -> Any:
    from core.tracking.datasets import load_dataset
    from ui.resources import tracker

    return load_dataset(tracker(), run_id, part=part)


def selected_study() -> str | None:
    return st.session_state.get(SELECTED)


def select_study(name: str) -> None:
    st.session_state[SELECTED] = name


def study_name_input(family: str, target: str) -> str:
    """The study-name box: it follows the current family and target on every rerun until the person types a name.

    A name the person typed is kept; an emptied box gets the proposal again.
    """
    from datetime import datetime

    from core.tune.study import default_study_name

    stamp = st.session_state.setdefault(_STAMP, f"{datetime.now():%Y%m%d-%H%M%S}")
    proposed = default_study_name(family, target, stamp)
    current = st.session_state.get(STUDY_NAME)
    if current is None or not str(current).strip() or current == st.session_state.get(_AUTO_NAME):
        st.session_state[STUDY_NAME] = proposed
    st.session_state[_AUTO_NAME] = proposed
    return st.text_input("Study name", max_chars=120, key=STUDY_NAME,
                         help="Letters, digits, . _ : -. Proposed from the family and target; "
                              "an existing name resumes that study.")


def study_started() -> None:
    """A study was started: the next proposed name gets a fresh time stamp."""
    st.session_state.pop(_STAMP, None)


# -- search-space editor ------------------------------------------------------
def _fmt(value: Any) -> str:
    return "" if value is None else json.dumps(value) if not isinstance(value, str) else value


def space_rows(space: dict[str, ParamSpec]) -> list[dict[str, Any]]:
    """A space as editable rows (choices as comma-separated text, fixed value as text)."""
    return [{"parameter": s.name, "kind": s.kind, "low": s.low, "high": s.high, "log": bool(s.log),
             "choices": ", ".join(_fmt(c) for c in s.choices), "value": _fmt(s.value) if s.kind == "fixed" else ""}
            for s in space.values()]


def _literal(text: str) -> Any:
    text = str(text).strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


def rows_to_space(rows: list[dict[str, Any]]) -> dict[str, ParamSpec]:
    """Rows from the editor back to a space (validated later by the core)."""
    raw: dict[str, Any] = {}
    for row in rows:
        name = str(row.get("parameter") or "").strip()
        if not name:
            continue
        kind = row.get("kind") or "float"
        if name in raw:
            raise TuneError(f"Parameter {name!r} appears twice in the search space; keep one row.")
        if kind in ("float", "int"):
            if row.get("low") is None or row.get("high") is None or row.get("low") != row.get("low"):
                raise TuneError(f"Parameter {name!r} ({kind}) needs both low and high.")
            raw[name] = {"kind": kind, "low": row["low"], "high": row["high"], "log": bool(row.get("log"))}
        elif kind == "categorical":
            text = str(row.get("choices") or "")
            raw[name] = {"kind": "categorical", "choices": [_literal(c) for c in text.split(",") if c.strip()]}
        else:
            raw[name] = {"kind": "fixed", "value": _literal(row.get("value") or "null")}
    return parse_space(raw)


def space_editor(space: dict[str, ParamSpec], key: str) -> dict[str, ParamSpec]:
    """An editable table of the space; returns the edited (unvalidated) space."""
    import pandas as pd

    frame = pd.DataFrame(space_rows(space), columns=["parameter", "kind", "low", "high", "log", "choices", "value"])
    edited = st.data_editor(
        frame, key=key, num_rows="dynamic", hide_index=True, width="stretch",
        column_config={
            "parameter": st.column_config.TextColumn("Parameter", required=True),
            "kind": st.column_config.SelectboxColumn("Kind", options=KINDS, required=True),
            "low": st.column_config.NumberColumn("Low", format="%g"),
            "high": st.column_config.NumberColumn("High", format="%g"),
            "log": st.column_config.CheckboxColumn("Log scale"),
            "choices": st.column_config.TextColumn("Choices (comma-separated)"),
            "value": st.column_config.TextColumn("Fixed value"),
        },
    )
    rows = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
            for r in edited.to_dict("records")]
    return rows_to_space(rows)
