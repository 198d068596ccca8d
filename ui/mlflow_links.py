"""Links from the app to the MLflow UI: a run, a registered model version, a logged model.

The base URL is ``Settings.mlflow_ui`` (``WORKBENCH_MLFLOW_UI``, default the ``make mlflow-ui``
address); empty, every function returns ``""`` and the pages show plain text. The URL builders are
pure (no Streamlit) so tests check them directly; the MLflow UI routes with a ``#/`` fragment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.tracking import RunSummary, Tracker
    from core.tracking.models import ModelVersionInfo

LINK_COLUMN = "MLflow"


def run_url(base: str, experiment_id: str, run_id: str) -> str:
    """``<base>/#/experiments/<exp>/runs/<run>``, or ``""`` without a base."""
    if not base or not run_id:
        return ""
    return f"{base.rstrip('/')}/#/experiments/{quote(str(experiment_id))}/runs/{quote(run_id)}"


def model_version_url(base: str, name: str, version: int | str) -> str:
    """``<base>/#/models/<name>/versions/<v>``, or ``""`` without a base."""
    if not base or not name:
        return ""
    return f"{base.rstrip('/')}/#/models/{quote(name, safe='')}/versions/{quote(str(version))}"


def logged_model_url(base: str, experiment_id: str, model_id: str) -> str:
    """``<base>/#/experiments/<exp>/models/<model id>`` (an MLflow 3 logged model), or ``""``."""
    if not base or not model_id:
        return ""
    return f"{base.rstrip('/')}/#/experiments/{quote(str(experiment_id))}/models/{quote(model_id)}"


def markdown(label: str, url: str) -> str:
    """``[label](url)`` when there is a URL, else the label alone."""
    return f"[{label}]({url})" if url else label


# -- with a tracker (what the pages call) ---------------------------------------
def for_run(tracker: Tracker, project: str, run_id: str) -> str:
    """The MLflow UI page of one run of ``project``."""
    base = tracker.settings.mlflow_ui
    return run_url(base, tracker.ensure_project(project), run_id) if base else ""


def for_version(tracker: Tracker, mv: ModelVersionInfo) -> str:
    """The MLflow UI page of a registered model version."""
    return model_version_url(tracker.settings.mlflow_ui, mv.name, mv.version)


def with_run_links(tracker: Tracker, project: str, frame: pd.DataFrame, runs: list[RunSummary]) -> pd.DataFrame:
    """``frame`` (one row per run, in order) with an ``MLflow`` URL column, when links are on."""
    if not tracker.settings.mlflow_ui or len(frame) != len(runs):
        return frame
    out = frame.copy()
    out[LINK_COLUMN] = [for_run(tracker, project, r.run_id) for r in runs]
    return out


def link_column_config() -> dict:
    """``column_config`` for :func:`with_run_links`'s column (a short 'open' link)."""
    import streamlit as st

    return {LINK_COLUMN: st.column_config.LinkColumn(LINK_COLUMN, display_text="open in MLflow")}
