"""The maps: one real (small) UMAP fit, t-SNE and PCA, the on-disk cache per method, the background job,
the one-sentence refusals and the warm-up guard."""

from __future__ import annotations

import os

import numpy as np
import pytest

from core.errors import LabelError
from core.label import embed


@pytest.mark.slow  # one real UMAP fit: ~10 s on a quiet machine with a warm numba cache, minutes under load
def test_map_is_computed_once_in_the_background_then_read_from_disk(tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-4, 1, (40, 60)), rng.normal(4, 1, (40, 60))])  # 60 columns: PCA first
    assert os.environ.get("NUMBA_CACHE_DIR")  # honoured (set by tests/conftest.py), never overwritten
    before = os.environ["NUMBA_CACHE_DIR"]
    job = embed.start_embedding(tmp_path, "run1", ["a", "b"], X, home=tmp_path)
    assert embed.start_embedding(tmp_path, "run1", ["a", "b"], X, home=tmp_path) is job  # one job per map
    emb = job.result(timeout=300)
    assert emb.shape == (80, 2) and np.isfinite(emb).all()
    assert embed.job_status(tmp_path, "run1", ["a", "b"]).state == "done"
    assert os.environ["NUMBA_CACHE_DIR"] == before
    # Two clusters stay apart on the map: every point is nearer its own cluster's centre.
    centres = np.stack([emb[:40].mean(axis=0), emb[40:].mean(axis=0)])
    nearest = np.linalg.norm(emb[:, None, :] - centres[None], axis=2).argmin(axis=1)
    assert (nearest == np.repeat([0, 1], 40)).all()
    path = embed.embedding_path(tmp_path, "run1", ["a", "b"])
    stamp = path.stat().st_mtime_ns
    again = embed.embed(tmp_path, "run1", ["a", "b"], X)
    assert np.array_equal(again, emb) and path.stat().st_mtime_ns == stamp  # read back, not refitted
    assert embed.load_embedding(path, rows=81) is None  # a cache for another table is not reused
    assert embed.embedding_path(tmp_path, "run1", ["a", "c"]) != path


def _blobs(rows: int = 40, cols: int = 6) -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.vstack([rng.normal(-4, 1, (rows, cols)), rng.normal(4, 1, (rows, cols))])


def _apart(emb: np.ndarray, rows: int) -> bool:
    centres = np.stack([emb[:rows].mean(axis=0), emb[rows:].mean(axis=0)])
    nearest = np.linalg.norm(emb[:, None, :] - centres[None], axis=2).argmin(axis=1)
    return bool((nearest == np.repeat([0, 1], rows)).all())


@pytest.mark.parametrize("method", ["tsne", "pca"])
def test_tsne_and_pca_maps_run_in_the_background_and_are_cached_apart(tmp_path, method: str) -> None:  # noqa: ANN001
    X = _blobs()
    job = embed.start_embedding(tmp_path, "run1", ["a"], X, home=tmp_path, method=method)
    emb = job.result(timeout=600)
    assert emb.shape == (80, 2) and np.isfinite(emb).all() and _apart(emb, 40)
    path = embed.embedding_path(tmp_path, "run1", ["a"], method=method)
    assert path.exists() and path != embed.embedding_path(tmp_path, "run1", ["a"])  # not UMAP's file
    assert embed.job_status(tmp_path, "run1", ["a"], method=method).state == "done"
    assert embed.job_status(tmp_path, "run1", ["a"]).state == "idle"  # UMAP was never asked for


def test_tsne_above_the_fit_limit_places_the_other_rows_by_their_neighbours(monkeypatch) -> None:  # noqa: ANN001
    from core.label import maps

    monkeypatch.setattr(maps, "TSNE_MAX_FIT", 50)  # 120 rows: a 50-row fit, 70 rows placed
    emb = maps.tsne_map(_blobs(60, 4), seed=0)
    assert emb.shape == (120, 2) and np.isfinite(emb).all() and _apart(emb, 60)


def test_clusters_to_colour_by_find_the_two_blobs() -> None:
    from core.label.maps import cluster_map_colours

    ids = cluster_map_colours(_blobs(), k=2)
    assert len(set(ids[:40])) == 1 and len(set(ids[40:])) == 1 and ids[0] != ids[-1]


@pytest.mark.parametrize(("X", "message"), [
    (np.zeros((5, 3)), "at least 20 rows; this version has 5"),
    (np.zeros((1, 3)), "at least 20 rows; this version has 1"),
    (np.zeros((30, 0)), "at least one numeric feature column; this version has only text"),
    (np.full((30, 2), np.nan), "missing or infinite values"),
])
@pytest.mark.parametrize("method", ["umap", "tsne", "pca"])
def test_a_map_that_cannot_be_drawn_is_one_sentence(X: np.ndarray, message: str, method: str) -> None:
    with pytest.raises(LabelError, match=message) as err:
        embed.compute_embedding(X, method=method)
    assert "\n" not in str(err.value)


def test_an_unknown_method_is_one_sentence(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(LabelError, match="must be one of umap, tsne, pca. Got 'mds'"):
        embed.embedding_path(tmp_path, "run1", ["a"], method="mds")


def test_warm_up_starts_once_per_process(tmp_path) -> None:  # noqa: ANN001
    first = embed.warm_up(tmp_path)
    assert embed.warm_up(tmp_path) is False
    assert embed.warm_state()["state"] in ("running", "done") or first is False
