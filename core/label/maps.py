"""Map methods other than UMAP, the checks every map shares, and a clustering to colour by.

* **PCA** is the instant map: two principal components of the standardised features
  (randomised SVD: ~0.1 s at 50k × 20), drawn at once while UMAP or t-SNE fits in the
  background and replaces it.
* **t-SNE** is scikit-learn's Barnes-Hut ``TSNE`` on ≤ 50 PCA dimensions with PCA
  initialisation, 500 iterations. openTSNE 1.0.4 was measured against it on this machine
  (2k rows × 20, one thread, same busy machine: scikit-learn 90 s, openTSNE 672 s) and is not
  a dependency (``bench/bench_label.py --only maps`` times both when openTSNE is importable).
  Above :data:`TSNE_MAX_FIT` rows t-SNE is fitted on a seeded sample and the other rows are
  placed at the mean position of their 5 nearest fitted neighbours (in feature space), so a
  50k-row map costs a 10k-row fit.
* **Clusters**: k-means on the standardised features (mini-batch above 10k rows), as a
  colouring that needs no labels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.errors import LabelError

MIN_ROWS = 20
PCA_DIMS = 50
TSNE_MAX_FIT = 10_000
METHODS = ("umap", "tsne", "pca")
METHOD_NAMES = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA"}


def check_mappable(rows: int, features: int) -> None:
    """Raise the one sentence a person sees when a table cannot be drawn as a map."""
    if features < 1:
        raise LabelError("The map needs at least one numeric feature column; this version has only text or "
                         "other non-numeric columns. Encode them in the Data stage, or label from the queue.")
    if rows < MIN_ROWS:
        raise LabelError(f"The map needs at least {MIN_ROWS} rows; this version has {rows}. "
                         "Label from the queue instead.")


def prepare(X: np.ndarray, seed: int = 0, dims: int = PCA_DIMS,
            on_progress: Callable[[str], None] | None = None) -> np.ndarray:
    """Standardised features, reduced to ``dims`` PCA components when wider (checked first)."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise LabelError(f"The map needs a table of rows × features; got an array of shape {X.shape}.")
    check_mappable(X.shape[0], X.shape[1])
    if not np.isfinite(X).all():
        raise LabelError("The features have missing or infinite values; fill them before drawing the map.")
    Z = StandardScaler().fit_transform(X)
    if Z.shape[1] > dims:
        if on_progress:
            on_progress(f"PCA from {Z.shape[1]} to {dims} dimensions…")
        Z = PCA(n_components=dims, random_state=seed, svd_solver="randomized").fit_transform(Z)
    return Z


def pca_map(X: np.ndarray, seed: int = 0) -> np.ndarray:
    """The instant map: the first two principal components (a single feature gets a zero y)."""
    from sklearn.decomposition import PCA

    Z = prepare(X, seed, dims=10_000)
    if Z.shape[1] == 1:
        return np.column_stack([Z[:, 0], np.zeros(len(Z))]).astype(np.float32)
    solver = "randomized" if min(Z.shape) > 10 else "full"
    return np.asarray(PCA(n_components=2, random_state=seed, svd_solver=solver).fit_transform(Z), dtype=np.float32)


def tsne_map(X: np.ndarray, seed: int = 0, on_progress: Callable[[str], None] | None = None) -> np.ndarray:
    """A 2-D t-SNE map (scikit-learn's Barnes-Hut TSNE; a seeded sample above :data:`TSNE_MAX_FIT` rows)."""
    Z = prepare(X, seed, on_progress=on_progress)
    rng = np.random.default_rng(seed)
    fit_rows = np.arange(len(Z)) if len(Z) <= TSNE_MAX_FIT else np.sort(rng.choice(len(Z), TSNE_MAX_FIT, replace=False))
    perplexity = float(max(2.0, min(30.0, (len(fit_rows) - 1) / 3.0)))
    if on_progress:
        on_progress(f"t-SNE on {len(fit_rows):,} rows…")
    emb_fit = _tsne(Z[fit_rows], perplexity, seed)
    if len(fit_rows) == len(Z):
        return emb_fit.astype(np.float32)
    from sklearn.neighbors import NearestNeighbors

    # Rows outside the fitted sample sit where their nearest fitted neighbours sit.
    out = np.empty((len(Z), 2), dtype=np.float32)
    out[fit_rows] = emb_fit
    rest = np.setdiff1d(np.arange(len(Z)), fit_rows)
    nn = NearestNeighbors(n_neighbors=5).fit(Z[fit_rows])
    _, idx = nn.kneighbors(Z[rest])
    out[rest] = emb_fit[idx].mean(axis=1)
    return out


def _tsne(Z: np.ndarray, perplexity: float, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    return np.asarray(TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                           learning_rate="auto", max_iter=500).fit_transform(Z), dtype=np.float32)


def cluster_map_colours(X: np.ndarray, k: int = 8, seed: int = 0) -> np.ndarray:
    """A k-means cluster id per row (``k`` clamped to [2, rows − 1]), from the standardised features."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    Z = prepare(X, seed)
    k = int(max(2, min(k, len(Z) - 1)))
    if len(Z) > 10_000:
        km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    else:
        km = KMeans(n_clusters=k, random_state=seed, n_init=1)
    return km.fit_predict(Z).astype(int)
