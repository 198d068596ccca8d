"""A real study on penguins: pruning prunes, MLflow children match trials 1:1, failures are recorded,
and the best model is registered."""

from __future__ import annotations

import json
import statistics

import optuna
import pytest

from core.errors import TuneError
from core.tracking.tune import trial_children
from core.tune.records import trial_run_ids
from core.tune.inspect import FIGURES, study_figure, trials_frame
from core.tune.storage import list_studies, make_storage
from core.tune.study import StudyConfig, finalize_study, open_study, run_trials
from tests.tune_data import penguins, save_version

PROJECT = "tune-it"
# n_neighbors up to 300 on ~222 training rows per fold: the enqueued 300 raises in predict (a real failing trial).
SPACE = {"n_neighbors": {"kind": "int", "low": 1, "high": 300, "log": True}, "weights": ["uniform", "distance"]}


@pytest.fixture()
def version(tracker):  # noqa: ANN001, ANN201
    frame = penguins()
    split = ["test" if i % 5 == 0 else "train" for i in range(len(frame))]
    import pandas as pd

    return save_version(tracker, PROJECT, frame, split=pd.Series(split))


def test_study_prunes_records_one_child_per_trial_and_registers_best(
        tracker, settings, version) -> None:  # noqa: ANN001
    storage = make_storage(settings.optuna_storage)
    config = StudyConfig.create(project=PROJECT, data_run_id=version.run_id, target="species", task="classification",
                                family="knn", space=SPACE, study_name="knn-penguins", n_trials=14, cv_folds=3,
                                pruner="median", sampler="tpe", seed=3)
    seen: list[tuple[int, str]] = []
    result = run_trials(config, storage, tracker, enqueue_params=[{"n_neighbors": 300, "weights": "uniform"}],
                        on_trial=lambda r, t: seen.append((t.number, t.state.name)))
    study, _ = open_study(storage, "knn-penguins")
    trials = study.get_trials()
    states = [t.state.name for t in trials]

    # the budget is spent, every trial was reported, and the states add up
    assert len(trials) == 14 and [n for n, _ in seen] == list(range(14))
    assert (result.n_complete, result.n_pruned, result.n_failed) == (
        states.count("COMPLETE"), states.count("PRUNED"), states.count("FAIL"))
    # the enqueued params ran first and failed with the estimator's message; the study went on
    assert trials[0].params == {"n_neighbors": 300, "weights": "uniform"} and trials[0].state.name == "FAIL"
    assert "n_neighbors" in trials[0].user_attrs["workbench.fail_reason"]
    # the median pruner really pruned, after fewer folds than the full CV
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    assert pruned, f"nothing was pruned: {states}"
    assert all(len(t.intermediate_values) < 3 for t in pruned)  # a trial that ran every fold is never PRUNED
    assert all(t.state.name in ("COMPLETE", "FAIL") for t in trials if len(t.intermediate_values) == 3)

    # MLflow: one child per finished trial, matched by trial number, with state, params and fold metrics
    children = trial_children(tracker, PROJECT, result.parent_run_id)
    assert sorted(children) == [t.number for t in trials]
    assert all(len(ids) == 1 for ids in children.values())
    for t in trials:
        run = tracker.get_run(children[t.number][0])
        assert run.tags["optuna.state"] == t.state.name
        assert run.tags["optuna.study_name"] == "knn-penguins" and run.tags["workbench.stage"] == "tune"
        assert run.tags["mlflow.parentRunId"] == result.parent_run_id
        assert run.params["n_neighbors"] == str(t.params["n_neighbors"])
        # a pruned trial ended as designed: FINISHED (not MLflow's red KILLED), its state in a tag and its name
        assert run.status == {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}[t.state.name]
        assert run.name == f"knn-penguins-trial-{t.number}" + (" (pruned)" if t.state.name == "PRUNED" else "")
        assert not {"accuracy", "accuracy_partial", "best_value"} & set(run.metrics)  # no ambiguous keys
        folds = tracker.client.get_metric_history(run.run_id, "fold_accuracy")
        assert sorted(m.step for m in folds) == list(range(len(t.intermediate_values)))
        assert run.metrics["folds_run"] == len(folds)
        if t.state.name in ("COMPLETE", "PRUNED"):
            # cv_accuracy is the mean over the folds that ran (what Optuna optimised), logged once
            (cv,) = tracker.client.get_metric_history(run.run_id, "cv_accuracy")
            mean = sum(m.value for m in folds) / len(folds)
            assert cv.step == 0 and cv.value == pytest.approx(mean)
            if len(folds) >= 2:  # the spread of a single fold is not a number: not logged
                assert run.metrics["cv_accuracy_std"] == pytest.approx(statistics.pstdev(m.value for m in folds))
            else:
                assert "cv_accuracy_std" not in run.metrics
        if t.state.name == "COMPLETE":
            assert len(folds) == 3 and run.metrics["cv_accuracy"] == pytest.approx(t.value)
        if t.state.name == "PRUNED":
            assert len(folds) < 3 and run.metrics["cv_accuracy"] == pytest.approx(t.intermediate_values[len(folds) - 1])
        if t.state.name == "FAIL":
            assert "n_neighbors" in run.tags["optuna.message"]
        assert float(run.tags["workbench.trial.duration_s"]) >= 0

    parent = tracker.get_run(result.parent_run_id)
    assert parent.stage == "tune" and parent.inputs == (version.run_id,)
    assert parent.params["sampler"] == "tpe" and parent.params["pruner"] == "median"
    assert json.loads(parent.params["space"])["n_neighbors"]["high"] == 300
    assert parent.metrics["best_cv_accuracy"] == pytest.approx(result.best_value)
    assert "best_value" not in parent.metrics and "best_accuracy" not in parent.metrics

    # Optuna-native: a plain load_study on the same storage sees the metric's name and each trial's MLflow run
    plain = optuna.load_study(study_name="knn-penguins", storage=storage)
    assert plain.metric_names == ["cv_accuracy"]
    assert trial_run_ids(plain) == {n: ids[0] for n, ids in children.items()}
    assert plain.user_attrs["mlflow_run_id.0"] == children[0][0]
    assert list(trials_frame(plain)["mlflow_run_id"]) == [children[t.number][0] for t in trials]
    assert "cv_accuracy" in trials_frame(plain).columns
    try:  # optuna-dashboard's own loader and serializer when it is installed (it is not a requirement)
        from optuna_dashboard._named_objectives import get_objective_names
        from optuna_dashboard._storage_url import get_storage
    except ImportError:
        pass
    else:
        loaded = get_storage(settings.optuna_storage)
        dashboard = optuna.load_study(study_name="knn-penguins", storage=loaded)
        assert get_objective_names(loaded.get_study_system_attrs(dashboard._study_id)) == ["cv_accuracy"]
        assert trial_run_ids(dashboard) == trial_run_ids(plain)

    # the best configuration is refitted on the training split, registered with tags, loadable, and predicts
    mv = finalize_study(config, storage, tracker)
    assert mv.name in (PROJECT, f"{PROJECT}-species") and mv.tags["workbench.study"] == "knn-penguins"
    # the training facts: version tags in older stores, the MLflow 3 logged model's params now (issue 16)
    facts = {**(tracker.client.get_logged_model(mv.model_id).params if mv.model_id else {}), **mv.tags}
    assert facts["workbench.metric"] == "accuracy" and float(facts["workbench.metric_value"]) == pytest.approx(
        result.best_value, rel=1e-5)
    assert json.loads(facts["workbench.params"]) == result.best_params
    assert facts["workbench.data_version"] == version.run_id and facts["workbench.train_part"] == "train"
    from core.tracking.datasets import load_dataset
    from core.tracking.models import load_sklearn_model

    model = load_sklearn_model(tracker, mv)
    test = load_dataset(tracker, version.run_id, part="test")
    accuracy = (model.predict(test.drop(columns=["species"])) == test["species"]).mean()
    assert accuracy > 0.8
    assert finalize_study(config, storage, tracker).version == mv.version  # idempotent for the same best trial
    assert tracker.get_run(result.parent_run_id).status == "FINISHED"

    # inspection helpers work on the finished study
    assert [s.name for s in list_studies(storage)] == ["knn-penguins"]
    assert len(trials_frame(study, best_k=3)) == 3
    assert set(trials_frame(study, states=("PRUNED",))["state"]) == {"PRUNED"}
    for kind in FIGURES:
        fig, why = study_figure(study, kind)
        assert fig is not None, (kind, why)


def test_a_study_cannot_change_its_configuration_and_bad_data_is_refused(
        tracker, settings, version) -> None:  # noqa: ANN001
    storage = make_storage(settings.optuna_storage)
    base = dict(project=PROJECT, data_run_id=version.run_id, target="species", task="classification",
                family="linear", study_name="lin", n_trials=2)
    run_trials(StudyConfig.create(**base), storage, tracker)
    with pytest.raises(TuneError, match="already exists with a different model family"):
        run_trials(StudyConfig.create(**{**base, "family": "knn"}), storage, tracker)
    # a larger budget resumes the same study
    result = run_trials(StudyConfig.create(**{**base, "n_trials": 3}), storage, tracker)
    assert result.n_complete + result.n_pruned + result.n_failed == 3
    with pytest.raises(TuneError, match="fewer than the 3 folds"):
        tiny = save_version(tracker, PROJECT, penguins(40).assign(species=["a"] * 38 + ["b"] * 2), name="tiny")
        run_trials(StudyConfig.create(**{**base, "data_run_id": tiny.run_id, "study_name": "tiny"}), storage, tracker)
    with pytest.raises(TuneError, match="single class"):
        one = save_version(tracker, PROJECT, penguins(40).assign(species="Adelie"), name="one")
        run_trials(StudyConfig.create(**{**base, "data_run_id": one.run_id, "study_name": "one"}), storage, tracker)
    with pytest.raises(TuneError, match="Cannot reach the Optuna storage"):
        make_storage("sqlite:////nonexistent-dir/sub/optuna.db")
