"""Features that leak: left out of a model's inputs by default, each with the reason in words.

Three kinds, judged on the training rows only (:func:`suggest_features`):

* the target itself;
* identifier-like columns — text or integer columns unique per row, or integers that only ever go up
  (or down) by one row after another: a row number, an order id (measurements in floating point are
  unique per row too, and are kept);
* columns that predict the target perfectly on the training rows: a text / category column whose
  every value maps to a single class, a numeric column whose sorted values put each class in one
  contiguous block (a relabelled copy of the target), or — for a numeric target — a column that is
  a monotone function of it.

A person can add any of them back; the reasons say why they were left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MIN_ROWS = 30  # fewer training rows prove nothing: no column is called perfectly predictive below this


@dataclass(frozen=True)
class FeatureAdvice:
    """The columns to use as features by default, and the ones left out with their reasons."""

    features: tuple[str, ...]
    excluded: Mapping[str, str] = field(default_factory=dict)

    @property
    def note(self) -> str:
        """One sentence for the page or the command line ('' when nothing was left out)."""
        shown = [(c, why) for c, why in self.excluded.items() if why != "the target"]
        if not shown:
            return ""
        parts = "; ".join(f"{c!r} ({why})" for c, why in shown[:6])
        more = f" and {len(shown) - 6} more" if len(shown) > 6 else ""
        return f"Left out of the features by default: {parts}{more}. Add them back if they are real features."


def _is_identifier(s: pd.Series) -> str:
    """Why ``s`` looks like a row identifier, or ''."""
    import numpy as np
    import pandas as pd

    values = s.dropna()
    n = len(values)
    if n < 3 or pd.api.types.is_bool_dtype(s.dtype):
        return ""
    text = pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)
    if pd.api.types.is_numeric_dtype(s.dtype):
        x = values.to_numpy(dtype=float)
        if not np.all(x % 1 == 0):
            return ""  # real-valued measurements are unique per row by nature
        steps = np.diff(x)
        if values.nunique() == n and (np.all(steps > 0) or np.all(steps < 0)):
            return "integers that only ever go one way, one per row: looks like a row number or id"
        if values.nunique() == n and n >= 20 and x.max() - x.min() < 2 * n:
            return "a dense run of distinct integers, one per row: looks like an id"
        return ""
    if text and n >= 20 and values.nunique() == n:
        return "unique per row: looks like an identifier (or free text)"
    return ""


def _perfect(x: pd.Series, y: pd.Series, task: str) -> str:
    import numpy as np
    import pandas as pd

    mask = x.notna() & y.notna()
    x, y = x[mask], y[mask]
    if len(x) < MIN_ROWS or y.nunique() < 2:
        return ""
    numeric = pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype)
    if task == "regression":
        if numeric and x.nunique() > 2:
            rho = pd.Series(x.to_numpy(dtype=float)).rank().corr(pd.Series(y.to_numpy(dtype=float)).rank())
            if rho is not None and abs(rho) >= 1 - 1e-12:
                return "a monotone function of the target on the training rows: a leak?"
        return ""
    labels = y.astype(str)
    if not numeric or x.nunique() <= max(20, len(x) // 20):
        per_value = labels.groupby(x.astype(str).to_numpy()).nunique()
        if (per_value == 1).all() and len(per_value) < len(x):
            return "predicts the target perfectly on the training rows: a leak?"
        return ""
    order = np.argsort(x.to_numpy(dtype=float), kind="stable")
    xs, ys = x.to_numpy(dtype=float)[order], labels.to_numpy()[order]
    blocks = 1 + int((ys[1:] != ys[:-1]).sum())
    ties = pd.Series(ys).groupby(xs).nunique()
    if blocks == labels.nunique() and (ties == 1).all():
        return "separates the classes perfectly on the training rows: a leak?"
    return ""


def suggest_features(train: pd.DataFrame, target: str | None, *, task: str | None = None,
                     candidates: Sequence[str] | None = None, raw: pd.DataFrame | None = None) -> FeatureAdvice:
    """Default feature columns of a table (its training rows), leaky ones left out with a reason.

    ``raw``: the same rows before cleaning, when there was a recipe — an id column that a step scaled
    no longer looks like one, so identifiers are looked for in the raw values.
    """
    from core.models import infer_task

    cols = [c for c in (candidates if candidates is not None else train.columns)]
    excluded: dict[str, str] = {}
    y = train[target] if target and target in train.columns else None
    if target in cols:
        excluded[target] = "the target"
    if y is not None and task is None and y.notna().any():
        task = infer_task(y.dropna())
    for c in cols:
        if c in excluded:
            continue
        why = _is_identifier(raw.loc[raw.index.intersection(train.index), c]
                             if raw is not None and c in raw.columns else train[c])
        if not why and y is not None and task:
            why = _perfect(train[c], y, task)
        if why:
            excluded[c] = why
    return FeatureAdvice(tuple(c for c in cols if c not in excluded), excluded)
