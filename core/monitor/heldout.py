"""The rows Monitor may score a model on: never the rows it was trained on.

Model quality compares the model's metric on the current batch with a *baseline*. Scoring the
reference as a whole would mix in the rows the model learned, so the baseline comes from
:func:`held_out_reference` — the version's held-out (test) part, decided when it was saved
(``core.data.prepare.split_rows`` / the recipe's split step) — and every row that repeats a row the
model was trained on (same features and target, by Compare's row digest,
:func:`core.compare.heldout.held_out_rows`) is removed from both sides. When nothing remains the
check says so instead of scoring training rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.monitor.check import Table
    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo


@dataclass(frozen=True)
class ScoredRows:
    """Rows a model may be scored on (index kept from the source frame) and what was left out."""

    frame: pd.DataFrame
    total: int
    part: str  # "test" (the version's held-out part) or "all"
    note: str = ""

    @property
    def empty(self) -> bool:
        return self.frame.empty


def _test_part(tracker: Tracker, table: Table) -> tuple[pd.DataFrame, str]:
    """The table's held-out rows (index of ``table.frame`` kept) and which part they are."""
    if not table.run_id:
        return table.frame, "all"
    from core.errors import TrackingError
    from core.tracking.datasets import load_dataset, load_split

    try:
        split = load_split(tracker, table.run_id)
    except TrackingError:
        return table.frame, "all"
    if split is None:
        return table.frame, "all"
    if len(split) == len(table.frame):
        return table.frame[(split == "test").to_numpy()], "test"
    return load_dataset(tracker, table.run_id, "test"), "test"  # a frame of another shape: the stored part


def without_training_rows(tracker: Tracker | None, frame: pd.DataFrame, model_version: ModelVersionInfo | None,
                          target: str, *, part: str = "all", what: str = "the current batch") -> ScoredRows:
    """``frame`` minus the rows ``model_version`` was trained on (compared by row digest)."""
    if tracker is None or model_version is None or frame.empty:
        return ScoredRows(frame, len(frame), part)
    from core.compare.heldout import NoHeldOutRows, held_out_rows
    from core.errors import CompareError

    try:
        kept = held_out_rows(tracker, [model_version], frame, target, part=part, what=what)
    except NoHeldOutRows:
        return ScoredRows(frame.iloc[0:0], len(frame), part)
    except CompareError:  # a version without its feature list: nothing to compare with
        return ScoredRows(frame, len(frame), part)
    note = ""
    if kept.removed:
        note = (f"{kept.removed:,} of the {kept.total:,} rows of {what} repeat rows {model_version.name} "
                f"v{model_version.version} was trained on; model quality leaves them out.")
    return ScoredRows(kept.frame, kept.total, part, note)


def held_out_reference(tracker: Tracker | None, table: Table, model_version: ModelVersionInfo | None = None,
                       target: str = "") -> ScoredRows:
    """The reference rows for the model-quality baseline: the version's test part, minus training rows.

    A reference file (no version, so no recorded split) keeps the rows that do not repeat the model's
    training rows. ``frame`` is empty when no held-out row remains.
    """
    if tracker is None:
        return ScoredRows(table.frame, len(table.frame), "all")
    frame, part = _test_part(tracker, table)
    rows = without_training_rows(tracker, frame, model_version, target or table.target, part=part,
                                 what=f"the reference {table.label}'s {part} part")
    if rows.empty:
        return rows
    if part == "test":
        note = (f"The model-quality baseline is the {len(rows.frame):,} held-out (test) rows of {table.label}, "
                f"not the {len(table.frame) - len(frame):,} training rows.")
        return ScoredRows(rows.frame, len(table.frame), part, " ".join(n for n in (note, rows.note) if n))
    return rows


def no_baseline_sentence(label: str = "the reference") -> str:
    """Why model quality was not checked when no held-out reference row remains."""
    return (f"Model quality was not checked: no held-out rows of {label} remain (every row was used to train the "
            "model), so there is no honest baseline. Pick a reference version with a test part the model was not "
            "trained on.")
