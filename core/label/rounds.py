"""One round of the queue: refit the learner, rank the rows to ask next, note a learning-curve point.

A round is the slow part of labelling (fits and a pass over the whole pool), so the page runs
it off the request path (a background thread) once per batch, while clicks keep advancing
through the rows already drawn. Everything here is pure apart from the curve file, and safe
to run in a thread: no Streamlit, no shared mutable state.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.label.labellog import CurvePoint, LabelLog
from core.label.session import LabelState, Pool, cv_accuracy

RESERVE = 2  # rank this many batches ahead: the queue keeps going while the next round runs
START_CANDIDATES = 2000  # a cold start clusters (a seeded sample of) this many rows of the pool


@dataclass(frozen=True)
class Ranking:
    """Rows to ask, best first: the batch is the first ``batch`` of them, the rest bridge to the next round."""

    rows: tuple[int, ...]
    batch: int
    strategy: str
    cold: bool
    shared: bool          # every free row was held by another session, so held rows are offered too
    trained_on: int       # labels the ranking's model saw
    model: Any | None     # the learner fitted on those labels (None below two classes), for predictions
    point: CurvePoint | None = None


def rank_rows(pool: Pool, state: LabelState, *, strategy: str, learner: str, committee_measure: str,
              batch: int, seed: int, held: Collection[int] = ()) -> Ranking:
    """Fit the learner on the labels in ``state`` and rank up to ``RESERVE × batch`` unlabelled rows.

    Rows in ``held`` (other live sessions' batches) are left out unless nothing else is left.
    """
    from core.label import query as q

    candidates = state.unlabelled(pool)
    keys, X, y = state.xy(pool)
    if len(candidates) == 0:
        return Ranking((), batch, strategy, False, False, len(keys), None)
    free = candidates[~np.isin(candidates, np.fromiter(held, dtype=int, count=len(held)))] if held else candidates
    rows = free if len(free) else candidates
    two_classes = len(np.unique(y)) >= 2
    n = int(min(max(1, batch) * RESERVE, len(rows), q.MAX_BATCH))
    if not two_classes and strategy != "random":  # nothing to rank by yet: cover the feature space
        picked = spread_rows(pool.X[rows], X, n, seed)
        return Ranking(tuple(int(r) for r in rows[picked]), batch, strategy, True, not len(free), len(keys), None)
    model = q.fit_learner(X, y, learner) if two_classes else None
    qb = q.query_batch(pool.X[rows], X, y, strategy=strategy, n=n, learner=learner,
                       committee_measure=committee_measure, seed=seed,
                       model=model if strategy != "committee" else None)
    return Ranking(tuple(int(r) for r in rows[qb.indices]), batch, qb.strategy, qb.cold_start, not len(free),
                   len(keys), model)


def spread_rows(X_pool: np.ndarray, X_labelled: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` pool positions spread over the feature space, for a start with fewer than two classes.

    One row per k-means cluster (:func:`core.label.strategies.diverse_top` with every row worth the
    same, over a seeded sample of :data:`START_CANDIDATES` rows), so a first batch meets the small
    classes too instead of ten rows of the largest; rows already labelled push the clusters away
    (each candidate is weighted by its distance to the nearest labelled row).
    """
    from core.label.strategies import diverse_top, standardise

    Z = standardise(X_pool)
    scores = np.ones(len(Z))
    if len(X_labelled):
        L = standardise(np.asarray(X_labelled, dtype=float), reference=X_pool)
        d2 = (Z * Z).sum(1)[:, None] + (L * L).sum(1)[None, :] - 2.0 * Z @ L.T
        scores = np.sqrt(np.maximum(d2, 0.0).min(axis=1)) + 1e-9
    factor = max(1, START_CANDIDATES // max(1, n))
    picked = diverse_top(scores, Z, n, seed, factor=factor)
    # farthest-point order, so that the batch (the first rows of a ranking RESERVE batches long) is spread too
    P = Z[picked]
    order, gap = [0], ((P - P[0]) ** 2).sum(axis=1)
    for _ in range(1, len(picked)):
        nxt = int(np.argmax(gap))
        order.append(nxt)
        gap = np.minimum(gap, ((P - P[nxt]) ** 2).sum(axis=1))
        gap[order] = -1.0
    return picked[np.asarray(order, dtype=int)]


def curve_point(pool: Pool, state: LabelState, log: LabelLog, *, learner: str, strategy: str,
                session: str) -> CurvePoint | None:
    """Held-out (k-fold) accuracy on the labels so far, appended to the curve file once per label count."""
    _, X, y = state.xy(pool)
    curve = log.curve()
    if curve and curve[-1].labels == len(y):
        return curve[-1]
    acc = cv_accuracy(X, y, learner)
    if acc is None:
        return None
    point = CurvePoint(len(y), acc)
    log.append_curve(point, learner=learner, strategy=strategy, session=session)
    return point
