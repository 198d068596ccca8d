"""Closing the loop: a retraining policy per project, and the retrain that ends at the gate.

Policy (JSON in ``<workspace>/monitor/<project>/retrain_policy.json`` and as the
experiment tag ``workbench.retrain_policy``): retrain every ``interval_days``
and / or when the drift share reaches ``max_drift_share`` or the champion's
quality drops by more than ``max_quality_drop``.

:func:`retrain`:

1. reads the champion's configuration from its tags (family, params, target,
   task, features, training data version);
2. with ``if_drift``, checks the current batch first and stops (recording a
   ``skipped`` decision) when the policy is not triggered;
3. saves a new dataset version = the reference (with its split) + the newly
   labelled current rows (as training rows);
4. trains the challenger by the policy's mode (:mod:`core.monitor.retrain_modes`): by default a
   short Optuna study warm-started with the champion's params (``core.tune.run_trials(enqueue_params=…)``,
   best model registered by ``finalize_study``); or refit, fine-tune, incremental or ensemble. The
   challenger gets the ``challenger`` alias;
5. runs the Compare stage's promotion gate on the new version's test split;
6. records a ``retrain`` stage run with the decision.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import MonitorError, TrackingError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.tracking import Tracker
    from core.tracking.models import ModelVersionInfo

POLICY_TAG = "workbench.retrain_policy"
DAY_MS = 86_400_000


@dataclass(frozen=True)
class RetrainPolicy:
    """When to retrain, and how hard."""

    interval_days: float | None = None
    max_drift_share: float | None = 0.5
    max_quality_drop: float | None = 0.05
    gate_metric: str = ""  # default: accuracy / rmse
    gate_margin: float = 0.0
    n_trials: int = 5
    mode: str = "study"  # how the challenger learns the new rows: core.monitor.retrain_modes.MODES

    def __post_init__(self) -> None:
        from core.monitor.retrain_modes import check_mode

        check_mode(self.mode)
        if self.interval_days is not None and self.interval_days <= 0:
            raise MonitorError(f"The retraining interval must be a positive number of days. Got {self.interval_days} instead.")
        if self.max_drift_share is not None and not 0 < self.max_drift_share <= 1:
            raise MonitorError(f"The drift-share trigger must be in (0, 1]. Got {self.max_drift_share} instead.")
        if self.max_quality_drop is not None and self.max_quality_drop < 0:
            raise MonitorError(f"The quality-drop trigger must be ≥ 0. Got {self.max_quality_drop} instead.")
        if not 1 <= int(self.n_trials) <= 200:
            raise MonitorError(f"The retraining trial budget must be an int in [1, 200]. Got {self.n_trials} instead.")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RetrainPolicy:
        try:
            data = json.loads(text)
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (TypeError, ValueError) as err:
            raise MonitorError(f"The stored retraining policy cannot be read: {err}.") from err


@dataclass(frozen=True)
class RetrainResult:
    triggered: bool
    reason: str
    run_id: str
    data_version: str = ""
    challenger: ModelVersionInfo | None = None
    decision: Any = None  # core.compare.gate.GateDecision
    queued_version: str = ""
    mode: str = "study"

    @property
    def summary(self) -> str:
        if not self.triggered:
            return f"No retraining: {self.reason}"
        verdict = "promoted" if self.decision and self.decision.passed else "not promoted"
        label = self.challenger.label if self.challenger else "?"
        cautions = "".join(f" Caution: {c}" for c in getattr(self.decision, "cautions", ()) or ())
        how = "" if self.mode == "study" else f" by {self.mode}"
        return f"Retrained {label}{how} ({self.reason}); gate: {verdict} — {getattr(self.decision, 'reason', '')}{cautions}"


def _policy_path(tracker: Tracker, project: str) -> Path:
    return tracker.settings.home / "monitor" / project / "retrain_policy.json"


def save_policy(tracker: Tracker, project: str, policy: RetrainPolicy) -> Path:
    """Write the policy to the workspace and to the project's experiment tag."""
    from core.tracking.monitor import set_project_tag

    path = _policy_path(tracker, project)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(policy.to_json())
    set_project_tag(tracker, project, POLICY_TAG, policy.to_json())
    return path


def load_policy(tracker: Tracker, project: str) -> RetrainPolicy:
    """The project's policy (workspace file, else experiment tag, else defaults)."""
    from core.tracking.monitor import project_tags

    path = _policy_path(tracker, project)
    if path.exists():
        return RetrainPolicy.from_json(path.read_text())
    tag = project_tags(tracker, project).get(POLICY_TAG)
    return RetrainPolicy.from_json(tag) if tag else RetrainPolicy()


def should_retrain(policy: RetrainPolicy, *, drift_share: float | None = None, quality_drop: float | None = None,
                   last_retrain_ms: int | None = None, now_ms: int | None = None) -> tuple[bool, str]:
    """Whether the policy fires, and why (first reason that applies)."""
    now_ms = now_ms or int(time.time() * 1000)
    if policy.max_drift_share is not None and drift_share is not None and drift_share >= policy.max_drift_share:
        return True, f"drift share {drift_share:.2f} ≥ {policy.max_drift_share:.2f}"
    if policy.max_quality_drop is not None and quality_drop is not None and quality_drop > policy.max_quality_drop:
        return True, f"quality drop {quality_drop:.3f} > {policy.max_quality_drop:.3f}"
    if policy.interval_days is not None:
        if last_retrain_ms is None:
            return True, "scheduled (no retraining yet)"
        age = (now_ms - last_retrain_ms) / DAY_MS
        if age >= policy.interval_days:
            return True, f"scheduled ({age:.1f} days since the last retraining ≥ {policy.interval_days:g})"
    return False, "the policy's thresholds were not reached"


def champion_config(tracker: Tracker, project: str, model_name: str | None = None
                    ) -> tuple[ModelVersionInfo, dict[str, Any]]:
    """The champion of ``model_name`` (default: the project's only registered model) and its training configuration."""
    from core.compare.loading import default_model
    from core.errors import CompareError
    from core.tracking.models import get_model_version

    try:
        name = model_name or default_model(tracker, project)
        champion = get_model_version(tracker, name, "champion")
    except CompareError as err:
        if "no registered model yet" in str(err):
            raise MonitorError(f"Project {project!r} has no champion model yet (no registered model); tune and "
                               "promote one in Compare before retraining.") from err
        raise MonitorError(f"{err} (retrain --model NAME picks one)") from err
    except TrackingError as err:
        raise MonitorError(f"{name!r} has no champion model yet; promote one in Compare before retraining.") from err
    t = champion.tags
    try:
        config = {"family": t["workbench.family"], "target": t["workbench.target"], "task": t["workbench.task"],
                  "data_version": t["workbench.data_version"], "params": json.loads(t.get("workbench.params", "{}")),
                  "features": json.loads(t.get("workbench.features", "[]"))}
    except (KeyError, ValueError) as err:
        raise MonitorError(f"{champion.label} lacks the workbench training tags, so it cannot be retrained.") from err
    return champion, config


def queue_for_labelling(tracker: Tracker, project: str, rows: pd.DataFrame, target: str, name: str) -> str:
    """Save ``rows`` as a new dataset version with an empty ``target`` column (the Label queue reads it)."""
    from core.tracking.datasets import log_dataset_version

    if rows.empty:
        raise MonitorError("There are no rows to send to labelling.")
    frame = rows.copy()
    frame[target] = None
    with tracker.stage_run(project, "monitor", name=f"to label: {name}") as rid:
        version = log_dataset_version(tracker, rid, project, frame.reset_index(drop=True), name, target=target,
                                      source="monitor: drifted rows")
        tracker.set_tags(rid, {"workbench.label.queue": "true"})
    return version.run_id


def conform_rows(rows: pd.DataFrame, reference: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """New labelled rows in the reference's columns and types, ready to append to it.

    Text read from a CSV is converted to the reference's dates / numbers (values that do
    not convert become missing). Refused when the rows lack, or have no value at all in, a
    feature the model reads: the batch is raw or of another shape, and training on it would
    teach the model nothing but missing values.

    Raises:
        MonitorError: naming the missing features.
    """
    import pandas as pd

    if rows.empty:
        return rows.reindex(columns=reference.columns)
    missing = [c for c in features if c not in rows.columns]
    empty = [c for c in features if c in rows.columns and rows[c].isna().all()]
    if missing or empty:
        names = ", ".join(map(str, (missing + empty)[:6]))
        raise MonitorError(f"The labelled rows {'lack' if missing else 'have no value in'} the model's feature(s) "
                           f"{names}; a raw batch must be cleaned with the training data's recipe first "
                           f"(`retrain --current FILE` replays it), or the batch has another shape.")
    out = rows[[c for c in reference.columns if c in rows.columns]].copy()
    for c in out.columns:
        ref_type, new = reference[c].dtype, out[c]
        if new.dtype == ref_type:
            continue
        if pd.api.types.is_datetime64_any_dtype(ref_type):
            tz = getattr(ref_type, "tz", None)
            try:
                converted = pd.to_datetime(new, errors="coerce", format="mixed", utc=tz is not None)
            except (TypeError, ValueError):  # mixed UTC offsets in a naive column
                converted = pd.to_datetime(new, errors="coerce", format="mixed", utc=True).dt.tz_localize(None)
            out[c] = converted.dt.tz_convert(tz) if tz is not None else converted
        elif pd.api.types.is_numeric_dtype(ref_type) and not pd.api.types.is_bool_dtype(ref_type):
            out[c] = pd.to_numeric(new, errors="coerce")
        elif pd.api.types.is_object_dtype(ref_type):
            out[c] = new.astype(object).where(new.notna(), None)
    return out


def _last_retrain_ms(tracker: Tracker, project: str) -> int | None:
    runs = [r for r in tracker.runs(project, stage="retrain") if r.tags.get("workbench.retrain.decision") not in (None, "skipped")]
    return runs[0].start_time if runs else None


def retrain(
    tracker: Tracker,
    project: str,
    policy: RetrainPolicy | None = None,
    *,
    current: pd.DataFrame | None = None,
    current_run: str = "",
    if_drift: bool = False,
    on_progress: Callable[[str], None] | None = None,
    check_run: str = "",
    model_name: str | None = None,
    mode: str | None = None,
) -> RetrainResult:
    """Retrain the champion's configuration on reference + newly labelled rows and send it to the gate.

    ``check_run`` is the monitor run that looked at ``current`` (the page passes it): it joins the
    retrain run's inputs, so the lineage reads monitoring check → retrain. ``mode`` overrides the
    policy's retraining mode for this run.

    Raises:
        MonitorError: no champion, or the champion cannot be retrained.
    """
    import pandas as pd

    from core.monitor.drift import detect_drift
    from core.tracking.datasets import load_dataset, load_split, log_dataset_version, resolve_dataset

    from core.monitor.retrain_modes import check_mode

    say = on_progress or (lambda _m: None)
    policy = policy or load_policy(tracker, project)
    if mode:
        policy = replace(policy, mode=mode)
    champion, cfg = champion_config(tracker, project, model_name)
    target, task, family = cfg["target"], cfg["task"], cfg["family"]
    check_mode(policy.mode, family, task)  # refused before anything is written
    reference = load_dataset(tracker, cfg["data_version"])
    split = load_split(tracker, cfg["data_version"])
    features = [c for c in cfg["features"] if c in reference.columns]
    labelled = pd.DataFrame(columns=reference.columns)
    drift_share = quality_drop = None
    if current is not None and len(current):
        cols = [c for c in features if c in current.columns]
        drift_share = detect_drift(reference, current, columns=cols).drift_share
        if target in current.columns:
            labelled = current[current[target].notna()]
        if len(labelled) and if_drift:
            from core.monitor.quality import model_quality
            from core.models import spec_from_tags
            from core.tracking.models import load_sklearn_model

            from core.monitor.check import Table
            from core.monitor.heldout import held_out_reference, without_training_rows

            # Monitor's definition of the quality drop: the baseline is the reference's held-out rows and both
            # sides leave out rows the champion was trained on (on those it looks better than it is)
            base = held_out_reference(tracker, Table(reference, "the reference", cfg["data_version"], target),
                                      champion, target)
            scored = without_training_rows(tracker, labelled, champion, target)
            if not base.empty and not scored.empty:
                model = load_sklearn_model(tracker, champion)
                quality_drop = model_quality(model, spec_from_tags(champion.tags), target, task, base.frame,
                                             scored.frame).drop
    inputs = [r for r in (champion.run_id, cfg["data_version"], current_run, check_run) if r]
    base_params = {"champion": champion.label, "family": family, "target": target, "policy": policy.to_json(),
                   "mode": policy.mode,
                   "if_drift": if_drift, "current_rows": 0 if current is None else len(current),
                   "labelled_rows": len(labelled)}
    if if_drift:
        fire, reason = should_retrain(policy, drift_share=drift_share, quality_drop=quality_drop,
                                      last_retrain_ms=_last_retrain_ms(tracker, project))
    else:
        fire, reason = True, "requested"
    if if_drift:  # say exactly what was evaluated, so "not reached" can never hide "nothing was checked"
        if current is None or not len(current):
            reason += "; no new batch was given or found, so no drift threshold was evaluated"
        else:
            facts = [f"{len(current):,} batch rows", f"drift share {drift_share:.2f} over {len(features)} features "
                     f"(threshold {policy.max_drift_share})" if drift_share is not None else "drift share not computed",
                     f"quality drop {quality_drop:.3f} (threshold {policy.max_quality_drop})" if quality_drop is not None
                     else "quality not checked (the batch has no labels)" if not len(labelled)
                     else "quality not checked (no held-out reference row, or every labelled batch row repeats a "
                          "row the champion was trained on)"]
            reason += f" — evaluated: {'; '.join(facts)}"
    if not fire:
        with tracker.stage_run(project, "retrain", name="retrain skipped", inputs=inputs, params=base_params) as rid:
            tracker.set_tags(rid, {"workbench.retrain.decision": "skipped", "workbench.retrain.reason": reason})
            tracker.log_metrics(rid, {k: v for k, v in {"drift_share": drift_share, "quality_drop": quality_drop}.items()
                                      if v is not None})
        return RetrainResult(False, reason, rid)

    say("Saving the training data (reference + newly labelled rows)")
    new_rows = conform_rows(labelled, reference, features)
    repeats = _repeated_rows(new_rows, reference, [*features, target])
    if repeats:
        say(f"{repeats:,} of the {len(new_rows):,} new rows repeat rows of the reference exactly; the gate leaves "
            "every row a compared model was trained on out of its held-out rows")
    combined = pd.concat([reference, new_rows], ignore_index=True)
    # The new rows get a held-out part of their own (so the gate scores the new distribution on rows neither
    # model saw); the reference keeps its split (its test rows stay held out), or is all training rows.
    batch_split = _batch_split(new_rows, target, task)
    new_split = pd.Series(list(split if split is not None else ["train"] * len(reference)) + batch_split)
    base = resolve_dataset(tracker, project, cfg["data_version"])
    with tracker.stage_run(project, "data", name=f"retrain data ({len(new_rows)} new rows)",
                           inputs=[cfg["data_version"], current_run]) as data_run:
        version = log_dataset_version(tracker, data_run, project, combined, base.name, split=new_split, target=target,
                                      source=f"retrain: {base.ref} + {len(new_rows)} labelled rows")
    if policy.mode == "study":
        say(f"Tuning {family} warm-started from {champion.label}'s parameters")
        mv = _train_challenger(tracker, project, version.run_id, target, task, family, cfg["params"], features,
                               policy, champion.name)
        mode_note = f"a {policy.n_trials}-trial study warm-started from {champion.label}"
    else:
        from core.monitor.retrain_modes import train_by_mode

        mv, mode_note = train_by_mode(tracker, project, policy.mode, champion=champion, cfg=cfg,
                                      data_run=version.run_id, n_reference=len(reference), model_name=champion.name,
                                      say=say)
    from core.compare.gate import promote, set_challenger

    set_challenger(tracker, project, mv.ref)
    say(f"Running the promotion gate for v{mv.version}")
    from core.tracking.models import promotion_metric

    # the registered model's promotion metric wins: the gate never switches metric behind the person's back
    metric = promotion_metric(tracker, mv.name) or policy.gate_metric or None
    from core.compare.gate import DEFAULT_MARGIN

    decision = promote(tracker, project, mv.ref, version.run_id, metric, policy.gate_margin or DEFAULT_MARGIN)
    metric = decision.metric
    with tracker.stage_run(project, "retrain", name=f"retrain v{mv.version}",
                           inputs=[*inputs, version.run_id, mv.run_id, decision.run_id],
                           params={**base_params, "challenger": f"v{mv.version}", "gate_metric": metric,
                                   "gate_margin": policy.gate_margin}) as rid:
        from core.tracking.datasets import log_dataset_inputs

        log_dataset_inputs(tracker, rid, [(version.run_id, "training"), (current_run, "current")])
        tracker.set_tags(rid, {"workbench.retrain.decision": "promoted" if decision.passed else "refused",
                               "workbench.retrain.reason": reason, "workbench.retrain.gate": decision.reason[:4000],
                               "workbench.retrain.mode": policy.mode, "workbench.retrain.mode_note": mode_note[:500],
                               "workbench.model_version": f"{mv.name}/{mv.version}"})
        metrics = {"drift_share": drift_share, "quality_drop": quality_drop, "new_rows": len(new_rows),
                   "new_rows_repeating_reference": repeats, "gate_rows_removed_as_training": decision.removed_rows,
                   "challenger_score": decision.challenger_score, "champion_score": decision.champion_score}
        tracker.log_metrics(rid, {k: v for k, v in metrics.items() if v is not None})
    return RetrainResult(True, reason, rid, version.run_id, mv, decision, mode=policy.mode)


def _repeated_rows(rows: pd.DataFrame, reference: pd.DataFrame, columns: list[str]) -> int:
    """How many of ``rows`` repeat a reference row exactly (same features and target)."""
    if rows.empty:
        return 0
    from core.compare.heldout import row_digests

    seen = set(int(d) for d in row_digests(reference, columns))
    return int(sum(int(d) in seen for d in row_digests(rows, columns)))


def _batch_split(rows: pd.DataFrame, target: str, task: str, test_size: float = 0.2, seed: int = 0) -> list[str]:
    """'train' / 'test' for the new labelled rows: 20 % held out (stratified when the classes allow it)."""
    import math

    import numpy as np

    n = len(rows)
    if n < 5:
        return ["train"] * n
    n_test = math.ceil(test_size * n)
    test = np.random.default_rng(seed).permutation(n)[:n_test]
    if task == "classification" and target in rows.columns:
        counts = rows[target].astype(str).value_counts()
        if counts.min() >= 2 and n_test >= len(counts):
            from sklearn.model_selection import train_test_split

            _, test = train_test_split(np.arange(n), test_size=n_test, stratify=rows[target].astype(str),
                                       random_state=seed)
    labels = np.full(n, "train", dtype=object)
    labels[test] = "test"
    return list(labels)


def _train_challenger(tracker: Tracker, project: str, data_run: str, target: str, task: str, family: str,
                      params: dict[str, Any], features: list[str], policy: RetrainPolicy,
                      model_name: str | None = None) -> ModelVersionInfo:
    """A warm-started Optuna study (Tune stage) → its best model, registered."""
    from core.tune.storage import make_storage
    from core.tune.study import StudyConfig, finalize_study, run_trials

    config = StudyConfig.create(project=project, data_run_id=data_run, target=target, task=task, family=family,
                                study_name=f"retrain-{family}-{time.strftime('%Y%m%d-%H%M%S')}-{data_run[:6]}",
                                n_trials=int(policy.n_trials), features=tuple(features))
    storage = make_storage(tracker.settings.optuna_storage)
    run_trials(config, storage, tracker, enqueue_params=[params])
    mv = finalize_study(config, storage, tracker, model_name=model_name)
    from core.tracking.models import get_model_version

    return replace(get_model_version(tracker, mv.name, mv.version))
