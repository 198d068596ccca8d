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


def recipe_case(task: str, n: int = 160):
    """Raw table, fitted recipe (graph-able + outside + training-only steps) and the cleaned table."""
    from core.data.recipe import Recipe, Step, replay

    raw = small_frame(task, n)
    raw["note"] = np.where(np.arange(n) % 2, " Alpha", "beta ")
    raw["width"] = raw["depth"] * 2 + np.random.default_rng(1).normal(0, 0.3, n)
    recipe = Recipe((
        Step("trim_case", {"columns": ["note"]}),
        Step("impute", {"strategy": "median"}),
        Step("impute", {"columns": ["island"], "strategy": "most_frequent"}),
        Step("outliers", {"action": "clip"}),
        Step("drop_duplicates", {}),
        Step("scale", {"columns": ["length"], "method": "zscore"}),
        Step("pca", {"columns": ["depth", "width"], "n_components": 1}),
        Step("encode", {"columns": ["island"], "method": "onehot"}),
        Step("drop_columns", {"columns": ["note"]}),
    ))
    fitted = replay(raw, recipe, mode="fit")
    return raw, fitted.recipe, fitted.frame


def seed_recipe_model(tracker, family: str, task: str, *, project: str = PROJECT, alias: str | None = "champion"):
    """Save raw + cleaned versions with the recipe (Data stage API), train on the cleaned one, register."""
    from core.data.versions import save_version

    raw, recipe, cleaned = recipe_case(task)
    target = target_of(task)
    split = pd.Series(np.where(np.arange(len(cleaned)) % 4 == 0, "test", "train"), index=cleaned.index)
    saved = save_version(tracker, project, name="toyclean", raw=raw, cleaned=cleaned.reset_index(drop=True),
                         recipe_json=recipe.to_dict(), split=split.reset_index(drop=True), target=target)
    train = cleaned[split.to_numpy() == "train"]
    spec = feature_spec(train, target)
    X, y = prepare_xy(train, target, spec)
    params = FAST_PARAMS.get(family, {})
    model = build_pipeline(family, task, spec, params).fit(X, y)
    with tracker.stage_run(project, "tune", name=f"{family} trial", inputs=[saved.cleaned.run_id]) as run_id:
        log_sklearn_model(tracker, run_id, model, X)
    mv = register_model(tracker, project, run_id, "model",
                        model_tags(spec=spec, target=target, task=task, family=family,
                                   data_version=saved.cleaned.run_id, params=params))
    if alias:
        set_alias(tracker, project, alias, mv.version)
    return mv


def seed_label_set_model(tracker, family: str, *, project: str = PROJECT, extra_feature: bool = False):
    """Cleaned version with a recipe → label set of part of its rows (Label stage API) → model trained on the
    label set (its data version has no recipe of its own). ``extra_feature`` adds a column the recipe
    does not produce (as if the label set carried one) and uses it as a feature."""
    from core.data.versions import save_version
    from core.label.labellog import LabelLog
    from core.label.save import save_label_set
    from core.tracking.datasets import load_dataset

    raw, recipe, cleaned = recipe_case("classification")
    cleaned = cleaned.reset_index(drop=True)
    split = pd.Series(np.where(np.arange(len(cleaned)) % 4 == 0, "test", "train"))
    saved = save_version(tracker, project, name="toyclean", raw=raw, cleaned=cleaned, recipe_json=recipe.to_dict(),
                         split=split, target="species")
    frame = load_dataset(tracker, saved.cleaned.run_id)
    if extra_feature:
        frame["reviewer_score"] = np.arange(len(frame)) % 5
    labels = {i: str(frame.loc[i, "species"]) for i in range(0, len(frame), 2)}
    features = [c for c in frame.columns if c != "species"]
    log = LabelLog.for_version(tracker.settings.labels_dir, project, saved.cleaned.run_id, "species")
    label_set = save_label_set(tracker, project, saved.cleaned, frame, "species", labels, log=log,
                               classes=tuple(sorted(set(labels.values()))), features=features, strategy="margin",
                               learner="logreg")
    train = load_dataset(tracker, label_set.version.run_id, part="train")
    spec = feature_spec(train, "species")
    X, y = prepare_xy(train, "species", spec)
    params = FAST_PARAMS.get(family, {})
    model = build_pipeline(family, "classification", spec, params).fit(X, y)
    with tracker.stage_run(project, "tune", name=f"{family} on labels", inputs=[label_set.version.run_id]) as run_id:
        log_sklearn_model(tracker, run_id, model, X)
    mv = register_model(tracker, project, run_id, "model",
                        model_tags(spec=spec, target="species", task="classification", family=family,
                                   data_version=label_set.version.run_id, params=params))
    set_alias(tracker, project, "champion", mv.version)
    return mv
