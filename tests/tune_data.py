"""Small real data for the Tune tests: penguins (palmerpenguins package) saved as a dataset version."""

from __future__ import annotations

from typing import Any


def penguins(rows: int | None = None) -> Any:
    import palmerpenguins

    frame = palmerpenguins.load_penguins().dropna().reset_index(drop=True)
    return frame.sample(rows, random_state=0).reset_index(drop=True) if rows else frame


def save_version(tracker: Any, project: str, frame: Any, name: str = "penguins", target: str = "species",
                 split: Any = None) -> Any:
    """Save ``frame`` as a dataset version (stage data) and return the DatasetVersion."""
    from core.tracking.datasets import log_dataset_version

    with tracker.stage_run(project, "data", name=name) as run_id:
        return log_dataset_version(tracker, run_id, project, frame, name, target=target, split=split)
