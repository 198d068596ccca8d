"""Drift that per-column tests miss: a domain classifier and a cluster-occupancy check.

* **Domain classifier.** Label reference rows 0 and current rows 1 and ask a
  random forest, by stratified cross-validation, to tell them apart. ROC AUC
  ≈ 0.5 means the two tables are indistinguishable; above the threshold
  (default 0.55) the joint distribution moved — even when every column alone
  looks the same (e.g. a correlation flipped). The forest's importances name
  the columns that separate them best.
* **Cluster check.** KMeans on the (imputed, scaled, one-hot) reference; the
  share of rows per cluster on reference vs current. Drift when the total
  variation distance of the two occupancy vectors reaches the threshold
  (default 0.1) *and* a chi-squared test says the change is not chance
  (p < 0.05): a small batch moves occupancies by noise alone.

Both sample at most :data:`MAX_ROWS` rows per side, so they cost about a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import MonitorError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MAX_ROWS = 5000
AUC_THRESHOLD = 0.55
TVD_THRESHOLD = 0.1
CLUSTER_ALPHA = 0.05  # and the occupancy change must be significant


@dataclass(frozen=True)
class DomainClassifierResult:
    auc: float
    threshold: float
    drifted: bool
    top_features: tuple[tuple[str, float], ...]
    n_rows: int


@dataclass(frozen=True)
class ClusterResult:
    k: int
    reference_share: tuple[float, ...]
    current_share: tuple[float, ...]
    tvd: float
    p_value: float
    threshold: float
    drifted: bool


def _features(reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str] | None, seed: int):
    """Sampled, aligned feature frames and the FeatureSpec of the usable columns."""
    from core.errors import DataError
    from core.models import feature_spec

    cols = [c for c in (columns or reference.columns) if c in current.columns]
    cols = [c for c in cols if reference[c].notna().any() and current[c].notna().any()]
    if not cols:
        raise MonitorError("No column has values on both sides, so multivariate drift cannot be checked.")
    if len(reference) < 10 or len(current) < 10:
        raise MonitorError("Multivariate drift needs at least 10 rows on each side.")
    ref = reference[cols].sample(min(len(reference), MAX_ROWS), random_state=seed)
    cur = current[cols].sample(min(len(current), MAX_ROWS), random_state=seed)
    try:
        spec = feature_spec(ref, columns=cols)
    except DataError as err:
        raise MonitorError(str(err)) from err
    for c in spec.categorical:  # one type per column so the encoder sees the same categories
        ref[c], cur[c] = ref[c].astype(str), cur[c].astype(str)
    return ref[spec.columns], cur[spec.columns], spec


def domain_classifier(reference: pd.DataFrame, current: pd.DataFrame, *, columns: Sequence[str] | None = None,
                      threshold: float = AUC_THRESHOLD, folds: int = 3, seed: int = 0) -> DomainClassifierResult:
    """ROC AUC of a classifier separating reference from current rows (cross-validated)."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline

    from core.models import make_preprocessor

    ref, cur, spec = _features(reference, current, columns, seed)
    X = pd.concat([ref, cur], ignore_index=True)
    y = np.r_[np.zeros(len(ref)), np.ones(len(cur))]
    model = Pipeline([("prep", make_preprocessor(spec)),
                      ("rf", RandomForestClassifier(n_estimators=60, max_depth=8, min_samples_leaf=3,
                                                    random_state=seed, n_jobs=1))])
    folds = max(2, min(folds, int(min(len(ref), len(cur)))))
    proba = cross_val_predict(model, X, y, cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                              method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, proba))
    model.fit(X, y)
    names = model.named_steps["prep"].get_feature_names_out()
    importances: dict[str, float] = {}
    for name, value in zip(names, model.named_steps["rf"].feature_importances_):
        source = next((c for c in spec.columns if name == c or name.startswith(f"{c}_")), name)
        importances[source] = importances.get(source, 0.0) + float(value)
    top = tuple(sorted(importances.items(), key=lambda kv: -kv[1])[:5])
    return DomainClassifierResult(auc, threshold, auc >= threshold, top, len(X))


def cluster_check(reference: pd.DataFrame, current: pd.DataFrame, *, columns: Sequence[str] | None = None,
                  k: int = 8, threshold: float = TVD_THRESHOLD, seed: int = 0) -> ClusterResult:
    """Change in KMeans cluster occupancy (clusters fitted on the reference)."""
    import numpy as np
    from scipy import stats
    from sklearn.cluster import KMeans

    from core.models import make_preprocessor

    ref, cur, spec = _features(reference, current, columns, seed)
    prep = make_preprocessor(spec).fit(ref)
    k = max(2, min(k, len(ref) // 5))
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(prep.transform(ref))
    r = np.bincount(km.labels_, minlength=k).astype(float)
    c = np.bincount(km.predict(prep.transform(cur)), minlength=k).astype(float)
    rs, cs = r / r.sum(), c / c.sum()
    tvd = float(0.5 * np.abs(rs - cs).sum())
    expected = rs * c.sum()
    keep = expected > 0
    p = float(stats.chisquare(c[keep], expected[keep] * c[keep].sum() / expected[keep].sum())[1]) if keep.sum() > 1 else 1.0
    return ClusterResult(k, tuple(map(float, rs)), tuple(map(float, cs)), tvd, p, threshold,
                         tvd >= threshold and p < CLUSTER_ALPHA)
