"""Our fast drift tests against a plain Evidently report, on many constructed cases.

Evidently is imported once for the module (it costs ~9 s).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.monitor.drift import DriftOptions, detect_drift
from core.monitor.evidently_report import evidently_drift


@pytest.fixture(scope="module")
def evidently():
    import evidently  # noqa: F401 - one import shared by the whole module

    return evidently


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0, freq: tuple[float, ...] = (0.5, 0.3, 0.2)) -> pd.DataFrame:
    return pd.DataFrame({
        "num": rng.normal(shift, 1, n),                                   # numeric, many values
        "skew": rng.exponential(1 + shift, n),                            # numeric
        "lowcard": rng.choice([0.0, 1.5, 3.0, 4.5], n),                  # float with 4 values → chi / JS
        "binary_f": rng.choice([0.0, 1.0], n, p=[0.6 - shift / 10, 0.4 + shift / 10]),  # float 0/1 → Z / JS
        "int_small": rng.integers(0, 6, n),                               # int ≤ 10 values → categorical
        "int_wide": rng.integers(0, 400, n) + int(shift * 30),            # int > 10 values → numeric
        "cat": rng.choice(list("abc"), n, p=list(freq)),                  # categorical
        "flag": rng.choice(["yes", "no"], n),                             # binary categorical → Z
        "boolean": rng.random(n) < 0.3 + shift / 10,                      # bool → categorical
        "with_nan": np.where(rng.random(n) < 0.1, np.nan, rng.normal(shift, 2, n)),
        "with_inf": np.where(rng.random(n) < 0.02, np.inf, rng.normal(0, 1, n)),
        "few_ints_as_float": rng.integers(0, 30, n).astype(float),         # ≤ 20 ref values path in binning
    })


CASES = [
    # (reference rows, current rows, shift, category frequencies of current)
    (200, 150, 0.0, (0.5, 0.3, 0.2)),
    (300, 250, 1.0, (0.2, 0.3, 0.5)),
    (1000, 900, 0.2, (0.5, 0.3, 0.2)),   # the ≤ 1,000 boundary: still the small-sample tests
    (1001, 600, 0.2, (0.45, 0.35, 0.2)),  # just above it: distances
    (3000, 2500, 0.6, (0.3, 0.3, 0.4)),
    (30, 5000, 0.5, (0.6, 0.3, 0.1)),     # small reference, big current
]


def _assert_same(ours, theirs) -> None:
    assert {c.name for c in ours.columns} == {c.name for c in theirs.columns}
    for t in theirs.columns:
        o = ours.column(t.name)
        assert o.test == t.test, t.name
        assert o.threshold == pytest.approx(t.threshold, abs=1e-12), t.name
        assert o.statistic == pytest.approx(t.statistic, abs=1e-6), (t.name, o.statistic, t.statistic)
        assert o.drifted == t.drifted, t.name
    assert ours.n_drifted == theirs.n_drifted
    assert ours.drift_share == pytest.approx(theirs.drift_share)
    assert ours.dataset_drift == theirs.dataset_drift


@pytest.mark.parametrize(("n_ref", "n_cur", "shift", "freq"), CASES)
def test_default_tests_match_evidently(evidently, n_ref, n_cur, shift, freq) -> None:
    rng = np.random.default_rng(n_ref + n_cur)
    ref, cur = _frame(rng, n_ref), _frame(rng, n_cur, shift, freq)
    ours, theirs = detect_drift(ref, cur), evidently_drift(ref, cur)
    _assert_same(ours, theirs)
    for c in ours.columns:  # the size rule counts the reference rows left after dropping NaN / inf
        assert c.test in ({"ks", "chisquare", "z"} if c.n_reference <= 1000 else {"wasserstein", "jensenshannon"})


def test_every_default_test_is_exercised() -> None:
    rng = np.random.default_rng(7)
    small = detect_drift(_frame(rng, 300), _frame(rng, 300, 0.5))
    big = detect_drift(_frame(rng, 2000), _frame(rng, 2000, 0.5))
    assert {c.test for c in small.columns} == {"ks", "chisquare", "z"}
    assert {c.test for c in big.columns} == {"wasserstein", "jensenshannon"}
    assert small.column("lowcard").test == "chisquare" and small.column("binary_f").test == "z"
    assert big.column("lowcard").test == "jensenshannon" and big.column("int_small").kind == "categorical"


@pytest.mark.parametrize("options", [
    DriftOptions(method="psi", drift_share=0.3),
    DriftOptions(per_column_method={"num": "ks", "cat": "chisquare"}, per_column_threshold={"num": 0.2, "skew": 0.01}),
    DriftOptions(method="kl_div", per_column_method={"num": "wasserstein"}, threshold=0.02),
])
def test_overrides_match_evidently(evidently, options) -> None:
    rng = np.random.default_rng(11)
    # no ±inf here: Evidently's dataset-level pass does not drop inf before binning and crashes
    ref, cur = _frame(rng, 1500).drop(columns="with_inf"), _frame(rng, 1200, 0.3, (0.4, 0.4, 0.2)).drop(columns="with_inf")
    _assert_same(detect_drift(ref, cur, options), evidently_drift(ref, cur, options))


def test_drift_share_boundary_matches_evidently(evidently) -> None:
    """Exactly half the columns drifted: dataset drift at share 0.5 (≥), as Evidently."""
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"a": rng.normal(0, 1, 500), "b": rng.normal(0, 1, 500)})
    cur = pd.DataFrame({"a": rng.normal(2, 1, 500), "b": rng.normal(0, 1, 500)})
    ours, theirs = detect_drift(ref, cur), evidently_drift(ref, cur)
    _assert_same(ours, theirs)
    assert ours.drift_share == 0.5 and ours.dataset_drift


GOOD = ["great service", "fast delivery", "fair price", "friendly staff", "clean room", "tasty food", "easy checkout"]
BAD = ["broken item", "late delivery", "rude staff", "dirty room", "cold food", "refund request", "wrong size"]


def _reviews(rng: np.random.Generator, n: int, bad_share: float) -> pd.Series:
    words = [(BAD if rng.random() < bad_share else GOOD)[rng.integers(0, 7)] for _ in range(2 * n)]
    texts = [f"{words[2 * i]} and {words[2 * i + 1]}, order {rng.integers(0, 10**6)}" for i in range(n)]
    return pd.Series(texts, dtype=object).where(rng.random(n) > 0.05, None)  # some missing reviews


@pytest.mark.parametrize(("n_ref", "n_cur", "bad_share"), [
    (400, 300, 0.0),     # same vocabulary, small reference: percentile test, no drift
    (400, 300, 0.5),     # complaints appear: drift
    (1500, 1200, 0.05),  # big reference: absolute-AUC test
    (1500, 1200, 0.6),
])
def test_free_text_columns_match_evidently(evidently, n_ref, n_cur, bad_share) -> None:
    rng = np.random.default_rng(n_ref + int(100 * bad_share))
    ref = pd.DataFrame({"num": rng.normal(0, 1, n_ref), "review": _reviews(rng, n_ref, 0.0)})
    cur = pd.DataFrame({"num": rng.normal(0, 1, n_cur), "review": _reviews(rng, n_cur, bad_share)})
    ours, theirs = detect_drift(ref, cur), evidently_drift(ref, cur)
    _assert_same(ours, theirs)
    review = ours.column("review")
    assert review.kind == "text"
    assert review.test == ("perc_text_content_drift" if n_ref <= 1000 else "abs_text_content_drift")
    assert review.drifted == (bad_share >= 0.5)
