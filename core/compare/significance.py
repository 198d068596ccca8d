"""Is the challenger really better? Paired significance tests for the promotion gate (pure).

Champion and challenger are scored on the *same* held-out rows, so the tests are paired:

* :func:`mcnemar_test` — for 0/1 outcomes (accuracy, error rate): only the rows where exactly one
  model is right carry evidence. Exact binomial test on those discordant rows when there are fewer
  than :data:`EXACT_BELOW` of them, the χ² test with continuity correction otherwise (the same
  numbers as ``statsmodels.stats.contingency_tables.mcnemar``).
* :func:`paired_bootstrap` — for every other metric (F1, ROC AUC, log loss, and the error of a
  regression: RMSE, MAE, MSE, R²): resample the rows with replacement, score both models on each
  resample, and read the improvement's percentile interval and one-sided p-value.

The gate asks one question — *is the challenger better?* — so :attr:`PairedTest.p_value` is the
**one-sided** p-value for "challenger better than champion" and the interval is the two-sided
``1 − 2·alpha`` one (90 % for alpha 0.05), whose lower end is above 0 exactly when the one-sided
test at ``alpha`` is significant. The two-sided p-value is kept for reference.
:func:`gate_significance` picks the test for a metric (:func:`choose_test`) and runs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.compare.measures import higher_is_better as metric_direction
from core.compare.resampled import (
    LABEL_METRICS,
    PROBA_METRICS,
    REGRESSION_METRICS,
    ResampledMetric,
    resampled_metric,
    row_loss_metric,
)
from core.errors import CompareError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

MCNEMAR, BOOTSTRAP = "mcnemar", "paired_bootstrap"
EXACT_BELOW = 25  # fewer discordant rows than this: exact binomial McNemar
MCNEMAR_METRICS = ("accuracy", "error_rate")
COST_METRIC = "business_cost"  # the charter's cost per prediction: a per-row loss, bootstrapped as such
CLASSIFICATION_METRICS = LABEL_METRICS + PROBA_METRICS
_CHUNK_CELLS = 2_500_000  # resamples × rows held in memory at once (~20 MB of float64 counts)


@dataclass(frozen=True)
class PairedTest:
    """The evidence that the challenger (B) beats the champion (A) on the same rows.

    ``improvement`` is B − A in the metric's good direction (positive = challenger better);
    ``ci_low`` / ``ci_high`` bound it at ``confidence``; ``p_value`` is one-sided (H1: B better),
    ``p_two_sided`` the usual two-sided value. ``discordant`` is (rows only A got right, rows only
    B got right) for McNemar, ``None`` for the bootstrap.
    """

    test: str
    metric: str
    improvement: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    p_two_sided: float
    alpha: float
    n: int
    discordant: tuple[int, int] | None
    n_resamples: int
    sentence: str

    @property
    def significant(self) -> bool:
        """The one-sided test rejects "the challenger is not better" at ``alpha``."""
        return self.p_value < self.alpha


def choose_test(metric: str, task: str) -> str:
    """McNemar for 0/1 outcomes (accuracy, error rate), the paired bootstrap for every other metric.

    Regression metrics (RMSE, MAE, MSE, R²) get the paired bootstrap of the error. A metric that does
    not fit the task is a CompareError.
    """
    if metric == COST_METRIC and task in ("classification", "regression"):
        return BOOTSTRAP
    if task == "classification":
        if metric in MCNEMAR_METRICS:
            return MCNEMAR
        if metric in CLASSIFICATION_METRICS:
            return BOOTSTRAP
    elif task == "regression":
        if metric in REGRESSION_METRICS:
            return BOOTSTRAP
    else:
        raise CompareError(f"The task must be 'classification' or 'regression'. Got {task!r} instead.")
    fits = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
    raise CompareError(f"The metric {metric!r} does not fit a {task} model; choose one of {', '.join(fits)}.")


def mcnemar_test(correct_a: np.ndarray, correct_b: np.ndarray, *, alpha: float = 0.05,
                 metric: str = "accuracy") -> PairedTest:
    """McNemar's test on two models' per-row correctness (A = champion, B = challenger).

    The improvement is B's accuracy minus A's (the same number for the error rate, which falls by it).
    Its interval is the Wald interval of a paired difference with Agresti–Min's ½ added to each cell.
    """
    import numpy as np
    from scipy import stats

    a, b = _paired_arrays(correct_a, correct_b)
    a, b = a.astype(bool), b.astype(bool)
    n = len(a)
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    discordant = only_a + only_b
    if discordant < EXACT_BELOW:
        name = "McNemar's exact test"
        p_two = min(1.0, 2 * float(stats.binom.cdf(min(only_a, only_b), discordant, 0.5))) if discordant else 1.0
        p_one = float(stats.binom.sf(only_b - 1, discordant, 0.5)) if discordant else 1.0
    else:  # continuity-corrected: χ² = (|b − c| − 1)² / (b + c); one side is the matching normal tail
        name = "McNemar's χ² test"
        p_two = float(stats.chi2.sf((abs(only_b - only_a) - 1) ** 2 / discordant, 1))
        p_one = float(stats.norm.sf((only_b - only_a - 1) / math.sqrt(discordant)))
    improvement = (only_b - only_a) / n
    confidence = 1 - 2 * alpha
    adj_a, adj_b, adj_n = only_a + 0.5, only_b + 0.5, n + 2
    centre = (adj_b - adj_a) / adj_n
    se = math.sqrt(max((adj_a + adj_b) - (adj_b - adj_a) ** 2 / adj_n, 0.0)) / adj_n
    z = float(stats.norm.ppf(1 - alpha))
    low, high = float(np.clip(centre - z * se, -1, 1)), float(np.clip(centre + z * se, -1, 1))
    evidence = (f"{name} on the {discordant:,} rows where only one model was right "
                f"({only_b:,} only the challenger, {only_a:,} only the champion)")
    return PairedTest(MCNEMAR, metric, improvement, low, high, confidence, p_one, p_two, alpha, n,
                      (only_a, only_b), 0, _sentence(metric, improvement, low, high, confidence, p_one, alpha, n,
                                                     evidence, higher=metric != "error_rate"))


def paired_bootstrap(metric_fn: Callable[[Any, Any], float], y_true: Any, pred_a: Any, pred_b: Any, *,
                     higher_is_better: bool, n_resamples: int = 2000, seed: int = 0, alpha: float = 0.05,
                     metric: str | None = None) -> PairedTest:
    """Paired bootstrap of ``metric_fn(B) − metric_fn(A)`` over the rows (A = champion, B = challenger).

    Each resample draws ``n`` row indices with replacement and scores both models on those rows.
    ``metric_fn`` is any ``(y, pred) -> float`` (called once per resample), or a
    :class:`~core.compare.resampled.ResampledMetric` that scores all resamples in a few matrix
    products. Predictions may be 2-D (class probabilities); rows are what is resampled. Resamples
    where the metric is undefined (NaN, e.g. ROC AUC on a single class) are left out.

    Returns the improvement in the good direction, its percentile interval at ``1 − 2·alpha``, and
    the one-sided p-value ``(1 + #{resampled improvement ≤ 0}) / (1 + resamples)``.
    """
    import numpy as np

    if int(n_resamples) < 100:
        raise CompareError(f"The paired bootstrap needs at least 100 resamples. Got {n_resamples!r} instead.")
    y = np.asarray(y_true)
    a, b = np.asarray(pred_a), np.asarray(pred_b)
    if not len(y) == len(a) == len(b) or len(y) == 0:
        raise CompareError(f"The paired bootstrap needs the same non-zero number of rows for the target and both "
                           f"models' predictions. Got {len(y)}, {len(a)} and {len(b)}.")
    sign = 1.0 if higher_is_better else -1.0
    name = metric or getattr(metric_fn, "name", getattr(metric_fn, "__name__", "metric"))
    improvement = sign * (float(metric_fn(y, b)) - float(metric_fn(y, a)))
    if not math.isfinite(improvement):
        raise CompareError(f"The metric {name!r} is undefined on these rows, so the models cannot be compared on it.")
    deltas = sign * _resampled_deltas(metric_fn, y, a, b, int(n_resamples), np.random.default_rng(seed))
    deltas = deltas[~np.isnan(deltas)]
    if len(deltas) < 0.9 * n_resamples:
        raise CompareError(f"The metric {name!r} is undefined on {int(n_resamples) - len(deltas)} of "
                           f"{n_resamples} resamples of these {len(y):,} rows; evaluate on more rows.")
    kept = len(deltas)
    p_one = (1 + int((deltas <= 0).sum())) / (kept + 1)
    p_two = min(1.0, 2 * min(p_one, (1 + int((deltas >= 0).sum())) / (kept + 1)))
    low, high = (float(q) for q in np.quantile(deltas, [alpha, 1 - alpha]))
    evidence = f"a paired bootstrap of {kept:,} resamples"
    sentence = _sentence(name, improvement, low, high, 1 - 2 * alpha, p_one, alpha, len(y), evidence,
                         higher=higher_is_better)
    return PairedTest(BOOTSTRAP, name, improvement, low, high, 1 - 2 * alpha, p_one, p_two, alpha, len(y), None,
                      kept, sentence)


def gate_significance(metric: str, task: str, y_true: Any, pred_champion: Any, pred_challenger: Any,
                      proba_champion: Any = None, proba_challenger: Any = None, classes: Sequence[Any] | None = None,
                      *, alpha: float = 0.05, seed: int = 0, n_resamples: int = 2000,
                      row_losses: tuple[Any, Any] | None = None) -> PairedTest:
    """The paired test the promotion gate runs for ``metric`` on the held-out rows.

    Accuracy (and error rate) uses McNemar on per-row correctness; ROC AUC and log loss bootstrap
    the probabilities (``classes`` orders their columns, as the models' ``classes_``); the charter's
    ``business_cost`` bootstraps ``row_losses`` (champion's, challenger's cost of each prediction; lower
    is better); every other metric bootstraps the predictions. The result's ``p_value`` is one-sided:
    the gate asks whether the challenger is better.
    """
    import numpy as np

    if not 0 < alpha < 0.5:
        raise CompareError(f"The significance level 'alpha' must be in (0, 0.5). Got {alpha!r} instead.")
    test = choose_test(metric, task)
    y = np.asarray(y_true)
    if test == MCNEMAR:
        a, b, y = _paired_arrays(pred_champion, pred_challenger, y)
        return mcnemar_test(a == y, b == y, alpha=alpha, metric=metric)
    if metric == COST_METRIC:
        if row_losses is None:
            raise CompareError("The metric 'business_cost' needs the cost of each prediction of both models; set "
                               "the costs in the project's charter.")
        a, b = (np.asarray(x, dtype=float) for x in row_losses)
        return paired_bootstrap(row_loss_metric(metric), y, a, b, higher_is_better=False, n_resamples=n_resamples,
                                seed=seed, alpha=alpha, metric=metric)
    if metric in PROBA_METRICS:
        if proba_champion is None or proba_challenger is None:
            raise CompareError(f"The metric {metric!r} needs both models' class probabilities; "
                               "one of them predicts labels only.")
        fn: ResampledMetric = resampled_metric(metric, classes)
        a, b = np.asarray(proba_champion, dtype=float), np.asarray(proba_challenger, dtype=float)
    else:
        fn = resampled_metric(metric)
        a, b = np.asarray(pred_champion), np.asarray(pred_challenger)
    return paired_bootstrap(fn, y, a, b, higher_is_better=metric_direction(metric), n_resamples=n_resamples,
                            seed=seed, alpha=alpha, metric=metric)


def _paired_arrays(*arrays: Any) -> list[np.ndarray]:
    import numpy as np

    out = [np.asarray(x) for x in arrays]
    lengths = {len(x) for x in out}
    if len(lengths) != 1 or 0 in lengths:
        raise CompareError("A paired test needs both models scored on the same non-zero number of rows. "
                           f"Got {', '.join(str(len(x)) for x in out)} rows.")
    return out


def _resampled_deltas(metric_fn: Callable[[Any, Any], float], y: np.ndarray, a: np.ndarray, b: np.ndarray,
                      n_resamples: int, rng: np.random.Generator, *, collapse: bool = True) -> np.ndarray:
    """metric(B) − metric(A) on each resample (raw direction).

    Rows are resampled as index arrays, in chunks. When the per-row statistics of a
    :class:`ResampledMetric` take few distinct values (labels: one pattern per (true, A, B) triple),
    resampling rows is the same as drawing multinomial counts of those patterns, which costs
    resamples × patterns instead of resamples × rows — same distribution, far fewer draws.
    """
    import numpy as np

    n = len(y)
    if not isinstance(metric_fn, ResampledMetric):
        return np.concatenate([
            np.array([float(metric_fn(y[i], b[i])) - float(metric_fn(y[i], a[i])) for i in idx])
            for idx in _index_chunks(rng, n, n_resamples)])
    state_a, state_b = metric_fn.prepare(y, a), metric_fn.prepare(y, b)
    if collapse and isinstance(state_a, np.ndarray) and isinstance(state_b, np.ndarray):
        patterns, counts = np.unique(np.hstack([state_a, state_b]), axis=0, return_counts=True)
        if len(patterns) <= max(16, n // 8):
            width = state_a.shape[1]
            share = counts / n
            chunk = max(1, _CHUNK_CELLS // len(patterns))
            out = []
            for start in range(0, n_resamples, chunk):
                w = rng.multinomial(n, share, size=min(chunk, n_resamples - start)).astype(float)
                out.append(metric_fn.evaluate(patterns[:, width:], w) - metric_fn.evaluate(patterns[:, :width], w))
            return np.concatenate(out)
    out = []
    for idx in _index_chunks(rng, n, n_resamples):
        size = len(idx)
        offsets = (np.arange(size) * n)[:, None]
        w = np.bincount((idx + offsets).ravel(), minlength=size * n).reshape(size, n).astype(float)
        out.append(metric_fn.evaluate(state_b, w) - metric_fn.evaluate(state_a, w))
    return np.concatenate(out)


def _index_chunks(rng: np.random.Generator, n: int, n_resamples: int) -> Iterator[np.ndarray]:
    """Bootstrap row indices, (chunk, n) at a time so memory stays bounded."""
    chunk = max(1, _CHUNK_CELLS // n)
    for start in range(0, n_resamples, chunk):
        yield rng.integers(0, n, size=(min(chunk, n_resamples - start), n))


def _sentence(metric: str, improvement: float, low: float, high: float, confidence: float, p_value: float,
              alpha: float, n: int, evidence: str, *, higher: bool) -> str:
    """One plain-language sentence: size and direction, interval, test, verdict."""
    better_word, worse_word = ("higher", "lower") if higher else ("lower", "higher")
    if improvement > 0:
        size = f"the challenger's {metric} is {improvement:.4f} {better_word} than the champion's"
    elif improvement < 0:
        size = f"the challenger's {metric} is {-improvement:.4f} {worse_word} than the champion's"
    else:
        size = f"the challenger's {metric} equals the champion's"
    interval = f"{confidence:.0%} interval of the improvement {low:+.4f} to {high:+.4f}"
    if p_value < alpha:
        verdict = f"significant at {alpha:g}: the challenger is better"
    else:
        verdict = f"not significant at {alpha:g}: the difference may be chance"
    return f"On {n:,} held-out rows {size} ({interval}); {evidence} gives a one-sided p = {p_value:.4f}, {verdict}."
