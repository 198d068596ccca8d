"""The promotion gate's paired tests against SciPy, statsmodels and scikit-learn."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from core.compare import measures
from core.compare.resampled import resampled_metric
from core.compare.significance import (
    BOOTSTRAP,
    EXACT_BELOW,
    MCNEMAR,
    _resampled_deltas,
    choose_test,
    gate_significance,
    mcnemar_test,
    paired_bootstrap,
)
from core.errors import CompareError


def _correctness(both: int, only_a: int, only_b: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([True] * both + [True] * only_a + [False] * only_b + [False] * neither)
    b = np.array([True] * both + [False] * only_a + [True] * only_b + [False] * neither)
    order = np.random.default_rng(0).permutation(len(a))
    return a[order], b[order]


@pytest.mark.parametrize(("both", "only_a", "only_b", "neither"),
                         [(80, 3, 9, 8), (50, 0, 6, 4), (40, 7, 7, 6), (500, 40, 62, 98), (300, 30, 12, 58)])
def test_mcnemar_matches_statsmodels(both: int, only_a: int, only_b: int, neither: int) -> None:
    from statsmodels.stats.contingency_tables import mcnemar

    a, b = _correctness(both, only_a, only_b, neither)
    result = mcnemar_test(a, b)
    table = [[both, only_a], [only_b, neither]]  # rows: A right / wrong; columns: B right / wrong
    exact = only_a + only_b < EXACT_BELOW
    reference = mcnemar(table, exact=exact, correction=True)
    assert result.test == MCNEMAR
    assert result.p_two_sided == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.discordant == (only_a, only_b)
    assert result.n == both + only_a + only_b + neither
    assert result.improvement == pytest.approx((only_b - only_a) / result.n)
    d = only_a + only_b
    if exact:  # one-sided: P(X ≥ only_b) for X ~ Binomial(discordant, ½)
        assert result.p_value == pytest.approx(stats.binomtest(only_b, d, 0.5, alternative="greater").pvalue)
    else:  # the continuity-corrected normal tail; half the two-sided p when the challenger leads
        assert result.p_value == pytest.approx(stats.norm.sf((only_b - only_a - 1) / math.sqrt(d)))
        if only_b > only_a:
            assert result.p_value == pytest.approx(reference.pvalue / 2)
    assert result.ci_low <= result.improvement <= result.ci_high
    assert result.confidence == pytest.approx(0.90)


def test_mcnemar_verdicts_and_sentence() -> None:
    better = mcnemar_test(*_correctness(900, 10, 60, 30))
    assert better.significant and better.ci_low > 0
    assert "McNemar's χ² test" in better.sentence and "significant at 0.05: the challenger is better" in better.sentence
    assert "60 only the challenger, 10 only the champion" in better.sentence
    worse = mcnemar_test(*_correctness(900, 60, 10, 30))
    assert not worse.significant and worse.p_value > 0.99 and worse.improvement < 0
    assert "lower than the champion's" in worse.sentence and "may be chance" in worse.sentence
    same = mcnemar_test(*_correctness(90, 0, 0, 10))
    assert same.p_value == 1.0 and same.p_two_sided == 1.0 and same.improvement == 0
    assert "equals the champion's" in same.sentence and "McNemar's exact test" in same.sentence
    few = mcnemar_test(*_correctness(90, 0, 5, 5))  # 5 discordant rows: at best p = 1/32, significant
    assert few.p_value == pytest.approx(1 / 32) and few.significant


def test_mcnemar_error_rate_reads_lower_as_better() -> None:
    result = mcnemar_test(*_correctness(900, 10, 60, 30), metric="error_rate")
    assert result.improvement == pytest.approx(0.05)
    assert "error_rate is 0.0500 lower than the champion's" in result.sentence


def _classification_case(n: int = 600, k: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.array(["cat", "dog", "emu", "fox"][:k], dtype=object)
    y = labels[rng.integers(0, k, n)]
    flip = lambda share: np.where(rng.random(n) < share, y, labels[rng.integers(0, k, n)])  # noqa: E731
    logits = rng.normal(size=(n, k)) + 1.2 * (labels[None, :] == y[:, None])
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, flip(0.7), flip(0.75), proba, list(labels)


@pytest.mark.parametrize("k", [2, 3])
def test_resampled_metrics_equal_sklearn_on_resampled_rows(k: int) -> None:
    y, pred, _, proba, classes = _classification_case(k=k)
    rng = np.random.default_rng(1)
    idx = rng.integers(0, len(y), size=(5, len(y)))
    idx[0, :] = np.flatnonzero(y == y[0])[0]  # a degenerate resample: one row drawn n times
    counts = np.stack([np.bincount(i, minlength=len(y)) for i in idx]).astype(float)
    reference = {
        "accuracy": skm.accuracy_score, "balanced_accuracy": skm.balanced_accuracy_score,
        "f1_macro": lambda t, p: skm.f1_score(t, p, average="macro", zero_division=0),
        "precision_macro": lambda t, p: skm.precision_score(t, p, average="macro", zero_division=0),
        "recall_macro": lambda t, p: skm.recall_score(t, p, average="macro", zero_division=0),
    }
    for name, fn in reference.items():
        metric = resampled_metric(name)
        got = metric.evaluate(metric.prepare(y, pred), counts)
        with warnings.catch_warnings():  # sklearn warns on the degenerate resample
            warnings.simplefilter("ignore")
            want = [fn(y[i], pred[i]) for i in idx]
        assert got == pytest.approx(want, rel=1e-12), name
    loss = resampled_metric("log_loss", classes)
    assert loss.evaluate(loss.prepare(y, proba), counts) == pytest.approx(
        [skm.log_loss(y[i], proba[i], labels=classes) for i in idx], rel=1e-12)
    auc = resampled_metric("roc_auc", classes)
    got = auc.evaluate(auc.prepare(y, proba), counts)
    assert math.isnan(got[0])  # one row drawn n times: no class has both positives and negatives
    for i, value in zip(idx[1:], got[1:], strict=True):
        metrics, _ = measures.classification_metrics(y[i], pred[i], proba[i], classes)
        assert value == pytest.approx(metrics["roc_auc"], rel=1e-12)


def test_auc_handles_tied_scores_like_sklearn() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    proba1 = np.round(rng.random(400) * 0.5 + 0.4 * y, 1)  # many ties
    proba = np.column_stack([1 - proba1, proba1])
    auc = resampled_metric("roc_auc", [0, 1])
    assert auc(y, proba) == pytest.approx(skm.roc_auc_score(y, proba1), rel=1e-12)


def test_regression_metrics_equal_sklearn_on_resampled_rows() -> None:
    rng = np.random.default_rng(2)
    y = 1000 + rng.normal(size=300) * 5  # a large mean: R² must not lose digits
    pred = y + rng.normal(size=300)
    idx = rng.integers(0, 300, size=(4, 300))
    counts = np.stack([np.bincount(i, minlength=300) for i in idx]).astype(float)
    reference = {"mse": skm.mean_squared_error, "mae": skm.mean_absolute_error, "r2": skm.r2_score,
                 "rmse": lambda t, p: math.sqrt(skm.mean_squared_error(t, p))}
    for name, fn in reference.items():
        metric = resampled_metric(name)
        assert metric.evaluate(metric.prepare(y, pred), counts) == pytest.approx(
            [fn(y[i], pred[i]) for i in idx], rel=1e-9), name


def test_vectorised_bootstrap_draws_the_same_resamples_as_the_loop() -> None:
    y, a, b, _, _ = _classification_case(n=300)
    f1 = resampled_metric("f1_macro")
    loop = _resampled_deltas(lambda t, p: skm.f1_score(t, p, average="macro", zero_division=0), y, a, b, 200,
                             np.random.default_rng(7))
    rows = _resampled_deltas(f1, y, a, b, 200, np.random.default_rng(7), collapse=False)
    assert rows == pytest.approx(loop, abs=1e-12)
    patterns = _resampled_deltas(f1, y, a, b, 4000, np.random.default_rng(8))  # multinomial over (y, A, B)
    rows = _resampled_deltas(f1, y, a, b, 4000, np.random.default_rng(9), collapse=False)
    assert patterns.mean() == pytest.approx(rows.mean(), abs=0.15 * rows.std())
    assert patterns.std() == pytest.approx(rows.std(), rel=0.08)


def test_paired_bootstrap_matches_scipy_percentile_interval() -> None:
    rng = np.random.default_rng(4)
    n = 5000
    y = rng.integers(0, 2, n)
    a = np.where(rng.random(n) < 0.80, y, 1 - y)
    b = np.where(rng.random(n) < 0.83, y, 1 - y)
    ours = paired_bootstrap(resampled_metric("accuracy"), y, a, b, higher_is_better=True, n_resamples=4000,
                            seed=1)
    ref = stats.bootstrap((y, a, b), lambda t, p, q, axis=-1: (q == t).mean(axis) - (p == t).mean(axis),
                          paired=True, vectorized=True, method="percentile", confidence_level=0.90,
                          n_resamples=4000, random_state=np.random.default_rng(2))
    se = ref.standard_error
    assert ours.improvement == pytest.approx((b == y).mean() - (a == y).mean())
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.15 * se)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.15 * se)

    yr = rng.normal(size=n)
    ra, rb = yr + rng.normal(0, 1.0, n), yr + rng.normal(0, 0.95, n)
    rmse = lambda t, p, axis=-1: np.sqrt(((p - t) ** 2).mean(axis))  # noqa: E731
    ours = paired_bootstrap(resampled_metric("rmse"), yr, ra, rb, higher_is_better=False, n_resamples=3000, seed=1)
    ref = stats.bootstrap((yr, ra, rb), lambda t, p, q, axis=-1: rmse(t, p, axis) - rmse(t, q, axis), paired=True,
                          vectorized=True, method="percentile", confidence_level=0.90, n_resamples=3000,
                          random_state=np.random.default_rng(2))
    se = ref.standard_error
    assert ours.improvement == pytest.approx(rmse(yr, ra) - rmse(yr, rb))
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.15 * se)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.15 * se)
    assert ours.significant and ours.test == BOOTSTRAP and ours.discordant is None


def test_bootstrap_p_value_bounds_and_plus_one_correction() -> None:
    y, a, _, _, _ = _classification_case(n=400)
    same = paired_bootstrap(resampled_metric("f1_macro"), y, a, a.copy(), higher_is_better=True, n_resamples=500)
    assert same.p_value == 1.0 and same.improvement == 0 and (same.ci_low, same.ci_high) == (0, 0)
    assert not same.significant
    perfect = paired_bootstrap(resampled_metric("f1_macro"), y, a, y.copy(), higher_is_better=True,
                               n_resamples=500)
    assert perfect.p_value == pytest.approx(1 / 501) and perfect.significant
    assert "a paired bootstrap of 500 resamples" in perfect.sentence


def test_bootstrap_is_reproducible_by_seed() -> None:
    y, a, b, _, _ = _classification_case()
    one = paired_bootstrap(resampled_metric("f1_macro"), y, a, b, higher_is_better=True, seed=3)
    two = paired_bootstrap(resampled_metric("f1_macro"), y, a, b, higher_is_better=True, seed=3)
    assert one == two


def test_choose_test() -> None:
    assert choose_test("accuracy", "classification") == MCNEMAR
    assert choose_test("error_rate", "classification") == MCNEMAR
    for metric in ("f1_macro", "balanced_accuracy", "precision_macro", "recall_macro", "roc_auc", "log_loss"):
        assert choose_test(metric, "classification") == BOOTSTRAP
    for metric in ("rmse", "mae", "mse", "r2"):
        assert choose_test(metric, "regression") == BOOTSTRAP
    with pytest.raises(CompareError, match="does not fit a regression model"):
        choose_test("accuracy", "regression")
    with pytest.raises(CompareError, match="does not fit a classification model"):
        choose_test("rmse", "classification")
    with pytest.raises(CompareError, match="must be 'classification' or 'regression'"):
        choose_test("accuracy", "ranking")


def test_gate_significance_point_estimates_equal_the_evaluation_metrics() -> None:
    from core.compare.gate import GATE_METRICS

    y, a, b, proba_a, classes = _classification_case(n=800, seed=5)
    proba_b = proba_a ** 1.3 / (proba_a ** 1.3).sum(axis=1, keepdims=True)
    ma, _ = measures.classification_metrics(y, a, proba_a, classes)
    mb, _ = measures.classification_metrics(y, b, proba_b, classes)
    for metric in GATE_METRICS["classification"]:
        result = gate_significance(metric, "classification", y, a, b, proba_a, proba_b, classes, n_resamples=300)
        sign = 1 if measures.higher_is_better(metric) else -1
        assert result.improvement == pytest.approx(sign * (mb[metric] - ma[metric]), abs=1e-12), metric
        assert result.test == choose_test(metric, "classification")
        assert result.ci_low <= result.ci_high and 0 < result.p_value <= 1
    rng = np.random.default_rng(6)
    yr = rng.normal(size=500)
    ra, rb = yr + rng.normal(0, 1, 500), yr + rng.normal(0, 0.5, 500)
    ma, mb = measures.regression_metrics(yr, ra), measures.regression_metrics(yr, rb)
    for metric in GATE_METRICS["regression"]:
        result = gate_significance(metric, "regression", yr, ra, rb, n_resamples=300)
        sign = 1 if measures.higher_is_better(metric) else -1
        assert result.improvement == pytest.approx(sign * (mb[metric] - ma[metric]), rel=1e-9), metric
        assert result.significant and result.improvement > 0 and result.ci_low > 0


def test_gate_significance_bad_input_is_one_sentence() -> None:
    y, a, b, proba, classes = _classification_case(n=100)
    with pytest.raises(CompareError, match="needs both models' class probabilities"):
        gate_significance("roc_auc", "classification", y, a, b, proba, None, classes)
    with pytest.raises(CompareError, match="same non-zero number of rows"):
        gate_significance("accuracy", "classification", y, a[:50], b)
    with pytest.raises(CompareError, match="same non-zero number of rows"):
        gate_significance("f1_macro", "classification", y, a[:50], b)
    with pytest.raises(CompareError, match=r"'alpha' must be in \(0, 0.5\)"):
        gate_significance("accuracy", "classification", y, a, b, alpha=0.5)
    with pytest.raises(CompareError, match="not: gnu"):
        y2 = y.copy()
        y2[0] = "gnu"
        gate_significance("log_loss", "classification", y2, a, b, proba, proba, classes)
    with pytest.raises(CompareError, match="at least 100 resamples"):
        paired_bootstrap(resampled_metric("accuracy"), y, a, b, higher_is_better=True, n_resamples=10)


def test_auc_blocks_of_resamples_give_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.compare import resampled

    y, _, _, proba, classes = _classification_case(n=300, k=3)
    counts = np.stack([np.bincount(i, minlength=300) for i in np.random.default_rng(5).integers(0, 300, (7, 300))])
    auc = resampled_metric("roc_auc", classes)
    state = auc.prepare(y, proba)
    whole = auc.evaluate(state, counts.astype(float))
    monkeypatch.setattr(resampled, "_AUC_BLOCK_CELLS", 600)  # two resamples per block, the last one alone
    assert auc.evaluate(state, counts.astype(float)) == pytest.approx(whole, rel=1e-12)
