"""Information density, expected model change and diverse batches, against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.label.query import query_batch
from core.label.strategies import density_scores, diverse_top, expected_gradient_length, pool_density


def test_pool_density_is_the_mean_gaussian_similarity_worked_by_hand() -> None:
    Z = np.array([[0.0], [1.0], [3.0]])
    got = pool_density(Z, bandwidth=1.0)
    # row 0: distances² 0, 1, 9 → (e^0 + e^-0.5 + e^-4.5) / 3, and so on
    want = [(1 + math.exp(-0.5) + math.exp(-4.5)) / 3,
            (math.exp(-0.5) + 1 + math.exp(-2.0)) / 3,
            (math.exp(-4.5) + math.exp(-2.0) + 1) / 3]
    assert got == pytest.approx(want, abs=1e-12)
    # default bandwidth: the median pairwise distance (1, 2, 3 → 2)
    assert pool_density(Z)[0] == pytest.approx((1 + math.exp(-1 / 8) + math.exp(-9 / 8)) / 3, abs=1e-12)


def test_pool_density_on_a_big_pool_uses_a_seeded_reference_sample() -> None:
    Z = np.random.default_rng(0).normal(size=(1500, 3))
    a, b = pool_density(Z, seed=1), pool_density(Z, seed=1)
    assert a.shape == (1500,) and np.array_equal(a, b)
    full = pool_density(Z, reference=1500)
    assert np.corrcoef(a, full)[0, 1] > 0.99  # the 1,000-row sample ranks rows as the whole pool does


def test_density_weights_uncertainty_by_the_crowd() -> None:
    proba = np.array([[0.5, 0.5], [0.5, 0.5], [0.9, 0.1]])
    Z = np.array([[0.0], [1.0], [3.0]])
    dens = pool_density(Z)
    # margin uncertainty 1 − (p₁ − p₂): 1, 1 and 0.2
    assert density_scores(proba, Z) == pytest.approx([1.0 * dens[0], 1.0 * dens[1], 0.2 * dens[2]])


def test_expected_gradient_length_worked_by_hand() -> None:
    proba = np.array([[0.5, 0.5], [1.0, 0.0], [0.8, 0.2]])
    Z = np.array([[1.0, 1.0], [5.0, 5.0], [0.0, 0.0]])
    # row 0: ‖p − e_k‖ = √0.5 for both k → 0.5·√0.5 + 0.5·√0.5 = √0.5, times ‖[1, 1, 1]‖ = √3
    # row 1: a sure prediction changes nothing: 0
    # row 2: 0.8·‖(−0.2, 0.2)‖ + 0.2·‖(0.8, −0.8)‖ = 0.8·√0.08 + 0.2·√1.28, times ‖[0, 0, 1]‖ = 1
    want = [math.sqrt(0.5) * math.sqrt(3), 0.0, 0.8 * math.sqrt(0.08) + 0.2 * math.sqrt(1.28)]
    assert expected_gradient_length(proba, Z, cap=None) == pytest.approx(want, abs=1e-12)
    # capped at the median norm (√3) nothing changes here: the only longer row is a sure one
    assert expected_gradient_length(proba, Z) == pytest.approx(want, abs=1e-12)


def _mirror() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labelled A (x = -3) and B (x = +3) mirrored in y, so the learner ignores y exactly.

    Pool: a crowd of 15 rows on the boundary x = 0 near y = 0, one lone boundary row at y = 30,
    and 10 rows deep inside the classes.
    """
    ys = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    X = np.vstack([np.column_stack([np.full(5, -3.0), ys]), np.column_stack([np.full(5, 3.0), ys])])
    y = np.array(["A"] * 5 + ["B"] * 5)
    crowd = np.column_stack([np.zeros(15), np.linspace(-0.7, 0.7, 15)])
    deep = np.column_stack([np.r_[np.full(5, -4.0), np.full(5, 4.0)], np.linspace(-1, 1, 10)])
    pool = np.vstack([crowd, [[0.0, 30.0]], deep])
    return X, y, pool


def test_density_asks_about_the_crowd_and_expected_change_about_an_unsure_row() -> None:
    X, y, pool = _mirror()
    dense = query_batch(pool, X, y, strategy="density", n=1)
    change = query_batch(pool, X, y, strategy="expected_change", n=1)
    assert dense.indices[0] in range(15)  # typical of many unlabelled rows, never the lone one
    assert change.indices[0] in range(16)  # an unsure row (the norm cap keeps the lone one from winning on size)
    assert dense.strategy == "density" and change.strategy == "expected_change"


def test_diverse_top_takes_one_of_the_near_duplicates() -> None:
    # 5 near-copies scoring 0.9 at the origin, 3 distinct rows scoring 0.8, 12 sure rows (0.01).
    rng = np.random.default_rng(0)
    Z = np.vstack([rng.normal(0, 0.01, (5, 2)), [[5.0, 0.0], [0.0, 5.0], [-5.0, -5.0]], rng.normal(9, 1, (12, 2))])
    scores = np.r_[np.full(5, 0.9), np.full(3, 0.8), np.full(12, 0.01)]
    picked = diverse_top(scores, Z, n=4, seed=0)
    assert len(set(picked.tolist()) & set(range(5))) == 1 and set(range(5, 8)) <= set(picked.tolist())
    assert picked[0] in range(5)  # best first
    assert not set(picked.tolist()) & set(range(8, 20))  # never a row the model is sure about
    plain = np.argsort(-scores, kind="stable")[:4]
    assert len(set(plain.tolist()) & set(range(5))) == 4  # what the plain top-4 would have asked


def test_diverse_batches_are_the_default_and_can_be_turned_off() -> None:
    X, y, pool = _mirror()
    on = query_batch(pool, X, y, strategy="margin", n=3, seed=1)
    off = query_batch(pool, X, y, strategy="margin", n=3, seed=1, diverse=False)
    assert len(set(on.indices.tolist())) == 3 == len(set(off.indices.tolist()))
    assert set(on.indices.tolist()) <= set(range(16)) and set(off.indices.tolist()) <= set(range(16))


def test_expected_change_caps_the_norm_at_the_pool_median() -> None:
    proba = np.full((3, 2), 0.5)
    Z = np.array([[0.0], [1.0], [10.0]])  # ‖[z, 1]‖ = 1, √2, √101; median √2
    assert expected_gradient_length(proba, Z) == pytest.approx(math.sqrt(0.5) * np.array([1, 2 ** 0.5, 2 ** 0.5]))
