"""Label: active learning from a queue, lasso labelling on a UMAP map, durable label log, save to MLflow."""

from __future__ import annotations

import streamlit as st

from core.errors import WorkbenchError, one_line
from core.label import embed
from core.label.labellog import LabelLog, last_labelled_version
from core.label.query import predict_with_confidence
from core.label.save import save_label_set, session_meta
from core.label.session import Pool
from ui import label as ul
from ui import label_history as uh
from ui import label_queue as uq
from ui.feedback import empty_state, user_errors
from ui.identity import identity
from ui.pickers import dataset_picker
from ui.resources import settings, tracker
from ui.state import current_project

s = settings()
if not st.session_state.get("label_no_warmup"):
    embed.warm_up(s.home)  # once per process, on a background thread: the first map will not pay the JIT
project = current_project()
st.title("Label")
st.caption("The model asks for the labels that teach it most; the map lets you label whole clusters at once. "
           "Every label is written to disk the moment you give it.")

t = tracker()
# after a refresh or a restart, reopen the version *this person* last labelled (not simply the newest)
version = dataset_picker(t, project, key="label_dataset",
                         default_run_id=last_labelled_version(s.labels_dir, project, identity().key))
if version is None:
    empty_state("This project has no dataset version yet: open or upload a table in Data and save a version.",
                "pages/data.py", "Open Data")
    st.stop()

ok = False
with user_errors():
    frame = ul.load_frame(version.run_id)
    setup = ul.render_setup(frame, version, project)
    if setup.label_column not in frame.columns and len(setup.classes) < 2:
        st.info(f"To label into the new column **{setup.label_column}**, type at least two class names in the "
                "set-up above (for example `cat, dog`).", icon=":material/edit:")
        st.stop()
    pool: Pool = ul.load_pool(version.run_id, setup.label_column, setup.features, setup.classes, setup.impute)
    log = LabelLog.for_version(s.labels_dir, project, version.run_id, setup.label_column)
    meta = session_meta(label_column=setup.label_column, classes=pool.classes, features=pool.features,
                        learner=setup.learner, strategy=setup.strategy, dataset=version.ref)
    if log.session() != meta:
        log.write_session(meta)
    ok = True
if not ok:
    st.stop()

if pool.imputed_cells:
    st.caption(f":material/info: {pool.imputed_cells} missing feature value(s) filled with the column median "
               "for labelling; the saved table keeps them empty.")
session_key = (version.run_id, *setup.key, setup.learner, setup.strategy, setup.committee_measure, setup.batch_size)


@st.fragment
def queue_panel() -> None:
    """Reruns alone on each click: the click is already in the log, the next row is in the drawn batch."""
    with user_errors():
        # The same elements in the same places on every run: only the card's content changes, so the
        # class buttons (and their key shortcuts) stay mounted once instead of a stale copy beside a new one.
        with st.container(key="label_conflicts_box"):
            ul.render_conflicts(pool, frame, log, setup.as_image)  # clicks on rows another session labelled
        state = ul.rebuild_state(pool, log)
        view = uq.queue_view(pool, state, setup, log, session_key)
        if not view.open_rows:
            st.success("Every row is labelled or skipped. Save the label set below.", icon=":material/done_all:")
            return
        notes = [uq.status_line(view), view.note]
        if view.ranking.shared:
            notes.append("Every row left is in another session's batch too; a row labelled there first will ask "
                         "before you overwrite it.")
        st.markdown("  \n".join(n for n in notes if n))
        row = uq.cursor_row(view)
        model = uq.model_of(view)
        with st.container(border=True, key="label_card"):
            left, right = st.columns([1, 3] if setup.as_image else [3, 2])
            with left, st.container(key=f"label_row_{row}"):
                ul.show_row(pool, frame, row, setup.as_image, search_key="label_card_find")
            with right:
                st.markdown(f"**Row {row}**")
                if model is not None:
                    pred, conf = predict_with_confidence(model, pool.X[[row]])
                    st.caption(f"Model says **{pred[0]}** ({conf[0]:.0%} sure), trained on "
                               f"{view.ranking.trained_on} labels.")
                else:
                    st.caption("No model yet: it trains once two classes have labels.")
            order = uq.class_order(pool.classes, state)
            st.caption("Keys: " + " · ".join(f"`{i + 1}` {c}" for i, c in enumerate(order[:uq.HOTKEYS]))
                       + " · `0` skip · `u` undo")
            uq.label_keys(order, log)
        nxt = [r for r in view.open_rows if r != row][:8]
        st.caption(("Up next: " + ", ".join(f"row {r}" for r in nxt) + ("…" if len(view.open_rows) > 9 else ""))
                   if nxt else "Last row of this batch.")


@st.fragment(run_every=3)
def progress_panel() -> None:
    """Re-read from the label log every few seconds: queue clicks rerun only the queue fragment."""
    ul.keep_batch(log)  # a live tab keeps its batch's rows held (a closed one lets them go)
    state = ul.rebuild_state(pool, log)
    uq.curve_job(pool, state, setup, log)  # a lasso's labels get their learning-curve point too
    ul.render_progress(pool, state, log, ul.random_baseline(project, version.run_id))


tab_queue, tab_history, tab_map, tab_progress, tab_save = st.tabs(["Queue", "History", "Map", "Progress", "Save"])
with tab_queue:
    st.caption(uq.KEYS_HELP)
    queue_panel()
state = ul.rebuild_state(pool, log)
with tab_history:
    with user_errors():
        uh.render_history(pool, log)
        with st.expander("Export / import labels (CSV, Label Studio JSON)", icon=":material/swap_horiz:"):
            uh.render_exchange(pool, frame, log, dict(state.labels))
with tab_progress:
    progress_panel()
with tab_map:
    from ui.label_map import render_map

    with user_errors():
        ranking = (st.session_state.get(ul.BATCH) or {}).get("ranking")
        render_map(version, frame, pool, state, setup, log, [r for r in (ranking.rows if ranking else ())
                                                              if r not in state.labels])
with tab_save:
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

                emb = embedding_path(s.cache_dir, version.run_id, pool.features)
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
