"""Set-up checks, the unlabelled pool, and the labelling state rebuilt from the log.

Everything here is pure: a page or test hands in the table and the log's events and
gets typed results back. The state is rebuilt from the log on each call, so a
refresh, a second tab or a server restart resumes exactly where the log stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import LabelError
from core.label.labellog import LabelEvent

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MAX_CLASSES = 50
_PIXEL = re.compile(r"(pixel|pix|px|^p)[_-]?\d", re.IGNORECASE)


@dataclass(frozen=True)
class Pool:
    """The numeric matrix the learner sees, one row per table row (row key = position)."""

    X: np.ndarray
    features: tuple[str, ...]
    classes: tuple[str, ...]
    label_column: str
    table_labels: Mapping[int, str]
    imputed_cells: int = 0
    new_column: bool = False

    @property
    def rows(self) -> int:
        return int(self.X.shape[0])


@dataclass(frozen=True)
class LabelState:
    """Labels (table values overlaid by the log, latest event wins) and skipped rows."""

    labels: Mapping[int, str]
    skipped: frozenset[int] = field(default_factory=frozenset)
    from_log: int = 0

    def counts(self, classes: Sequence[str]) -> dict[str, int]:
        out = dict.fromkeys(classes, 0)
        for v in self.labels.values():
            out[v] = out.get(v, 0) + 1
        return out

    def xy(self, pool: Pool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row keys, X, y) of the labelled rows in row order."""
        keys = np.array(sorted(self.labels), dtype=int)
        return keys, pool.X[keys] if len(keys) else pool.X[:0], np.array([self.labels[k] for k in keys])

    def unlabelled(self, pool: Pool) -> np.ndarray:
        """Row keys still to ask about (neither labelled nor skipped)."""
        mask = np.ones(pool.rows, dtype=bool)
        for k in (*self.labels, *self.skipped):
            if 0 <= k < pool.rows:
                mask[k] = False
        return np.flatnonzero(mask)


def label_text(value: Any) -> str | None:
    """A table cell as a class name, or None when it is empty (3.0 → '3')."""
    if value is None:
        return None
    if isinstance(value, float):
        if np.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def parse_classes(text: str) -> tuple[str, ...]:
    """Class names typed by the person, separated by commas or new lines (duplicates dropped)."""
    seen: dict[str, None] = {}
    for part in re.split(r"[,\n]", text or ""):
        if part.strip():
            seen.setdefault(part.strip(), None)
    return tuple(seen)


def numeric_columns(frame: pd.DataFrame, exclude: Iterable[str] = ()) -> list[str]:
    import pandas as pd

    skip = set(exclude)
    return [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])]


def image_side(features: Sequence[str], force: bool = False) -> int | None:
    """Side of the square image the features form (8 for 64 pixel columns), else None.

    Columns count as an image when their number is a square ≥ 16 and their names look
    like pixels (``pixel_0_0``, ``px12``, ``p3``…), or when ``force`` is set.
    """
    n = len(features)
    side = int(round(n ** 0.5))
    if n < 16 or side * side != n:
        return None
    if force or sum(bool(_PIXEL.search(str(f))) for f in features) >= 0.9 * n:
        return side
    return None


def prepare_pool(frame: pd.DataFrame, label_column: str, features: Sequence[str],
                 classes: Sequence[str] = (), *, impute: bool = False) -> Pool:
    """Check the set-up and build the pool.

    Args:
        frame: the dataset version's table.
        label_column: an existing column (empty cells = unlabelled) or a new column name.
        features: numeric feature columns.
        classes: class names typed by the person (required for a new column; added to existing ones).
        impute: fill missing feature values with the column median (the person's consent).

    Raises:
        LabelError: with one sentence saying what is wrong and what to do.
    """
    label_column = (label_column or "").strip()
    if not label_column:
        raise LabelError("Choose the label column, or type the name of a new one.")
    typed = tuple(dict.fromkeys(c.strip() for c in classes if c and c.strip()))
    new = label_column not in frame.columns
    if new:
        existing: dict[int, str] = {}
    else:
        cells = [label_text(v) for v in frame[label_column].tolist()]
        existing = {i: v for i, v in enumerate(cells) if v is not None}
    all_classes = tuple(sorted(set(existing.values()), key=_natural)) + tuple(
        c for c in typed if c not in set(existing.values()))
    if len(all_classes) > MAX_CLASSES:
        raise LabelError(f"The label column {label_column!r} has {len(all_classes)} distinct values; labelling by "
                         f"hand works with at most {MAX_CLASSES} classes. Is it an ID or a continuous column? "
                         "Pick another column or create a new one.")
    if len(all_classes) < 2:
        what = (f"the new column {label_column!r} has {len(all_classes)} class name(s)" if new
                else f"the label column {label_column!r} has only {len(all_classes)} class "
                     f"({', '.join(map(repr, all_classes)) or 'no values'})")
        raise LabelError(f"Labelling needs at least two classes, but {what}; type the class names, separated by commas.")
    if not new and len(existing) == len(frame):
        raise LabelError(f"Every row of {label_column!r} already has a label: there is nothing to label. "
                         "Pick another label column or create a new one.")
    feats = [f for f in features if f != label_column]
    missing = [f for f in feats if f not in frame.columns]
    if missing:
        raise LabelError(f"These feature columns are not in the table: {', '.join(missing[:5])}.")
    numeric = set(numeric_columns(frame))
    not_numeric = [f for f in feats if f not in numeric]
    if not_numeric:
        raise LabelError(f"The Label stage uses numeric features only; {', '.join(map(repr, not_numeric[:5]))} "
                         "is not numeric. Unselect it, or encode it in the Data stage.")
    if not feats:
        raise LabelError("No numeric feature columns are selected; the learner and the map need at least one. "
                         "Pick numeric features, or add some in the Data stage.")
    X = frame[feats].to_numpy(dtype=float, na_value=np.nan)
    nan = np.isnan(X)
    imputed = int(nan.sum())
    if imputed:
        cols = [feats[j] for j in np.flatnonzero(nan.any(axis=0))]
        if not impute:
            raise LabelError(f"The features have {imputed} missing values (in {', '.join(cols[:5])}"
                             f"{'…' if len(cols) > 5 else ''}); fill them in the Data stage, or tick "
                             "'Fill missing values with the median' to impute them for labelling.")
        empty = [feats[j] for j in np.flatnonzero(nan.all(axis=0))]
        if empty:
            raise LabelError(f"The feature column {empty[0]!r} has no values at all; unselect it.")
        med = np.nanmedian(X, axis=0)
        X = np.where(nan, med, X)
    return Pool(X, tuple(feats), all_classes, label_column, existing, imputed, new)


def _natural(text: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


def label_state(pool: Pool, events: Iterable[LabelEvent]) -> LabelState:
    """The table's labels overlaid by the replayed log (latest label wins; undo and remove apply)."""
    from core.label.history import replay

    r = replay(e for e in events if 0 <= e.row < pool.rows)
    labels = {k: v for k, v in pool.table_labels.items() if k not in r.removed}
    labels.update(r.labels)
    return LabelState(labels, frozenset(s for s in r.skipped if s not in labels), len(r.labels))


def cv_accuracy(X: np.ndarray, y: np.ndarray, learner: str = "logreg", seed: int = 0, folds: int = 5) -> float | None:
    """Held-out accuracy of the learner on the labels so far (k-fold; every label is predicted by a
    model that did not see it). None with fewer than 4 labels or one class."""
    from sklearn.model_selection import KFold

    from core.label.query import make_learner

    y = np.asarray(y)
    if len(y) < 4 or len(np.unique(y)) < 2:
        return None
    hits = 0
    for train, test in KFold(min(folds, len(y)), shuffle=True, random_state=seed).split(X):
        if len(np.unique(y[train])) < 2:
            pred = np.full(len(test), y[train][0])
        else:
            pred = make_learner(learner, seed, n_labels=len(train)).fit(X[train], y[train]).predict(X[test])
        hits += int((pred == y[test]).sum())
    return hits / len(y)


def labelled_table(frame: pd.DataFrame, label_column: str, labels: Mapping[int, str], *,
                   only_labelled: bool = True) -> pd.DataFrame:
    """The table with ``label_column`` filled from ``labels`` (only labelled rows by default).

    When the original column was numeric and every label reads as a number, the column stays numeric.
    """
    import pandas as pd

    out = frame.copy()
    values = pd.Series([labels.get(i) for i in range(len(frame))], index=frame.index, dtype=object)
    was_numeric = label_column in frame.columns and pd.api.types.is_numeric_dtype(frame[label_column])
    numbers = pd.to_numeric(values.dropna(), errors="coerce")
    if (was_numeric or label_column not in frame.columns) and len(numbers) and numbers.notna().all():
        values = pd.to_numeric(values, errors="coerce")
        if (values.dropna() % 1 == 0).all():
            values = values.astype("Int64")
    out[label_column] = values
    if only_labelled:
        out = out[out[label_column].notna()].reset_index(drop=True)
    return out
