"""The prediction-job picker: one registered model per job (``<project>-<target>``), shown with target and task.

Every page that lists model versions first asks which registered model (which prediction job) it is
about, so versions of two unrelated tables never mix. The picker is keyed by the model names on
offer (a new model is a new option set, see :func:`ui.pickers.picker_key`).
"""

from __future__ import annotations

import streamlit as st

from core.tracking import Tracker
from core.tracking.models import project_models, registered_model_tags
from ui.pickers import picker_key


@st.cache_data(ttl=5, show_spinner=False)
def _jobs(_tracker: Tracker, store: str, project: str) -> list[tuple[str, str]]:
    """(name, description) of the project's registered models; cached a few seconds (every rerun reads it)."""
    out = []
    for name in project_models(_tracker, project):
        tags = registered_model_tags(_tracker, name) or {}
        target, task = tags.get("workbench.target", ""), tags.get("workbench.task", "")
        metric = tags.get("workbench.promotion_metric", "")
        what = " · ".join(p for p in (f"predicts {target!r}" if target else "", task,
                                      f"promoted on {metric}" if metric else "") if p)
        out.append((name, what or "older registered model (one per project)"))
    return out


def model_picker(tracker: Tracker, project: str, key: str, *, where=None) -> str | None:  # noqa: ANN001
    """A selectbox of the project's registered models; None when there is none (one option: no widget)."""
    jobs = _jobs(tracker, tracker.settings.tracking_uri, project)
    if not jobs:
        return None
    if len(jobs) == 1:
        (where or st).caption(f"Registered model **{jobs[0][0]}** — {jobs[0][1]}")
        return jobs[0][0]
    names = [n for n, _ in jobs]
    labels = dict(jobs)
    return (where or st).selectbox("Registered model (prediction job)", names,
                                   format_func=lambda n: f"{n} — {labels.get(n, '')}",
                                   key=picker_key(key, names, lambda n: f"{n} — {labels.get(n, '')}"),
                                   help="One registered model per prediction job: versions of different targets "
                                        "never share version numbers.")


def clear_cache() -> None:
    """After a registration or promotion the job list (and its promotion metric) may have changed."""
    _jobs.clear()


@st.cache_data(show_spinner=False, max_entries=512)
def _dataset_label(_tracker: Tracker, store: str, run_id: str) -> str:
    """'penguins v2' for a dataset version run id (versions never change: cached)."""
    from core.errors import WorkbenchError
    from core.tracking.datasets import DatasetVersion

    if not run_id:
        return "?"
    try:
        return DatasetVersion.from_run(_tracker.get_run(run_id)).label
    except WorkbenchError:
        return "(deleted data)"


def version_label(tracker: Tracker, mv) -> str:  # noqa: ANN001 - a ModelVersionInfo
    """``v3 (champion) · penguins v2 · species · rf``: what every version picker shows."""
    alias = f" ({', '.join(mv.aliases)})" if mv.aliases else ""
    data = _dataset_label(tracker, tracker.settings.tracking_uri, mv.tags.get("workbench.data_version", ""))
    return (f"v{mv.version}{alias} · {data} · {mv.tags.get('workbench.target', '?')} · "
            f"{mv.tags.get('workbench.family', '?')}")
