"""A/B statistics against SciPy and statsmodels on known cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from core.compare import abtest
from core.errors import CompareError


@pytest.mark.parametrize(("xa", "na", "xb", "nb"), [(120, 1000, 150, 1000), (45, 60, 30, 55), (7, 20, 19, 25)])
def test_two_proportion_ztest_matches_statsmodels(xa: int, na: int, xb: int, nb: int) -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    result = abtest.two_proportion_ztest(xa, na, xb, nb)
    z, p = proportions_ztest([xb, xa], [nb, na])  # pooled variance, B − A
    low, high = confint_proportions_2indep(xb, nb, xa, na, method="wald", compare="diff")
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert result.effect == pytest.approx(xb / nb - xa / na)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert result.significant == (p < 0.05)


def test_ztest_textbook_case_and_verdict() -> None:
    # 200/1000 vs 250/1000: z = 2.68, two-sided p ≈ 0.0074 (pooled).
    result = abtest.two_proportion_ztest(200, 1000, 250, 1000)
    assert result.p_value == pytest.approx(0.00736, abs=2e-4)
    assert result.significant
    assert "challenger (B) is better" in result.verdict
    same = abtest.two_proportion_ztest(50, 100, 50, 100)
    assert same.p_value == pytest.approx(1.0) and not same.significant
    assert same.verdict.startswith("No significant difference")


def test_ztest_degenerate_all_successes() -> None:
    result = abtest.two_proportion_ztest(10, 10, 20, 20)
    assert result.p_value == 1.0 and result.effect == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_welch_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(10, 2, 40), rng.normal(11, 5, 25)
    result = abtest.welch_ttest(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert result.effect == pytest.approx(b.mean() - a.mean())


def test_bootstrap_ci_agrees_with_scipy_bootstrap() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.exponential(1.0, 150), rng.exponential(1.4, 150)
    result = abtest.bootstrap_diff(a, b, n_boot=4000, seed=1)
    ref = stats.bootstrap((b, a), lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis), n_resamples=4000,
                          method="percentile", random_state=1, vectorized=True)
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert result.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.06 * width)
    assert result.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.06 * width)
    # The bootstrap p-value is close to Welch's for a sample this size.
    welch = abtest.welch_ttest(a, b)
    assert result.p_value == pytest.approx(welch.p_value, abs=0.02)


def test_bootstrap_no_difference_has_large_p() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 200), rng.normal(0, 1, 200)
    result = abtest.bootstrap_diff(a, b, seed=0)
    assert result.ci_low < 0 < result.ci_high
    assert result.p_value > 0.05


def test_required_n_matches_statsmodels_power() -> None:
    from statsmodels.stats.power import NormalIndPower

    p1, mde = 0.30, 0.05
    p2 = p1 + mde
    sigma = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    ref = NormalIndPower().solve_power(effect_size=mde / sigma, alpha=0.05, power=0.8, ratio=1.0)
    assert abtest.required_n_proportions(p1, mde) == math.ceil(ref) or abs(
        abtest.required_n_proportions(p1, mde) - ref) < 1.5
    ref_means = NormalIndPower().solve_power(effect_size=0.5 / 2.0, alpha=0.05, power=0.8)
    assert abs(abtest.required_n_means(2.0, 0.5) - ref_means) < 1.5
    power = NormalIndPower().power(effect_size=0.25, nobs1=100, alpha=0.05)
    se = 2.0 * math.sqrt(2 / 100)
    assert abtest.achieved_power(se, 0.5) == pytest.approx(power, rel=1e-6)


def test_small_sample_warns_with_minimum_rows() -> None:
    a, b = np.array([1, 0, 1, 1, 0, 1, 0, 1] * 3, float), np.array([1, 1, 1, 0, 1, 1, 1, 1] * 3, float)
    result = abtest.compare_arms(a, b, mde=0.05)
    assert result.test == "two-proportion z-test"
    assert result.min_n_per_arm is not None and result.min_n_per_arm > 24
    assert "too small" in result.warning and str(result.min_n_per_arm) in result.warning
    assert result.power is not None and result.power < 0.8
    big = abtest.compare_arms(np.tile(a, 200), np.tile(b, 200), mde=0.2)
    assert big.warning == "" and big.power > 0.8


def test_compare_arms_picks_welch_for_continuous_and_refuses_ztest() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 30), rng.normal(1, 1, 30)
    assert abtest.compare_arms(a, b).test == "Welch's t-test"
    assert abtest.compare_arms(a, b, test="bootstrap", n_boot=500).test == "bootstrap CI"
    with pytest.raises(CompareError, match="0/1 outcome"):
        abtest.compare_arms(a, b, test="ztest")
    with pytest.raises(CompareError, match="must be one of"):
        abtest.compare_arms(a, b, test="anova")


def test_lower_is_better_verdict() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(5, 1, 300), rng.normal(4, 1, 300)  # B has lower error
    result = abtest.welch_ttest(a, b, outcome="absolute error", higher_is_better=False)
    assert result.effect < 0 and result.significant
    assert "challenger (B) is better" in result.verdict


def test_split_ab_exact_fraction_reproducible() -> None:
    mask = abtest.split_ab(100, 0.3, seed=7)
    assert mask.sum() == 30 and len(mask) == 100
    assert (mask == abtest.split_ab(100, 0.3, seed=7)).all()
    assert not (mask == abtest.split_ab(100, 0.3, seed=8)).all()


@pytest.mark.parametrize(("n", "fraction"), [(3, 0.1), (3, 0.9), (1, 0.5)])
def test_split_leaving_an_arm_empty_is_refused(n: int, fraction: float) -> None:
    with pytest.raises(CompareError, match="empty"):
        abtest.split_ab(n, fraction)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5])
def test_split_fraction_out_of_range(fraction: float) -> None:
    with pytest.raises(CompareError, match="between 0 and 1"):
        abtest.split_ab(100, fraction)


def test_empty_arm_in_tests_is_refused() -> None:
    with pytest.raises(CompareError, match="Arm A .* empty"):
        abtest.two_proportion_ztest(0, 0, 3, 10)
    with pytest.raises(CompareError, match="Arm B .* empty"):
        abtest.welch_ttest([1.0, 2.0], [])
