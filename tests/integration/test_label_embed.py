"""The UMAP map: one real (small) fit, the on-disk cache, the background job and the warm-up guard."""

from __future__ import annotations

import os
import time

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
    t0 = time.perf_counter()
    again = embed.embed(tmp_path, "run1", ["a", "b"], X)
    assert time.perf_counter() - t0 < 0.5 and np.array_equal(again, emb) and path.exists()
    assert embed.load_embedding(path, rows=81) is None  # a cache for another table is not reused
    assert embed.embedding_path(tmp_path, "run1", ["a", "c"]) != path


def test_too_few_rows_is_one_sentence() -> None:
    with pytest.raises(LabelError, match="at least 20 rows"):
        embed.compute_embedding(np.zeros((5, 3)))


def test_warm_up_starts_once_per_process(tmp_path) -> None:  # noqa: ANN001
    first = embed.warm_up(tmp_path)
    assert embed.warm_up(tmp_path) is False
    assert embed.warm_state()["state"] in ("running", "done") or first is False
