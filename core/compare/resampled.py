"""Metrics evaluated on many bootstrap resamples at once (pure numpy, used by :mod:`core.compare.significance`).

A resample of ``n`` rows is described by its *counts*: how often each row was drawn. With the
counts of ``B`` resamples as a ``(B, n)`` matrix ``W``, every metric the gate uses is a function
of a few weighted sums — ``W @ per_row_statistics`` — so ``B`` resamples cost one matrix product
instead of ``B`` calls into scikit-learn:

* accuracy, error rate, balanced accuracy and the macro precision / recall / F1 come from the
  per-resample confusion counts (true, predicted and correct rows per label);
* log loss, MSE, RMSE and MAE are weighted means of per-row losses; R² adds the weighted sums of
  the (centred) target;
* ROC AUC is the weighted Mann–Whitney statistic over the rows sorted once by score (ties count
  one half), one-vs-rest per class like :func:`core.compare.measures.classification_metrics`.

Each value equals scikit-learn's metric on the resampled rows ``y[idx], pred[idx]`` (the tests
check this), including which labels a resample's macro average covers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import CompareError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

LABEL_METRICS = ("accuracy", "error_rate", "balanced_accuracy", "f1_macro", "precision_macro", "recall_macro")
PROBA_METRICS = ("roc_auc", "log_loss")
REGRESSION_METRICS = ("r2", "rmse", "mse", "mae")
_AUC_BLOCK_CELLS = 500_000  # resamples × rows per ROC AUC block (measured: ~2× faster than 2.5M at 10k rows)


@dataclass(frozen=True)
class ResampledMetric:
    """A metric that scores one model on many resamples in one call.

    ``prepare(y, pred)`` turns the rows into per-row statistics once; ``evaluate(state, W)``
    returns the metric for each row of the ``(B, n)`` count matrix ``W``. Calling the metric
    scores the full sample (every count 1).
    """

    name: str
    prepare: Callable[[np.ndarray, np.ndarray], Any]
    evaluate: Callable[[Any, np.ndarray], np.ndarray]

    def __call__(self, y: np.ndarray, pred: np.ndarray) -> float:
        import numpy as np

        return float(self.evaluate(self.prepare(y, pred), np.ones((1, len(y))))[0])


def row_loss_metric(name: str) -> ResampledMetric:
    """The mean of a per-row loss handed in as the "predictions" (e.g. the charter's cost of each prediction).

    ``prepare(y, losses)`` ignores ``y``: the losses were computed once on the full sample, so a resample
    only reweights them — the same as recomputing each row's cost on the resampled rows.
    """
    import numpy as np

    def prepare(_y: np.ndarray, losses: np.ndarray) -> np.ndarray:
        return np.asarray(losses, dtype=float).reshape(-1, 1)

    return ResampledMetric(name, prepare, lambda state, w: (w @ state)[:, 0] / w.sum(axis=1))


def resampled_metric(name: str, classes: Sequence[Any] | None = None) -> ResampledMetric:
    """The vectorised form of a gate metric; ``classes`` orders the probability columns (roc_auc, log_loss)."""
    if name in LABEL_METRICS:
        return ResampledMetric(name, _confusion_state, lambda state, w: _from_confusion(name, state, w))
    if name in REGRESSION_METRICS:
        return ResampledMetric(name, _regression_state, lambda state, w: _from_errors(name, state, w))
    if name in PROBA_METRICS:
        if classes is None or len(classes) < 2:
            raise CompareError(f"The metric {name!r} needs the model's classes (at least two) to read its "
                               "probability columns.")
        labels = list(classes)
        prepare = _log_loss_state if name == "log_loss" else _auc_state
        evaluate = _from_log_loss if name == "log_loss" else _from_auc
        return ResampledMetric(name, lambda y, proba: prepare(y, proba, labels), evaluate)
    known = ", ".join(LABEL_METRICS + PROBA_METRICS + REGRESSION_METRICS)
    raise CompareError(f"No resampled form of the metric {name!r}; choose one of {known}.")


def _confusion_state(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per-row one-hot columns [true label | predicted label | correct label], over the labels seen."""
    import numpy as np
    import pandas as pd

    y, pred = np.asarray(y, dtype=object), np.asarray(pred, dtype=object)
    codes, labels = pd.factorize(np.concatenate([y, pred]), sort=False)
    k, n = len(labels), len(y)
    true, hat = codes[:n], codes[n:]
    eye = np.eye(k)
    return np.hstack([eye[true], eye[hat], eye[true] * (true == hat)[:, None]])


def _from_confusion(name: str, state: np.ndarray, w: np.ndarray) -> np.ndarray:
    import numpy as np

    k = state.shape[1] // 3
    sums = w @ state
    true, hat, tp = sums[:, :k], sums[:, k:2 * k], sums[:, 2 * k:]
    total = w.sum(axis=1)
    if name in ("accuracy", "error_rate"):
        accuracy = tp.sum(axis=1) / total
        return accuracy if name == "accuracy" else 1.0 - accuracy
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(true > 0, tp / true, 0.0)
        if name == "balanced_accuracy":  # mean recall over the labels present in y (as scikit-learn)
            return np.where(true > 0, recall, 0.0).sum(axis=1) / (true > 0).sum(axis=1)
        present = (true + hat) > 0  # scikit-learn's unique_labels(y_true, y_pred) of the resample
        if name == "recall_macro":
            per_label = recall
        elif name == "precision_macro":
            per_label = np.where(hat > 0, tp / hat, 0.0)
        else:  # f1_macro
            per_label = np.where(present, 2 * tp / (true + hat), 0.0)
    return (per_label * present).sum(axis=1) / present.sum(axis=1)


def _regression_state(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per-row [squared error, absolute error, centred y, centred y²] (centring keeps R² exact)."""
    import numpy as np

    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    err = pred - y
    centred = y - y.mean()
    return np.column_stack([err * err, np.abs(err), centred, centred * centred])


def _from_errors(name: str, state: np.ndarray, w: np.ndarray) -> np.ndarray:
    import numpy as np

    sums = w @ state
    total = w.sum(axis=1)
    mse = sums[:, 0] / total
    if name == "mse":
        return mse
    if name == "rmse":
        return np.sqrt(mse)
    if name == "mae":
        return sums[:, 1] / total
    sst = sums[:, 3] - sums[:, 2] ** 2 / total
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sst > 0, 1.0 - sums[:, 0] / sst, np.nan)  # R² undefined for a constant target


def _class_indicators(y: np.ndarray, labels: list[Any]) -> np.ndarray:
    """(n, K) booleans: row i belongs to class k; CompareError when y holds a class the model never saw."""
    import numpy as np

    y = np.asarray(y, dtype=object)
    onehot = np.column_stack([y == c for c in labels])
    unknown = ~onehot.any(axis=1)
    if unknown.any():
        seen = sorted({str(v) for v in y[unknown]})[:5]
        raise CompareError("Log loss and ROC AUC need every evaluation row's class among the model's classes; "
                           f"these are not: {', '.join(seen)}.")
    return onehot


def _log_loss_state(y: np.ndarray, proba: np.ndarray, labels: list[Any]) -> np.ndarray:
    import numpy as np

    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[1] != len(labels):
        raise CompareError(f"Log loss needs one probability column per class ({len(labels)}); "
                           f"got an array of shape {proba.shape}.")
    eps = np.finfo(proba.dtype).eps
    p_true = np.clip(proba, eps, 1 - eps)[_class_indicators(y, labels)]
    return -np.log(p_true)[:, None]


def _from_log_loss(state: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (w @ state)[:, 0] / w.sum(axis=1)


def _auc_state(y: np.ndarray, proba: np.ndarray, labels: list[Any]) -> list[tuple[np.ndarray, np.ndarray, Any, Any]]:
    """Per scored class: (row order by score, positive flags in that order, tie-group start / end per row).

    Start and end are slices when no two scores tie (the usual case for continuous scores), index
    arrays otherwise.
    """
    import numpy as np

    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[1] != len(labels):
        raise CompareError(f"ROC AUC needs one probability column per class ({len(labels)}); "
                           f"got an array of shape {proba.shape}.")
    onehot = _class_indicators(y, labels)
    columns = [1] if len(labels) == 2 else range(len(labels))  # binary: the positive class only
    n = len(proba)
    state = []
    for i in columns:
        order = np.argsort(proba[:, i], kind="mergesort")
        ranked = proba[order, i]
        new_group = np.r_[True, ranked[1:] != ranked[:-1]]
        if new_group.all():
            start, end = slice(0, n), slice(1, n + 1)
        else:
            group = np.cumsum(new_group) - 1
            starts = np.flatnonzero(new_group)
            ends = np.r_[starts[1:], n]
            start, end = starts[group], ends[group]
        state.append((order, onehot[order, i], start, end))
    return state


def _from_auc(state: list[tuple[np.ndarray, np.ndarray, Any, Any]], w: np.ndarray) -> np.ndarray:
    """Weighted Mann–Whitney: each positive row counts the negative weight below its score, ties one half.

    With ``C`` the running sum of negative weight in score order (``C[k]`` = weight of the first ``k``
    rows), a row in the tie group ``[s, e)`` sees ``C[s]`` below and ``C[e] − C[s]`` level, so its
    credit is ``(C[s] + C[e]) / 2``.
    """
    import numpy as np

    step = max(1, _AUC_BLOCK_CELLS // w.shape[1])  # resamples per block: its temporaries stay in cache
    aucs = []
    for order, positive, start, end in state:
        credit, pairs = np.empty(len(w)), np.empty(len(w))
        for b in range(0, len(w), step):
            ranked = w[b:b + step, order]
            pos = ranked * positive
            running = np.zeros((len(ranked), ranked.shape[1] + 1))
            np.cumsum(ranked - pos, axis=1, out=running[:, 1:])
            credit[b:b + step] = (pos * (running[:, start] + running[:, end])).sum(axis=1) / 2
            pairs[b:b + step] = pos.sum(axis=1) * running[:, -1]
        with np.errstate(invalid="ignore", divide="ignore"):
            aucs.append(np.where(pairs > 0, credit / pairs, np.nan))
    stacked = np.column_stack(aucs)
    valid = ~np.isnan(stacked)
    with np.errstate(invalid="ignore", divide="ignore"):  # a resample with no class scorable is NaN (dropped)
        return np.where(valid, stacked, 0.0).sum(axis=1) / valid.sum(axis=1)
