"""Put the Data stage's cleaning recipe inside the ONNX graph where it can be expressed.

The recipe (``recipe/recipe.json`` of the cleaned dataset version, see
:mod:`core.data.recipe`) is split into three parts:

* **inside the graph** — steps that map to plain tensor arithmetic on one row:
  ``impute`` (mean / median / most_frequent / constant), ``scale``, ``encode``
  (one-hot and ordinal, on text columns), ``pca``, ``outliers`` with ``action=clip``,
  and column selection (``drop_columns``, ``keep_columns``, ``select_*``). They are
  compiled from their fitted JSON into ONNX nodes and chained in front of the model
  with ``onnx.compose``, so the exported model takes the raw columns.
* **before the model** — value rewrites with no ONNX counterpart here: ``missing_tokens``,
  ``fix_types``, ``trim_case``, KNN imputation, ``outliers`` with ``action=flag``, and
  ``encode`` on a non-text column. They (and every graph-able step before the last of
  them, to keep the order) must run on the request before it reaches the model.
* **training only** — row filters (``drop_duplicates``, ``drop_missing_rows``, ``outliers``
  with ``action=remove``, ``split``) and the training-time steps (``rebalance``,
  ``augment_noise``) chose or added the training rows; a service scores every row it is sent,
  so they are listed but do not run.

The feature extraction steps (``group_stats``, ``rolling``, ``fourier``) run before the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.deploy.export import MISSING_STRING, ExportResult
from core.deploy.graph import Graph as _Graph
from core.deploy.graph import dedupe_opsets
from core.deploy.graph import int64_const as _int64
from core.deploy.graph import str_eq as _str_eq
from core.deploy.graph import sum_all as _sum
from core.errors import ExportError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ROW_FILTERS = {"drop_duplicates": "removes repeated training rows", "drop_missing_rows": "removes incomplete training rows",
               "split": "assigns training / test rows",
               "rebalance": "re-samples the training rows to balance the classes (a request is never re-sampled)",
               "augment_noise": "adds jittered copies of training rows (a request is never augmented)"}
OUTSIDE_KINDS = {"missing_tokens": "rewrites text tokens (e.g. 'n/a') to missing values",
                 "fix_types": "parses text into numbers / dates / booleans",
                 "trim_case": "rewrites text (whitespace, case)",
                 "group_stats": "looks up per-group statistics learnt from the training rows; not compiled to ONNX here",
                 "rolling": "needs the rows before it in time (a window over the batch), not one request row",
                 "fourier": "runs an FFT over a sequence or a time window; not compiled to ONNX here"}
EXTRACT_KINDS = ("group_stats", "rolling", "fourier")  # their fitted 'outputs' are numeric columns
COLUMN_KINDS = ("drop_columns", "keep_columns", "select_filter", "select_wrapper", "select_l1")


@dataclass(frozen=True)
class RecipePlan:
    """How a recipe divides between the request, the graph and training."""

    before: tuple[Any, ...]  # Step objects to run on the request first (in order)
    inside: tuple[Any, ...]  # Step objects compiled into the graph
    training_only: tuple[tuple[str, str], ...]  # (step label, why)
    outside_reasons: tuple[tuple[str, str], ...]  # (step label, why it cannot be in the graph)


def _label(step: Any, n: int) -> str:
    cols = step.params.get("columns") if isinstance(step.params, Mapping) else None
    extra = f" ({step.params.get('strategy') or step.params.get('method') or step.params.get('action') or ''})".replace(" ()", "")
    on = f" on {', '.join(cols[:4])}" if cols else ""
    return f"step {n} {step.kind}{extra}{on}"


def _why_outside(step: Any, kinds: Mapping[str, str]) -> str | None:
    """None when the step can be compiled; otherwise why it cannot (given column kinds before it)."""
    p, f = step.params, step.fitted or {}
    if step.kind in OUTSIDE_KINDS:
        return OUTSIDE_KINDS[step.kind]
    if step.kind == "impute":
        if p.get("strategy") == "knn":
            return "KNN imputation looks up donor rows; not compiled to ONNX here"
        for col, value in (f.get("values") or {}).items():
            if kinds.get(col) not in ("double", "string"):
                return f"column {col!r} is neither numeric nor text"
            if kinds[col] == "double" and not isinstance(value, (int, float)):
                return f"column {col!r} is filled with a non-number"
        return None
    if step.kind == "outliers":
        return None if p.get("action") in ("clip", "remove") else "adds <column>__outlier flag columns"
    if step.kind == "encode":
        bad = [c for c in (f.get("categories") or {}) if kinds.get(c) != "string"]
        return f"encodes non-text column {bad[0]!r}" if bad else None
    if step.kind in ("scale", "pca") or step.kind in COLUMN_KINDS or step.kind in ROW_FILTERS:
        return None
    return f"step kind {step.kind!r} is not known to the ONNX export"


def _is_row_filter(step: Any) -> bool:
    return step.kind in ROW_FILTERS or (step.kind == "outliers" and step.params.get("action") == "remove")


def plan_recipe(recipe: Any, raw_kinds: Mapping[str, str]) -> RecipePlan:
    """Divide a fitted recipe (see module docstring); ``raw_kinds``: column → ``double`` | ``string``."""
    steps = list(recipe.steps)
    unfitted = [s.kind for s in steps if s.fitted is None and s.kind not in ("drop_columns", "keep_columns",
                                                                                 "drop_duplicates", "drop_missing_rows", "split",
                                                                                 "trim_case")]
    if unfitted and not recipe.is_fitted:
        raise ExportError(f"The recipe is not fitted ({unfitted[0]} has no learnt state); save the dataset version again.")
    kinds = dict(raw_kinds)
    reasons: dict[int, str] = {}
    for i, step in enumerate(steps):
        why = _why_outside(step, kinds)
        if why:
            reasons[i] = why
        _update_kinds(step, kinds)
    cut = max(reasons) + 1 if reasons else 0
    before = tuple(s for s in steps[:cut] if not _is_row_filter(s))
    inside = tuple(s for s in steps[cut:] if not _is_row_filter(s))
    training = tuple((_label(s, i + 1), ROW_FILTERS.get(s.kind, "removes outlier rows"))
                     for i, s in enumerate(steps) if _is_row_filter(s))
    outside = tuple((_label(s, i + 1), reasons.get(i, "runs before a step that cannot be compiled, to keep the order"))
                    for i, s in enumerate(steps[:cut]) if not _is_row_filter(s))
    return RecipePlan(before, inside, training, outside)


def _update_kinds(step: Any, kinds: dict[str, str]) -> None:
    """Track column kinds through a step (only what the later checks need)."""
    p, f = step.params, step.fitted or {}
    if step.kind == "fix_types":
        for col in (f.get("types") or f.get("columns") or {}):
            kinds[col] = "double"
    elif step.kind == "encode":
        for col, cats in (f.get("categories") or {}).items():
            kinds.pop(col, None)
            if p.get("method") == "ordinal":
                kinds[col] = "double"
            else:
                kinds.update({f"{col}_{c}": "double" for c in cats})
    elif step.kind == "pca":
        if not p.get("keep_originals"):
            for col in f.get("columns", []):
                kinds.pop(col, None)
        kinds.update({f"pc{i + 1}": "double" for i in range(len(f.get("components", [])))})
    elif step.kind == "keep_columns":
        keep = set(p.get("columns") or [])
        for col in list(kinds):
            if col not in keep:
                kinds.pop(col)
    elif step.kind == "drop_columns" or step.kind.startswith("select_"):
        for col in (p.get("columns") if step.kind == "drop_columns" else f.get("dropped")) or []:
            kinds.pop(col, None)
    elif step.kind in EXTRACT_KINDS:
        if step.kind == "fourier" and p.get("mode", "sequence") == "sequence" and not p.get("keep_column"):
            kinds.pop(p.get("column"), None)
        kinds.update({c: "double" for c in f.get("outputs", [])})
    elif step.kind == "outliers" and p.get("action") == "flag":
        kinds.update({f"{c}__outlier": "bool" for c, b in (f.get("bounds") or {}).items() if b is not None})


def kinds_of(frame: pd.DataFrame) -> dict[str, str]:
    """``double`` for numeric (not bool) columns, ``string`` for text / categories, ``other`` otherwise."""
    import pandas as pd

    out = {}
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s):
            out[c] = "other"
        elif pd.api.types.is_numeric_dtype(s):
            out[c] = "double"
        elif pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = "string"
        else:
            out[c] = "other"
    return out


def _compile_step(g: _Graph, step: Any) -> None:
    from onnx import TensorProto

    p, f = step.params, step.fitted or {}
    if step.kind == "impute":
        for col, value in f["values"].items():
            t, kind = g.tensor(col)
            if kind == "double":
                miss = g.node("IsNaN", [t], f"{col}_isnan")
                fill = g.const([[float(value)]], f"{col}_fill")
            else:
                miss = _str_eq(g, t, MISSING_STRING, f"{col}_ismiss")
                fill = g.const([[str(value)]], f"{col}_fill")
            g.live[col] = (g.node("Where", [miss, fill, t], f"{col}_imputed"), kind)
    elif step.kind == "scale":
        for col, stats in f["stats"].items():
            if stats is None:
                continue
            t, _ = g.tensor(col)
            sub = g.node("Sub", [t, g.const([[stats[0]]], f"{col}_center")], f"{col}_sub")
            g.live[col] = (g.node("Div", [sub, g.const([[stats[1]]], f"{col}_scale")], f"{col}_scaled"), "double")
    elif step.kind == "outliers":  # clip only (remove is training-only, flag is outside)
        if p.get("action") != "clip":
            return
        for col, bounds in f["bounds"].items():
            if bounds is None:
                continue
            t, _ = g.tensor(col)
            lo = g.node("Max", [t, g.const([[bounds[0]]], f"{col}_low")], f"{col}_lo")
            hi = g.node("Min", [lo, g.const([[bounds[1]]], f"{col}_high")], f"{col}_hi")
            g.live[col] = (g.node("Where", [g.node("IsNaN", [t], f"{col}_nan"), t, hi], f"{col}_clipped"), "double")
    elif step.kind == "encode":
        new_live: dict[str, tuple[str, str]] = {}
        for col, (t0, kind) in list(g.live.items()):
            cats = f["categories"].get(col)
            if cats is None:
                new_live[col] = (t0, kind)
                continue
            t, _ = g.tensor(col)
            hits = [g.node("Cast", [_str_eq(g, t, c, f"{col}_eq")], f"{col}_{c}_f", to=TensorProto.DOUBLE) for c in cats]
            if p.get("method") == "ordinal":
                code = g.const([[0.0]], f"{col}_zero")
                for i, h in enumerate(hits):
                    code = g.node("Add", [code, g.node("Mul", [h, g.const([[float(i)]], f"{col}_i")], f"{col}_m")], f"{col}_code")
                anyhit = code if not hits else g.node("Greater", [_sum(g, hits, col), g.const([[0.5]], "half")], f"{col}_any")
                nan = g.const([[float("nan")]], f"{col}_nan")
                new_live[col] = (g.node("Where", [anyhit, code, nan], f"{col}_ordinal"), "double")
            else:
                for c, h in zip(cats, hits, strict=True):
                    new_live[f"{col}_{c}"] = (h, "double")
        g.live = new_live
    elif step.kind == "pca":
        import numpy as np

        cols = f["columns"]
        parts = [g.tensor(c)[0] for c in cols]
        x = g.node("Concat", parts, "pca_in", axis=1)
        z = g.node("Div", [g.node("Sub", [x, g.const([f["mean"]], "pca_mean")], "pca_c"), g.const([f["scale"]], "pca_scale")], "pca_z")
        comps = np.array(f["components"], dtype=np.float64).T  # [p, k]
        scores = g.node("MatMul", [z, g.const(comps.tolist(), "pca_components")], "pca_scores")
        if not p.get("keep_originals"):
            for c in cols:
                g.live.pop(c, None)
        for i in range(comps.shape[1]):
            idx = g.name(f"pc{i + 1}_idx")
            g.inits.append(_int64(idx, [i]))  # 1-D index → Gather keeps the [N, 1] shape
            g.live[f"pc{i + 1}"] = (g.node("Gather", [scores, idx], f"pc{i + 1}", axis=1), "double")
    elif step.kind in COLUMN_KINDS:
        if step.kind == "keep_columns":
            keep = set(p["columns"])
            g.live = {c: v for c, v in g.live.items() if c in keep}
        else:
            gone = set(p["columns"] if step.kind == "drop_columns" else f.get("dropped", []))
            g.live = {c: v for c, v in g.live.items() if c not in gone}
    else:  # pragma: no cover - plan_recipe keeps other kinds out
        raise ExportError(f"Recipe step {step.kind!r} cannot be compiled to ONNX.")


def attach_recipe(result: ExportResult, recipe: Any, raw: pd.DataFrame) -> tuple[ExportResult, RecipePlan]:
    """Chain the graph-able recipe steps in front of ``result`` so the model takes the raw columns.

    Args:
        result: the model-only export (inputs = the model's feature columns).
        recipe: a fitted :class:`core.data.recipe.Recipe`.
        raw: raw rows (any number ≥ 1) — their column types decide the ONNX input types.

    Returns:
        The combined export (inputs: raw columns after the ``before`` steps) and the plan; when
        nothing can go inside the graph, ``result`` is returned with the plan recorded.

    Raises:
        ExportError: the recipe and the model do not fit together.
    """
    import onnx
    from onnx import TensorProto, compose, helper

    from core.data.recipe import Recipe, replay

    plan = plan_recipe(recipe, kinds_of(raw))
    before_frame = replay(raw.head(50), Recipe(plan.before), mode="transform").frame if plan.before else raw
    training = tuple((s, f"training only: {w}") for s, w in plan.training_only)
    labels = tuple(f"{s.kind}" + (f" ({s.params.get('strategy') or s.params.get('method') or s.params.get('action')})"
                                  if any(s.params.get(k) for k in ("strategy", "method", "action")) else "")
                   for s in plan.inside)
    if not plan.inside:
        return dataclasses.replace(result, recipe_outside=plan.outside_reasons + training), plan
    g = _Graph(kinds_of(before_frame))
    for step in plan.inside:
        _compile_step(g, step)
    model = onnx.load_from_string(result.onnx_bytes)
    io_map = []
    outputs = []
    for f in result.inputs:
        if f.name not in g.live:
            raise ExportError(f"The model reads column {f.name!r}, which the recipe does not produce from the raw table.")
        t, kind = g.tensor(f.name)
        if kind != f.kind:
            raise ExportError(f"The model reads {f.name!r} as {f.kind} but the recipe produces {kind}; "
                              "the dataset version and the model do not match.")
        out = f"recipe_out__{f.name}"
        g.nodes.append(helper.make_node("Identity", [t], [out]))
        outputs.append(helper.make_tensor_value_info(out, TensorProto.DOUBLE if kind == "double" else TensorProto.STRING, [None, 1]))
        io_map.append((out, f"m_{f.name}"))
    inputs = [helper.make_tensor_value_info(i.name, TensorProto.DOUBLE if i.kind == "double" else TensorProto.STRING, [None, 1])
              for i in g.inputs]
    graph = helper.make_graph(g.nodes, "recipe", inputs, outputs, initializer=g.inits)
    # LabelEncoder with string keys needs ai.onnx.ml ≥ 2; both halves must import the same opsets to merge.
    opsets = {o.domain: o.version for o in model.opset_import}
    opsets["ai.onnx.ml"] = max(opsets.get("ai.onnx.ml", 1), 2)
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(d, v) for d, v in opsets.items())
    prefix = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                               ir_version=model.ir_version)
    model = compose.add_prefix(model, "m_", rename_outputs=False)
    try:
        combined = dedupe_opsets(compose.merge_models(prefix, model, io_map=io_map))
        onnx.checker.check_model(combined)
    except Exception as err:  # noqa: BLE001
        raise ExportError(f"The recipe steps could not be joined to the model graph: {str(err).splitlines()[0][:200]}") from err
    return dataclasses.replace(result, onnx_bytes=combined.SerializeToString(), inputs=tuple(g.inputs),
                               recipe_included=labels, recipe_outside=plan.outside_reasons + training), plan


def onnx_frame_for(raw: pd.DataFrame, plan: RecipePlan) -> pd.DataFrame:
    """What the exported model is fed for ``raw`` rows: the raw table after the ``before`` steps."""
    from core.data.recipe import Recipe, replay

    return replay(raw, Recipe(plan.before), mode="transform").frame if plan.before else raw
