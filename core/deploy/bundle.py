"""The serving bundle: a zip a service can run with onnxruntime alone — no pickle anywhere.

Contents: ``model.onnx``, ``schema.json`` (inputs, outputs, classes, missing-value rules,
recipe steps that must run before the model), ``serve.py`` (Starlette on uvicorn + onnxruntime +
numpy, see :mod:`core.deploy.serve_bundle`), ``requirements.txt`` for it (exact pins, the whole
dependency closure), ``Dockerfile`` (slim Python, non-root, ``HEALTHCHECK``), ``README.md`` (how
to run it with and without Docker, an example request from the model's own schema),
``MODEL_CARD.md``, ``parity.json``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.deploy.export import ExportResult
from core.deploy.latency import LatencyReport
from core.deploy.parity import ParityReport
from core.deploy.quantize import QuantizeReport
from core.errors import ExportError

SERVE_SCRIPT = Path(__file__).with_name("serve_bundle.py")
LOG_SCRIPT = Path(__file__).with_name("serve_log.py")  # the prediction log, shipped as serve_log.py
BUNDLE_FILES = ("model.onnx", "schema.json", "serve.py", "serve_log.py", "requirements.txt", "Dockerfile",
                "README.md", "MODEL_CARD.md", "parity.json")
# What serve.py imports; requirements.txt pins these and everything they need (httptools / uvloop: uvicorn's fast paths).
SERVING_PACKAGES = ("onnxruntime", "numpy", "starlette", "uvicorn", "prometheus_client", "pyarrow", "httptools",
                    "uvloop")
_PLATFORM_MARKERS = {"uvloop": 'sys_platform != "win32" and platform_python_implementation == "CPython"'}
PORT = 8080


@dataclass(frozen=True)
class CardFacts:
    """What the model card says beyond the export itself."""

    model: str  # "penguins v3 (champion)"
    target: str
    lineage: Sequence[tuple[str, str, str]] = ()  # (stage, run name, run id), the source run first
    metrics: Mapping[str, float] | None = None
    data: str = ""  # training data version label


def serving_requirements(packages: Sequence[str] = SERVING_PACKAGES) -> str:
    """Exact pins of ``packages`` and their whole dependency closure, as installed here (one per line, sorted)."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    todo = list(packages)
    while todo:
        name = todo.pop()
        key = canonicalize_name(name)
        if key in pins:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            if name in packages and name in _PLATFORM_MARKERS:
                continue  # an optional fast path absent here: serve.py runs without it
            raise ExportError(f"The serving dependency {name!r} is not installed; install the workbench's "
                              "requirements.txt.") from None
        marker = _PLATFORM_MARKERS.get(key, "")
        pins[key] = f"{dist.metadata['Name']}=={dist.version}" + (f"; {marker}" if marker else "")
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return "\n".join(pins[k] for k in sorted(pins)) + "\n"


def dockerfile(port: int = PORT) -> str:
    """The bundle's Dockerfile: slim Python of this minor version, pinned requirements, non-root, HEALTHCHECK."""
    import sys

    base = f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"
    probe = (f"import sys, urllib.request; sys.exit(0 if urllib.request.urlopen("
             f"'http://127.0.0.1:{port}/ready', timeout=2).status == 200 else 1)")
    return "\n".join([
        f"FROM {base}",
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1",
        "WORKDIR /srv/model",
        "COPY requirements.txt ./",
        "RUN pip install --no-cache-dir -r requirements.txt",
        "COPY serve.py serve_log.py schema.json model.onnx ./",
        # the user owns nothing but the prediction-log folder: the model files stay read-only to it
        "RUN useradd --system --uid 10001 --no-create-home model && mkdir -p /srv/model/predictions "
        "&& chown model /srv/model/predictions",
        "VOLUME /srv/model/predictions",
        "USER model",
        f"EXPOSE {port}",
        f'HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 CMD ["python", "-c", "{probe}"]',
        'STOPSIGNAL SIGTERM',
        'ENTRYPOINT ["python", "serve.py"]',
        f'CMD ["--host", "0.0.0.0", "--port", "{port}"]',
        "",
    ])


def example_request(schema: Mapping[str, Any], row: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A valid ``/predict`` body for ``schema``: ``row``'s values where given, else a typed placeholder."""
    row = dict(row or {})
    out: dict[str, Any] = {}
    for field_ in schema["inputs"]:
        name = field_["name"]
        value = row.get(name)
        if value is None or (isinstance(value, float) and value != value):  # NaN is a missing value
            value = 0.0 if field_.get("type") == "number" else "text"
        elif field_.get("type") == "number":
            value = float(value)
        else:
            value = str(value)
        out[name] = value.item() if hasattr(value, "item") else value
    return {"rows": [out]}


def bundle_readme(schema: Mapping[str, Any], title: str, example: Mapping[str, Any] | None = None,
                  port: int = PORT) -> str:
    """The bundle's README: exact commands with and without Docker, and an example request from the schema."""
    body = json.dumps(example_request(schema, example))
    tag = "".join(c if c.isalnum() or c in "-_." else "-" for c in title.lower()).strip("-.") or "model"
    inputs = "\n".join(f"| `{f['name']}` | {f.get('type', '')} ({f.get('tensor', '')}) |" for f in schema["inputs"])
    answer = ('{"predictions": [...], "probabilities": [[...]], "classes": [...]}'
              if schema.get("task") == "classification" else '{"predictions": [...]}')
    return f"""# {title} — ONNX model server

A {schema.get('task', 'model')} model exported from the MLOps workbench, served by `serve.py`
(Starlette on uvicorn, onnxruntime, numpy — no pickle). See `MODEL_CARD.md` for what it is for.

## Run without Docker

```sh
python -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt
python serve.py --port {port}
```

## Run with Docker

```sh
docker build -t {tag}-server .
docker run --rm -p {port}:{port} {tag}-server
```

The container runs as a non-root user, checks `/ready` as its `HEALTHCHECK` and stops gracefully
on `docker stop` (SIGTERM: in-flight requests finish, the prediction log is flushed). Keep the log
on the host with `-v "$PWD/predictions:/srv/model/predictions"` (the folder must be writable by uid 10001).

## Prediction log

Every scored row is logged (on by default) with its prediction, probability, latency and request id
to rotating Parquet files in `predictions/` (`--log-dir`): `--log-sample 0.1` keeps a tenth of the rows,
`--log-max-mb` caps the folder (the oldest files are deleted), `--no-log` turns it off. Send your own
`X-Request-ID` header to join true labels later; otherwise the answer's `request_id` is the key.
The workbench reads the folder: `python -m core monitor --reference REF --served predictions/`.

## Example request

```sh
curl -s http://127.0.0.1:{port}/predict -H 'Content-Type: application/json' \\
  -d '{body}'
```

answers `{answer}`. Columns can also be sent as `{{"columns": {{"name": [values]}}}}`.
`null` is a missing value; every column below must be present, and no other.

| column | type |
|---|---|
{inputs}

## Endpoints

- `POST /predict` — rows or columns in, predictions out; a request that breaks the contract gets a 4xx
  with `{{"error": "..."}}` naming the columns.
- `GET /health` (the process answers), `GET /ready` (model loaded), `GET /schema` (the contract),
  `GET /metrics` (Prometheus: requests by status, latency, rows scored, predictions, missing values).

Options: `python serve.py --help` (threads, row and body limits, read timeout, connections).
"""


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
        "the training data. Serve it with `python serve.py` or Docker (see README.md). It is a model trained in the "
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
                 extra: Mapping[str, Any] | None = None, example: Mapping[str, Any] | None = None) -> Path:
    """Write the bundle files into ``out_dir`` and zip them as ``out_dir/bundle.zip``; returns the zip path.

    ``example`` (one raw input row, e.g. the first row of the parity data) fills the README's example request.
    The serving path's own single-row latency (:func:`core.deploy.latency.serving_baseline`, on that
    request) goes into ``schema.json`` as ``latency_baseline``: the prediction log carries it, and
    Monitor compares served latency against it (resource drift).

    Raises:
        ExportError: ``out_dir`` cannot be written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        schema = {**export.schema(), **dict(extra or {})}
        (out / "model.onnx").write_bytes(export.onnx_bytes)
        if "latency_baseline" not in schema:
            from core.deploy.latency import serving_baseline

            schema["latency_baseline"] = serving_baseline(out / "model.onnx", schema, example_request(schema, example))
        title = str(schema.get("source_model") or f"{export.family or 'workbench'} {export.task}")
        files = {
            "model.onnx": export.onnx_bytes,
            "schema.json": json.dumps(schema, indent=2, default=str).encode(),
            "serve.py": SERVE_SCRIPT.read_bytes(),
            "serve_log.py": LOG_SCRIPT.read_bytes(),
            "requirements.txt": serving_requirements().encode(),
            "Dockerfile": dockerfile().encode(),
            "README.md": bundle_readme(schema, title, example).encode(),
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
