"""Label: active learning from a queue, lasso labelling on a UMAP map, durable label log, save to MLflow."""

from __future__ import annotations

import streamlit as st

from core.label import embed
from core.label.labellog import LabelLog, last_labelled_version
from core.label.query import predict_with_confidence
from core.label.save import session_meta
from core.label.session import Pool
from ui import label as ul
from ui import label_history as uh
from ui import label_progress as up
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
        two_classes = len(set(state.labels.values())) >= 2
        notes = [uq.status_line(view, two_classes), view.note]
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
                    st.caption(uq.no_model_caption(two_classes))
            order = uq.class_order(pool.classes, state)
            st.caption("Keys: " + " · ".join(f"`{i + 1}` {c}" for i, c in enumerate(order[:uq.HOTKEYS]))
                       + " · `0` skip · `u` undo")
            uq.label_keys(order, log)
        nxt = [r for r in view.open_rows if r != row][:8]
        st.caption(("Up next: " + ", ".join(f"row {r}" for r in nxt) + ("…" if len(view.open_rows) > 9 else ""))
                   if nxt else "Last row of this batch.")


@st.fragment(run_every=3)
def progress_panel() -> None:
    """Re-read from the label log every few seconds (it runs only while the Progress tab is open)."""
    state = ul.rebuild_state(pool, log)
    uq.curve_job(pool, state, setup, log)  # a lasso's labels get their learning-curve point too
    up.render_progress(pool, state, log, up.random_baseline(project, version.run_id))


@st.fragment(run_every=30)
def keep_alive() -> None:
    """A live tab keeps its batch's rows held (a closed one lets them go); draws nothing, costs a file read."""
    ul.keep_batch(log)


keep_alive()
# Only the open tab runs (on_change="rerun"): while the person labels in the queue, no other tab's
# timer (Progress every 3 s, the map's poll) reruns beside the clicks, and the map's fit starts only
# once the Map tab is opened. Widget values of the closed tabs are kept (ul.keep_tab_widgets).
ul.keep_tab_widgets()
tab_queue, tab_history, tab_map, tab_progress, tab_save = st.tabs(ul.TABS, key=ul.TAB, on_change="rerun")
if tab_queue.open is not False:
    with tab_queue:
        st.caption(uq.KEYS_HELP)
        queue_panel()
state = ul.rebuild_state(pool, log)
if tab_history.open:
    with tab_history, user_errors():
        uh.render_history(pool, log)
        with st.expander("Export / import labels (CSV, Label Studio JSON)", icon=":material/swap_horiz:"):
            uh.render_exchange(pool, frame, log, dict(state.labels))
if tab_progress.open:
    with tab_progress:
        progress_panel()
if tab_map.open:
    from ui.label_map import map_panel

    with tab_map:
        map_panel(version, frame, pool, setup, log)
if tab_save.open:
    from ui.label_save import render_save

    with tab_save:
        render_save(t, project, version, frame, pool, setup, log, state)
