"""Pickers for things stored in MLflow: dataset versions and model versions."""

from __future__ import annotations

import streamlit as st

from core.tracking import Tracker
from core.tracking.datasets import DatasetVersion, dataset_versions
from core.tracking.models import ModelVersionInfo, model_versions


def _fmt_version(v: DatasetVersion) -> str:
    split = ", split" if v.has_split else ""
    return f"{v.label} · {v.stage} · {v.rows:,} rows × {v.columns} cols{split}"


def dataset_picker(tracker: Tracker, project: str, key: str, label: str = "Dataset version",
                   where: st.delta_generator.DeltaGenerator | None = None) -> DatasetVersion | None:
    """A selectbox of the project's dataset versions (newest first); None when there are none."""
    versions = dataset_versions(tracker, project)
    if not versions:
        return None
    return (where or st).selectbox(label, versions, format_func=_fmt_version, key=key)


def model_picker(tracker: Tracker, name: str, key: str, label: str = "Model version",
                 where: st.delta_generator.DeltaGenerator | None = None) -> ModelVersionInfo | None:
    """A selectbox of the registered model's versions (aliases shown); None when there are none."""
    versions = model_versions(tracker, name)
    if not versions:
        return None
    return (where or st).selectbox(label, versions, format_func=lambda m: m.label, key=key)
