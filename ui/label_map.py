"""The map panel of the Label page: PCA at once, UMAP / t-SNE from a background job, plotly lasso → labels.

The Map tab is one fragment (:func:`map_panel`): a lasso, a class pick, an assignment and the swap
to a finished embedding rerun only the map, so nothing else on the page (an open select box, the
set-up) is redrawn under the person. Colouring by the model uses the learner of the queue's latest
background round (:mod:`core.label.rounds`): nothing is fitted on the request path.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core.errors import LabelError
from core.label import embed
from core.label.labellog import LabelLog
from core.label.maps import METHOD_NAMES, METHODS, check_mappable, cluster_map_colours, pca_map
from core.label.query import predict_with_confidence
from core.label.selection import assign_selection, preview_selection
from core.label.session import LabelState, Pool
from core.tracking.datasets import DatasetVersion
from ui.feedback import user_errors
from ui.label import BATCH, Setup, rebuild_state, show_row, tab_id
from ui.resources import settings

PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d",
           "#eeca3b", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
UNLABELLED = "#d9d9d9"
MAP_ROUND = "label_map_round"  # session key: bumped after each lasso assignment
SWAP = "label_map_swap"        # a hidden button inside the map fragment: clicking it reruns only the map
COLOURS = ("label", "predicted class", "uncertainty", "cluster")
HOVER_FEATURES_MAX = 2_000
MAX_POINTS = 50_000  # drawn with WebGL (Scattergl); plotly's SVG scatter slows down past a few thousand


@st.cache_data(show_spinner=False, max_entries=8)
def _load(path: str, mtime: float, rows: int) -> np.ndarray | None:
    return embed.load_embedding(path, rows)  # type: ignore[arg-type]


@st.cache_data(show_spinner=False, max_entries=8)
def _pca(run_id: str, features: tuple[str, ...], rows: int, _X: np.ndarray) -> np.ndarray:
    return pca_map(_X)  # keyed by version + features (hashing a 50k-row matrix on every rerun would cost more)


@st.cache_data(show_spinner=False, max_entries=8)
def _clusters(run_id: str, features: tuple[str, ...], rows: int, k: int, _X: np.ndarray) -> np.ndarray:
    return cluster_map_colours(_X, k)


@st.cache_resource(show_spinner=False, max_entries=2)
def _predictions(run_id: str, features: tuple[str, ...], model_id: int, _model: Any,
                 _X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # one pass over the pool per round's model (the map reruns on every lasso; the model changes per round)
    return predict_with_confidence(_model, _X)


def cached_embedding(version: DatasetVersion, pool: Pool, method: str = "umap") -> tuple[np.ndarray | None, Any]:
    path = embed.embedding_path(settings().cache_dir, version.run_id, pool.features, method=method)
    if not path.exists():
        return None, path
    return _load(str(path), path.stat().st_mtime, pool.rows), path


def map_coordinates(version: DatasetVersion, pool: Pool, method: str) -> tuple[np.ndarray, str]:
    """The ``method`` map when it is cached, else the PCA map at once (and the fit started in the background)."""
    if method != "pca":
        emb, _ = cached_embedding(version, pool, method)
        if emb is not None:
            return emb, method
        status = embed.job_status(settings().cache_dir, version.run_id, pool.features, method=method)
        # label_no_warmup (page tests): no UMAP JIT in this process; PCA stays on screen
        no_umap = method == "umap" and st.session_state.get("label_no_warmup")
        if status.state != "failed" and not no_umap:
            embed.start_embedding(settings().cache_dir, version.run_id, pool.features, pool.X,
                                  home=settings().home, method=method)
    return _pca(version.run_id, pool.features, pool.rows, pool.X), "pca"


@st.fragment
def map_panel(version: DatasetVersion, frame: pd.DataFrame, pool: Pool, setup: Setup, log: LabelLog) -> None:
    """The Map tab; the labels are re-read from the log on each of its own reruns."""
    with user_errors():
        state = rebuild_state(pool, log)
        ranking = (st.session_state.get(BATCH) or {}).get("ranking")
        batch_rows = [r for r in (ranking.rows if ranking else ()) if r not in state.labels]
        render_map(version, frame, pool, state, setup, log, batch_rows)


def _rerun_map() -> None:
    """Rerun only the map when it runs as a fragment (a full run, e.g. a page test, reruns the page)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    st.rerun(scope="fragment" if ctx is not None and ctx.fragment_ids_this_run else "app")


def render_map(version: DatasetVersion, frame: pd.DataFrame, pool: Pool, state: LabelState, setup: Setup,
               log: LabelLog, batch_rows: list[int]) -> None:
    try:
        check_mappable(pool.rows, len(pool.features))
    except LabelError as err:
        st.info(str(err), icon=":material/info:")
        return
    if pool.rows > MAX_POINTS:
        st.info(f"The map draws up to {MAX_POINTS:,} points; this version has {pool.rows:,} rows. "
                "Label from the queue, or save a sample of the table in the Data stage.", icon=":material/info:")
        return
    c1, c2 = st.columns([1, 2])
    method = c1.radio("Map", METHODS, format_func=METHOD_NAMES.get, horizontal=True, key="label_map_method",
                      help="PCA is drawn at once; UMAP and t-SNE fit in the background (once per version and "
                           "feature set, then cached) and replace it when ready.")
    colour = c2.radio("Colour by", COLOURS, horizontal=True, key="label_map_colour")
    emb, shown = map_coordinates(version, pool, method)
    if shown != method:
        with st.container(key=f"{SWAP}_box"):  # hidden: the poll below clicks it when the fit ends
            st.html(f"<style>.st-key-{SWAP}_box{{display:none}}</style>")
            st.button("Show the finished map", key=SWAP)
        _pending(version, pool, method)
    fig = _figure(emb, frame, pool, state, setup, colour, batch_rows, version.run_id)
    # The chart's key changes after each assignment and with the map shown: a fresh widget, so the
    # lasso that was just labelled does not stay selected (Streamlit keeps a chart's selection under its key).
    with st.container(key="label_map_chart"):
        event = st.plotly_chart(fig, on_select="rerun", selection_mode=("lasso", "box"),
                                key=f"label_map_plot_{shown}_{st.session_state.get(MAP_ROUND, 0)}")
    points = _selected_points(event)
    if not points:
        st.caption("Draw a lasso or a box around points to label them all at once. "
                   "Outlined points are the current queue batch.")
        return
    _assign_panel(pool, frame, state, setup, log, points)


def _pending(version: DatasetVersion, pool: Pool, method: str) -> None:
    name = METHOD_NAMES[method]
    status = embed.job_status(settings().cache_dir, version.run_id, pool.features, method=method)
    if status.state == "failed":
        st.warning(f"The {name} map could not be computed ({status.error}); showing PCA.", icon=":material/warning:")
        if st.button(f"Try {name} again", key="label_map_retry"):
            embed.start_embedding(settings().cache_dir, version.run_id, pool.features, pool.X,
                                  home=settings().home, method=method)
            _rerun_map()
        return
    if status.state == "running":
        _poll(version.run_id, pool.features, method)
    else:
        st.caption(f"Showing PCA; {name} is not computed in this session.")


def _poll(run_id: str, features: tuple[str, ...], method: str) -> None:
    name = METHOD_NAMES[method]
    warm = embed.warm_state()["state"] if method == "umap" else "done"

    @st.fragment(run_every=2)
    def poll() -> None:
        status = embed.job_status(settings().cache_dir, run_id, features, method=method)
        if status.state != "running":
            # Swap the map in, unless a lasso is waiting for its class: the person keeps their selection.
            # The swap reruns the map fragment only (through its hidden button), never the whole page:
            # a full rerun closed select boxes elsewhere on the page.
            if not any(k.startswith("label_map_plot_pca") and _has_points(st.session_state.get(k))
                       for k in list(st.session_state.keys())):
                st.html(SWAP_SCRIPT % (SWAP, status.seconds), unsafe_allow_javascript=True)
                st.caption(f"The {name} map is ready; showing it…")
                return
            st.caption(f"The {name} map is ready; it replaces PCA after this selection is labelled.")
            return
        note = " (UMAP is still warming up: the first map of a server process can take a minute)" \
            if warm == "running" else ""
        st.caption(f"Showing PCA while {name} fits in the background… {status.seconds:.0f} s{note}. "
                   "The lasso works on this map too.")

    poll()


# Clicks the map fragment's hidden swap button (the number makes each drawing a new script, run once).
SWAP_SCRIPT = """<script>(() => { const b = window.parent.document.querySelector('.st-key-%s button');
if (b) b.click(); })(); /* %.3f */</script>"""


def _has_points(event: Any) -> bool:
    try:
        return bool(event["selection"]["points"])
    except (KeyError, TypeError):
        return bool(getattr(getattr(event, "selection", None), "points", None))


def _figure(emb: np.ndarray, frame: pd.DataFrame, pool: Pool, state: LabelState, setup: Setup, colour: str,
            batch_rows: list[int], run_id: str = "") -> Any:
    n = pool.rows
    labels = np.array([state.labels.get(i, "") for i in range(n)], dtype=object)
    values: np.ndarray | None = None
    note = ""
    if colour in ("predicted class", "uncertainty"):
        ranking = (st.session_state.get(BATCH) or {}).get("ranking")
        model = ranking.model if ranking is not None else None
        if model is None:
            note = ("Colouring by the model needs the queue's first model (labels of two classes, then one "
                    "finished batch); showing labels.")
            colour = "label"
        else:
            pred, conf = _predictions(run_id, pool.features, id(model), model, pool.X)
            values = pred if colour == "predicted class" else 1 - conf
            since = len(state.labels) - ranking.trained_on
            note = (f"Coloured by the model of the latest background round, trained on {ranking.trained_on:,} "
                    "labels" + (f" ({since:,} given since: the next round refits on them)." if since > 0 else "."))
    elif colour == "cluster":
        # as many clusters as classes (2–12): a first guess at where each class lives
        values = _clusters(run_id, pool.features, n, max(2, min(len(pool.classes), 12)), pool.X)
    if note:
        st.caption(note)
    return map_figure(emb, labels, pool.classes, colour, values, hover_frame=frame[list(pool.features)[:6]],
                      batch_rows=batch_rows)


def map_figure(emb: np.ndarray, labels: np.ndarray, classes: tuple[str, ...], colour: str = "label",
               values: np.ndarray | None = None, hover_frame: pd.DataFrame | None = None,
               batch_rows: list[int] | tuple[int, ...] = ()) -> Any:
    """The map as a plotly figure (pure, so the bench times it): trace 0 holds every row in row order."""
    import plotly.graph_objects as go

    n = len(emb)
    size = 6 if n <= 5_000 else 4 if n <= 20_000 else 3
    # trace 0 is in row order, so plotly's point number is the row: no per-point row data to send
    hover = "row %{pointNumber}<br>label: %{text}<extra></extra>"
    text: Any = np.where(labels == "", "—", labels).astype(str)
    if hover_frame is not None and hover_frame.shape[1] and n <= HOVER_FEATURES_MAX:
        # Feature values in the hover only on small maps: formatting them costs ~1 s at 10k rows and
        # doubles the payload, against the first-paint budget (the row card shows every feature anyway).
        for i, col in enumerate(hover_frame.columns):  # vectorised: pandas' row-wise join costs ~1 s at 10k
            vals = np.char.mod("%.4g", hover_frame[col].to_numpy(dtype=float))
            text = np.char.add(np.char.add(text, "<br>" if i == 0 else ", "), np.char.add(f"{col} ", vals))
    legend: list[tuple[str, str]] = []
    code = {c: i for i, c in enumerate(classes)}
    class_colours = [PALETTE[i % len(PALETTE)] for i in range(len(classes))]
    if colour == "label" or values is None:
        codes = np.fromiter((code.get(v, len(classes)) for v in labels), dtype=float, count=n)
        marker: dict[str, Any] = _discrete(codes, [*class_colours, UNLABELLED], size)
        legend = [(str(c), class_colours[i]) for i, c in enumerate(classes)] + [("unlabelled", UNLABELLED)]
    elif colour == "predicted class":
        codes = np.fromiter((code.get(v, len(classes)) for v in values), dtype=float, count=n)
        marker = _discrete(codes, [*class_colours, UNLABELLED], size)
        legend = [(str(c), class_colours[i]) for i, c in enumerate(classes)]
    elif colour == "cluster":
        ids = np.asarray(values, dtype=int)
        colours = [PALETTE[i % len(PALETTE)] for i in range(int(ids.max()) + 1)]
        marker = _discrete(ids.astype(float), colours, size)
        legend = [(f"cluster {i + 1}", c) for i, c in enumerate(colours)]
    else:
        marker = dict(color=np.asarray(values, dtype=float), colorscale="Viridis", size=size, showscale=True,
                      colorbar=dict(title="uncertainty", thickness=10))
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=emb[:, 0], y=emb[:, 1], mode="markers", marker=marker, text=text,
                               hovertemplate=hover, showlegend=False, name="rows"))
    if len(batch_rows):
        b = np.asarray(batch_rows)
        fig.add_trace(go.Scattergl(x=emb[b, 0], y=emb[b, 1], mode="markers", name="queue batch",
                                   marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(width=2, color="black")),
                                   hoverinfo="skip"))
    for name, c in legend:
        fig.add_trace(go.Scattergl(x=[None], y=[None], mode="markers", marker=dict(color=c, size=8), name=name))
    fig.update_layout(height=520, dragmode="lasso", margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(showticklabels=False, title=""), yaxis=dict(showticklabels=False, title=""),
                      legend=dict(orientation="h", y=-0.05))
    return fig


def _discrete(codes: np.ndarray, colours: list[str], size: int) -> dict[str, Any]:
    """A marker coloured by integer codes through a stepped colour scale.

    One number per point instead of one colour string: plotly validates a list of colour
    strings element by element (seconds at 10k points), a numeric array at once.
    """
    k = len(colours)
    scale = [pair for i, c in enumerate(colours) for pair in ([i / k, c], [(i + 1) / k, c])]
    return dict(color=codes, colorscale=scale, cmin=-0.5, cmax=k - 0.5, size=size, showscale=False)


def _selected_points(event: Any) -> list[int]:
    """Point indices of the first trace (all rows, in row order); the batch outline is trace 1."""
    try:
        points = event.selection.points
    except AttributeError:
        return []
    return sorted({int(p["point_index"]) for p in points if p.get("curve_number", 0) == 0})


def _assign_panel(pool: Pool, frame: pd.DataFrame, state: LabelState, setup: Setup, log: LabelLog,
                  points: list[int]) -> None:
    row_keys = list(range(pool.rows))
    c1, c2 = st.columns([2, 1])
    cls = c1.selectbox("Give the selected points the class", pool.classes, key="label_map_class")
    overwrite = c2.checkbox("Overwrite existing labels", key="label_map_overwrite")
    p = preview_selection(points, row_keys, state.labels, cls, overwrite=overwrite)
    msg = f"{p.selected} point(s) selected: {len(p.to_label)} will get **{cls}**"
    msg += f", {p.overwritten} of them change class" if overwrite else f"; {p.kept} already labelled stay as they are"
    st.markdown(msg + ".")
    sample = list(p.to_label[:6])
    if sample:
        cols = st.columns(len(sample))
        for col, row in zip(cols, sample, strict=True):
            with col:
                show_row(pool, frame, row, setup.as_image)
    if st.button(f"Label {len(p.to_label)} point(s) as {cls}", type="primary", disabled=not p.to_label,
                 key="label_map_confirm"):
        events = assign_selection(points, row_keys, state.labels, cls, overwrite=overwrite, session=tab_id(),
                                  ts=time.time())
        # checked like a queue click: rows another session labelled differently ask first (Queue tab)
        from ui.label import append_lasso

        written = append_lasso(log, events)
        st.session_state[MAP_ROUND] = st.session_state.get(MAP_ROUND, 0) + 1  # clears the selection
        held = len(events) - written
        st.toast(f"{written} label(s) saved." + (f" {held} row(s) labelled by another session wait for your "
                                                  "confirmation in the Queue tab." if held else ""))
        _rerun_map()
