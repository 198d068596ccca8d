"""Trials' child runs are written by the worker as each trial ends: a tracking hiccup is retried without
duplicates, a tracking outage neither stops the study nor loses a child run, and an older study gets its
metric name and trial run ids when it is resumed."""

from __future__ import annotations

import pytest

import core.tune.records as records
from core.tracking.tune import trial_children
from core.tune.storage import make_storage
from core.tune.study import StudyConfig, create_or_load_study, finalize_study, open_study, run_trials
from tests.tune_data import penguins, save_version

PROJECT = "tune-flaky"
SPACE = {"n_neighbors": {"kind": "int", "low": 1, "high": 30}, "weights": ["uniform", "distance"]}


@pytest.fixture()
def setup(tracker, settings, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setattr(records, "WRITE_BACKOFF_S", 0.0)
    version = save_version(tracker, PROJECT, penguins(120))
    return make_storage(settings.optuna_storage), version


def _config(version, name: str, n: int) -> StudyConfig:  # noqa: ANN001
    return StudyConfig.create(project=PROJECT, data_run_id=version.run_id, target="species", task="classification",
                              family="knn", space=SPACE, study_name=name, n_trials=n, pruner="none",
                              sampler="random", seed=1)


def _one_child_per_trial(tracker, storage, name: str, parent: str) -> dict[int, list[str]]:  # noqa: ANN001
    study, _ = open_study(storage, name)
    children = trial_children(tracker, PROJECT, parent)
    assert sorted(children) == [t.number for t in study.get_trials()]
    assert all(len(ids) == 1 for ids in children.values()), children
    return children


def test_a_failed_write_is_retried_without_leaving_a_half_written_child(tracker, setup, monkeypatch) -> None:  # noqa: ANN001
    storage, version = setup
    real = tracker.client.log_batch
    calls = {"n": 0}

    def flaky(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if any(m.key.startswith("cv_") for m in kwargs.get("metrics") or ()):  # a trial's child run
            calls["n"] += 1
            if calls["n"] in (1, 3, 4):  # after create_run succeeded: the partial child must go
                raise ConnectionError("tracking server hiccup")
        return real(*args, **kwargs)

    monkeypatch.setattr(tracker.client, "log_batch", flaky)
    result = run_trials(_config(version, "flaky", 4), storage, tracker)
    assert calls["n"] >= 4 + 3  # every trial logged once, plus the three retried writes
    children = _one_child_per_trial(tracker, storage, "flaky", result.parent_run_id)
    for number, (run_id,) in children.items():
        run = tracker.client.get_run(run_id)
        assert run.info.status == "FINISHED" and run.data.params and "cv_accuracy" in run.data.metrics, number


def test_a_tracking_outage_does_not_stop_the_study_and_finalising_writes_the_missing_children(
        tracker, setup, monkeypatch, capsys) -> None:  # noqa: ANN001
    storage, version = setup
    create_or_load_study(_config(version, "outage", 3), storage, tracker)  # the parent run exists
    real = tracker.client.create_run
    monkeypatch.setattr(tracker.client, "create_run",
                        lambda *a, **k: (_ for _ in ()).throw(ConnectionError("MLflow is down")))
    result = run_trials(_config(version, "outage", 3), storage, tracker)
    study, _ = open_study(storage, "outage")
    assert result.n_complete == 3 and len(study.get_trials()) == 3  # the search went on
    assert "could not record trial" in capsys.readouterr().err
    assert trial_children(tracker, PROJECT, result.parent_run_id) == {}

    monkeypatch.setattr(tracker.client, "create_run", real)  # MLflow is back
    mv = finalize_study(_config(version, "outage", 3), storage, tracker)
    assert mv.version
    _one_child_per_trial(tracker, storage, "outage", result.parent_run_id)


def test_trials_failed_by_the_heartbeat_on_another_host_get_their_child_run(tracker, setup) -> None:  # noqa: ANN001
    """Across machines, pids say nothing; the heartbeat's retry record says the worker died."""
    import optuna
    from optuna.distributions import IntDistribution

    from core.tune.objective import WORKER_ATTR
    from core.tune.records import log_missing_children

    storage, version = setup
    config = _config(version, "elsewhere", 3)
    study = create_or_load_study(config, storage, tracker)
    dist = {"n_neighbors": IntDistribution(1, 30)}
    for number, owner in enumerate(["other-host:11", "other-host:12"]):
        study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, params={"n_neighbors": 5},
                                                  distributions=dist, user_attrs={WORKER_ATTR: owner}))
    # trial 0 was failed by the heartbeat (the retry callback queued a copy); trial 1 is its live worker's own
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.WAITING, params={"n_neighbors": 5},
                                              distributions=dist, system_attrs={"retry_history": [0]}))
    parent = study.user_attrs["workbench.parent_run_id"]
    assert log_missing_children(tracker, config, parent, study) == [0]
    assert sorted(trial_children(tracker, PROJECT, parent)) == [0]
    assert log_missing_children(tracker, config, parent, study) == []  # never twice


def test_a_study_written_before_metric_names_and_run_ids_gets_them_when_it_is_resumed(
        tracker, setup, monkeypatch) -> None:  # noqa: ANN001
    import optuna

    import core.tune.study as study_module

    storage, version = setup
    with monkeypatch.context() as old_code:  # what the workbench wrote before: no metric name, no run ids
        old_code.setattr(records, "remember_run_id", lambda *a: None)
        old_code.setattr(study_module, "name_objective", lambda *a: None)
        result = run_trials(_config(version, "old", 2), storage, tracker)
    plain = optuna.load_study(study_name="old", storage=storage)
    assert plain.metric_names is None and records.trial_run_ids(plain) == {}

    run_trials(_config(version, "old", 3), storage, tracker)  # resumed with a larger budget
    plain = optuna.load_study(study_name="old", storage=storage)
    assert plain.metric_names == ["cv_accuracy"]
    children = _one_child_per_trial(tracker, storage, "old", result.parent_run_id)
    assert records.trial_run_ids(plain) == {n: ids[0] for n, ids in children.items()} and len(children) == 3
