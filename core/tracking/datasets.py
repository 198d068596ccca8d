"""Dataset versions: a table saved as Parquet in a run, with an MLflow dataset input.

A version is any run tagged ``workbench.dataset = true``; Data saves them and
Label saves labelled tables the same way, so every later stage reads both with
:func:`load_dataset`. The train / test split, when there is one, travels inside
the Parquet file as a hidden column and is applied by ``part=``.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from core.errors import TrackingError
from core.tracking.tracker import RunSummary, Tracker

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

DATASET_TAG = "workbench.dataset"
NAME_TAG = "workbench.dataset.name"
VERSION_TAG = "workbench.dataset.version"
TARGET_TAG = "workbench.target"
SPLIT_COLUMN = "__workbench_split__"
TABLE_ARTIFACT = "dataset/table.parquet"
Part = Literal["all", "train", "test"]
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class DatasetVersion:
    """One saved table."""

    run_id: str
    name: str
    version: int
    stage: str
    rows: int
    columns: int
    has_split: bool
    target: str
    digest: str
    created: int

    @property
    def label(self) -> str:
        """Human name, e.g. ``penguins v3``."""
        return f"{self.name} v{self.version}"

    @property
    def ref(self) -> str:
        """Reference accepted by :func:`resolve_dataset`, e.g. ``penguins:v3``."""
        return f"{self.name}:v{self.version}"

    @classmethod
    def from_run(cls, run: RunSummary) -> DatasetVersion:
        t = run.tags
        return cls(
            run_id=run.run_id,
            name=t.get(NAME_TAG, run.name),
            version=int(t.get(VERSION_TAG, "0") or 0),
            stage=run.stage,
            rows=int(run.metrics.get("dataset_rows", 0)),
            columns=int(run.metrics.get("dataset_columns", 0)),
            has_split=t.get("workbench.dataset.split", "false") == "true",
            target=t.get(TARGET_TAG, ""),
            digest=t.get("workbench.dataset.digest", ""),
            created=run.start_time,
        )


def clean_name(name: str) -> str:
    """A dataset name safe for tags and file names (letters, digits, ``-_.``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.")
    if not cleaned:
        raise TrackingError(f"A dataset name needs at least one letter or digit. Got {name!r} instead.")
    return cleaned[:80]


def dataset_versions(tracker: Tracker, project: str, name: str | None = None) -> list[DatasetVersion]:
    """All dataset versions of a project, newest first (optionally of one name)."""
    flt = f"tags.`{DATASET_TAG}` = 'true' and attributes.status = 'FINISHED'"
    if name:
        flt += f" and tags.`{NAME_TAG}` = '{clean_name(name)}'"
    # the raw half of a save whose cleaned half never finished stays hidden (workbench.dataset.pending)
    return [DatasetVersion.from_run(r) for r in tracker.runs(project, filter_string=flt)
            if r.tags.get("workbench.dataset.pending") != "true"]


def log_dataset_version(
    tracker: Tracker,
    run_id: str,
    project: str,
    frame: pd.DataFrame,
    name: str,
    *,
    split: pd.Series | None = None,
    target: str = "",
    source: str = "",
) -> DatasetVersion:
    """Save ``frame`` into run ``run_id`` as the next version of dataset ``name``.

    Logs the Parquet table, an MLflow dataset input (with digest), row / column
    metrics and the version tags. ``split`` (values ``train`` / ``test``, aligned
    with ``frame``) is stored with the table.
    """
    import mlflow.data
    from mlflow.entities import DatasetInput, InputTag

    name = clean_name(name)
    if SPLIT_COLUMN in frame.columns:
        raise TrackingError(f"The column name {SPLIT_COLUMN!r} is reserved by the workbench; rename it.")
    previous = dataset_versions(tracker, project, name)
    version = max((v.version for v in previous), default=0) + 1
    table = frame.copy()
    if split is not None:
        if len(split) != len(frame):
            raise TrackingError("The split must have one entry per row of the table.")
        table[SPLIT_COLUMN] = list(split)
    with tempfile.TemporaryDirectory(prefix="wb-ds-") as tmp:
        path = Path(tmp) / "table.parquet"
        table.to_parquet(path, index=False)
        tracker.log_file(run_id, path, "dataset")
    artifact = f"{tracker.get_run(run_id).artifact_uri.rstrip('/')}/{TABLE_ARTIFACT}"
    source_ref: Any = artifact
    if artifact.startswith("mlflow-artifacts:"):
        # Scale-out fix: on a tracking server with --serve-artifacts the URI is mlflow-artifacts:/…,
        # which no MLflow dataset-source resolver accepts ("Could not find a source information
        # resolver"). Record the server's HTTP download URL of the same file instead.
        from mlflow.data.http_dataset_source import HTTPDatasetSource

        path = artifact.split(":", 1)[1].lstrip("/")
        if "://" in artifact:  # mlflow-artifacts://host:port/path names its server explicitly
            path = path.split("/", 1)[1] if "/" in path else ""
        base = tracker.settings.tracking_uri.rstrip("/")
        source_ref = HTTPDatasetSource(f"{base}/api/2.0/mlflow-artifacts/artifacts/{path}")
    dataset = mlflow.data.from_pandas(frame, source=source_ref, name=f"{name}:v{version}",
                                      targets=target if target and target in frame.columns else None)
    entity = dataset._to_mlflow_entity()
    if source:
        tracker.set_tags(run_id, {"workbench.dataset.source": source})
    tracker._call(
        "log the dataset input",
        tracker.client.log_inputs,
        run_id,
        [DatasetInput(entity, tags=[InputTag("mlflow.data.context", "training")])],
    )
    tags = {
        DATASET_TAG: "true",
        NAME_TAG: name,
        VERSION_TAG: str(version),
        "workbench.dataset.digest": entity.digest,
        "workbench.dataset.split": "true" if split is not None else "false",
    }
    if target:
        tags[TARGET_TAG] = target
    tracker.set_tags(run_id, tags)
    tracker.log_metrics(run_id, {"dataset_rows": len(frame), "dataset_columns": frame.shape[1]})
    run = tracker.get_run(run_id)
    return DatasetVersion.from_run(run)


def log_dataset_inputs(tracker: Tracker, run_id: str, inputs: Sequence[tuple[str, str]]) -> None:
    """Log, on run ``run_id``, the dataset entity of each version run with another context.

    ``inputs`` holds ``(dataset_run_id, context)`` pairs, e.g. ``[(ref_id, "reference"), (batch_id,
    "current")]``. The entity is read back from the version run's own dataset input, so both runs
    point at one MLflow dataset (same name, digest and source) and the MLflow UI links them. A
    version saved before dataset inputs existed has none to point at and is skipped.
    """
    from mlflow.entities import DatasetInput, InputTag

    entries = []
    for dataset_run_id, context in inputs:
        if not dataset_run_id:
            continue
        run = tracker._call(f"read dataset run {dataset_run_id}", tracker.client.get_run, dataset_run_id)
        found = list(run.inputs.dataset_inputs) if run.inputs else []
        if not found:
            continue
        digest = run.data.tags.get("workbench.dataset.digest", "")
        chosen = next((d for d in found if digest and d.dataset.digest == digest), found[0])
        entries.append(DatasetInput(chosen.dataset, tags=[InputTag("mlflow.data.context", context)]))
    if entries:
        tracker._call("log the dataset inputs", tracker.client.log_inputs, run_id, entries)


def resolve_dataset(tracker: Tracker, project: str, ref: str) -> DatasetVersion:
    """Find a version by run id, ``name:vN``, ``name@N`` or ``name`` (latest)."""
    ref = ref.strip()
    if _RUN_ID.match(ref):
        run = tracker.get_run(ref)
        if run.tags.get(DATASET_TAG) != "true":
            raise TrackingError(f"Run {ref} is not a dataset version (it is a {run.stage or 'plain'} run).")
        return DatasetVersion.from_run(run)
    m = re.match(r"^(.+?)(?:[:@]v?(\d+))?$", ref)
    if not m:
        raise TrackingError(f"Cannot read the dataset reference {ref!r}; use NAME, NAME:vN or a run id.")
    name, number = m.group(1), m.group(2)
    versions = dataset_versions(tracker, project, name)
    if number is not None:
        versions = [v for v in versions if v.version == int(number)]
    if not versions:
        known = sorted({v.ref for v in dataset_versions(tracker, project)})
        hint = f" Known versions: {', '.join(known[:10])}." if known else " The project has no dataset versions yet."
        raise TrackingError(f"No dataset version {ref!r} in project {project!r}.{hint}")
    return versions[0]


def load_dataset(tracker: Tracker, run_id: str, part: Part = "all") -> pd.DataFrame:
    """Read a version's table (cached on disk by run id; versions never change)."""
    import pandas as pd

    cache = tracker.settings.cache_dir / "datasets" / run_id
    path = cache / "table.parquet"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        downloaded = tracker.download(run_id, TABLE_ARTIFACT, cache)
        if downloaded != path:
            downloaded.replace(path)
    frame = pd.read_parquet(path)
    if SPLIT_COLUMN in frame.columns:
        split = frame.pop(SPLIT_COLUMN)
        if part != "all":
            frame = frame[split.to_numpy() == part].reset_index(drop=True)
    elif part == "test":
        raise TrackingError(f"Dataset version {run_id} has no test split; add a split step in the Data stage.")
    return frame


def load_split(tracker: Tracker, run_id: str) -> pd.Series | None:
    """The stored train / test assignment of a version, or None."""
    load_dataset(tracker, run_id)  # ensure cached
    import pandas as pd

    frame = pd.read_parquet(tracker.settings.cache_dir / "datasets" / run_id / "table.parquet")
    return frame[SPLIT_COLUMN] if SPLIT_COLUMN in frame.columns else None


def version_info(tracker: Tracker, run_id: str) -> dict[str, Any]:
    """Small dict for display: name, version, rows, columns, stage."""
    v = DatasetVersion.from_run(tracker.get_run(run_id))
    return {"name": v.name, "version": v.version, "rows": v.rows, "columns": v.columns, "stage": v.stage}
