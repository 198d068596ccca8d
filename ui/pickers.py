"""Pickers for things stored in MLflow (dataset versions), and the keys of version widgets whose labels move."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import streamlit as st

from core.tracking import Tracker
from core.tracking.datasets import DatasetVersion
from ui.cache import dataset_versions

T = TypeVar("T")


def _fmt_version(v: DatasetVersion) -> str:
    split = ", split" if v.has_split else ""
    return f"{v.label} · {v.stage} · {v.rows:,} rows × {v.columns} cols{split}"


def dataset_picker(tracker: Tracker, project: str, key: str, label: str = "Dataset version",
                   where: st.delta_generator.DeltaGenerator | None = None,
                   default_run_id: str | None = None) -> DatasetVersion | None:
    """A selectbox of the project's dataset versions (newest first, or ``default_run_id`` first shown);
    None when there are none. The versions are read once per write to the store, for all sessions."""
    versions = dataset_versions(project, t=tracker)
    if not versions:
        return None
    index = next((i for i, v in enumerate(versions) if v.run_id == default_run_id), 0)
    return (where or st).selectbox(label, versions, index=index, format_func=_fmt_version, key=key)


def picker_key(base: str, options: Iterable[T], format_func: Callable[[T], Any] = str,
               ident: Callable[[T], Hashable] | None = None) -> str:
    """The key for a picker whose option labels can change (versions gain and lose aliases): ``base_<hash>``.

    A keyed selectbox / multiselect keeps its element id when only its options change, and the
    browser sends back the selection as *formatted labels*. After a promotion "v2" becomes
    "v2 (champion)": the old label is no longer an option, Streamlit hands it to ``format_func`` as a
    raw string and the page dies with a TypeError on the next interaction. So the key (and with it
    the element id) follows the labels: a new label set is a new widget, and the browser's stale
    labels belong to an id that is no longer drawn.

    The person's choice survives: the selection of the previous key, read as option *values*, is
    carried into the new key when those values are still options (matched by ``ident``, e.g.
    ``lambda v: (v.name, v.version)`` for objects; the option itself by default), and the previous
    key is dropped from session state. Call this right before the widget and pass the returned key.
    """
    options = list(options)
    ident = ident or (lambda option: option)
    pairs = sorted((repr(ident(o)), str(format_func(o))) for o in options)
    key = f"{base}_{hashlib.sha1(repr(pairs).encode()).hexdigest()[:8]}"
    marker = f"{base}__key"
    previous = st.session_state.get(marker)
    st.session_state[marker] = key
    if previous in (None, key) or previous not in st.session_state:
        return key
    carried = _still_valid(st.session_state[previous], options, ident)
    del st.session_state[previous]
    if carried is not _NOTHING and key not in st.session_state:
        st.session_state[key] = carried
    return key


_NOTHING = object()


def _still_valid(value: Any, options: list[T], ident: Callable[[T], Hashable]) -> Any:
    """``value`` (one option or a list of them) mapped onto today's options; _NOTHING when none is left."""
    by_id: dict[Hashable, T] = {}
    for option in options:
        by_id.setdefault(ident(option), option)
    if isinstance(value, list | tuple):
        kept = [by_id[i] for i in (_safe_ident(ident, v) for v in value) if i is not _NOTHING and i in by_id]
        return kept if kept or not value else _NOTHING  # an emptied multiselect stays empty
    found = _safe_ident(ident, value)
    return by_id[found] if found is not _NOTHING and found in by_id else _NOTHING


def _safe_ident(ident: Callable[[Any], Hashable], value: Any) -> Hashable:
    try:
        return ident(value)
    except Exception:  # a stale label string where an object was expected: not an option
        return _NOTHING
