"""Learners and query strategies: the one module that imports modAL.

Learners are plain scikit-learn estimators on the *numeric feature matrix*
(``StandardScaler`` + :func:`core.models.make_estimator`), not
:func:`core.models.build_pipeline`: modAL hands NumPy arrays to the estimator and
the Label stage only accepts numeric features, so the DataFrame/ColumnTransformer
layer would add cost on every query without adding anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import LabelError

STRATEGIES = ("uncertainty", "margin", "entropy", "density", "expected_change", "committee", "ranked", "random")
STRATEGY_NAMES = {
    "uncertainty": "Uncertainty",
    "margin": "Margin",
    "entropy": "Entropy",
    "density": "Information density",
    "expected_change": "Expected model change",
    "committee": "Committee",
    "ranked": "Ranked batch",
    "random": "Random",
}
STRATEGY_HELP = ("Uncertainty: least confident prediction. Margin: smallest gap between the top two classes. "
                 "Entropy: most spread-out probabilities. Information density: uncertain rows that are typical "
                 "of many unlabelled rows (underrepresented in the labels, not outliers). Expected model change: "
                 "rows whose label would change the model most if its prediction were wrong. "
                 "Committee: where 5 bootstrap learners disagree most. "
                 "Ranked batch: uncertain *and* unlike rows already labelled or queued. Random: the baseline. "
                 "Every batch is spread over distinct groups of candidates, not ten near-copies of one row.")
DIVERSE = ("uncertainty", "margin", "entropy", "density", "expected_change", "committee")
COMMITTEE_MEASURES = ("vote_entropy", "consensus_entropy", "max_disagreement")
LEARNERS = {"logreg": "linear", "rf": "rf", "hgb": "hgb", "knn": "knn"}
LEARNER_NAMES = {
    "logreg": "Logistic regression",
    "rf": "Random forest",
    "hgb": "Gradient boosting (histogram)",
    "knn": "k-nearest neighbours",
}
MAX_BATCH = 500
RANKED_CANDIDATES = 2000  # ranked batch looks for diversity among the most uncertain rows only
RANKED_FACTOR = 10  # … the RANKED_FACTOR · n most uncertain (at most RANKED_CANDIDATES)


@dataclass(frozen=True)
class QueryBatch:
    """The rows to ask about next.

    Attributes:
        indices: positions in the pool passed to :func:`query_batch`, most informative first.
        scores: the strategy's informativeness of each chosen row (higher = more informative;
            margin is reported as ``1 - margin``; random is 0).
        strategy: the strategy actually used (``random`` on a cold start).
        cold_start: True when fewer than two classes were labelled, so no model could rank rows.
    """

    indices: np.ndarray
    scores: np.ndarray
    strategy: str
    cold_start: bool = False


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise LabelError(f"The {name!r} must be one of {', '.join(choices)}. Got {value!r} instead.")


def make_learner(learner: str = "logreg", seed: int = 0, n_labels: int | None = None) -> Any:
    """A fresh, unfitted classifier with ``predict_proba`` on a numeric matrix."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from core.models import make_estimator

    _check_choice("learner", learner, tuple(LEARNERS))
    params: dict[str, Any] = {}
    if learner == "knn" and n_labels is not None:
        params["n_neighbors"] = max(1, min(5, n_labels))  # k cannot exceed the labelled rows
    if learner == "hgb":
        params["max_iter"] = 60  # a query model, refitted every round: keep it quick
    est = make_estimator(LEARNERS[learner], "classification", params, seed)
    if learner == "hgb" and n_labels is not None:
        # The default 20 rows per leaf cannot split a few dozen labels at all.
        est.set_params(min_samples_leaf=max(1, min(20, n_labels // 10)))
    return make_pipeline(StandardScaler(), est)


def fit_learner(X: np.ndarray, y: np.ndarray, learner: str = "logreg", seed: int = 0) -> Any:
    """Fit a learner on labelled rows (needs at least two classes)."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        raise LabelError("The learner needs labels of at least two classes; label a few more rows first.")
    model = make_learner(learner, seed, n_labels=len(y))
    model.fit(np.asarray(X, dtype=float), y)
    return model


def _stratified_bootstrap(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap indices drawn within each class, so every member sees every class."""
    parts = [rng.choice(np.flatnonzero(y == c), size=int((y == c).sum()), replace=True) for c in np.unique(y)]
    return np.concatenate(parts)


def fit_committee(X: np.ndarray, y: np.ndarray, learner: str = "logreg", n_members: int = 5, seed: int = 0) -> Any:
    """A modAL ``Committee`` of ``n_members`` learners, each on a stratified bootstrap (query by bagging)."""
    from modAL.models import ActiveLearner, Committee

    X = np.asarray(X, dtype=float)
    if len(np.unique(np.asarray(y))) < 2:
        raise LabelError("A committee needs labels of at least two classes; label a few more rows first.")
    y = np.unique(np.asarray(y), return_inverse=True)[1]  # modAL's vote() stores votes as floats: use class codes
    rng = np.random.default_rng(seed)
    members = []
    for m in range(n_members):
        idx = _stratified_bootstrap(y, rng)
        est = make_learner(learner, seed + m, n_labels=len(idx))
        members.append(ActiveLearner(estimator=est, X_training=X[idx], y_training=y[idx]))
    return Committee(learner_list=members)


def model_space(model: Any, X: np.ndarray) -> np.ndarray:
    """``X`` as the learner sees it: through its scaler (the pipeline's first step), else standardised."""
    steps = getattr(model, "steps", None)
    if steps and hasattr(steps[0][1], "transform") and len(steps) > 1:
        return np.asarray(steps[0][1].transform(np.asarray(X, dtype=float)), dtype=float)
    from core.label.strategies import standardise

    return standardise(X)


def informativeness(model: Any, X_pool: np.ndarray, strategy: str, committee_measure: str = "vote_entropy",
                    seed: int = 0) -> np.ndarray:
    """Per-row score of ``strategy`` (higher = ask sooner): modAL's measures, and
    :mod:`core.label.strategies` for information density and expected model change."""
    from modAL import disagreement, uncertainty

    if strategy in ("uncertainty", "ranked"):
        return uncertainty.classifier_uncertainty(model, X_pool)
    if strategy == "margin":
        return 1.0 - uncertainty.classifier_margin(model, X_pool)
    if strategy == "entropy":
        return uncertainty.classifier_entropy(model, X_pool)
    if strategy in ("density", "expected_change"):
        from core.label import strategies

        proba = model.predict_proba(X_pool)
        if strategy == "density":
            # similarity within the pool, standardised by the pool itself: the learner's scaler is
            # fitted on a few labels and blows rare columns up, which would make every row look alone
            return strategies.density_scores(proba, strategies.standardise(X_pool), seed)
        return strategies.expected_gradient_length(proba, model_space(model, X_pool))  # the learner's gradient space
    if strategy == "committee":
        fn = {"vote_entropy": disagreement.vote_entropy, "consensus_entropy": disagreement.consensus_entropy,
              "max_disagreement": disagreement.KL_max_disagreement}[committee_measure]
        return fn(model, X_pool)
    return np.zeros(len(X_pool))


def query_batch(
    X_pool: np.ndarray,
    X_labelled: np.ndarray,
    y_labelled: Sequence[Any],
    *,
    strategy: str = "uncertainty",
    n: int = 10,
    learner: str = "logreg",
    committee_measure: str = "vote_entropy",
    n_members: int = 5,
    seed: int = 0,
    model: Any | None = None,
    diverse: bool = True,
) -> QueryBatch:
    """Pick the ``n`` most informative rows of ``X_pool``.

    Args:
        X_pool: unlabelled candidate rows (numeric matrix).
        X_labelled, y_labelled: the labels given so far.
        strategy: one of :data:`STRATEGIES`.
        n: batch size in [1, 500].
        learner: one of :data:`LEARNERS` (ignored when ``model`` is given).
        committee_measure: disagreement measure for ``committee``.
        model: an already fitted learner (saves a refit; not used by ``committee``).
        diverse: spread a batch over k-means clusters of the best candidates
            (:func:`core.label.strategies.diverse_top`) instead of the plain top ``n``.

    Returns:
        A :class:`QueryBatch`; ``random`` with ``cold_start=True`` when fewer than two classes are labelled.
    """
    _check_choice("strategy", strategy, STRATEGIES)
    _check_choice("committee_measure", committee_measure, COMMITTEE_MEASURES)
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_BATCH:
        raise LabelError(f"The batch size must be an int in [1, {MAX_BATCH}]. Got {n!r} instead.")
    X_pool = np.asarray(X_pool, dtype=float)
    if len(X_pool) == 0:
        raise LabelError("Every row is already labelled or skipped: there is nothing left to ask.")
    n = int(min(n, len(X_pool)))
    y = np.asarray(list(y_labelled))
    rng = np.random.default_rng(seed)
    cold = len(np.unique(y)) < 2
    if strategy == "random" or cold:
        idx = rng.choice(len(X_pool), size=n, replace=False)
        return QueryBatch(idx, np.zeros(n), "random", cold_start=cold and strategy != "random")
    X_lab = np.asarray(X_labelled, dtype=float)
    if strategy == "committee":
        committee = fit_committee(X_lab, y, learner, n_members, seed)
        scores = informativeness(committee, X_pool, strategy, committee_measure)
        return _pick(scores, X_pool, n, rng, seed, strategy, diverse)
    model = model if model is not None else fit_learner(X_lab, y, learner, seed)
    if strategy == "ranked":
        from modAL.batch import uncertainty_batch_sampling
        from modAL.models import ActiveLearner

        # already fitted: hand modAL the labelled set for diversity, and measure distances in the learner's
        # scaled space (on_transformed): in raw units the widest column (rain in mm) decided every batch
        al = ActiveLearner(estimator=model, on_transformed=True)
        al.X_training, al.y_training = X_lab, y
        # modAL weighs dissimilarity by |U| / (|U| + |L|) ≈ 1 while few rows are labelled, so over the
        # whole pool it is farthest-first sampling: it asked about the weather table's extreme days
        # and trailed random. Ranking only the most uncertain rows keeps "uncertain *and* unlike the
        # labels" (and bounds modAL's n passes of candidates × labelled distances).
        cand = np.arange(len(X_pool))
        k = min(RANKED_CANDIDATES, max(RANKED_FACTOR * n, 2 * n))
        if len(X_pool) > k:
            cand, _ = _top(informativeness(model, X_pool, "uncertainty"), k, rng)
        idx, scores = uncertainty_batch_sampling(al, X_pool[cand], n_instances=n)
        return QueryBatch(cand[np.asarray(idx, dtype=int)], np.asarray(scores, dtype=float), strategy)
    scores = informativeness(model, X_pool, strategy, seed=seed)
    return _pick(scores, X_pool, n, rng, seed, strategy, diverse, model)


def _pick(scores: np.ndarray, X_pool: np.ndarray, n: int, rng: np.random.Generator, seed: int, strategy: str,
          diverse: bool, model: Any | None = None) -> QueryBatch:
    if not diverse or n == 1 or strategy not in DIVERSE:
        return QueryBatch(*_top(scores, n, rng), strategy)
    from core.label.strategies import diverse_top

    Z = model_space(model, X_pool) if model is not None else None
    if Z is None:
        from core.label.strategies import standardise

        Z = standardise(X_pool)
    # Density already prefers typical rows; taking each cluster's centre on top of it crowded the
    # batches into the weather table's dense, irreducibly mixed sun/fog days and it never reached random.
    idx = diverse_top(scores, Z, n, seed, pick="best" if strategy == "density" else "centre")
    return QueryBatch(idx, np.asarray(scores, dtype=float)[idx], strategy)


def _top(scores: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the n highest scores, best first; ties broken at random (seeded)."""
    jitter = rng.random(len(scores)) * 1e-12
    s = np.asarray(scores, dtype=float) + jitter
    part = np.argpartition(-s, n - 1)[:n] if n < len(s) else np.arange(len(s))
    order = part[np.argsort(-s[part], kind="stable")]
    return order.astype(int), np.asarray(scores, dtype=float)[order]


def predict_with_confidence(model: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, probability of that class) per row."""
    proba = model.predict_proba(np.asarray(X, dtype=float))
    best = proba.argmax(axis=1)
    return np.asarray(model.classes_)[best], proba[np.arange(len(best)), best]
