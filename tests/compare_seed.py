"""Seed a real MLflow store with a dataset version and registered model versions (Compare tests).

Models are built the way Tune builds them (``core.models.build_pipeline``) and registered
with ``core.models.model_tags``, so Compare is tested against the real contract.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.models import build_pipeline, feature_spec, infer_task, model_tags, prepare_xy
from core.tracking import Tracker
from core.tracking.datasets import DatasetVersion, load_dataset, log_dataset_version
from core.tracking.models import ModelVersionInfo, register_trained

WEAK = ("linear", {"C": 0.0005})
STRONG = ("rf", {"n_estimators": 15, "max_depth": 4})


def iris_frame(seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Iris with string species and a categorical 'site' column; a stratified 70/30 split."""
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = np.asarray(data.target_names)[frame.pop("target")]
    rng = np.random.default_rng(seed)
    frame["site"] = rng.choice(["north", "south"], size=len(frame))
    split = pd.Series("train", index=frame.index)
    for _, idx in frame.groupby("species").groups.items():
        idx = rng.permutation(np.asarray(idx))
        split.loc[idx[: int(len(idx) * 0.3)]] = "test"
    return frame, split


def save_dataset(tracker: Tracker, project: str, frame: pd.DataFrame, name: str, target: str,
                 split: pd.Series | None = None) -> DatasetVersion:
    with tracker.stage_run(project, "data", name=f"{name} version") as run_id:
        return log_dataset_version(tracker, run_id, project, frame, name, split=split, target=target)


def train_and_register(tracker: Tracker, project: str, data: DatasetVersion, target: str,
                       family: str, params: dict[str, Any], features: Sequence[str] | None = None) -> ModelVersionInfo:
    """Fit one pipeline on the train part of ``data`` in a tune run and register it."""
    frame = load_dataset(tracker, data.run_id, "train" if data.has_split else "all")
    spec = feature_spec(frame, target, columns=features)
    X, y = prepare_xy(frame, target, spec)
    task = infer_task(y)
    with tracker.stage_run(project, "tune", name=f"{family} trial", inputs=[data.run_id],
                           params={**params, "family": family},
                           tags={"workbench.family": family, "workbench.data_version": data.run_id}) as run_id:
        t0 = time.perf_counter()
        model = build_pipeline(family, task, spec, params, seed=0).fit(X, y)
        tracker.log_metrics(run_id, {"training_time_s": time.perf_counter() - t0, "cv_score": float(model.score(X, y))})
        tags = model_tags(spec=spec, target=target, task=task, family=family, data_version=data.run_id,
                          params=params)
        return register_trained(tracker, run_id, model, X, project=project, tags=tags)


def seed_project(tracker: Tracker, project: str = "irisproj") -> tuple[DatasetVersion, ModelVersionInfo, ModelVersionInfo]:
    """A split iris dataset version and two registered versions: v1 weak, v2 strong."""
    frame, split = iris_frame()
    data = save_dataset(tracker, project, frame, "iris", "species", split)
    weak = train_and_register(tracker, project, data, "species", *WEAK)
    strong = train_and_register(tracker, project, data, "species", *STRONG)
    return data, weak, strong


def build_seeded_home(home: Path, template_db: Path, project: str = "irisproj"):  # noqa: ANN201
    """A workspace at ``home`` (copy of the migrated template store) seeded by :func:`seed_project`."""
    from tests.conftest import make_settings

    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(template_db, home / "mlflow.db")
    tracker = Tracker.connect(make_settings(home))
    return seed_project(tracker, project)


def use_copy(seeded_home: Path, dst: Path, monkeypatch, project: str = "irisproj") -> Tracker:  # noqa: ANN001
    """Copy a seeded workspace to ``dst``, export it to the env, and connect to it."""
    from tests.conftest import make_settings

    shutil.copytree(seeded_home, dst)
    monkeypatch.setenv("WORKBENCH_HOME", str(dst))
    monkeypatch.setenv("WORKBENCH_PROJECT", project)
    for var in ("MLFLOW_TRACKING_URI", "OPTUNA_STORAGE", "WORKBENCH_ARTIFACTS"):
        monkeypatch.delenv(var, raising=False)
    return Tracker.connect(make_settings(dst))


def aliases(tracker: Tracker, model: str = "irisproj-species") -> dict[str, int]:
    """Alias → version of the seeded project's registered model."""
    from core.tracking.models import model_versions

    return {a: mv.version for mv in model_versions(tracker, model) for a in mv.aliases}
