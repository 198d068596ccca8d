"""Each query strategy picks what it should on a constructed example."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import LabelError
from core.label.query import fit_learner, predict_with_confidence, query_batch

RNG = np.random.default_rng(0)
# Two well-separated 2-D blobs labelled A (x≈-3) and B (x≈+3).
X_LAB = np.vstack([RNG.normal([-3, 0], 0.3, (15, 2)), RNG.normal([3, 0], 0.3, (15, 2))])
Y_LAB = np.array(["A"] * 15 + ["B"] * 15)
# Pool: 40 points deep inside the blobs and 3 points on the decision boundary x = 0.
FAR = np.vstack([RNG.normal([-4, 0], 0.3, (20, 2)), RNG.normal([4, 0], 0.3, (20, 2))])
BOUNDARY = np.array([[0.0, -1.0], [0.0, 0.0], [0.0, 1.0]])
POOL = np.vstack([FAR, BOUNDARY])
BOUNDARY_IDX = {40, 41, 42}


@pytest.mark.parametrize("strategy", ["uncertainty", "margin", "entropy"])
def test_uncertainty_family_picks_the_decision_boundary(strategy: str) -> None:
    q = query_batch(POOL, X_LAB, Y_LAB, strategy=strategy, n=3)
    assert set(q.indices.tolist()) == BOUNDARY_IDX
    assert q.strategy == strategy and not q.cold_start
    assert np.all(np.diff(q.scores) <= 1e-12)  # best first


def _three_class() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classes A, B, C at the corners of a triangle; pool points chosen to separate margin from entropy."""
    rng = np.random.default_rng(1)
    centres = {"A": [0, 0], "B": [4, 0], "C": [2, 3.5]}
    X = np.vstack([rng.normal(c, 0.3, (15, 2)) for c in centres.values()])
    y = np.repeat(list(centres), 15)
    return X, y, np.array([[2.0, 0.0], [2.0, 1.2], [0.2, 0.1]])  # A|B edge, centroid-ish, deep in A


def test_margin_prefers_a_two_way_tie_and_entropy_a_three_way_one() -> None:
    X, y, pool = _three_class()
    model = fit_learner(X, y)
    proba = model.predict_proba(pool)
    top2 = np.sort(proba, axis=1)[:, -2:]
    margin_pick = int(np.argmin(top2[:, 1] - top2[:, 0]))
    entropy_pick = int(np.argmax(-(proba * np.log(proba)).sum(axis=1)))
    assert query_batch(pool, X, y, strategy="margin", n=1).indices[0] == margin_pick
    assert query_batch(pool, X, y, strategy="entropy", n=1).indices[0] == entropy_pick
    assert query_batch(pool, X, y, strategy="margin", n=1).indices[0] != 2  # never the confident point


@pytest.mark.parametrize("measure", ["vote_entropy", "consensus_entropy", "max_disagreement"])
def test_committee_asks_where_members_disagree(measure: str) -> None:
    q = query_batch(POOL, X_LAB, Y_LAB, strategy="committee", committee_measure=measure, n=3, n_members=7, seed=3)
    assert len(set(q.indices.tolist()) & BOUNDARY_IDX) >= 2
    assert q.scores[0] > 0  # somebody disagrees at the top pick


def test_ranked_batch_spreads_out_over_a_cluster_of_near_duplicates() -> None:
    # 10 near-identical uncertain points at the boundary plus 3 uncertain points far apart along it.
    # The labels are mirrored in y (A and B at the same heights), so the learner ignores y exactly and
    # every point on x = 0 stays a coin flip however far along it (distances are in the scaled space).
    ys = np.linspace(-6, 6, 9)
    X_lab = np.vstack([np.column_stack([np.full(9, -3.0), ys]), np.column_stack([np.full(9, 3.0), ys])])
    y_lab = np.array(["A"] * 9 + ["B"] * 9)
    rng = np.random.default_rng(2)
    clump = np.array([0.0, 0.0]) + rng.normal(0, 0.01, (10, 2))
    spread = np.array([[0.0, 6.0], [0.0, -6.0], [0.0, 12.0]])
    pool = np.vstack([FAR, clump, spread])
    plain = query_batch(pool, X_lab, y_lab, strategy="uncertainty", n=4, diverse=False)
    ranked = query_batch(pool, X_lab, y_lab, strategy="ranked", n=4)
    clump_idx = set(range(40, 50))
    assert len(set(ranked.indices.tolist()) & clump_idx) <= 2  # diversity: not four copies of one point
    assert len(set(ranked.indices.tolist()) & {50, 51, 52}) >= 2
    assert len(set(plain.indices.tolist()) - set(range(40, 53))) == 0  # plain uncertainty stays on the boundary


def test_random_is_seeded_and_without_replacement() -> None:
    a = query_batch(POOL, X_LAB, Y_LAB, strategy="random", n=10, seed=5)
    b = query_batch(POOL, X_LAB, Y_LAB, strategy="random", n=10, seed=5)
    c = query_batch(POOL, X_LAB, Y_LAB, strategy="random", n=10, seed=6)
    assert a.indices.tolist() == b.indices.tolist() != c.indices.tolist()
    assert len(set(a.indices.tolist())) == 10


def test_cold_start_falls_back_to_random_and_says_so() -> None:
    q = query_batch(POOL, X_LAB[:3], Y_LAB[:3], strategy="margin", n=4)
    assert q.cold_start and q.strategy == "random" and len(q.indices) == 4


@pytest.mark.parametrize("learner", ["logreg", "rf", "hgb", "knn"])
def test_every_learner_predicts_with_confidence(learner: str) -> None:
    model = fit_learner(X_LAB, Y_LAB, learner)
    pred, conf = predict_with_confidence(model, FAR)
    assert (pred[:20] == "A").all() and (pred[20:] == "B").all()
    assert ((conf > 0.5) & (conf <= 1)).all()


def test_bad_parameters_are_one_sentence() -> None:
    with pytest.raises(LabelError, match="batch size must be an int in"):
        query_batch(POOL, X_LAB, Y_LAB, n=0)
    with pytest.raises(LabelError, match="strategy"):
        query_batch(POOL, X_LAB, Y_LAB, strategy="expected_error_reduction")
    with pytest.raises(LabelError, match="nothing left"):
        query_batch(POOL[:0], X_LAB, Y_LAB)


def test_ranked_batch_on_a_big_pool_ranks_only_the_most_uncertain_rows() -> None:
    rng = np.random.default_rng(4)
    far = np.vstack([rng.normal([-4, 0], 0.3, (1500, 2)), rng.normal([4, 0], 0.3, (1500, 2))])
    pool = np.vstack([far, BOUNDARY])  # 3003 rows > RANKED_CANDIDATES
    q = query_batch(pool, X_LAB, Y_LAB, strategy="ranked", n=3)
    assert len(set(q.indices.tolist())) == 3 and q.indices.max() < len(pool)
    assert len(set(q.indices.tolist()) & {3000, 3001, 3002}) >= 2


def test_ranked_batch_asks_about_uncertain_rows_not_the_far_confident_ones() -> None:
    # Few labels and a big pool make modAL weigh dissimilarity by |U| / (|U| + |L|) ≈ 1: over the
    # whole pool, ranked batch turned into farthest-first sampling and asked about extreme, sure rows.
    rng = np.random.default_rng(5)
    unsure = np.column_stack([rng.uniform(-0.3, 0.3, 60), rng.normal(0, 1, 60)])
    extreme = np.array([[-40.0, 0.0], [40.0, 0.0], [-40.0, 5.0], [40.0, -5.0], [-35.0, 3.0]])
    pool = np.vstack([unsure, extreme, FAR])
    q = query_batch(pool, X_LAB, Y_LAB, strategy="ranked", n=3)
    assert set(q.indices.tolist()) <= set(range(60))
    assert len(set(q.indices.tolist())) == 3
