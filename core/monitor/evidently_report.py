"""The plain Evidently report, built on demand (importing evidently costs ~9 s).

:func:`build_evidently_report` is the full HTML + JSON report the person opens
from the page (``DataDriftPreset`` + ``DataSummaryPreset``, plus the
classification / regression preset when labels and predictions are given).
Big batches are sampled first: at most :data:`REPORT_SAMPLE_ROWS` rows per
side (uniform, seeded), which keeps the report under ~15 s and ~5 MB; the fast
check in :mod:`core.monitor.drift` always uses every row.

:func:`evidently_drift` reads Evidently's own per-column verdicts into our
:class:`DriftSummary` — the parity tests and the benchmark compare against it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import MonitorError
from core.monitor.drift import BY_DISPLAY_NAME, ColumnDrift, DriftOptions, DriftSummary, column_kinds, summarise

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

REPORT_SAMPLE_ROWS = 50_000


@dataclass(frozen=True)
class EvidentlyReport:
    """A built report: standalone HTML, its JSON snapshot, and what was left out."""

    html: str
    json: str
    sampled: bool
    excluded: tuple[str, ...]

    def __iter__(self):  # allows ``html, js = build_evidently_report(...)``
        return iter((self.html, self.json))


def untestable_columns(reference: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """Columns a plain Evidently report would crash on or not handle (evidently#1480).

    A column with no finite value on either side makes ``DataDriftPreset`` raise
    "An empty column … was provided"; columns present on one side only, or with
    another type on each side (dates in the reference, text in a CSV batch), make
    it raise too.
    """
    import numpy as np

    import pandas as pd

    bad = [c for c in current.columns if c not in reference.columns]
    bad += [c for c in reference.columns if c not in current.columns]
    for c in current.columns:  # a column whose type differs between the sides (dates vs text, numbers vs text)
        if c in reference.columns and (
                pd.api.types.is_datetime64_any_dtype(reference[c]) != pd.api.types.is_datetime64_any_dtype(current[c])
                or pd.api.types.is_numeric_dtype(reference[c]) != pd.api.types.is_numeric_dtype(current[c])):
            bad.append(c)
    for c in current.columns:
        if c in bad:
            continue
        for frame in (reference, current):
            s = frame[c]
            finite = np.isfinite(s.to_numpy()).any() if s.dtype.kind == "f" else s.notna().any()
            if not finite:
                bad.append(c)
                break
    return list(dict.fromkeys(str(c) for c in bad))


def _preset_kwargs(options: DriftOptions | None) -> dict[str, Any]:
    if options is None:
        return {}
    kw: dict[str, Any] = {"drift_share": options.drift_share}
    if options.method:
        kw["method"] = options.method
    if options.threshold is not None:
        kw["threshold"] = options.threshold
    if options.per_column_method:
        kw["per_column_method"] = dict(options.per_column_method)
    if options.per_column_threshold:
        kw["per_column_threshold"] = dict(options.per_column_threshold)
    return kw


def evidently_drift(reference: pd.DataFrame, current: pd.DataFrame, options: DriftOptions | None = None) -> DriftSummary:
    """Evidently's own per-column verdicts as a :class:`DriftSummary` (slow; tests and bench)."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    report = Report([DataDriftPreset(**_preset_kwargs(options))], include_tests=True)
    snap = report.run(current, reference).dict()
    verdicts: dict[str, bool] = {}
    for t in snap["tests"]:
        params = t.get("metric_config", {}).get("params", {})
        if params.get("type", "").endswith("ValueDrift"):
            verdicts[params["column"]] = t["status"] == "FAIL"
    kinds = column_kinds(current)
    cols = []
    for m in snap["metrics"]:
        cfg = m["config"]
        if cfg["type"].endswith("ValueDrift"):
            name = cfg["column"]
            test = BY_DISPLAY_NAME.get(cfg["method"], cfg["method"])
            cols.append(ColumnDrift(name, kinds.get(name, ""), test, float(m["value"]), float(cfg["threshold"]),
                                    verdicts[name]))
    share = options.drift_share if options else 0.5
    return summarise(cols, share)


def build_evidently_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    options: DriftOptions | None = None,
    max_rows: int = REPORT_SAMPLE_ROWS,
    seed: int = 0,
    columns: Sequence[str] | None = None,
) -> EvidentlyReport:
    """The full Evidently report (``DataDriftPreset`` + ``DataSummaryPreset``) as (HTML, JSON).

    Columns Evidently cannot handle (present on one side only, empty on a side)
    are left out and listed in ``excluded``. Each side is sampled down to
    ``max_rows`` rows first.

    Raises:
        MonitorError: nothing left to report on, or Evidently itself fails.
    """
    if current.empty or reference.empty:
        raise MonitorError("The Evidently report needs rows on both sides; the current or reference table is empty.")
    excluded = untestable_columns(reference, current)
    keep = [c for c in (columns or current.columns) if c in reference.columns and c not in excluded]
    if not keep:
        raise MonitorError("No column is usable on both sides, so there is nothing to report on.")
    ref, cur = reference[keep], current[keep]
    sampled = len(ref) > max_rows or len(cur) > max_rows
    if len(ref) > max_rows:
        ref = ref.sample(max_rows, random_state=seed)
    if len(cur) > max_rows:
        cur = cur.sample(max_rows, random_state=seed)
    from evidently import Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    try:
        snapshot = Report([DataDriftPreset(**_preset_kwargs(options)), DataSummaryPreset()]).run(cur, ref)
        html = drifted_first(snapshot.get_html_str(as_iframe=False))
        js = json.dumps(snapshot.dict(), default=str)
    except Exception as err:  # noqa: BLE001 - Evidently's own failures become one sentence
        raise MonitorError(f"Evidently could not build the report: {str(err).splitlines()[0][:200]}") from err
    return EvidentlyReport(html, js, sampled, tuple(excluded))


def drifted_first(html: str) -> str:
    """The report with its drift tables listing drifted columns first (Evidently sorts them by name).

    The report's widgets are JSON assigned to ``var metric_<id> = {...};`` in its scripts; each
    ``big_table`` whose rows carry a ``data_drift`` verdict is stably re-sorted, everything else is kept.
    Anything unexpected leaves the HTML as it was.
    """
    import re

    decoder = json.JSONDecoder()
    out, pos = [], 0
    for m in re.finditer(r"var metric_\w+ = ", html):
        if m.start() < pos:
            continue
        try:
            data, end = decoder.raw_decode(html, m.end())
        except ValueError:
            continue
        if not _sort_tables(data):
            continue
        out += [html[pos:m.end()], json.dumps(data)]
        pos = end
    return "".join(out) + html[pos:] if out else html


def _sort_tables(node: Any) -> bool:
    """Re-sort every drift table under ``node`` in place; True when one was changed."""
    changed = False
    if isinstance(node, dict):
        rows = (node.get("params") or {}).get("data") if node.get("type") == "big_table" else None
        if isinstance(rows, list) and rows and all(isinstance(r, dict) and "data_drift" in r for r in rows):
            ordered = sorted(rows, key=lambda r: str(r["data_drift"]).lower() != "detected")
            if ordered != rows:
                node["params"]["data"] = ordered
                changed = True
        for value in node.values():
            changed = _sort_tables(value) or changed
    elif isinstance(node, list):
        for value in node:
            changed = _sort_tables(value) or changed
    return changed


def build_quality_report(frame: pd.DataFrame, reference: pd.DataFrame | None, *, target: str, prediction: str,
                         task: str, max_rows: int = REPORT_SAMPLE_ROWS, seed: int = 0) -> EvidentlyReport:
    """Evidently's ``ClassificationPreset`` / ``RegressionPreset`` on a labelled batch (on demand)."""
    from evidently import BinaryClassification, DataDefinition, Dataset, MulticlassClassification, Regression, Report
    from evidently.presets import ClassificationPreset, RegressionPreset

    def dataset(df: pd.DataFrame) -> Any:
        df = df[[target, prediction]].dropna()
        if len(df) > max_rows:
            df = df.sample(max_rows, random_state=seed)
        if task == "classification":
            df = df.astype(str)
            labels = sorted(set(df[target]) | set(df[prediction]))
            spec = (BinaryClassification(target=target, prediction_labels=prediction, pos_label=labels[-1])
                    if len(labels) == 2 else MulticlassClassification(target=target, prediction_labels=prediction))
            definition = DataDefinition(classification=[spec], categorical_columns=[target, prediction])
        else:
            definition = DataDefinition(regression=[Regression(target=target, prediction=prediction)],
                                        numerical_columns=[target, prediction])
        return Dataset.from_pandas(df, data_definition=definition)

    preset = ClassificationPreset() if task == "classification" else RegressionPreset()
    try:
        snapshot = Report([preset]).run(dataset(frame), dataset(reference) if reference is not None else None)
        return EvidentlyReport(snapshot.get_html_str(as_iframe=False), json.dumps(snapshot.dict(), default=str),
                               len(frame) > max_rows, ())
    except Exception as err:  # noqa: BLE001
        raise MonitorError(f"Evidently could not build the quality report: {str(err).splitlines()[0][:200]}") from err
