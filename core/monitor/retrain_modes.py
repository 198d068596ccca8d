"""How a retrain learns the new rows: five modes, each ending in a registered challenger for the gate.

=============  ==========================================================================  =====================
mode           what it fits                                                                  trade-off
=============  ==========================================================================  =====================
``study``      a short Optuna study warm-started with the champion's params (the default)     slowest, searches
``refit``      the champion's family and params on the new version's training rows            re-learns everything
``fine-tune``  the champion itself, continued on the new rows only: more trees (rf, hgb      fast, may forget the
               ``warm_start``), more epochs (mlp ``partial_fit``), a warm-started logistic     old distribution
               regression                                                                      ("lazy learning")
``incremental`` ``partial_fit`` on the new rows mixed with a replay sample of the old         learns without
               training rows (families with ``partial_fit``: mlp)                             forgetting as much
``ensemble``   soft vote (classification) / weighted mean (regression) of the champion and    keeps both; the weight
               a model refitted on the new training rows; the weight is chosen on a            is learned on rows
               validation part of the *new* rows, which neither model was fitted on            the champion never saw
=============  ==========================================================================  =====================

Every mode fits on training rows only (the new version's ``test`` rows stay for the gate) and the
result is registered like any challenger, with ``workbench.retrain_mode`` on its version, so the gate
treats it the same way. A mode that does not apply to the champion's family is refused with a sentence.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import MonitorError

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    import pandas as pd

    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

MODES = ("study", "refit", "fine-tune", "incremental", "ensemble")
MODE_HELP = {
    "study": "a short Optuna study warm-started with the champion's parameters",
    "refit": "the champion's family and parameters refitted on the new training rows",
    "fine-tune": "the champion continued on the new rows only (more trees / iterations / epochs) — fast, may forget",
    "incremental": "partial_fit on the new rows plus a replay sample of the old ones (mlp)",
    "ensemble": "the champion and a refitted model combined, weighted on a validation part of the new rows",
}
_FINE_TUNE = ("rf", "hgb", "mlp", "linear")
_INCREMENTAL = ("mlp",)
MIN_NEW_ROWS = 5


def check_mode(mode: str, family: str = "", task: str = "") -> str:
    """``mode`` when it is known and applies to ``family``; otherwise one sentence saying what to use."""
    if mode not in MODES:
        raise MonitorError(f"The retraining mode must be one of {', '.join(MODES)}. Got {mode!r} instead.")
    if family and mode == "fine-tune" and (family not in _FINE_TUNE or (family == "linear" and task == "regression")):
        raise MonitorError(f"Fine-tuning needs a model that can continue learning (warm start or partial_fit: "
                           f"rf, hgb, mlp, logistic regression); the champion is {family}. Use refit, study or "
                           "ensemble instead.")
    if family and mode == "incremental" and family not in _INCREMENTAL:
        raise MonitorError(f"Incremental learning needs partial_fit, which only the mlp family has here; the "
                           f"champion is {family}. Use fine-tune, refit, study or ensemble instead.")
    return mode


@dataclass(frozen=True)
class Parts:
    """The new version's training rows as (X, y), split into the reference's and the new rows."""

    X_old: pd.DataFrame
    y_old: pd.Series
    X_new: pd.DataFrame
    y_new: pd.Series

    @property
    def X(self) -> pd.DataFrame:
        import pandas as pd

        return pd.concat([self.X_old, self.X_new], ignore_index=True)

    @property
    def y(self) -> pd.Series:
        import pandas as pd

        return pd.concat([self.y_old, self.y_new], ignore_index=True)


def training_parts(frame: pd.DataFrame, split: Any, n_reference: int, target: str, spec: Any) -> Parts:
    """Training rows (split != 'test') of ``frame``, the first ``n_reference`` rows being the old ones."""
    import numpy as np

    from core.models import prepare_xy

    labels = np.asarray(list(split) if split is not None else ["train"] * len(frame), dtype=object)
    train = labels != "test"
    position = np.arange(len(frame))
    old = frame[train & (position < n_reference)]
    new = frame[train & (position >= n_reference)]
    new = new[new[target].notna()]
    if len(new) < MIN_NEW_ROWS:
        raise MonitorError(f"This retraining mode learns from the new labelled rows, and only {len(new)} of them "
                           f"are training rows (at least {MIN_NEW_ROWS} are needed); label more rows or use the "
                           "study or refit mode.")
    X_old, y_old = prepare_xy(old, target, spec) if len(old) else (old[list(spec.columns)], old[target])
    X_new, y_new = prepare_xy(new, target, spec)
    return Parts(X_old.reset_index(drop=True), y_old.reset_index(drop=True), X_new.reset_index(drop=True),
                 y_new.reset_index(drop=True))


def _same_classes(model: Any, y: pd.Series, what: str) -> None:
    known = [str(c) for c in getattr(model, "classes_", [])]
    seen = sorted(set(map(str, y)))
    if known and seen != sorted(known):
        raise MonitorError(f"{what} needs the new rows to hold exactly the champion's classes ({', '.join(known)}); "
                           f"they hold {', '.join(seen)}. Label rows of every class, or use refit or study.")


def fine_tune(champion: Any, family: str, task: str, parts: Parts, seed: int = 0, epochs: int = 20) -> Any:
    """The champion continued on the new rows only (its preprocessing kept as fitted)."""
    model = copy.deepcopy(champion)
    prep, est = model.named_steps["prep"], model.named_steps["model"]
    Xt = prep.transform(parts.X_new)
    y = parts.y_new.to_numpy()
    if task == "classification" and family != "mlp":
        _same_classes(est, parts.y_new, "Fine-tuning a " + family)
    if family == "rf":
        extra = max(10, est.n_estimators // 4)
        est.set_params(warm_start=True, n_estimators=est.n_estimators + extra)
        est.fit(Xt, y)
    elif family == "hgb":
        extra = max(10, est.max_iter // 4)
        est.set_params(warm_start=True, max_iter=est.max_iter + extra, early_stopping=False)
        est.fit(Xt, y)
    elif family == "mlp":
        if task == "classification":
            _check_subset(est, parts.y_new)
        _epochs(est, Xt, y, epochs, seed)
    elif family == "linear" and task == "classification":
        est.set_params(warm_start=True)
        est.fit(Xt, y)
    else:
        check_mode("fine-tune", family, task)
    _reset_warm_start(est)
    return model


def incremental(champion: Any, family: str, task: str, parts: Parts, seed: int = 0, epochs: int = 20,
                replay: float = 1.0) -> Any:
    """``partial_fit`` on the new rows mixed with a replay sample (``replay`` × new rows) of the old training rows."""
    import numpy as np

    check_mode("incremental", family, task)
    model = copy.deepcopy(champion)
    prep, est = model.named_steps["prep"], model.named_steps["model"]
    if task == "classification":
        _check_subset(est, parts.y_new)
    rng = np.random.default_rng(seed)
    n_old = min(len(parts.X_old), int(round(replay * len(parts.X_new))))
    pick = rng.choice(len(parts.X_old), size=n_old, replace=False) if n_old else np.array([], dtype=int)
    import pandas as pd

    X = pd.concat([parts.X_new, parts.X_old.iloc[pick]], ignore_index=True)
    y = np.concatenate([parts.y_new.to_numpy(), parts.y_old.to_numpy()[pick]])
    _epochs(est, prep.transform(X), y, epochs, seed)
    return model


def _check_subset(est: Any, y: pd.Series) -> None:
    known = {str(c) for c in getattr(est, "classes_", [])}
    unknown = sorted(set(map(str, y)) - known)
    if unknown:
        raise MonitorError(f"The new rows hold class(es) {', '.join(unknown[:5])} the champion never saw; continuing "
                           "its training cannot add a class. Use refit, study or ensemble.")


def _epochs(est: Any, Xt: Any, y: Any, epochs: int, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    for _ in range(int(epochs)):
        order = rng.permutation(len(y))
        est.partial_fit(Xt[order], y[order])


def _reset_warm_start(est: Any) -> None:
    # the saved model is plain: a later fit of it starts afresh, as every other family does
    if "warm_start" in est.get_params():
        est.set_params(warm_start=False)


@dataclass(frozen=True)
class EnsembleChoice:
    model: Any
    champion_weight: float
    validation_rows: int
    note: str


def ensemble(champion: Any, family: str, task: str, spec: Any, params: dict[str, Any], parts: Parts,
             seed: int = 0, validation: float = 0.3) -> EnsembleChoice:
    """Champion + a model refitted on the training rows, weighted on a validation part of the new rows.

    The validation rows are held out of the new model's fit, and the champion was trained before they
    existed, so the weight is chosen on rows neither model saw.
    """
    import numpy as np
    import pandas as pd

    from core.models import build_pipeline

    rng = np.random.default_rng(seed)
    n_val = int(round(validation * len(parts.X_new)))
    order = rng.permutation(len(parts.X_new))
    val, rest = order[:n_val], order[n_val:]
    X_fit = pd.concat([parts.X_old, parts.X_new.iloc[rest]], ignore_index=True)
    y_fit = pd.concat([parts.y_old, parts.y_new.iloc[rest]], ignore_index=True)
    new = build_pipeline(family, task, spec, params, seed).fit(X_fit, y_fit)
    clf = task == "classification"
    if clf and [str(c) for c in champion.classes_] != [str(c) for c in new.classes_]:
        raise MonitorError("The champion and the refitted model know different classes, so they cannot vote "
                           "together; use refit or study.")
    grid = [round(w, 2) for w in np.linspace(0, 1, 11)]
    if n_val < 10:
        weight, note = 0.5, (f"only {n_val} validation rows among the new ones, so the two models get equal "
                             "weight")
    else:
        X_val, y_val = parts.X_new.iloc[val], parts.y_new.iloc[val].to_numpy()
        if clf:
            pa, pb = champion.predict_proba(X_val), new.predict_proba(X_val)
            classes = np.asarray(new.classes_)
            scores = [float(np.mean(classes[np.argmax(w * pa + (1 - w) * pb, axis=1)] == y_val)) for w in grid]
        else:
            pa, pb = champion.predict(X_val), new.predict(X_val)
            scores = [-float(np.mean((w * pa + (1 - w) * pb - y_val.astype(float)) ** 2)) for w in grid]
        best = max(scores)
        # ties go to the weight nearest 0.5: two voices when the validation rows cannot tell them apart
        weight = min((w for w, s in zip(grid, scores) if s >= best - 1e-12), key=lambda w: abs(w - 0.5))
        note = f"weight {weight:.1f} on the champion chosen on {n_val} validation rows of the new data"
    return EnsembleChoice(_voting(champion, new, weight, clf), weight, n_val, note)


def _voting(champion: Any, new: Any, weight: float, clf: bool) -> Any:
    """A fitted VotingClassifier / VotingRegressor over two already fitted pipelines (no refit)."""
    import numpy as np
    from sklearn.ensemble import VotingClassifier, VotingRegressor
    from sklearn.preprocessing import LabelEncoder

    members = [("champion", champion), ("new", new)]
    weights = np.array([float(weight), float(1 - weight)])  # an array: skl2onnx sums it when exporting
    if clf:
        model = VotingClassifier(members, voting="soft", weights=weights, flatten_transform=False)
        model.le_ = LabelEncoder().fit(np.asarray(new.classes_))
        model.classes_ = model.le_.classes_
    else:
        model = VotingRegressor(members, weights=weights)
    model.estimators_ = [champion, new]
    return model


def train_by_mode(
    tracker: Tracker,
    project: str,
    mode: str,
    *,
    champion: ModelVersionInfo,
    cfg: dict[str, Any],
    data_run: str,
    n_reference: int,
    model_name: str,
    say: Callable[[str], None] | None = None,
    seed: int = 0,
) -> tuple[ModelVersionInfo, str]:
    """Fit the challenger of a non-study mode on ``data_run``'s training rows and register it; return it and a note."""
    from core.models import model_tags, spec_from_tags
    from core.tracking.datasets import load_dataset, load_split
    from core.tracking.models import load_sklearn_model, register_trained

    say = say or (lambda _m: None)
    family, task, target = cfg["family"], cfg["task"], cfg["target"]
    check_mode(mode, family, task)
    spec = spec_from_tags(champion.tags)
    frame = load_dataset(tracker, data_run)
    parts = training_parts(frame, load_split(tracker, data_run), n_reference, target, spec)
    params = dict(cfg["params"])
    say(f"Retraining by {mode}: {MODE_HELP[mode]}")
    note = f"{len(parts.X_new):,} new and {len(parts.X_old):,} earlier training rows"
    if mode == "refit":
        from core.models import build_pipeline

        model = build_pipeline(family, task, spec, params, seed).fit(parts.X, parts.y)
    else:
        base = load_sklearn_model(tracker, champion)
        if mode == "fine-tune":
            model = fine_tune(base, family, task, parts, seed)
            note = f"fitted on the {len(parts.X_new):,} new training rows only"
        elif mode == "incremental":
            model = incremental(base, family, task, parts, seed)
            note = f"{len(parts.X_new):,} new training rows with a replay sample of the earlier ones"
        else:
            choice = ensemble(base, family, task, spec, params, parts, seed)
            model, note = choice.model, choice.note
    tags = model_tags(spec=spec, target=target, task=task, family=family, data_version=data_run, params=params)
    tags.update({"workbench.retrain_mode": mode, "workbench.source_version": champion.label,
                 "workbench.train_part": "train"})
    with tracker.stage_run(project, "tune", name=f"retrain by {mode}: {family} from {champion.label}",
                           inputs=[champion.run_id, data_run],
                           tags={"workbench.retrain_mode": mode}) as rid:
        mv = register_trained(tracker, rid, model, parts.X, project=project, tags=tags, artifact_path="model",
                              model_name=model_name,
                              description=f"Retrained by {mode} from {champion.label} ({note}).")
    return mv, note
