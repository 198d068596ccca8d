"""Seeding helpers for Deploy tests: small real data sets, real registered pipelines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models import build_pipeline, feature_spec, model_tags, prepare_xy
from core.tracking.datasets import log_dataset_version
from core.tracking.models import log_sklearn_model, register_model, set_alias

PROJECT = "deployproj"
FAST_PARAMS = {
    "rf": {"n_estimators": 15, "max_depth": 6},
    "hgb": {"max_iter": 20},
    "mlp": {"hidden_layer_sizes": 16},
}


def small_frame(task: str, n: int = 160, seed: int = 0) -> pd.DataFrame:
    """Numeric + categorical columns with missing cells in both, and a target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "length": rng.normal(40, 5, n).round(2),
        "depth": rng.normal(17, 2, n).round(2),
        "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
    })
    signal = (frame["length"] - 40) / 5 + (frame["island"] == "Dream") * 1.2
    if task == "classification":
        frame["species"] = np.where(signal > 0.4, "Gentoo", np.where(signal < -0.6, "Adelie", "Chinstrap"))
    else:
        frame["mass"] = 3000 + 400 * signal + rng.normal(0, 50, n)
    frame.loc[::11, "length"] = np.nan
    frame.loc[::13, "island"] = None
    return frame


def target_of(task: str) -> str:
    return "species" if task == "classification" else "mass"


def seed_model(tracker, family: str, task: str, *, project: str = PROJECT, alias: str | None = "champion",
               frame: pd.DataFrame | None = None):
    """Log a dataset version with a split, train a pipeline on its train part, register it. Returns the version."""
    frame = small_frame(task) if frame is None else frame
    target = target_of(task)
    split = pd.Series(np.where(np.arange(len(frame)) % 4 == 0, "test", "train"))
    with tracker.stage_run(project, "data", name="seed data") as data_run:
        dv = log_dataset_version(tracker, data_run, project, frame, "toy", split=split, target=target)
    train = frame[split.to_numpy() == "train"]
    spec = feature_spec(train, target)
    X, y = prepare_xy(train, target, spec)
    params = FAST_PARAMS.get(family, {})
    model = build_pipeline(family, task, spec, params).fit(X, y)
    with tracker.stage_run(project, "tune", name=f"{family} trial", inputs=[dv.run_id]) as run_id:
        tracker.log_metrics(run_id, {"score": 0.9})
        log_sklearn_model(tracker, run_id, model, X)
    mv = register_model(tracker, project, run_id, "model",
                        model_tags(spec=spec, target=target, task=task, family=family, data_version=dv.run_id,
                                   params=params))
    if alias:
        set_alias(tracker, project, alias, mv.version)
    return mv
