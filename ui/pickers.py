"""Pickers for things stored in MLflow (dataset versions), and the reset of version widgets whose labels moved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from core.tracking import Tracker
from core.tracking.datasets import DatasetVersion, dataset_versions


def _fmt_version(v: DatasetVersion) -> str:
    split = ", split" if v.has_split else ""
    return f"{v.label} · {v.stage} · {v.rows:,} rows × {v.columns} cols{split}"


def dataset_picker(tracker: Tracker, project: str, key: str, label: str = "Dataset version",
                   where: st.delta_generator.DeltaGenerator | None = None,
                   default_run_id: str | None = None) -> DatasetVersion | None:
    """A selectbox of the project's dataset versions (newest first, or ``default_run_id`` first shown);
    None when there are none."""
    versions = dataset_versions(tracker, project)
    if not versions:
        return None
    index = next((i for i, v in enumerate(versions) if v.run_id == default_run_id), 0)
    return (where or st).selectbox(label, versions, index=index, format_func=_fmt_version, key=key)


def fresh_if_labels_changed(key: str, labels: Mapping[Any, str]) -> None:
    """Reset widget ``key`` when its option labels changed (e.g. "v2" became "v2 (champion)").

    The browser keeps a selection by its *label*; after a promotion the old label is no longer
    an option and Streamlit raised a TypeError for the whole page. A reset widget shows its default.
    """
    signature = repr(sorted((str(k), v) for k, v in labels.items()))
    marker = f"{key}__labels"
    if st.session_state.get(marker) not in (None, signature):
        st.session_state.pop(key, None)
    st.session_state[marker] = signature
