"""A ready-to-monitor example: a dataset version and a champion trained on it.

Used by the page's empty state ("Load the Seattle weather example"), the tests
and the benchmark, so they all start from the same real workspace objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.tracking import Tracker
    from core.tracking.datasets import DatasetVersion
    from core.tracking.models import ModelVersionInfo


def seattle_weather() -> pd.DataFrame:
    """Seattle daily weather 2012–2015 (vega_datasets, bundled; BSD licence)."""
    from vega_datasets import local_data

    frame = local_data.seattle_weather()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")  # text, so it survives every file format
    return frame


def seed_example(tracker: Tracker, project: str, frame: pd.DataFrame, name: str, target: str, *,
                 family: str = "linear", test_share: float = 0.25, seed: int = 0,
                 promote: bool = True) -> tuple[DatasetVersion, ModelVersionInfo]:
    """Save ``frame`` as a dataset version with a split and register a ``champion`` trained on its train part."""
    import numpy as np
    import pandas as pd

    from core.models import build_pipeline, feature_spec, infer_task, model_tags, prepare_xy
    from core.tracking.datasets import log_dataset_version
    from core.tracking.models import register_trained, set_alias

    rng = np.random.default_rng(seed)
    split = pd.Series(np.where(rng.random(len(frame)) < test_share, "test", "train"))
    with tracker.stage_run(project, "data", name=f"{name} (example)") as rid:
        version = log_dataset_version(tracker, rid, project, frame, name, split=split, target=target,
                                      source="monitor example")
    train = frame[(split == "train").to_numpy()]
    spec = feature_spec(train, target)
    task = infer_task(train[target])
    X, y = prepare_xy(train, target, spec)
    model = build_pipeline(family, task, spec, {}, seed).fit(X, y)
    tags = model_tags(spec=spec, target=target, task=task, family=family, data_version=version.run_id, params={})
    with tracker.stage_run(project, "tune", name=f"{family} on {version.label}", inputs=[version.run_id]) as mrid:
        mv = register_trained(tracker, mrid, model, X, project=project, tags=tags)
    if promote:
        set_alias(tracker, mv.name, "champion", mv.version)
    return version, mv
