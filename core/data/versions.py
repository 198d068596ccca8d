"""Saving, finding and comparing dataset versions of the Data stage.

A saved version is two linked MLflow runs (stage ``data``):

* the **raw** table exactly as loaded (reused when the same bytes were saved
  before — matched by the MLflow dataset digest), and
* the **cleaned** table, with ``workbench.inputs`` pointing at the raw run, the
  recipe (``recipe/recipe.json`` and the exported ``recipe/recipe.py``), the
  profile summary (``profile/profile.json``), and the train / test split.

So lineage from any later run leads back to the raw data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import DataError
from core.tracking import Tracker
from core.tracking.datasets import DatasetVersion, load_dataset, log_dataset_version

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

KIND_TAG = "workbench.dataset.kind"
RECIPE_ARTIFACT = "recipe/recipe.json"
RECIPE_CODE_ARTIFACT = "recipe/recipe.py"
PROFILE_ARTIFACT = "profile/profile.json"
ADVICE_ARTIFACT = "features/advice.json"


@dataclass(frozen=True)
class SavedVersion:
    raw: DatasetVersion
    cleaned: DatasetVersion
    raw_reused: bool


@dataclass(frozen=True)
class VersionDiff:
    """What changed between two versions: shape, columns and missing shares."""

    a: str
    b: str
    rows: tuple[int, int]
    columns: tuple[int, int]
    added_columns: tuple[str, ...]
    removed_columns: tuple[str, ...]
    retyped_columns: tuple[tuple[str, str, str], ...]
    missing_share: pd.DataFrame  # column, a, b, change


def frame_digest(frame: pd.DataFrame) -> str:
    """A content hash of a table (values, column names and order), stable across processes."""
    import hashlib

    import pandas as pd

    h = hashlib.sha256()
    h.update("\x1f".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def _find_raw(tracker: Tracker, project: str, name: str, digest: str) -> DatasetVersion | None:
    """The raw version of these bytes saved before — a hidden half of a killed save included (it is reused)."""
    from core.tracking.datasets import DATASET_TAG, NAME_TAG

    flt = (f"tags.`{DATASET_TAG}` = 'true' and attributes.status = 'FINISHED' and tags.`{NAME_TAG}` = '{name}' "
           f"and tags.`{KIND_TAG}` = 'raw' and tags.`workbench.content_digest` = '{digest}'")
    found = tracker.runs(project, filter_string=flt, max_results=1)
    return DatasetVersion.from_run(found[0]) if found else None


def save_version(
    tracker: Tracker,
    project: str,
    *,
    name: str,
    raw: pd.DataFrame,
    cleaned: pd.DataFrame,
    recipe_json: dict[str, Any] | None = None,
    recipe_code: str | None = None,
    profile_json: dict[str, Any] | None = None,
    split: pd.Series | None = None,
    target: str = "",
    source: str = "",
    description: str = "",
    feature_advice: dict[str, Any] | None = None,
) -> SavedVersion:
    """Save the raw table (once) and the cleaned table as linked versions.

    Every version has a held-out part. Pass the ``split`` that
    :func:`core.data.prepare.prepare_version` decided; without one, a version whose recipe learned
    nothing gets a default split of its rows now (nothing was fitted, so nothing can leak), and one
    whose recipe learned from all rows is refused.

    Raises:
        DataError: the cleaned table is empty, the target is not one of its columns, or no split can be made.
    """
    if cleaned.shape[0] == 0 or cleaned.shape[1] == 0:
        raise DataError("The cleaned table is empty; undo the step that removed everything before saving.")
    if target and target not in cleaned.columns:
        raise DataError(f"The target {target!r} is not a column of the cleaned table.")
    from core.tracking.datasets import clean_name

    if split is None:
        split = _default_split(cleaned, recipe_json, target)

    name = clean_name(name)
    raw_name = f"{name}-raw"
    digest = frame_digest(raw)
    existing = _find_raw(tracker, project, raw_name, digest)
    # A save is two runs written in several calls. The raw half stays hidden (pending) until the cleaned half
    # is FINISHED; a process killed in between leaves a RUNNING cleaned run (marked FAILED at the next start by
    # core.tracking.repair) and a hidden raw half — never a stray version.
    if existing is None:
        with tracker.stage_run(project, "data", name=f"{raw_name} (raw)", tags={KIND_TAG: "raw",
                               "workbench.content_digest": digest, "workbench.source": source[:500],
                               "workbench.dataset.pending": "true"}) as raw_id:
            raw_version = log_dataset_version(tracker, raw_id, project, raw, raw_name, source=source)
        _crash_point("raw-saved")
    else:
        raw_version = existing
    steps = (recipe_json or {}).get("steps", [])
    params = {
        "recipe_steps": len(steps),
        "recipe_kinds": ",".join(s.get("kind", "?") for s in steps) or "none",
        "raw_version": raw_version.ref,
    }
    tags = {KIND_TAG: "clean", "workbench.content_digest": frame_digest(cleaned)}
    if description:
        tags["mlflow.note.content"] = description
    with tracker.stage_run(project, "data", name=name, inputs=[raw_version.run_id], params=params, tags=tags) as rid:
        if recipe_json is not None:
            tracker.log_json(rid, recipe_json, RECIPE_ARTIFACT)
        if recipe_code:
            tracker.log_text(rid, recipe_code, RECIPE_CODE_ARTIFACT)
        if profile_json is not None:
            tracker.log_json(rid, profile_json, PROFILE_ARTIFACT)
        if feature_advice is not None:
            tracker.log_json(rid, feature_advice, ADVICE_ARTIFACT)
        missing = float(cleaned.isna().to_numpy().mean()) if cleaned.size else 0.0
        tracker.log_metrics(rid, {"missing_share": missing, "raw_rows": len(raw)})
        if split is not None:
            counts = split.value_counts()
            tracker.log_metrics(rid, {f"split_{k}_rows": int(v) for k, v in counts.items()})
        _crash_point("cleaned-written")
        version = log_dataset_version(tracker, rid, project, cleaned, name, split=split, target=target, source=source)
    tracker.set_tags(raw_version.run_id, {"workbench.dataset.pending": "false"})  # both halves are whole now
    return SavedVersion(raw_version, version, existing is not None)


def _crash_point(step: str) -> None:
    """Tests kill the process here (WORKBENCH_TEST_KILL_AT=<step>) to prove a half-written save is repaired."""
    import os

    if os.environ.get("WORKBENCH_TEST_KILL_AT") == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _default_split(cleaned: pd.DataFrame, recipe_json: dict[str, Any] | None, target: str) -> pd.Series:
    """A held-out part for a table whose recipe learned nothing (refused otherwise: it would be a leak)."""
    from core.data.prepare import split_rows
    from core.data.recipe import STEPS

    steps = (recipe_json or {}).get("steps", [])
    learned = [s.get("kind") for s in steps if STEPS.get(s.get("kind", "")) and STEPS[s["kind"]].learns]
    if learned:
        raise DataError(f"This version has no held-out part, and its recipe learned from every row "
                        f"({', '.join(learned[:3])}); save it through prepare_version (the Data page or "
                        "`python -m core save`) so the split is decided first.")
    return split_rows(cleaned, target)


def load_recipe_json(tracker: Tracker, run_id: str) -> dict[str, Any] | None:
    """The recipe saved with a version, or None for raw tables / versions without one."""
    if RECIPE_ARTIFACT not in _artifact_files(tracker, run_id):
        return None
    return tracker.load_json(run_id, RECIPE_ARTIFACT)


@dataclass(frozen=True)
class RecipeSource:
    """The cleaning recipe behind a version, and the version that carries it."""

    recipe: dict[str, Any]
    version_run_id: str
    version_label: str


def find_recipe(tracker: Tracker, run_id: str) -> RecipeSource | None:
    """The recipe that produced a version's columns: its own, or the nearest upstream version's.

    A label set or a retraining set has no recipe of its own but keeps the columns of the
    cleaned version it was made from, so a raw batch replayed through that recipe matches it.
    """
    from core.tracking.datasets import DATASET_TAG

    for run in tracker.lineage(run_id):
        if run.tags.get(DATASET_TAG) != "true":
            continue
        data = load_recipe_json(tracker, run.run_id)
        if data and data.get("steps"):
            return RecipeSource(data, run.run_id, DatasetVersion.from_run(run).label)
    return None


def raw_input_of(tracker: Tracker, run_id: str) -> str | None:
    """Run id of the raw version a cleaned version was made from."""
    run = tracker.get_run(run_id)
    for rid in run.inputs:
        if tracker.get_run(rid).tags.get(KIND_TAG) == "raw":
            return rid
    return None


def _artifact_files(tracker: Tracker, run_id: str) -> set[str]:
    files: set[str] = set()
    for top in tracker.list_artifacts(run_id):
        files.add(top)
        if "." not in top.rsplit("/", 1)[-1]:
            files.update(tracker.list_artifacts(run_id, top))
    return files


def compare_versions(tracker: Tracker, a: DatasetVersion, b: DatasetVersion) -> VersionDiff:
    """Row / column / type / missing-share differences between two versions."""
    import pandas as pd

    fa, fb = load_dataset(tracker, a.run_id), load_dataset(tracker, b.run_id)
    ca, cb = list(fa.columns), list(fb.columns)
    common = [c for c in ca if c in cb]
    retyped = tuple((c, str(fa[c].dtype), str(fb[c].dtype)) for c in common if str(fa[c].dtype) != str(fb[c].dtype))
    ma = fa[common].isna().mean() if len(fa) else pd.Series(0.0, index=common)
    mb = fb[common].isna().mean() if len(fb) else pd.Series(0.0, index=common)
    miss = pd.DataFrame({"column": common, a.label: ma.to_numpy(), b.label: mb.to_numpy()})
    miss["change"] = miss[b.label] - miss[a.label]
    miss = miss.reindex(miss["change"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    return VersionDiff(
        a=a.label,
        b=b.label,
        rows=(len(fa), len(fb)),
        columns=(fa.shape[1], fb.shape[1]),
        added_columns=tuple(c for c in cb if c not in ca),
        removed_columns=tuple(c for c in ca if c not in cb),
        retyped_columns=retyped,
        missing_share=miss,
    )
