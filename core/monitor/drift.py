"""Fast per-column drift tests that reproduce Evidently 0.7's defaults exactly.

Evidently's ``DataDriftPreset`` (``evidently/legacy/calculations/stattests``)
does, per column, what this module does with plain NumPy / SciPy calls and
without building plots, correlations and widgets (which is where its time goes):

1. Column kind, inferred on the *current* table (``evidently.core.datasets.infer_column_type``):
   float → numeric; int → categorical when ≤ 10 distinct values else numeric;
   bool / category → categorical; strings → text when distinct > half the
   values, else categorical; datetimes and anything else are not tested.
2. Both sides cleaned: ±inf → NaN, NaN dropped. An empty side is not tested
   (a plain Evidently report crashes on it, evidently#1480).
3. Default test (``_get_default_stattest``) with ``n`` = distinct values of both
   sides together and ``R`` = cleaned reference rows:

   ============  ==========================  ====================
   R ≤ 1,000     numeric: n ≤ 2 → Z-test,     categorical: n ≤ 2 → Z,
                 3–5 → chi-squared, else KS   else chi-squared
   R > 1,000     numeric: n ≤ 5 → Jensen-Shannon, else normed Wasserstein;
                 categorical: Jensen-Shannon
   ============  ==========================  ====================

   Text columns: a domain classifier (TF-IDF + SGD) tries to tell reference from current
   rows; its ROC AUC is the statistic. R ≤ 1,000: drift when the AUC beats the 95th
   percentile of 1,000 random classifiers ("percentile text content drift"); else when
   it exceeds 0.55 ("absolute text content drift").

4. Verdict: p-value tests drift when ``p < threshold`` (KS: ``p ≤ threshold``),
   distances when ``statistic ≥ threshold``. Default thresholds 0.05 / 0.1.
5. Dataset drift when the share of drifted columns ≥ ``drift_share`` (0.5).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from core.errors import MonitorError
from core.monitor.stattests import (
    _clean,
    _count_statistic,
    _Counts,
    _n_distinct,
    _numeric_statistic,
    text_content_drift,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

Kind = Literal["numeric", "categorical", "text", "datetime", "unknown"]
INTEGER_CARDINALITY_LIMIT = 10  # Evidently: int columns with ≤ 10 values are categorical
SMALL_REFERENCE = 1000


@dataclass(frozen=True)
class StatTest:
    """One drift test as Evidently registers it."""

    name: str
    display_name: str  # Evidently's display name (appears in its report / JSON)
    kinds: tuple[str, ...]
    default_threshold: float
    p_value: bool  # True: drift when small; False: a distance, drift when large
    inclusive: bool = False  # KS compares with <=

    def decide(self, statistic: float, threshold: float) -> bool:
        if self.p_value:
            return bool(statistic <= threshold) if self.inclusive else bool(statistic < threshold)
        return bool(statistic >= threshold)


TESTS: dict[str, StatTest] = {
    t.name: t
    for t in (
        StatTest("ks", "K-S p_value", ("numeric",), 0.05, True, inclusive=True),
        StatTest("chisquare", "chi-square p_value", ("categorical",), 0.05, True),
        StatTest("z", "Z-test p_value", ("categorical",), 0.05, True),
        StatTest("jensenshannon", "Jensen-Shannon distance", ("categorical", "numeric"), 0.1, False),
        StatTest("wasserstein", "Wasserstein distance (normed)", ("numeric",), 0.1, False),
        StatTest("psi", "PSI", ("categorical", "numeric"), 0.1, False),
        StatTest("kl_div", "Kullback-Leibler divergence", ("categorical", "numeric"), 0.1, False),
        # text: a domain classifier's ROC AUC (see stattests.text_content_drift); decided there
        StatTest("perc_text_content_drift", "Percentile text content drift", ("text",), 0.95, False),
        StatTest("abs_text_content_drift", "Absolute text content drift", ("text",), 0.55, False),
    )
}
BY_DISPLAY_NAME = {t.display_name: t.name for t in TESTS.values()}


@dataclass(frozen=True)
class DriftOptions:
    """Test and threshold overrides, as ``DataDriftPreset(method=, threshold=, per_column_*=)``."""

    method: str | None = None
    threshold: float | None = None
    per_column_method: Mapping[str, str] = field(default_factory=dict)
    per_column_threshold: Mapping[str, float] = field(default_factory=dict)
    drift_share: float = 0.5

    def __post_init__(self) -> None:
        for name in [self.method, *self.per_column_method.values()]:
            if name is not None and name not in TESTS:
                raise MonitorError(f"The drift test must be one of {', '.join(TESTS)}. Got {name!r} instead.")
        if not 0 < float(self.drift_share) <= 1:
            raise MonitorError(f"The drift share must be in (0, 1]. Got {self.drift_share!r} instead.")
        for value in [self.threshold, *self.per_column_threshold.values()]:
            if value is not None and not float(value) >= 0:
                raise MonitorError(f"A drift threshold must be a number ≥ 0. Got {value!r} instead.")


@dataclass(frozen=True)
class ColumnDrift:
    """The verdict on one column."""

    name: str
    kind: str
    test: str
    statistic: float
    threshold: float
    drifted: bool
    n_reference: int = 0
    n_current: int = 0


@dataclass(frozen=True)
class DriftSummary:
    """Per-column verdicts and the dataset verdict; drifted columns first."""

    dataset_drift: bool
    drift_share: float  # observed share of drifted columns
    n_drifted: int
    columns: tuple[ColumnDrift, ...]
    share_threshold: float = 0.5
    findings: tuple[str, ...] = ()

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "share_threshold": self.share_threshold,
            "n_drifted": self.n_drifted,
            "n_columns": self.n_columns,
            "columns": [asdict(c) for c in self.columns],
            "findings": list(self.findings),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftSummary:
        return cls(
            dataset_drift=bool(data["dataset_drift"]),
            drift_share=float(data["drift_share"]),
            n_drifted=int(data["n_drifted"]),
            columns=tuple(ColumnDrift(**c) for c in data["columns"]),
            share_threshold=float(data.get("share_threshold", 0.5)),
            findings=tuple(data.get("findings", ())),
        )


# -- column kinds -------------------------------------------------------------
def infer_kind(series: pd.Series) -> Kind:
    """Evidently's ``infer_column_type`` with our names."""
    name = series.dtype.name
    if name.startswith("float"):
        return "numeric"
    if name.startswith(("int", "uint", "Int", "UInt")):
        return "categorical" if series.nunique() <= INTEGER_CARDINALITY_LIMIT else "numeric"
    if name in ("string", "str"):
        return "text" if series.nunique() > series.count() * 0.5 else "categorical"
    if name == "object":
        values = series.dropna()
        if values.empty:
            return "unknown"
        if isinstance(values.iloc[0], str) and isinstance(values.iloc[-1], str):
            return "text" if series.nunique() > series.count() * 0.5 else "categorical"
        return "unknown"
    if name in ("bool", "category", "boolean"):
        return "categorical"
    if name.startswith("datetime"):
        return "datetime"
    return "unknown"


def default_test(kind: str, n_reference: int, n_values: int) -> str:
    """Evidently's ``_get_default_stattest`` (see the module docstring)."""
    if kind == "text":
        return "abs_text_content_drift" if n_reference > SMALL_REFERENCE else "perc_text_content_drift"
    if n_reference <= SMALL_REFERENCE:
        if kind == "numeric":
            if n_values <= 5:
                return "chisquare" if n_values > 2 else "z"
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if kind == "numeric":
        return "jensenshannon" if n_values <= 5 else "wasserstein"
    return "jensenshannon"


# -- the tests (same arithmetic as evidently.legacy.calculations.stattests) ----
def test_column(
    name: str,
    reference: pd.Series,
    current: pd.Series,
    kind: str,
    *,
    method: str | None = None,
    threshold: float | None = None,
) -> ColumnDrift:
    """Run one column's drift test (default choice unless ``method`` is given).

    Raises:
        MonitorError: a side has no finite value, or the test does not fit the column kind.
    """
    if kind == "categorical":
        counts = _Counts(reference.value_counts(), current.value_counts())
        n_ref, n_cur = int(counts.n_ref), int(counts.n_cur)
    else:
        ref, cur = _clean(reference), _clean(current)
        n_ref, n_cur = len(ref), len(cur)
    if n_ref == 0 or n_cur == 0:
        side = "reference" if n_ref == 0 else "current"
        raise MonitorError(f"Column {name!r} has no values in the {side} data, so it cannot be tested for drift.")
    if kind == "numeric" and (ref.dtype.kind not in "iufb" or cur.dtype.kind not in "iufb"):
        raise MonitorError(f"Column {name!r} is numeric on one side only; fix its type before testing drift.")
    chosen = method is not None
    if method is None:
        n_values = len(counts.keys) if kind == "categorical" else 0 if kind == "text" else _n_distinct(ref, cur, 6)
        method = default_test(kind, n_ref, n_values)
    test = TESTS.get(method)
    if test is None:
        raise MonitorError(f"The drift test must be one of {', '.join(TESTS)}. Got {method!r} instead.")
    # Evidently checks the kind only for a chosen test: by default it runs the
    # "categorical" chi-squared / Z tests on low-cardinality numeric columns.
    if chosen and kind not in test.kinds:
        raise MonitorError(f"The {test.display_name} test applies to {' / '.join(test.kinds)} columns; "
                           f"column {name!r} is {kind}. Pick another test.")
    thr = test.default_threshold if threshold is None else float(threshold)
    if kind == "text":  # the kind check above leaves only the two text tests here
        statistic, drifted = text_content_drift(ref, cur, bootstrap=method.startswith("perc"), threshold=thr)
        return ColumnDrift(name, kind, method, statistic, thr, drifted, n_ref, n_cur)
    statistic = _count_statistic(method, counts) if kind == "categorical" else _numeric_statistic(method, ref, cur)
    return ColumnDrift(name, kind, method, statistic, thr, test.decide(statistic, thr), n_ref, n_cur)


def column_kinds(current: pd.DataFrame) -> dict[str, str]:
    """Kinds of the current table's columns, as Evidently would infer them."""
    return {str(c): infer_kind(current[c]) for c in current.columns}


def detect_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    options: DriftOptions | None = None,
    *,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> DriftSummary:
    """Per-column drift tests and the dataset verdict, Evidently-equivalent.

    Args:
        reference: the table the model was trained on.
        current: the new batch.
        options: test / threshold overrides and the drift share (defaults as Evidently).
        columns: columns to test (default: every column present on both sides).
        kinds: column kinds to use instead of inferring them from ``current``.

    Columns that cannot be tested (text, datetimes, all-missing on one side, a
    test that does not fit the kind) are left out of the share and reported in
    ``findings`` — never an exception.
    """
    options = options or DriftOptions()
    inferred = dict(kinds or column_kinds(current))
    names = list(columns) if columns is not None else [c for c in current.columns if c in reference.columns]
    results: list[ColumnDrift] = []
    findings: list[str] = []
    for name in names:
        if name not in reference.columns or name not in current.columns:
            findings.append(f"Column {name!r} is not on both sides; it was not tested.")
            continue
        kind = inferred.get(name) or infer_kind(current[name])
        if kind not in ("numeric", "categorical", "text"):
            if kind == "unknown" and current[name].isna().all():
                findings.append(f"Column {name!r} is empty in the current data; it was not tested.")
            continue
        method = options.per_column_method.get(name, options.method)
        threshold = options.per_column_threshold.get(name, options.threshold)
        try:
            results.append(test_column(name, reference[name], current[name], kind, method=method, threshold=threshold))
        except MonitorError as err:
            findings.append(str(err))
        except (TypeError, ValueError) as err:  # mixed value types inside one column
            findings.append(f"Column {name!r} could not be tested ({str(err).splitlines()[0][:120]}).")
    return summarise(results, options.drift_share, findings)


def summarise(results: Sequence[ColumnDrift], drift_share: float = 0.5, findings: Sequence[str] = ()) -> DriftSummary:
    """Dataset verdict from column verdicts (``get_dataset_drift``); drifted columns first."""
    n_drifted = sum(1 for r in results if r.drifted)
    share = n_drifted / len(results) if results else 0.0
    ordered = sorted(results, key=lambda r: (not r.drifted, _severity(r)))
    findings = list(findings)
    if not results:
        findings.append("No column could be tested for drift.")
    return DriftSummary(bool(results) and share >= drift_share, share, n_drifted, tuple(ordered), drift_share,
                        tuple(findings))


def _severity(r: ColumnDrift) -> float:
    """Sort key inside a group: most drifted first (smallest p-value, largest distance)."""
    test = TESTS[r.test]
    return r.statistic if test.p_value else -r.statistic
