"""Prove the ONNX model predicts what the scikit-learn pipeline predicts, row by row.

Verdict rules (``tolerance`` defaults to 1e-4):

* classification — not equivalent if any predicted label differs, or if any class
  probability differs by more than ``tolerance`` (absolute);
* regression — not equivalent if any output differs by more than ``tolerance``
  relative to ``max(1, |scikit-learn output|)``: ONNX computes in float32, whose
  resolution on a target around 300 is ~3e-5, so an absolute 1e-4 would flag pure
  rounding on large targets. ``max_abs_diff`` is still reported in the units of the target.

Causes are named where they can be shown: *float32 casting* when scikit-learn fed the
same float32-rounded inputs reproduces the ONNX answer, *tie-breaking* when the two top
class probabilities are equal (within 1e-6), *float32 arithmetic* in tree ensembles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.deploy.export import ExportResult, run_onnx, session
from core.errors import ExportError
from core.models import FeatureSpec

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

DEFAULT_TOLERANCE = 1e-4
MAX_SHOWN_ROWS = 50
TREE_FAMILIES = ("rf", "hgb")
FLOAT32_NOISE = 1e-5  # differences this small are float32 rounding of the arithmetic itself
_FLOAT32_NOISE_CAUSE = ("float32 arithmetic: ONNX computes in float32, scikit-learn in float64 "
                        "(differences of order 1e-7, labels unchanged)")


@dataclass(frozen=True)
class ParityReport:
    """scikit-learn against onnxruntime on the same rows."""

    task: str
    rows: int
    label_agreement: float | None  # share of rows with the same label (None for regression)
    max_abs_diff: float  # probabilities (classification) or outputs (regression)
    mean_abs_diff: float
    max_rel_diff: float  # regression: |diff| / max(1, |sklearn|); classification: = max_abs_diff
    tolerance: float
    equivalent: bool
    n_differing: int
    differing: tuple[Mapping[str, Any], ...] = ()  # first MAX_SHOWN_ROWS rows: row, sklearn, onnx, diff, inputs
    causes: tuple[str, ...] = ()
    data: str = ""  # which rows were checked, e.g. "penguins v2 (test split, 69 rows)"

    @property
    def verdict(self) -> str:
        if self.equivalent:
            return f"Equivalent on {self.rows:,} rows (max difference {self.max_abs_diff:.2e} ≤ {self.tolerance:g})."
        why = f" Likely cause: {'; '.join(self.causes)}." if self.causes else ""
        labels = "" if self.label_agreement is None else f"labels agree on {self.label_agreement:.2%} of rows, "
        return (f"NOT equivalent on {self.rows:,} rows: {labels}{self.n_differing:,} rows differ, "
                f"max difference {self.max_abs_diff:.2e} > {self.tolerance:g}.{why}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task, "rows": self.rows, "label_agreement": self.label_agreement,
            "max_abs_diff": self.max_abs_diff, "mean_abs_diff": self.mean_abs_diff,
            "max_rel_diff": self.max_rel_diff, "tolerance": self.tolerance, "equivalent": self.equivalent,
            "n_differing": self.n_differing, "causes": list(self.causes), "data": self.data,
            "differing": [dict(r) for r in self.differing],
        }


def sklearn_input(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The feature frame exactly as :func:`core.models.prepare_xy` gives it to the pipeline."""
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise ExportError(f"The check data lacks the model's columns {', '.join(map(repr, missing[:8]))}; "
                          "pick a dataset version with the columns the model was trained on.")
    X = frame[spec.columns].copy()
    for c in spec.categorical:
        X[c] = X[c].astype("object").where(X[c].notna(), None).map(lambda v: v if v is None else str(v))
    return X


def _float32_rounded(X: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    import numpy as np

    Y = X.copy()
    for c in spec.numeric:
        Y[c] = Y[c].astype(float).astype(np.float32).astype(float)
    return Y


def _labels_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import numpy as np

    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.dtype.kind in "iufb" and b.dtype.kind in "iufb":
        return a == b
    return a.astype(str) == b.astype(str)


def _row_record(i: int, index: Any, X: pd.DataFrame, skl: Any, onx: Any, diff: float) -> dict[str, Any]:
    rec: dict[str, Any] = {"row": index if isinstance(index, (int, str)) else int(i),
                           "sklearn": _plain(skl), "onnx": _plain(onx), "diff": float(diff)}
    for c in X.columns[:12]:
        rec[c] = _plain(X.iloc[i][c])
    return rec


def _plain(v: Any) -> Any:
    import math

    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def check_parity(model: Any, result: ExportResult, frame: pd.DataFrame, spec: FeatureSpec, *,
                 onnx_frame: pd.DataFrame | None = None, tolerance: float = DEFAULT_TOLERANCE,
                 data: str = "") -> ParityReport:
    """Run ``model`` and the ONNX export on the same rows and compare.

    Args:
        model: the fitted scikit-learn pipeline.
        result: its export.
        frame: rows with the model's feature columns (what scikit-learn is fed).
        spec: the model's feature columns.
        onnx_frame: what the ONNX model is fed when it differs from ``frame`` (raw columns when
            recipe steps are inside the graph); same rows, same order.
        tolerance: see the module docstring.
        data: a label for the checked rows, shown in the report.

    Raises:
        ExportError: no rows, or the tables do not fit the model.
    """
    import numpy as np

    if not (isinstance(tolerance, (int, float)) and 0 <= tolerance < 1):
        raise ExportError(f"The parity tolerance must be a number in [0, 1). Got {tolerance!r} instead.")
    if frame is None or len(frame) == 0:
        raise ExportError("The parity check needs at least one row; pick a dataset version with rows.")
    X = sklearn_input(frame, spec)
    ox_frame = frame if onnx_frame is None else onnx_frame
    if len(ox_frame) != len(X):
        raise ExportError(f"The ONNX and scikit-learn check tables differ in length ({len(ox_frame)} vs {len(X)}).")
    out = run_onnx(result, ox_frame, session(result))
    causes: list[str] = []
    if result.task == "classification":
        skl_label = model.predict(X)
        skl_proba = model.predict_proba(X)
        ox_label = out["label"].ravel()
        ox_proba = np.asarray(out["probabilities"], dtype=float)
        if ox_proba.shape != skl_proba.shape:
            raise ExportError(f"The ONNX model returns probabilities of shape {ox_proba.shape}, "
                              f"scikit-learn {skl_proba.shape}; the export is broken.")
        same = _labels_equal(skl_label, ox_label)
        row_diff = np.abs(ox_proba - skl_proba).max(axis=1)
        bad = (~same) | (row_diff > tolerance)
        agreement = float(same.mean())
        max_abs, mean_abs = float(row_diff.max()), float(np.abs(ox_proba - skl_proba).mean())
        max_rel = max_abs
        shown_skl, shown_ox = skl_label, ox_label
        if bad.any():
            causes = _classification_causes(model, X, spec, result, same, bad, skl_proba, ox_label, ox_proba, tolerance)
    else:
        skl = np.asarray(model.predict(X), dtype=float).ravel()
        ox = np.asarray(out[result.outputs[0]], dtype=float).ravel()
        row_diff = np.abs(ox - skl)
        rel = row_diff / np.maximum(1.0, np.abs(skl))
        bad = rel > tolerance
        agreement = None
        max_abs, mean_abs, max_rel = float(row_diff.max()), float(row_diff.mean()), float(rel.max())
        shown_skl, shown_ox = skl, ox
        if bad.any():
            causes = _regression_causes(model, X, spec, result, bad, ox, tolerance)
    idx = np.flatnonzero(bad)
    shown = tuple(_row_record(int(i), X.index[i], X, shown_skl[i], shown_ox[i], row_diff[i]) for i in idx[:MAX_SHOWN_ROWS])
    return ParityReport(
        task=result.task, rows=len(X), label_agreement=agreement, max_abs_diff=max_abs, mean_abs_diff=mean_abs,
        max_rel_diff=max_rel, tolerance=float(tolerance), equivalent=not bool(bad.any()), n_differing=int(bad.sum()),
        differing=shown, causes=tuple(causes), data=data,
    )


def _classification_causes(model: Any, X: pd.DataFrame, spec: FeatureSpec, result: ExportResult, same: Any,
                           bad: Any, skl_proba: Any, ox_label: Any, ox_proba: Any, tolerance: float) -> list[str]:
    import numpy as np

    causes: list[str] = []
    rows = np.flatnonzero(bad)
    top2 = np.sort(skl_proba[rows], axis=1)[:, -2:] if skl_proba.shape[1] > 1 else None
    if top2 is not None and (~same[rows]).any():
        ties = (np.abs(top2[:, 1] - top2[:, 0]) < 1e-6) & ~same[rows]
        if ties.any():
            causes.append(f"tie-breaking: {int(ties.sum())} rows have equal top class probabilities")
    if same[rows].all() and np.abs(ox_proba[rows] - skl_proba[rows]).max() <= FLOAT32_NOISE:
        return [*causes, _FLOAT32_NOISE_CAUSE]
    X32 = _float32_rounded(X.iloc[rows], spec)
    label32 = model.predict(X32)
    proba32 = model.predict_proba(X32)
    close = max(tolerance, FLOAT32_NOISE)
    if _labels_equal(label32, ox_label[rows]).all() and np.abs(proba32 - ox_proba[rows]).max() <= close:
        causes.append("float32 casting: scikit-learn fed the same inputs rounded to float32 gives the ONNX answer")
    elif result.family in TREE_FAMILIES:
        causes.append("float32 arithmetic: ONNX tree ensembles compare and sum in float32, so values near "
                      "a split threshold can take the other branch")
    if not causes:
        causes.append("unexplained: the converted graph computes something else — do not deploy it")
    return causes


def _regression_causes(model: Any, X: pd.DataFrame, spec: FeatureSpec, result: ExportResult, bad: Any,
                       ox: Any, tolerance: float) -> list[str]:
    import numpy as np

    rows = np.flatnonzero(bad)
    skl = np.asarray(model.predict(X.iloc[rows]), dtype=float).ravel()
    if (np.abs(ox[rows] - skl) / np.maximum(1.0, np.abs(skl)) <= FLOAT32_NOISE).all():
        return [_FLOAT32_NOISE_CAUSE]
    skl32 = np.asarray(model.predict(_float32_rounded(X.iloc[rows], spec)), dtype=float).ravel()
    rel32 = np.abs(ox[rows] - skl32) / np.maximum(1.0, np.abs(skl32))
    if (rel32 <= max(tolerance, FLOAT32_NOISE)).all():
        return ["float32 casting: scikit-learn fed the same inputs rounded to float32 gives the ONNX answer"]
    if result.family in TREE_FAMILIES:
        return ["float32 arithmetic: ONNX tree ensembles compare and sum in float32"]
    return ["unexplained: the converted graph computes something else — do not deploy it"]


__all__ = ["DEFAULT_TOLERANCE", "ParityReport", "check_parity", "sklearn_input"]
