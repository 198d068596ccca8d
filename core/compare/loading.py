"""Resolve what a person names — model references, dataset versions — into stored objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.errors import CompareError, TrackingError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.tracking import Tracker
    from core.tracking.datasets import DatasetVersion
    from core.tracking.models import ModelVersionInfo


def resolve_model(tracker: Tracker, project: str, ref: str | int) -> ModelVersionInfo:
    """``3``, ``v3``, ``champion``, ``NAME/3``, ``NAME@champion`` → the registered version.

    A bare number or alias refers to the project's registered model (named after the project).
    """
    from core.tracking.models import get_model_version, parse_model_ref

    text = str(ref).strip()
    if not text:
        raise CompareError("A model reference must not be blank; use a version number, NAME/3 or NAME@champion.")
    if text.lower().startswith("v") and text[1:].isdigit():
        text = text[1:]
    if text.isdigit() or text.isidentifier():
        name, which = project, text
    else:
        name, which = parse_model_ref(text.lstrip("@")) if not text.startswith("@") else (project, text[1:])
    try:
        return get_model_version(tracker, name, which)
    except TrackingError as err:
        raise CompareError(str(err)) from err


def resolve_models(tracker: Tracker, project: str, refs: Sequence[str | int]) -> list[ModelVersionInfo]:
    """Several references; at least one, no duplicates, one registered model.

    Raises:
        CompareError: empty list, duplicates, or versions of different registered models.
    """
    if not refs:
        raise CompareError("Name at least one model version to compare (e.g. --models 1 2 or NAME@champion).")
    versions = [resolve_model(tracker, project, r) for r in refs]
    seen = [(mv.name, mv.version) for mv in versions]
    if len(set(seen)) != len(seen):
        raise CompareError(f"The same model version was named twice in {', '.join(map(str, refs))}; name each once.")
    return versions


def evaluation_data(tracker: Tracker, project: str, data_ref: str) -> tuple[DatasetVersion, pd.DataFrame, str]:
    """A dataset version's held-out rows: its test part when it has a split, else all rows.

    Returns:
        (version, frame, part) with part ``test`` or ``all``.
    """
    from core.tracking.datasets import load_dataset, resolve_dataset

    try:
        version = resolve_dataset(tracker, project, data_ref)
    except TrackingError as err:
        raise CompareError(str(err)) from err
    part = "test" if version.has_split else "all"
    frame = load_dataset(tracker, version.run_id, part)  # type: ignore[arg-type]
    if frame.empty:
        raise CompareError(f"The {part} part of {version.label} has no rows; pick another dataset version.")
    return version, frame, part
