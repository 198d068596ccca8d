"""The serving bundle: a zip a service can run with onnxruntime alone — no pickle anywhere.

Contents: ``model.onnx``, ``schema.json`` (inputs, outputs, classes, missing-value rules,
recipe steps that must run before the model), ``serve.py`` (stdlib HTTP server +
onnxruntime + numpy), ``requirements.txt`` for it, ``MODEL_CARD.md``, ``parity.json``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

from core.deploy.export import ExportResult
from core.deploy.latency import LatencyReport
from core.deploy.parity import ParityReport
from core.deploy.quantize import QuantizeReport
from core.errors import ExportError

SERVE_SCRIPT = Path(__file__).with_name("serve_bundle.py")
BUNDLE_FILES = ("model.onnx", "schema.json", "serve.py", "requirements.txt", "MODEL_CARD.md", "parity.json")


@dataclass(frozen=True)
class CardFacts:
    """What the model card says beyond the export itself."""

    model: str  # "penguins v3 (champion)"
    target: str
    lineage: Sequence[tuple[str, str, str]] = ()  # (stage, run name, run id), the source run first
    metrics: Mapping[str, float] | None = None
    data: str = ""  # training data version label


def serving_requirements() -> str:
    return "\n".join(f"{p}=={version(p)}" for p in ("onnxruntime", "numpy")) + "\n"


def model_card(export: ExportResult, parity: ParityReport, latency: LatencyReport | None, facts: CardFacts,
               quantize: QuantizeReport | None = None) -> str:
    """The model card as Markdown."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Model card — {facts.model}",
        "",
        f"Exported {now} to ONNX (opset {export.opset}) from a scikit-learn `{export.estimator}` pipeline "
        f"({export.family or 'unknown family'}).",
        "",
        "## Intended use",
        f"{export.task.capitalize()} of `{facts.target}` from the columns listed below, on rows that look like "
        "the training data. Serve it with `python serve.py` (onnxruntime + numpy). It is a model trained in the "
        "MLOps workbench; check drift on new data (Monitor stage) before trusting it on a changed population.",
        "",
        "## Inputs",
        "| column | type |", "|---|---|",
        *[f"| `{f.name}` | {f.kind} |" for f in export.inputs],
        "",
        "Missing values: `null` (numbers become NaN, text becomes `\"\"`).",
    ]
    if export.classes:
        lines += ["", f"Classes: {', '.join(f'`{c}`' for c in export.classes)}."]
    lines += ["", "## Training data lineage"]
    if facts.data:
        lines.append(f"Training data version: **{facts.data}**.")
    lines += [f"- {stage or 'run'} — {name or '(unnamed)'} (`{rid}`)" for stage, name, rid in facts.lineage] or ["- (no lineage recorded)"]
    lines += ["", "## Metrics (from the source run)"]
    metrics = dict(facts.metrics or {})
    lines += [f"- {k}: {v:.4g}" for k, v in sorted(metrics.items())[:30]] or ["- (none recorded)"]
    lines += ["", "## Parity (scikit-learn vs onnxruntime)", parity.verdict]
    if parity.data:
        lines.append(f"Checked on {parity.data}.")
    if parity.label_agreement is not None:
        lines.append(f"- label agreement: {parity.label_agreement:.4%}")
    lines += [f"- max abs difference: {parity.max_abs_diff:.3e}", f"- mean abs difference: {parity.mean_abs_diff:.3e}"]
    if latency is not None:
        lines += ["", "## Size and latency",
                  f"- ONNX {latency.onnx_bytes:,} bytes; scikit-learn (skops) {latency.sklearn_bytes:,} bytes",
                  f"- one row p50: scikit-learn {latency.sklearn_p50_ms:.3f} ms, onnxruntime {latency.onnx_p50_ms:.3f} ms",
                  f"- {latency.batch_rows:,} rows: scikit-learn {latency.sklearn_batch_ms:.1f} ms, "
                  f"onnxruntime {latency.onnx_batch_ms:.1f} ms"]
    if quantize is not None:
        lines += ["", "## Quantization", quantize.reason]
    lines += ["", "## Limitations",
              "- ONNX computes in float32: outputs differ from scikit-learn by rounding (see parity).",
              "- Categories not seen in training are ignored (all-zero one-hot), as in scikit-learn.",
              "- A category spelled `\"\"` is indistinguishable from a missing value."]
    if export.recipe_outside:
        lines.append("- These cleaning steps are NOT in the model and must run before it:")
        lines += [f"  - {step}: {why}" for step, why in export.recipe_outside]
    if export.recipe_included:
        lines.append("- Cleaning steps inside the model: " + "; ".join(export.recipe_included) + ".")
    return "\n".join(lines) + "\n"


def build_bundle(out_dir: str | Path, export: ExportResult, parity: ParityReport, card: str,
                 extra: Mapping[str, Any] | None = None) -> Path:
    """Write the bundle files into ``out_dir`` and zip them as ``out_dir/bundle.zip``; returns the zip path.

    Raises:
        ExportError: ``out_dir`` cannot be written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "model.onnx": export.onnx_bytes,
            "schema.json": json.dumps({**export.schema(), **dict(extra or {})}, indent=2, default=str).encode(),
            "serve.py": SERVE_SCRIPT.read_bytes(),
            "requirements.txt": serving_requirements().encode(),
            "MODEL_CARD.md": card.encode(),
            "parity.json": json.dumps(parity.to_dict(), indent=2, default=str).encode(),
        }
        for name, data in files.items():
            (out / name).write_bytes(data)
        zpath = out / "bundle.zip"
        with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
    except OSError as err:
        raise ExportError(f"Cannot write the bundle to {str(out)!r}: {err.strerror or err}. "
                          "Choose a folder you can write to.") from err
    return zpath
