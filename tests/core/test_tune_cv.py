"""Tune's cross-validation folds: copies of one row (over-sampling, duplicates) never straddle a split."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.compare.heldout import row_digests
from core.tune.objective import TuneData, copy_groups, cv_splits


def _data(n: int, copies: int, task: str = "classification") -> TuneData:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice(["u", "v"], n)})
    y = pd.Series(np.where(X["a"] > 0, "yes", "no") if task == "classification" else X["a"] * 2.0, name="y")
    if copies:  # random over-sampling: exact copies of training rows appended
        pick = rng.choice(n, copies)
        X = pd.concat([X, X.iloc[pick]], ignore_index=True)
        y = pd.concat([y, y.iloc[pick]], ignore_index=True)
    from core.models import feature_spec

    return TuneData(X, y, feature_spec(X.assign(y=y), "y"), "train", 0)


def _leaks(data: TuneData, splits) -> int:  # noqa: ANN001
    digests = row_digests(data.X.assign(y=data.y), ["a", "b", "y"])
    return sum(len(set(digests[fit]) & set(digests[val])) for fit, val in splits)


def test_copies_of_a_row_stay_in_one_fold_for_both_tasks() -> None:
    for task in ("classification", "regression"):
        data = _data(200, 80, task)
        splits = cv_splits(data, task, 5, seed=0)
        assert len(splits) == 5 and _leaks(data, splits) == 0
        assert sorted(np.concatenate([v for _f, v in splits]).tolist()) == list(range(280))  # every row validated once


def test_without_copies_the_folds_are_the_usual_stratified_ones() -> None:
    data = _data(200, 0)
    assert copy_groups(data.X, data.y) is None
    from sklearn.model_selection import StratifiedKFold

    expected = list(StratifiedKFold(5, shuffle=True, random_state=3).split(data.X, data.y))
    got = cv_splits(data, "classification", 5, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(expected, got))


def test_plain_folds_would_have_leaked_the_copies() -> None:
    """The case the grouping guards against is real: ungrouped folds put copies on both sides."""
    from sklearn.model_selection import StratifiedKFold

    data = _data(200, 80)
    plain = list(StratifiedKFold(5, shuffle=True, random_state=0).split(data.X, data.y))
    assert _leaks(data, plain) > 0
