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


def default_model(tracker: Tracker, project: str) -> str:
    """The project's registered model when it has exactly one (so ``3`` or ``champion`` is unambiguous).

    Raises:
        CompareError: none yet, or several (one per prediction job) — naming them.
    """
    from core.tracking.models import project_models

    names = project_models(tracker, project)
    if len(names) == 1:
        return names[0]
    if not names:
        raise CompareError(f"Project {project!r} has no registered model yet; run a study in Tune first.")
    raise CompareError(f"Project {project!r} has {len(names)} registered models, one per prediction job "
                       f"({', '.join(names[:6])}); name the version with its model, e.g. {names[0]}/1 or "
                       f"{names[0]}@champion.")


def resolve_model(tracker: Tracker, project: str, ref: str | int, *, model_name: str | None = None) -> ModelVersionInfo:
    """``3``, ``v3``, ``champion``, ``NAME/3``, ``NAME@champion`` → the registered version.

    A bare number or alias refers to ``model_name``, else to the project's only registered model.
    """
    from core.tracking.models import get_model_version, parse_model_ref

    text = str(ref).strip()
    if not text:
        raise CompareError("A model reference must not be blank; use a version number, NAME/3 or NAME@champion.")
    if text.lower().startswith("v") and text[1:].isdigit():
        text = text[1:]
    if text.startswith("@"):
        text = text[1:]
        name, which = model_name or default_model(tracker, project), text
    elif text.isdigit() or text.isidentifier():
        name, which = model_name or default_model(tracker, project), text
    else:
        try:
            name, which = parse_model_ref(text)
        except TrackingError as err:
            raise CompareError(str(err)) from err
    try:
        return get_model_version(tracker, name, which)
    except TrackingError as err:
        raise CompareError(str(err)) from err


def resolve_models(tracker: Tracker, project: str, refs: Sequence[str | int], *,
                   model_name: str | None = None) -> list[ModelVersionInfo]:
    """Several references; at least one, no duplicates, one registered model.

    Raises:
        CompareError: empty list, duplicates, or versions of different registered models.
    """
    if not refs:
        raise CompareError("Name at least one model version to compare (e.g. --models 1 2 or NAME@champion).")
    versions = [resolve_model(tracker, project, r, model_name=model_name) for r in refs]
    names = sorted({mv.name for mv in versions})
    if len(names) > 1:
        raise CompareError(f"Versions of different registered models cannot be compared ({', '.join(names)}): each "
                           "predicts its own target. Name versions of one model.")
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


def held_out_evaluation(tracker: Tracker, project: str, data_ref: str, versions: Sequence[ModelVersionInfo],
                        target: str):  # noqa: ANN201 - (DatasetVersion, HeldOut)
    """:func:`evaluation_data` less every row a model in ``versions`` was trained on.

    Raises:
        CompareError: unknown data; :class:`core.compare.heldout.NoHeldOutRows` when nothing held out remains.
    """
    from core.compare.heldout import held_out_rows

    version, frame, part = evaluation_data(tracker, project, data_ref)
    if target and target not in frame.columns:
        raise CompareError(f"The evaluation data {version.label} has no target column {target!r}; pick a labelled "
                           "dataset version.")
    return version, held_out_rows(tracker, versions, frame, target, part=part, what=version.label)
