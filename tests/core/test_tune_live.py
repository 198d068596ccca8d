"""One read of a study for the Tune page's live view: counters, figures and the trials table agree."""

from __future__ import annotations

import optuna

from core.tune.inspect import study_figure, trials_frame
from core.tune.live import snapshot_study
from core.tune.study import CONFIG_ATTR, StudyConfig


def _study(tmp_path) -> tuple[optuna.storages.BaseStorage, str]:  # noqa: ANN001
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'optuna.db'}")
    config = StudyConfig.create(project="p", data_run_id="r", target="y", task="classification", family="linear",
                                space={"C": {"kind": "float", "low": 0.01, "high": 10, "log": True}},
                                study_name="live", n_trials=10)
    study = optuna.create_study(study_name="live", storage=storage, direction="maximize")
    study.set_user_attr(CONFIG_ATTR, config.to_json())
    study.set_metric_names(["cv_accuracy"])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(lambda t: t.suggest_float("C", 0.01, 10, log=True) / 10, n_trials=4)
    study.ask({"C": optuna.distributions.FloatDistribution(0.01, 10, log=True)})  # a trial still running
    return storage, "live"


def test_the_snapshot_agrees_with_itself_and_does_not_move_while_the_study_runs(tmp_path) -> None:  # noqa: ANN001
    storage, name = _study(tmp_path)
    snap = snapshot_study(storage, name)
    p = snap.progress
    assert (p.n_complete, p.n_running, p.counted) == (4, 1, 4)
    table = trials_frame(snap.study)
    assert list(table["state"]).count("COMPLETE") == p.n_complete and list(table["state"]).count("RUNNING") == 1
    assert "cv_accuracy" in table.columns  # the metric name came along with the trials
    assert study_figure(snap.study, "importances")[0] is not None  # 4 complete trials with varied C

    # the live study moves on; the snapshot (what one refresh of the page shows) does not
    live = optuna.load_study(study_name=name, storage=storage)
    live.optimize(lambda t: t.suggest_float("C", 0.01, 10, log=True) / 10, n_trials=3)
    assert len(trials_frame(snap.study)) == 5 and snap.study.user_attrs[CONFIG_ATTR] == live.user_attrs[CONFIG_ATTR]
    again = snapshot_study(storage, name)
    assert (again.progress.n_complete, again.progress.n_running) == (7, 1)
    assert len(trials_frame(again.study)) == 8
