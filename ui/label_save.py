"""The Save tab of the Label page: the labelled table as a new dataset version in MLflow."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.errors import WorkbenchError, one_line
from core.label.labellog import LabelLog
from core.label.save import save_label_set
from core.label.session import LabelState, Pool
from core.tracking.datasets import DatasetVersion
from ui.label import Setup
from ui.resources import settings


def render_save(t: Any, project: str, version: DatasetVersion, frame: pd.DataFrame, pool: Pool, setup: Setup,
                log: LabelLog, state: LabelState) -> None:
    """Name, 'include unlabelled rows', and the save button with its status."""
    st.markdown("Writes an MLflow run (stage **label**) with the labelled table as a new dataset version, "
                "the label log, counts per class, the learning curve, and the map when it exists.")
    c1, c2 = st.columns(2)
    name = c1.text_input("Dataset name", value=f"{version.name}-labels", key="label_save_name")
    all_rows = c2.checkbox("Include unlabelled rows (empty label)", key="label_save_all",
                           help="By default only labelled rows are saved: that is what training needs.")
    if st.button("Save label set", type="primary", icon=":material/save:", key="label_save",
                 disabled=not state.labels):
        saved = None
        with st.status("Saving the label set to MLflow…", expanded=True) as status:
            try:
                from core.label.embed import embedding_path

                emb = embedding_path(settings().cache_dir, version.run_id, pool.features)
                saved = save_label_set(t, project, version, frame, setup.label_column, state.labels, log=log,
                                       classes=pool.classes, features=pool.features, strategy=setup.strategy,
                                       learner=setup.learner, curve=log.curve(), embedding=emb, name=name,
                                       only_labelled=not all_rows)
            except WorkbenchError as err:
                status.update(label="Not saved", state="error")
                st.error(one_line(err))
            else:
                status.update(label=f"Saved {saved.version.label}", state="complete", expanded=False)
        if saved is not None:  # outside the status box, which collapses when it completes
            st.success(f"Saved {saved.labelled:,} labels as **{saved.version.label}** "
                       f"(run `{saved.run_id}`), linked to {version.label}.")
    if not state.labels:
        st.caption("Label some rows first.")
