"""Streamlit glue of the Data page: cached loads, profiles and replays, and the session keys.

Big frames are passed to the cached functions as ``_frame`` (excluded from
hashing); the cache key is the table's content digest plus the recipe JSON, so a
widget change that does not touch the data reruns in milliseconds.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.data.versions import frame_digest

SOURCE = "data_source"      # dict: frame, name, kind, ref, digest, notes, fmt
RECIPE = "data_recipe"      # dict: recipe JSON (steps with fitted state)
PREVIEW = "data_preview"    # dict: step JSON + preview result, before it is applied
EDIT = "data_edit_index"    # int | None: the step being edited
TARGET = "data_target"
TAB = "data_tab"            # str: the open tab (only its content runs); tests set it to open another
TABS = ("Profile", "Clean", "Versions")
# each tab's choices, kept while it is closed (widget keys; a trailing "_" is a prefix)
TAB_CHOICES = {"Profile": ("data_profile_which", "data_profile_col"), "Clean": ("data_kind_", "data_p_"),
               "Versions": ("data_save_split", "data_save_test_size", "data_save_time", "data_cmp_a", "data_cmp_b")}


@st.cache_data(show_spinner=False, max_entries=8)
def read_bundled(key: str):  # noqa: ANN201
    from core.data.bundled import load_bundled

    return load_bundled(key)


@st.cache_data(show_spinner=False, max_entries=8)
def read_file(path: str, name: str):  # noqa: ANN201
    from core.data.io import read_table

    return read_table(path, name)


@st.cache_data(show_spinner="Profiling…", max_entries=16)
def profile(digest: str, _frame: pd.DataFrame):  # noqa: ANN201
    from core.data.profile import profile_frame

    return profile_frame(_frame)


@st.cache_data(show_spinner="Replaying the recipe…", max_entries=16)
def replay(digest: str, recipe_json: str, _frame: pd.DataFrame, target: str = ""):  # noqa: ANN201
    """Fit the recipe on the raw table (split first, learning steps on the training rows, ``target`` protected)."""
    from core.data.recipe import Recipe
    from core.data.recipe import replay as replay_recipe

    return replay_recipe(_frame, Recipe.from_json(recipe_json), mode="fit", target=target or None)


def recipe_text() -> str:
    """The current recipe as canonical JSON: with the raw digest, it determines the cleaned table."""
    from core.data.recipe import Recipe

    return Recipe.from_dict(recipe_json()).to_json()


def cleaned_key(src: dict[str, Any]) -> str:
    """Cache key of the cleaned table (raw content + recipe), shared by the profile and the save form."""
    return f"{src['digest']}:{recipe_text()}"


def set_source(frame: pd.DataFrame, name: str, kind: str, ref: str, notes: tuple[str, ...] = (),
               fmt: str = "", delimiter: str | None = ",", encoding: str | None = "utf-8") -> None:
    st.session_state[SOURCE] = {
        "frame": frame, "name": name, "kind": kind, "ref": ref, "digest": frame_digest(frame),
        "notes": tuple(notes), "fmt": fmt, "delimiter": delimiter, "encoding": encoding,
    }


def recipe_code(recipe, src: dict[str, Any]) -> str:  # noqa: ANN001
    """The recipe as a standalone script that reads the source the way the loader did."""
    from core.data.recipe import to_python

    ext = {"parquet": "parquet", "jsonl": "jsonl"}.get(src.get("fmt", ""), "csv")
    if src.get("kind") == "version":
        ext = "parquet"
    return to_python(recipe, f"{src['name']}.{ext}", delimiter=src.get("delimiter", ","),
                     encoding=src.get("encoding", "utf-8"))


def source() -> dict[str, Any] | None:
    return st.session_state.get(SOURCE)


def recipe_json() -> dict[str, Any]:
    return st.session_state.setdefault(RECIPE, {"version": 1, "steps": []})


def set_recipe_json(value: dict[str, Any]) -> None:
    st.session_state[RECIPE] = value
    st.session_state.pop(PREVIEW, None)
