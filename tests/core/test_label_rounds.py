"""A queue round: the class-covering start batch and the ranking after two classes."""

from __future__ import annotations

import numpy as np

from core.label.rounds import rank_rows, spread_rows
from core.label.session import LabelState, Pool


def _blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Five far-apart classes of very different sizes (600, 200, 100, 60, 40 rows)."""
    rng = np.random.default_rng(seed)
    sizes = (600, 200, 100, 60, 40)
    centres = np.array([[0, 0], [20, 0], [0, 20], [20, 20], [-20, -20]], dtype=float)
    X = np.vstack([rng.normal(c, 1.0, size=(k, 2)) for c, k in zip(centres, sizes, strict=True)])
    y = np.repeat(np.arange(5), sizes)
    return X, y


def _pool(X: np.ndarray) -> Pool:
    return Pool(X, ("a", "b"), tuple("01234"), "label", {})


def test_the_first_batch_covers_every_class_where_random_rows_miss_the_small_ones() -> None:
    X, y = _blobs()
    covered, random_covered = [], []
    for seed in range(5):
        r = rank_rows(_pool(X), LabelState({}), strategy="margin", learner="logreg", committee_measure="vote_entropy",
                      batch=10, seed=seed)
        assert r.cold and r.model is None and len(r.rows) == 20 and len(set(r.rows)) == 20
        covered.append(len(set(y[list(r.rows[:10])])))
        random_covered.append(len(set(y[np.random.default_rng(seed).choice(len(y), 10, replace=False)])))
    assert min(covered) == 5, covered  # one batch of 10 meets all five classes, the 40-row one too
    assert sum(random_covered) < sum(covered), random_covered


def test_a_start_with_one_class_labelled_moves_away_from_the_labelled_rows() -> None:
    X, y = _blobs(1)
    labelled = np.flatnonzero(y == 0)[:10]
    picked = spread_rows(X, X[labelled], 10, seed=0)
    assert (y[picked] != 0).sum() >= 8  # the big class already has labels: the batch looks elsewhere
    assert len(set(y[picked])) == 4


def test_random_stays_random_and_two_classes_give_a_model() -> None:
    X, y = _blobs(2)
    state = LabelState({int(i): str(y[i]) for i in (0, 700)})
    r = rank_rows(_pool(X), state, strategy="margin", learner="logreg", committee_measure="vote_entropy",
                  batch=5, seed=0)
    assert not r.cold and r.model is not None and r.trained_on == 2 and 0 not in r.rows and 700 not in r.rows
    cold_random = rank_rows(_pool(X), LabelState({}), strategy="random", learner="logreg",
                            committee_measure="vote_entropy", batch=5, seed=0)
    assert cold_random.strategy == "random" and len(cold_random.rows) == 10
