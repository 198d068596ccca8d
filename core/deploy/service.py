"""The Deploy stage end to end on a tracking store — what the page and ``python -m core export`` call.

:func:`prepare_export` loads a registered version, exports it, proves parity on held-out
rows, measures latency (and quantization) and writes the bundle; nothing is recorded yet.
:func:`record_export` then logs a ``deploy`` run (inputs: the source model's run and its
data version) with the ONNX model (``mlflow.onnx``), metrics and the bundle, and registers
the ONNX model as a new version — refused for a non-equivalent export unless acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.deploy.bundle import CardFacts, build_bundle, model_card
from core.deploy.export import ExportResult, export_onnx
from core.deploy.latency import LatencyReport, measure_latency
from core.deploy.parity import DEFAULT_TOLERANCE, ParityReport, check_parity
from core.deploy.quantize import QuantizeReport, quantize_export
from core.errors import ExportError, TrackingError
from core.models import FeatureSpec, spec_from_tags
from core.tracking import Tracker
from core.tracking.models import ModelVersionInfo

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

Progress = Callable[[str], None]
MAX_CHECK_ROWS = 5000


@dataclass(frozen=True)
class CheckData:
    """Rows for parity: what scikit-learn is fed, what ONNX is fed (same rows), the true target."""

    frame: pd.DataFrame
    onnx_frame: pd.DataFrame
    y: Any
    label: str
    data_run_id: str = ""


@dataclass(frozen=True)
class DeployOutcome:
    """One export, checked and measured, not yet recorded."""

    source: ModelVersionInfo
    export: ExportResult
    parity: ParityReport
    latency: LatencyReport
    quantize: QuantizeReport | None
    bundle: Path
    out_dir: Path
    check: str
    data_version: str
    example: pd.DataFrame  # first check rows as the ONNX model takes them (MLflow input example)

    @property
    def deployed(self) -> ExportResult:
        """The export that ships: the int8 one when quantization was asked for and helps."""
        return self.quantize.quantized if self.quantize and self.quantize.quantized else self.export

    def summary(self) -> dict[str, Any]:
        """Flat JSON for the CLI and the MLflow metrics."""
        lat = self.latency
        return {
            "model": self.source.label, "source_version": self.source.version, "family": self.export.family,
            "task": self.export.task, "check": self.check, "rows": self.parity.rows,
            "equivalent": self.parity.equivalent, "label_agreement": self.parity.label_agreement,
            "max_abs_diff": self.parity.max_abs_diff, "mean_abs_diff": self.parity.mean_abs_diff,
            "max_rel_diff": self.parity.max_rel_diff, "n_differing": self.parity.n_differing,
            "tolerance": self.parity.tolerance, "causes": list(self.parity.causes),
            "sklearn_p50_ms": lat.sklearn_p50_ms, "sklearn_p99_ms": lat.sklearn_p99_ms,
            "onnx_p50_ms": lat.onnx_p50_ms, "onnx_p99_ms": lat.onnx_p99_ms,
            "sklearn_batch_ms": lat.sklearn_batch_ms, "onnx_batch_ms": lat.onnx_batch_ms, "batch_rows": lat.batch_rows,
            "onnx_bytes": self.deployed.size_bytes, "onnx_float_bytes": self.export.size_bytes,
            "sklearn_bytes": lat.sklearn_bytes,
            "quantized": bool(self.quantize and self.quantize.quantized),
            "quantize": self.quantize.to_dict() if self.quantize else None,
            "recipe_included": list(self.export.recipe_included),
            "recipe_outside": [list(p) for p in self.export.recipe_outside],
            "bundle": str(self.bundle),
        }


@dataclass(frozen=True)
class RecordResult:
    run_id: str
    registered: ModelVersionInfo | None
    message: str


def _say(on_progress: Progress | None, text: str) -> None:
    if on_progress:
        on_progress(text)


def load_source(tracker: Tracker, project: str, ref: str) -> tuple[ModelVersionInfo, Any, FeatureSpec, str, str]:
    """(version, fitted pipeline, spec, task, family) of ``NAME@alias``, ``NAME/3`` or a bare alias/number."""
    from core.tracking.deploy import FORMAT_TAG
    from core.tracking.models import get_model_version, load_sklearn_model, parse_model_ref

    ref = (ref or "").strip()
    if not ref:
        raise ExportError("Name the model to export, e.g. --model myproject@champion or myproject/3.")
    name, which = parse_model_ref(ref) if any(s in ref for s in "@/:") else (project, ref)
    mv = get_model_version(tracker, name, which)
    if mv.tags.get(FORMAT_TAG) == "onnx":
        raise ExportError(f"{mv.label} is already an ONNX export; export its source version "
                          f"{mv.tags.get('workbench.source_version', '?')} instead.")
    spec = spec_from_tags(mv.tags)
    task = mv.tags.get("workbench.task", "")
    if task not in ("classification", "regression"):
        raise ExportError(f"{mv.label} has no workbench.task tag ('classification' or 'regression'). Got {task!r}.")
    return mv, load_sklearn_model(tracker, mv), spec, task, mv.tags.get("workbench.family", "")


def load_check(tracker: Tracker, project: str, mv: ModelVersionInfo, spec: FeatureSpec, check: str | None) -> CheckData:
    """Held-out rows: a file, a dataset version, or (default) the test split of the model's data version."""

    from core.tracking.datasets import DatasetVersion, load_dataset, resolve_dataset

    target = mv.tags.get("workbench.target", "")
    data_run = ""
    if check and Path(check).suffix.lower() in (".csv", ".parquet", ".pq"):
        path = Path(check)
        if not path.is_file():
            raise ExportError(f"The check file {check!r} does not exist.")
        from core.data.files import read_for_models

        frame = read_for_models(path)[0]
        label = f"file {path.name}"
    else:
        ref = check or mv.tags.get("workbench.data_version", "")
        if not ref:
            raise ExportError(f"{mv.label} has no data version tag; give --check DATA_VERSION_OR_FILE.")
        try:
            dv = resolve_dataset(tracker, project, ref) if check else DatasetVersion.from_run(tracker.get_run(ref))
        except TrackingError as err:
            raise ExportError(str(err)) from err
        part = "test" if dv.has_split else "all"
        frame = load_dataset(tracker, dv.run_id, part)
        label = f"{dv.label} ({'test split' if part == 'test' else 'all rows'})"
        data_run = dv.run_id
    if len(frame) > MAX_CHECK_ROWS:
        frame = frame.sample(MAX_CHECK_ROWS, random_state=0)
        label += f", {MAX_CHECK_ROWS:,}-row sample"
    if len(frame) == 0:
        raise ExportError(f"The check data {label} has no rows.")
    frame = frame.reset_index(drop=True)
    y = frame[target] if target in frame.columns else None
    return CheckData(frame, frame, y, f"{label}, {len(frame):,} rows", data_run)


def load_recipe(tracker: Tracker, mv: ModelVersionInfo) -> tuple[Any, str] | None:
    """(fitted Recipe, raw version run id) behind the model's data version, or None when there is none.

    The recipe is the data version's own or, for a label set or a retraining set (which keep
    the columns of the cleaned version they were made from), the nearest upstream version's
    (:func:`core.data.versions.find_recipe`).
    """
    from core.data.recipe import Recipe
    from core.data.versions import find_recipe, raw_input_of

    dv = mv.tags.get("workbench.data_version", "")
    if not dv:
        return None
    source = find_recipe(tracker, dv)
    if source is None:
        return None
    raw = raw_input_of(tracker, source.version_run_id)
    if not raw:
        return None
    return Recipe.from_dict(source.recipe), raw


def recipe_covers(recipe: Any, raw_head: Any, spec: Any) -> list[str]:
    """Model features the recipe does not produce from raw rows (empty: the recipe can go in front)."""
    from core.data.recipe import replay

    produced = set(replay(raw_head, recipe, mode="transform").frame.columns)
    return [c for c in spec.columns if c not in produced]


def recipe_check(tracker: Tracker, project: str, mv: ModelVersionInfo, recipe: Any, plan: Any, raw_run: str,
                 raw_frame: pd.DataFrame, check: str | None) -> CheckData:
    """Raw rows (the raw version ``raw_frame``, or --check as a raw table): scikit-learn gets the replayed
    recipe, ONNX the raw rows."""
    from core.data.recipe import replay
    from core.deploy.recipe import onnx_frame_for
    from core.tracking.datasets import DatasetVersion

    if check:
        raw = load_check(tracker, project, mv, spec_from_tags(mv.tags), check)
        frame, label = raw.frame, raw.label
    else:
        dv = DatasetVersion.from_run(tracker.get_run(raw_run))
        frame = raw_frame
        label = f"raw {dv.label}"
        if len(frame) > MAX_CHECK_ROWS:
            frame = frame.sample(MAX_CHECK_ROWS, random_state=0)
            label += f" ({MAX_CHECK_ROWS:,}-row sample)"
        frame = frame.reset_index(drop=True)
    ref = replay(frame, recipe, mode="transform").frame
    onnx_in = onnx_frame_for(frame, plan).loc[ref.index]
    if len(ref) == 0:
        raise ExportError(f"No rows of {label} survive the recipe; check another table.")
    target = mv.tags.get("workbench.target", "")
    y = ref[target] if target in ref.columns else None
    return CheckData(ref.reset_index(drop=True), onnx_in.reset_index(drop=True), y,
                     f"{label}, recipe replayed, {len(ref):,} rows", raw_run)


def prepare_export(tracker: Tracker, project: str, ref: str, out_dir: str | Path, *, check: str | None = None,
                   quantize: bool = False, tolerance: float = DEFAULT_TOLERANCE, calls: int = 300,
                   batch_rows: int = 10_000, with_recipe: bool = True,
                   on_progress: Progress | None = None) -> DeployOutcome:
    """Export, check, measure and bundle one registered version (nothing recorded in MLflow).

    With ``with_recipe`` (default) and a cleaning recipe saved with the model's data version, the
    graph-able recipe steps go inside the ONNX model (see :mod:`core.deploy.recipe`) and parity
    runs on raw rows: scikit-learn gets the recipe replayed, ONNX the raw columns.

    Raises:
        ExportError / TrackingError: with one sentence saying what to fix.
    """
    _say(on_progress, f"Loading {ref} …")
    mv, model, spec, task, family = load_source(tracker, project, ref)
    found = load_recipe(tracker, mv) if with_recipe else None
    _say(on_progress, f"Converting {mv.label} ({family}) to ONNX …")
    export = export_onnx(model, spec, task, None, family=family)
    data = None
    if found:
        from core.deploy.recipe import attach_recipe
        from core.tracking.datasets import load_dataset

        recipe, raw_run = found
        raw = load_dataset(tracker, raw_run)  # once: its head shapes the graph, its rows are the check
        missing = recipe_covers(recipe, raw.head(200), spec)
        if missing:  # e.g. a label set that added a feature column: the model takes cleaned rows
            _say(on_progress, f"The cleaning recipe does not produce {', '.join(missing[:5])}; "
                              f"exporting the model alone (it takes cleaned rows).")
        else:
            _say(on_progress, f"Adding {len(recipe.steps)} recipe steps where ONNX can express them …")
            export, plan = attach_recipe(export, recipe, raw.head(200))
            data = recipe_check(tracker, project, mv, recipe, plan, raw_run, raw, check)
    if data is None:
        data = load_check(tracker, project, mv, spec, check)
    _say(on_progress, f"Checking parity on {data.label} …")
    parity = check_parity(model, export, data.frame, spec, onnx_frame=data.onnx_frame, tolerance=tolerance,
                          data=data.label)
    quant = None
    if quantize:
        _say(on_progress, "Quantizing (dynamic int8) …")
        quant = quantize_export(export, data.onnx_frame, data.y)
    _say(on_progress, f"Timing {calls} single-row calls and a {batch_rows:,}-row batch …")
    latency = measure_latency(model, quant.quantized if quant and quant.quantized else export, data.frame, spec,
                              calls=calls, batch_rows=batch_rows, onnx_frame=data.onnx_frame)
    facts = _card_facts(tracker, mv)
    shipped = quant.quantized if quant and quant.quantized else export
    card = model_card(shipped, parity, latency, facts, quant)
    _say(on_progress, "Writing the bundle …")
    bundle = build_bundle(out_dir, shipped, parity, card, {"source_model": mv.label},
                          example=data.onnx_frame.iloc[0].to_dict())  # a real row for the README and the baseline
    return DeployOutcome(mv, export, parity, latency, quant, bundle, Path(out_dir), data.label,
                         mv.tags.get("workbench.data_version", ""), data.onnx_frame.head(5).reset_index(drop=True))


def _card_facts(tracker: Tracker, mv: ModelVersionInfo) -> CardFacts:
    lineage: list[tuple[str, str, str]] = []
    metrics: dict[str, float] = {}
    data = ""
    try:
        runs = tracker.lineage(mv.run_id)
        lineage = [(r.stage, r.name, r.run_id) for r in runs]
        metrics = {k: v for k, v in runs[0].metrics.items()} if runs else {}
        dv_id = mv.tags.get("workbench.data_version", "")
        dv = next((r for r in runs if r.run_id == dv_id), None) or (tracker.get_run(dv_id) if dv_id else None)
        if dv is not None:
            data = f"{dv.tags.get('workbench.dataset.name', dv.name)} v{dv.tags.get('workbench.dataset.version', '?')} ({dv.run_id})"
    except TrackingError:
        pass
    return CardFacts(model=mv.label, target=mv.tags.get("workbench.target", ""), lineage=lineage,
                     metrics=metrics, data=data)


def record_export(tracker: Tracker, project: str, outcome: DeployOutcome, *, register: bool = True,
                  acknowledged: bool = False) -> RecordResult:
    """Log the deploy run (ONNX model, metrics, bundle) and register the ONNX version.

    A non-equivalent export is logged but only registered when ``acknowledged``.
    """
    from core.tracking.deploy import log_onnx_model, pyfunc_example, register_onnx

    s = outcome.summary()
    mv = outcome.source
    inputs = [i for i in (mv.run_id, outcome.data_version) if i]
    run_id = tracker.start_run(project, "deploy", name=f"export v{mv.version} to ONNX", inputs=inputs,
                               params={"source_model": mv.label, "source_version": mv.version,
                                       "family": s["family"], "task": s["task"], "quantize": s["quantized"],
                                       "tolerance": s["tolerance"], "check": s["check"][:500]},
                               tags={"workbench.source_version": str(mv.version),
                                     "workbench.parity": "equivalent" if s["equivalent"] else "not-equivalent"})
    try:
        from core.tracking.datasets import log_dataset_inputs

        if outcome.data_version:  # the held-out rows parity was proven on come from it
            log_dataset_inputs(tracker, run_id, [(outcome.data_version, "evaluation")])
        metrics = {k: float(v) for k, v in s.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("source_version",)}
        metrics["parity_equivalent"] = 1.0 if s["equivalent"] else 0.0
        metrics["quantized"] = 1.0 if s["quantized"] else 0.0
        tracker.log_metrics(run_id, metrics)
        shipped = outcome.deployed
        logged = log_onnx_model(tracker, run_id, shipped.onnx_bytes, pyfunc_example(outcome.example, shipped.inputs),
                                classes=shipped.classes, params={"source_model": mv.label, "family": s["family"],
                                                                 "task": s["task"], "quantized": s["quantized"]})
        tracker.log_file(run_id, outcome.bundle, "bundle")
        tracker.log_json(run_id, outcome.parity.to_dict(), "parity.json")
        tracker.log_json(run_id, s, "deploy_summary.json")
        registered = None
        if not register:
            message = "Logged; not registered (registration not asked for)."
        elif s["equivalent"] or acknowledged:
            # a short registry row: the job facts only (features stay on the logged models), as for scikit-learn
            from core.tracking.models import VERSION_TAG_KEYS

            tags = {k: v for k, v in mv.tags.items() if k in VERSION_TAG_KEYS and k != "workbench.format"}
            tags["workbench.parity"] = "equivalent" if s["equivalent"] else "acknowledged-not-equivalent"
            tags["workbench.deploy_run"] = run_id
            registered = register_onnx(tracker, run_id, logged, mv, tags)
            message = f"Registered as {registered.label}."
        else:
            message = "Logged but NOT registered: the export is not equivalent and nobody acknowledged it."
    except BaseException:
        tracker.end_run(run_id, "FAILED")
        raise
    tracker.end_run(run_id)
    return RecordResult(run_id, registered, message)
