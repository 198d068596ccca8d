"""Compression beyond quantization: forest pruning and distillation, each measured next to the original.

* **Pruning** (random forests): keep the best ``k`` trees, chosen by greedy forward selection on the
  *validation part* — a fixed 25 % of the model's training rows. The held-out test split is not
  looked at until the variants are scored.
* **Distillation**: a small student — a depth-6 decision tree, or a linear model — trained on the
  teacher's outputs over the training rows: its probabilities for a classifier (each row weighted
  per class by the teacher's probability, which is what a soft-label fit means for these learners),
  its predictions for a regressor. The student reuses the teacher's fitted preprocessing.

Every variant (and the original and its int8 quantization) is exported to ONNX and reported with
its held-out score (accuracy or R²) on the test split and the delta to the original, ONNX size,
and single-row latency on the bundle server's own path (:func:`core.deploy.latency.serving_baseline`).
Variants export the model alone (no recipe steps) so that all of them are compared alike.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.deploy.export import ExportResult, export_onnx, run_onnx, session
from core.errors import ExportError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

VALIDATION_SHARE = 0.25
STUDENT_DEPTH = 6


@dataclass(frozen=True)
class Variant:
    """One model on the size / speed / score plane."""

    name: str
    kind: str  # original | quantized | pruned | student
    score: float
    delta: float  # score - original score (held-out)
    size_bytes: int
    p50_ms: float
    p99_ms: float
    note: str
    pareto: bool = False
    model: Any = None  # the scikit-learn pipeline (None for the quantized graph)
    export: ExportResult | None = None
    family: str = ""


@dataclass(frozen=True)
class CompressionReport:
    metric: str  # accuracy | r2
    variants: tuple[Variant, ...]
    validation_rows: int
    test_rows: int
    notes: tuple[str, ...] = ()
    sample: Any = None  # a few training rows (features): the input example of a registered variant

    def rows(self) -> list[dict[str, Any]]:
        """The table: one row per variant."""
        return [{"variant": v.name, self.metric: round(v.score, 4), "Δ held-out": round(v.delta, 4),
                 "ONNX bytes": v.size_bytes, "p50 ms": round(v.p50_ms, 4), "p99 ms": round(v.p99_ms, 4),
                 "Pareto": "★" if v.pareto else "", "how": v.note} for v in self.variants]

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise ExportError(f"There is no compressed variant {name!r}; pick one of "
                          f"{', '.join(v.name for v in self.variants)}.")


def _score(task: str, export: ExportResult, frame: pd.DataFrame, y: Any) -> float:
    from core.deploy.quantize import _score as score_of

    return score_of(export, run_onnx(export, frame, session(export, threads=1)), y)


def _latency(export: ExportResult, body: dict) -> tuple[float, float]:
    from core.deploy.latency import serving_baseline

    with tempfile.TemporaryDirectory(prefix="wb-compress-") as tmp:
        path = Path(tmp) / "model.onnx"
        path.write_bytes(export.onnx_bytes)
        base = serving_baseline(path, export.schema(), body, calls=150)
    return base["p50_ms"], base["p99_ms"]


def _prune(model: Any, task: str, Xv: Any, yv: Any, k: int) -> Any:
    """The forest with its ``k`` best trees, greedy forward selection on the validation rows."""
    import numpy as np

    est = model.named_steps["model"]
    Xt = model.named_steps["prep"].transform(Xv)
    trees = est.estimators_
    if task == "classification":
        P = np.stack([t.predict_proba(Xt) for t in trees])  # (T, n, C)
        idx = np.searchsorted(est.classes_, np.asarray(yv))
        target = np.zeros(P.shape[1:])
        target[np.arange(len(idx)), idx] = 1.0
    else:
        P = np.stack([t.predict(Xt) for t in trees])[..., None]
        target = np.asarray(yv, dtype=float)[:, None]
    chosen: list[int] = []
    total = np.zeros(P.shape[1:])
    for m in range(k):
        cand = (total[None] + P) / (m + 1)
        if task == "classification":  # log loss of the averaged probabilities
            loss = -(target[None] * np.log(np.clip(cand, 1e-12, 1))).sum(-1).mean(-1)
        else:
            loss = ((cand - target[None]) ** 2).mean((1, 2))
        loss[chosen] = np.inf
        best = int(np.argmin(loss))
        chosen.append(best)
        total += P[best]
    pruned = copy.deepcopy(model)
    forest = pruned.named_steps["model"]
    forest.estimators_ = [trees[i] for i in chosen]
    forest.n_estimators = k
    return pruned


def _student(model: Any, task: str, X: Any, kind: str) -> Any:
    """A student trained on the teacher's outputs over the training rows ``X`` (teacher's preprocessing reused)."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn import linear_model, tree
    from sklearn.pipeline import Pipeline

    prep = copy.deepcopy(model.named_steps["prep"])
    Xt = prep.transform(X)
    if task == "classification":
        P = model.predict_proba(X)
        classes = model.named_steps["model"].classes_
        rows, labels, weights = [], [], []
        for c, label in enumerate(classes):  # soft labels: each row once per class, weighted by its probability
            keep = P[:, c] > 1e-6
            rows.append(Xt[keep])
            labels.append(np.full(int(keep.sum()), label, dtype=object if isinstance(label, str) else None))
            weights.append(P[keep, c])
        Xs = sp.vstack(rows).tocsr() if sp.issparse(Xt) else np.vstack(rows)
        ys = np.concatenate(labels)
        w = np.concatenate(weights)
        est = (tree.DecisionTreeClassifier(max_depth=STUDENT_DEPTH, min_samples_leaf=5, random_state=0)
               if kind == "tree" else linear_model.LogisticRegression(max_iter=3000))
        est.fit(Xs, ys, sample_weight=w)
    else:
        yt = model.predict(X)
        est = (tree.DecisionTreeRegressor(max_depth=STUDENT_DEPTH, min_samples_leaf=5, random_state=0)
               if kind == "tree" else linear_model.Ridge(alpha=1.0))
        est.fit(Xt, yt)
    return Pipeline([("prep", prep), ("model", est)])


def compare_compression(model: Any, spec: Any, task: str, family: str, train: pd.DataFrame, test: pd.DataFrame,
                        target: str, *, example: dict | None = None) -> CompressionReport:
    """Original, int8, pruned forests and students side by side (see module docstring).

    Raises:
        ExportError: no held-out rows, or too few training rows for a validation part.
    """
    import numpy as np

    from core.deploy.bundle import example_request
    from core.deploy.quantize import quantize_export
    from core.models import prepare_xy

    if test is None or len(test) == 0 or target not in test.columns:
        raise ExportError("Compression is scored on the held-out test split; this model's data version has none. "
                          "Save the data with a split in Data, then retrain.")
    X, y = prepare_xy(train, target, spec)
    if len(X) < 20:
        raise ExportError(f"Pruning and distillation need at least 20 training rows. Got {len(X)}.")
    Xtest, ytest = prepare_xy(test, target, spec)
    rng = np.random.default_rng(0)
    val = np.zeros(len(X), dtype=bool)
    val[rng.choice(len(X), max(10, int(len(X) * VALIDATION_SHARE)), replace=False)] = True
    Xv, yv = X[val], y[val]
    body = example_request(export_onnx(model, spec, task, family=family).schema(), example or X.iloc[0].to_dict())
    metric = "accuracy" if task == "classification" else "r2"
    out: list[tuple[str, str, Any, ExportResult, str, str]] = []
    original = export_onnx(model, spec, task, family=family)
    out.append(("original", "original", model, original, family, f"{type(model.named_steps['model']).__name__}"))
    quant = quantize_export(original, Xtest, ytest)
    if quant.quantized is not None:
        out.append(("int8 quantized", "quantized", None, quant.quantized, family, "dynamic int8 weights"))
    notes = [] if quant.quantized is not None else [f"Quantization: {quant.reason}"]
    est = model.named_steps["model"]
    if hasattr(est, "estimators_") and type(est).__name__.startswith("RandomForest"):
        n = len(est.estimators_)
        for k in sorted({max(1, n // 10), max(1, n // 4), max(1, n // 2)} - {n}):
            pruned = _prune(model, task, Xv, yv, k)
            out.append((f"pruned {k}/{n} trees", "pruned", pruned, export_onnx(pruned, spec, task, family=family),
                        family, f"best {k} of {n} trees by greedy selection on {int(val.sum())} validation rows"))
    else:
        notes.append(f"Pruning applies to random forests; this is {type(est).__name__}.")
    for kind, label in (("tree", f"student: tree depth {STUDENT_DEPTH}"), ("linear", "student: linear")):
        student = _student(model, task, X, kind)
        out.append((label, "student", student, export_onnx(student, spec, task, family="linear" if kind == "linear"
                                                           else "tree"),
                    "linear" if kind == "linear" else "tree",
                    f"{type(student.named_steps['model']).__name__} on the teacher's "
                    f"{'probabilities' if task == 'classification' else 'predictions'} over {len(X)} training rows"))
    variants = []
    base = None
    for name, kind, m, export, fam, note in out:
        score = _score(task, export, Xtest, ytest)
        base = score if base is None else base
        p50, p99 = _latency(export, body)
        variants.append(Variant(name, kind, score, score - base, export.size_bytes, p50, p99, note, False, m,
                                export, fam))
    variants = _mark_pareto(variants)
    return CompressionReport(metric, tuple(variants), int(val.sum()), len(Xtest), tuple(notes), X.head(5))


def _mark_pareto(variants: list[Variant]) -> list[Variant]:
    """Pareto-optimal on (score ↑, size ↓, p50 ↓): no other variant is at least as good on all and better on one."""
    import dataclasses

    def dominates(a: Variant, b: Variant) -> bool:
        ge = a.score >= b.score and a.size_bytes <= b.size_bytes and a.p50_ms <= b.p50_ms
        gt = a.score > b.score or a.size_bytes < b.size_bytes or a.p50_ms < b.p50_ms
        return ge and gt

    return [dataclasses.replace(v, pareto=not any(dominates(o, v) for o in variants if o is not v)) for v in variants]


def compress_version(tracker: Tracker, project: str, ref: str) -> tuple[ModelVersionInfo, CompressionReport]:
    """:func:`compare_compression` for a registered version, on its data version's train / test split."""
    from core.deploy.service import load_source
    from core.tracking.datasets import DatasetVersion, load_dataset

    mv, model, spec, task, family = load_source(tracker, project, ref)
    dv_id = mv.tags.get("workbench.data_version", "")
    if not dv_id:
        raise ExportError(f"{mv.label} has no data version, so there is no held-out split to score variants on.")
    dv = DatasetVersion.from_run(tracker.get_run(dv_id))
    if not dv.has_split:
        raise ExportError(f"The data version {dv.label} has no train/test split; compression needs held-out rows.")
    train, test = load_dataset(tracker, dv_id, "train"), load_dataset(tracker, dv_id, "test")
    return mv, compare_compression(model, spec, task, family, train, test, mv.tags.get("workbench.target", ""))


def register_variant(tracker: Tracker, project: str, teacher: ModelVersionInfo, variant: Variant,
                     sample: pd.DataFrame) -> ModelVersionInfo:
    """Register a pruned forest or a student as a new version of the teacher's model, tagged with its teacher.

    Raises:
        ExportError: the variant is the original or the int8 graph (nothing new to register).
    """
    from core.tracking.models import VERSION_TAG_KEYS, log_sklearn_model, register_model

    if variant.model is None or variant.kind not in ("pruned", "student"):
        raise ExportError(f"{variant.name!r} is not a new model; register a pruned forest or a student.")
    tags = {k: v for k, v in teacher.tags.items() if k in VERSION_TAG_KEYS and k != "workbench.format"}
    tags.update({"workbench.family": variant.family or tags.get("workbench.family", ""),
                 "workbench.teacher_version": str(teacher.version), "workbench.teacher": teacher.label,
                 "workbench.compression": variant.name})
    inputs = [i for i in (teacher.run_id, teacher.tags.get("workbench.data_version", "")) if i]
    run_id = tracker.start_run(project, "deploy", name=f"compress v{teacher.version}: {variant.name}", inputs=inputs,
                               params={"teacher": teacher.label, "variant": variant.name, "how": variant.note[:400]},
                               tags={"workbench.teacher_version": str(teacher.version)})
    try:
        tracker.log_metrics(run_id, {"heldout_score": variant.score, "heldout_delta": variant.delta,
                                     "onnx_bytes": float(variant.size_bytes), "serve_p50_ms": variant.p50_ms,
                                     "serve_p99_ms": variant.p99_ms})
        facts = {k: v for k, v in teacher.tags.items() if k.startswith("workbench.") and k not in VERSION_TAG_KEYS}
        logged = log_sklearn_model(tracker, run_id, variant.model, sample, params={**facts, **tags})
        mv = register_model(tracker, teacher.name, run_id, "model", tags,
                            f"{variant.name} of {teacher.label}: {variant.note}", model_id=logged.model_id)
    except BaseException:
        tracker.end_run(run_id, "FAILED")
        raise
    tracker.end_run(run_id)
    return mv
