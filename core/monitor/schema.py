"""Schema check of the current batch against the reference: findings, never a crash.

Runs first, before any drift test, and tells the person in plain sentences what
does not line up: missing, extra and retyped columns, unseen categories,
all-missing columns, an empty batch, a batch too small for drift tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

Severity = Literal["error", "warning", "info"]
MIN_ROWS = 2  # a drift test on one row means nothing
FEW_ROWS = 30  # below this, a 'no drift' verdict has little power
MAX_LISTED = 5


@dataclass(frozen=True)
class Finding:
    """One thing the schema check noticed."""

    kind: str  # missing_column | extra_column | retyped | unseen_categories | all_missing | empty | too_few_rows | ...
    column: str
    message: str
    severity: Severity = "warning"


@dataclass(frozen=True)
class SchemaReport:
    """All findings; ``blocking`` when no drift test can run at all."""

    findings: tuple[Finding, ...]
    shared_columns: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def excluded(self) -> tuple[str, ...]:
        """Columns to leave out of drift tests (empty on a side, or retyped)."""
        return tuple(dict.fromkeys(f.column for f in self.findings if f.kind in ("all_missing", "retyped") and f.column))

    def messages(self) -> list[str]:
        return [f.message for f in self.findings]

    def blocking_sentence(self) -> str:
        """The errors that stop every drift test, as one line (empty when nothing blocks)."""
        return " ".join(f.message for f in self.findings if f.severity == "error")


def _type_family(series: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "text"


def _listed(values: Sequence[object]) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:MAX_LISTED])
    return shown + (f" and {len(values) - MAX_LISTED} more" if len(values) > MAX_LISTED else "")


def check_schema(reference: pd.DataFrame, current: pd.DataFrame, *, ignore: Sequence[str] = ()) -> SchemaReport:
    """Compare the current batch's columns, types and categories with the reference.

    Args:
        reference: the reference table.
        current: the new batch.
        ignore: columns to leave out (e.g. the target when current is unlabelled).
    """
    findings: list[Finding] = []
    ref_cols = [str(c) for c in reference.columns if c not in ignore]
    cur_cols = [str(c) for c in current.columns if c not in ignore]
    if len(current) == 0:
        findings.append(Finding("empty", "", "The current batch has no rows; add data before checking drift.", "error"))
    elif len(current) < MIN_ROWS:
        findings.append(Finding("too_few_rows", "", f"The current batch has {len(current)} row; drift tests need more "
                                "data (at least a few dozen rows for a meaningful verdict).", "warning"))
    elif len(current) < FEW_ROWS:
        findings.append(Finding("few_rows", "", f"The current batch has only {len(current)} rows: the drift tests "
                                "can miss even a large shift, so read \"no drift\" as \"not enough evidence\".",
                                "warning"))
    if len(reference) == 0:
        findings.append(Finding("empty", "", "The reference table has no rows; pick another reference.", "error"))
    missing = [c for c in ref_cols if c not in cur_cols]
    extra = [c for c in cur_cols if c not in ref_cols]
    for c in missing:
        findings.append(Finding("missing_column", c, f"Column {c!r} of the reference is missing from the current batch.",
                                "warning"))
    for c in extra:
        findings.append(Finding("extra_column", c, f"Column {c!r} is new in the current batch; it is not tested.", "info"))
    shared = [c for c in ref_cols if c in cur_cols]
    if not shared and len(current) and len(reference):
        findings.append(Finding("no_shared_columns", "", "The current batch shares no column with the reference; "
                                "check that you picked the right files.", "error"))
    for c in shared:
        r, k = reference[c], current[c]
        rt, kt = _type_family(r), _type_family(k)
        if len(current) and k.isna().all():
            findings.append(Finding("all_missing", c, f"Column {c!r} has no values in the current batch; it is left "
                                    "out of the drift tests (a plain Evidently report crashes on it).", "warning"))
            continue
        if len(reference) and r.isna().all():
            findings.append(Finding("all_missing", c, f"Column {c!r} has no values in the reference; it is left out.",
                                    "warning"))
            continue
        if rt != kt:
            findings.append(Finding("retyped", c, f"Column {c!r} holds {kt} values in the current batch but {rt} values "
                                    "in the reference; it is left out of the drift tests until the types agree.",
                                    "warning"))
            continue
        if rt in ("text", "boolean") and k.nunique() <= 0.5 * k.count():  # free text / ids: every value is new
            seen = set(r.dropna().astype(str).unique())
            new = sorted(set(k.dropna().astype(str).unique()) - seen)
            if new:
                share = float(k.astype(str).isin(new).mean())
                findings.append(Finding("unseen_categories", c, f"Column {c!r} has {len(new)} categor"
                                        f"{'y' if len(new) == 1 else 'ies'} never seen in the reference "
                                        f"({_listed(new)}; {share:.1%} of current rows).", "warning"))
    return SchemaReport(tuple(findings), tuple(shared))
