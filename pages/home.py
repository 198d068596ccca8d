"""Home: the loop, with what each stage holds for this project, read from MLflow."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from core.tracking import STAGES
from ui import cache
from ui import mlflow_links as links
from ui.feedback import page_link, user_errors
from ui.home import lineage_choices
from ui.navigation import PAGES
from ui.pickers import picker_key
from ui.resources import tracker
from ui.state import current_project
from ui.verdict import show_champion_verdict

LOOP = [p for p in PAGES if p.stage]

project = current_project()
st.title("MLOps workbench")
st.caption(f"Project **{project}** — one loop, one system of record (MLflow). "
           "Data → Label → Tune → Compare → Deploy → Monitor → retrain.")

with user_errors():
    t = tracker()
    snap = cache.home_snapshot(project)  # one read of the store for the cards and models, until the next write
    runs, names, versions = list(snap.runs), list(snap.models), list(snap.versions)
    by_stage = {s: snap.stage_runs(s) for s in STAGES}

    cols = st.columns(3)
    for i, info in enumerate(LOOP):
        stage, page, title, blurb = info.stage, info.file, info.title, info.blurb
        stage_runs = by_stage[stage] + (by_stage["retrain"] if stage == "monitor" else [])
        with cols[i % 3].container(border=True):
            st.markdown(f"**{i + 1}. {title}**")
            st.caption(blurb)
            if stage_runs:
                last = stage_runs[0]
                when = datetime.fromtimestamp(last.start_time / 1000).strftime("%Y-%m-%d %H:%M")
                st.metric("Runs", len(stage_runs), help=f"Latest: {last.name or last.run_id[:8]} at {when}")
            else:
                st.metric("Runs", 0)
            if info.exists:
                page_link(page, f"Open {title}")
            else:
                st.caption("Not available in this build.")

    st.subheader("Registered models" if len(names) > 1 else "Registered model")
    for name in names:
        own = [v for v in versions if v.name == name]
        champ = next((v for v in own if "champion" in v.aliases), None)
        chall = next((v for v in own if "challenger" in v.aliases), None)
        target = (own[0].tags.get("workbench.target", "") if own else "") or "?"
        st.markdown(f"**{name}** — predicts `{target}`")
        c1, c2, c3 = st.columns(3)
        c1.metric("Versions", len(own))
        c2.metric("Champion", f"v{champ.version}" if champ else "—")
        c3.metric("Challenger", f"v{chall.version}" if chall else "—")
        for col, mv in ((c2, champ), (c3, chall)):
            if mv is not None and (url := links.for_version(t, mv)):
                col.markdown(links.markdown(f"{mv.name} v{mv.version} in MLflow", url))
    show_champion_verdict(project)  # the charter's verdict for the champion (Plan → Compare's gate)
    if not versions:
        st.info("No registered model yet: save a dataset version in **Data**, then run a study in **Tune**.",
                icon=":material/info:")

    if not runs:
        st.info("This project is empty. Start in **Data**: pick a bundled data set or upload a file.",
                icon=":material/info:")
        if LOOP[0].exists:
            page_link("pages/data.py", "Start with Data")

    st.subheader("Lineage")
    choices = lineage_choices(snap)  # registered versions first, then root runs; the warm-up read the default
    if not choices:
        st.caption("Lineage appears here once the project has runs.")
    else:
        label, focus = st.selectbox("Show the chain of", choices, format_func=lambda c: c[0],
                                    key=picker_key("home_lineage", choices, lambda c: c[0], ident=lambda c: c[1]))
        graph = cache.lineage(project, focus)
        st.graphviz_chart(graph.to_dot())
        with st.expander("Runs in this chain"):
            for node in graph.nodes:
                c1, c2 = st.columns([3, 1])
                run_ref = links.markdown(f"`{node.run_id}`", links.for_run(t, project, node.run_id))
                c1.markdown(f"**{node.stage}** · {node.name} · {run_ref} · {node.status.lower()}")
                if any(p.file == node.page and p.exists for p in PAGES):
                    with c2:
                        page_link(node.page, f"Open {node.stage}")
