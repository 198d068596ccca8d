"""Rows no compared model was trained on — the only rows a score the person or the gate sees comes from.

Evaluation data is a dataset version's test part (all its rows when it has none); then every row
that repeats a row some compared model was trained on — same feature values and target, compared
by a digest of the row — is removed and counted. When nothing held out remains, the caller refuses
with :class:`NoHeldOutRows`' sentence (``promote`` exits 4).

A model's training rows are the training part (or all rows, for a version without a split) of the
dataset version in its ``workbench.data_version`` tag, read once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import CompareError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

PERFECT_CAUTION_ROWS = 1000  # a perfect score on fewer held-out rows than this gets a caution


class NoHeldOutRows(CompareError):  # noqa: N818 - a verdict, named for what it says
    """Every evaluation row was used to train one of the compared models."""


@dataclass(frozen=True)
class HeldOut:
    """The evaluation rows that remain, and how many were removed as training rows (per model)."""

    frame: pd.DataFrame
    total: int
    removed: int
    removed_by: dict[str, int]
    part: str

    @property
    def note(self) -> str:
        if not self.removed:
            return ""
        who = ", ".join(f"{m}: {n:,}" for m, n in self.removed_by.items() if n)
        return (f"{self.removed:,} of the {self.total:,} evaluation rows repeat rows a compared model was trained on "
                f"({who}); they were left out, so every score comes from the {len(self.frame):,} held-out rows.")


def row_digests(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One 64-bit digest per row over ``columns`` (numbers compared as floats, everything else as text)."""
    import numpy as np
    import pandas as pd

    cols = [c for c in columns if c in frame.columns]
    if not cols or frame.empty:
        return np.zeros(len(frame), dtype=np.uint64)
    norm = {}
    for c in cols:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            norm[c] = s.astype(float).round(9)
        else:
            norm[c] = s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))
    return pd.util.hash_pandas_object(pd.DataFrame(norm, index=frame.index), index=False).to_numpy()


_TRAINING: dict[tuple[str, tuple[str, ...]], frozenset[int]] = {}


def training_digests(tracker: Tracker, mv: ModelVersionInfo, columns: Sequence[str]) -> frozenset[int]:
    """Digests of the rows ``mv`` was trained on, over ``columns`` (cached: versions never change)."""
    from core.errors import TrackingError
    from core.tracking.datasets import DatasetVersion, load_dataset

    run_id = mv.tags.get("workbench.data_version", "")
    if not run_id:
        return frozenset()
    key = (run_id, tuple(columns))
    if key not in _TRAINING:
        try:
            version = DatasetVersion.from_run(tracker.get_run(run_id))
            frame = load_dataset(tracker, run_id, "train" if version.has_split else "all")
        except TrackingError:
            return frozenset()  # the training data is gone: nothing to compare with
        _TRAINING[key] = frozenset(int(d) for d in row_digests(frame, columns))
    return _TRAINING[key]


def held_out_rows(tracker: Tracker, versions: Sequence[ModelVersionInfo], frame: pd.DataFrame, target: str,
                  *, part: str, what: str = "the evaluation data") -> HeldOut:
    """``frame`` without the rows any of ``versions`` was trained on.

    Raises:
        NoHeldOutRows: nothing remains.
    """
    import numpy as np

    from core.compare.evaluate import model_features

    keep = np.ones(len(frame), dtype=bool)
    removed_by: dict[str, int] = {}
    for mv in versions:
        columns = [*model_features(mv), target]
        seen = training_digests(tracker, mv, columns)
        if not seen:
            removed_by[f"v{mv.version}"] = 0
            continue
        hit = np.fromiter((int(d) in seen for d in row_digests(frame, columns)), dtype=bool, count=len(frame))
        removed_by[f"v{mv.version}"] = int((hit & keep).sum())
        keep &= ~hit
    out = frame[keep]
    if out.empty:
        models = ", ".join(f"v{mv.version}" for mv in versions)
        raise NoHeldOutRows(f"No held-out rows remain: all {len(frame):,} rows of {what} ({part} part) were used to "
                            f"train {models}, so no honest score can be computed. Evaluate on the test part of "
                            "a version none of them was trained on, or on a new labelled batch.")
    return HeldOut(out, len(frame), int((~keep).sum()), removed_by, part)


def cautions(scores: dict[str, float], rows: int, metric: str, *, challenger: str | None = None,
             champion: str | None = None, cv_std: float | None = None) -> list[str]:
    """Warnings a person should read before trusting a score.

    A perfect score on fewer than :data:`PERFECT_CAUTION_ROWS` held-out rows; a challenger better than
    the champion by more than twice the spread of its own cross-validation folds.
    """
    import math

    from core.compare.measures import higher_is_better

    out = []
    perfect = 1.0 if higher_is_better(metric) else 0.0
    for model, value in scores.items():
        if value is not None and math.isfinite(value) and abs(value - perfect) < 1e-12 and rows < PERFECT_CAUTION_ROWS:
            out.append(f"{model} scores a perfect {metric} of {value:g} on only {rows:,} held-out rows: check for a "
                       "leaking feature or duplicated rows before trusting it.")
    if challenger and champion and cv_std and cv_std > 0 and challenger in scores and champion in scores:
        gain = scores[challenger] - scores[champion]
        gain = gain if higher_is_better(metric) else -gain
        if gain > 2 * cv_std:
            out.append(f"{challenger} beats {champion} by {gain:.4f} on {metric}, more than twice the spread of its "
                       f"own cross-validation folds (std {cv_std:.4f}): a gain this large is suspicious — check "
                       "the evaluation rows and the features.")
    return out
