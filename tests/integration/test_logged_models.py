"""MLflow-native records of trained models, read back with the plain MlflowClient (issue 16 items 1, 2, 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient

from core.compare.gate import promote, set_challenger
from tests.compare_seed import build_seeded_home, train_and_register, use_copy

P, M = "irisproj", "irisproj-species"


@pytest.fixture()
def tracker(tmp_path: Path, _template_store: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    build_seeded_home(tmp_path / "seed", _template_store)
    return use_copy(tmp_path / "seed", tmp_path / "ws", monkeypatch)


def test_versions_come_from_logged_models_with_their_data_and_gate_keys_stay_bounded(tracker) -> None:  # noqa: ANN001
    client = MlflowClient(tracker.settings.tracking_uri)
    exp = client.get_experiment_by_name(P)
    logged = client.search_logged_models(experiment_ids=[exp.experiment_id])
    assert len(logged) == 2 and {m.status.name if hasattr(m.status, "name") else str(m.status) for m in logged} \
        <= {"READY", "LoggedModelStatus.READY"}
    for mv in client.search_model_versions(f"name = '{M}'"):
        # registered from the logged model (MLflow 3.17's SQL registry keeps no model_id column: the source names it)
        assert mv.source.startswith("models:/m-")
        model = client.get_logged_model(mv.source.removeprefix("models:/"))
        assert {"name": M, "version": mv.version} in json.loads(model.tags["mlflow.modelVersions"])
        assert model.source_run_id == mv.run_id and model.experiment_id == exp.experiment_id
        assert "workbench.features" in model.params and "workbench.features" not in mv.tags  # a short registry row
        assert len(mv.tags) <= 8
        run = client.get_run(mv.run_id)
        contexts = {i.tags[0].value for i in run.inputs.dataset_inputs}
        assert contexts == {"training"}  # the model's run names the data it was trained on
    rm = client.get_registered_model(M)
    assert rm.tags["workbench.target"] == "species" and rm.tags["workbench.task"] == "classification"

    first = promote(tracker, P, 1, "iris", "accuracy", 0.0)
    set_challenger(tracker, P, 2)
    second = promote(tracker, P, 2, "iris", "accuracy", 0.0)
    keys = [set(client.get_run(d.run_id).data.metrics) for d in (first, second)]
    assert keys[1] - keys[0] <= {"champion.accuracy", "p_value", "ci_low", "ci_high", "improvement"}
    from core.tracking.datasets import resolve_dataset

    third_model = train_and_register(tracker, P, resolve_dataset(tracker, P, "iris"), "species", "linear", {"C": 0.5})
    set_challenger(tracker, P, third_model.version)
    third = promote(tracker, P, third_model.version, "iris", None, 0.0)
    assert set(client.get_run(third.run_id).data.metrics) == keys[1]  # no new metric key for a new version
    gate = client.get_run(second.run_id)
    assert {i.tags[0].value for i in gate.inputs.dataset_inputs} == {"evaluation"}
    assert gate.data.params["model"] == M and gate.data.params["challenger_version"] == "2"
