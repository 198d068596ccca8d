"""The Label page's map: the pure figure (WebGL, every row in row order for the lasso) and the PCA → t-SNE swap."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from core.label import embed
from core.tracking.datasets import log_dataset_version
from tests.ui.conftest import app_test
from ui.label_map import COLOURS, map_figure


def _emb(n: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)


@pytest.mark.parametrize("colour", COLOURS)
def test_every_row_is_trace_zero_in_row_order_so_the_lasso_maps_back(colour: str) -> None:
    emb = _emb(30)
    labels = np.array(["a", "", "b"] * 10, dtype=object)
    values = {"predicted class": np.array(["a", "b", "b"] * 10), "uncertainty": np.linspace(0, 1, 30),
              "cluster": np.arange(30) % 3}.get(colour)
    fig = map_figure(emb, labels, ("a", "b"), colour, values, hover_frame=pd.DataFrame({"x": np.arange(30.0)}),
                     batch_rows=[4, 7])
    rows = fig.data[0]
    assert rows.type == "scattergl" and np.array_equal(rows.x, emb[:, 0]) and np.array_equal(rows.y, emb[:, 1])
    assert rows.hovertemplate.startswith("row %{pointNumber}")  # the point number is the row
    assert rows.text[0] == "a<br>x 0" and rows.text[1] == "—<br>x 1" and rows.text[29] == "b<br>x 29"
    assert np.array_equal(fig.data[1].x, emb[[4, 7], 0])  # the queue batch outline is trace 1
    assert fig.layout.dragmode == "lasso"


def test_fifty_thousand_points_are_drawn_with_webgl_and_a_light_payload() -> None:
    n = 50_000
    fig = map_figure(_emb(n), np.array([""] * n, dtype=object), ("a", "b"), "label",
                     hover_frame=pd.DataFrame({"x": np.zeros(n)}))
    assert all(t.type == "scattergl" for t in fig.data) and len(fig.data[0].x) == n
    assert fig.data[0].text[0] == "—"  # the label only on a big map: no per-point feature text
    assert fig.data[0].marker.size == 3


def _blobs(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-3, 0.5, n // 2), rng.normal(3, 0.5, n // 2)]
    kind = pd.Series([None] * n, dtype=object)
    kind[[0, 1, n // 2, n // 2 + 1]] = ["left", "left", "right", "right"]
    return pd.DataFrame({"x": x, "y": rng.normal(size=n), "kind": kind})


def test_pca_is_drawn_at_once_and_the_chosen_tsne_map_replaces_it(settings, tracker) -> None:  # noqa: ANN001
    with tracker.stage_run("default", "data", name="blobs") as rid:
        version = log_dataset_version(tracker, rid, "default", _blobs(), "blobs")
    at = app_test("pages/label.py")
    at.session_state["label_no_warmup"] = True
    at.session_state["label_map_method"] = "tsne"
    at.run()
    assert not at.exception, at.exception
    assert not at.get("plotly_chart"), "a closed Map tab does not run (no map, no fit beside the queue)"
    assert embed.job_status(settings.cache_dir, version.run_id, ("x", "y"), method="tsne").state == "idle"
    at.session_state["label_tab"] = "Map"
    at.run()
    assert not at.exception, at.exception
    assert at.get("plotly_chart"), "a map (PCA) is on screen at once"
    features = ("x", "y")
    deadline = time.monotonic() + 120  # wait for the state, not for a fixed time
    while embed.job_status(settings.cache_dir, version.run_id, features, method="tsne").state == "running":
        assert time.monotonic() < deadline, "the t-SNE job never finished"
        time.sleep(0.1)
    assert embed.job_status(settings.cache_dir, version.run_id, features, method="tsne").state == "done"
    at.button(key="label_map_swap").click().run()  # what the poll's script clicks: reruns only the map
    assert not at.exception, at.exception
    assert at.get("plotly_chart")
    assert not [c for c in at.caption if "Showing PCA while" in c.value]  # the t-SNE map is shown now
    path = embed.embedding_path(settings.cache_dir, version.run_id, features, method="tsne")
    assert embed.load_embedding(path, rows=60) is not None
