"""The MLflow UI on the workbench's own store shows what the workbench records (issue 16).

A real store is seeded the way Tune fills it (an iris dataset version, two registered versions
logged as MLflow 3 logged models), then a real ``mlflow server`` is started on that same store and
Chromium checks three views:

1. the experiment's Models tab lists both logged models (by model id) with their registered versions;
2. the runs table's Dataset column shows ``iris:v1`` on both training runs;
3. the registered model page ``#/models/irisproj-species`` lists versions 1 and 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compare_seed import seed_project
from tests.e2e.conftest import shot
from tests.integration.servers import MlflowServer

pytestmark = pytest.mark.e2e

PROJECT = "irisproj"
REGISTERED = "irisproj-species"
WAIT = 120_000  # ms: the machine is shared and loaded


@pytest.fixture()
def mlflow_ui(settings, tracker, tmp_path: Path) -> Iterator[MlflowServer]:  # noqa: ANN001
    seed_project(tracker, PROJECT)
    # the team servers' helper: a port taken before the server binds it is another try
    server = MlflowServer.start(settings.tracking_uri, tmp_path, timeout=120, artifact_root=settings.artifact_root)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def wide_page(browser, request):  # noqa: ANN001, ANN201
    """A page wide enough that the UI's grids render every column (they virtualize off-screen ones)."""
    context = browser.new_context(viewport={"width": 2200, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(WAIT)
    try:
        yield pg
        if getattr(getattr(request.node, "rep_call", None), "failed", False):
            shot(pg, f"FAILED-{request.node.name}")
    finally:
        context.close()


def test_mlflow_ui_shows_models_datasets_and_versions(mlflow_ui: MlflowServer, tracker, wide_page) -> None:  # noqa: ANN001
    page = wide_page
    exp = tracker.client.get_experiment_by_name(PROJECT)
    assert exp is not None
    eid = exp.experiment_id
    models = tracker.client.search_logged_models(experiment_ids=[eid])
    assert len(models) == 2, [m.model_id for m in models]
    training_runs = {m.source_run_id for m in models}
    assert len(training_runs) == 2 and None not in training_runs
    versions = tracker.client.search_model_versions(f"name='{REGISTERED}'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    # The UI opens a new experiment in its GenAI view (where this tab is "Agent versions");
    # workflowType=machine_learning is the "Model training" toggle, whose tabs are Runs / Models / Traces.
    ml = "workflowType=machine_learning"

    # 1. Models tab: both logged models, each linking to its model id, with its registered version.
    page.goto(f"{mlflow_ui.url}/#/experiments/{eid}/models?{ml}")
    page.get_by_role("link", name="Models", exact=True).first.wait_for()
    for m in models:
        link = page.locator(f'a[href="#/experiments/{eid}/models/{m.model_id}"]').first
        link.wait_for(state="visible")
        assert link.inner_text().strip() == m.name
    assert page.locator(f'a[href^="#/experiments/{eid}/models/m-"]').count() == len(models)
    for v in versions:  # the Registered models column links each logged model to its version
        model_id = v.source.removeprefix("models:/")  # the version's source is its logged model
        assert model_id in {m.model_id for m in models}, (v.version, v.source)
        page.locator(f'[row-id="{model_id}"] [col-id="registered_models"] '
                     f'a[href="#/models/{REGISTERED}/versions/{v.version}"]').first.wait_for(state="visible")
    shot(page, "mlflow-ui-models")

    # 2. Runs table: the Dataset column of each training run shows the dataset version's MLflow name.
    page.goto(f"{mlflow_ui.url}/#/experiments/{eid}/runs?{ml}")
    page.locator('[data-testid="sort-header-Dataset"]').first.wait_for(state="visible")
    for run_id in training_runs:
        cell = page.locator(f'[row-id="{run_id}"] [data-testid="open-dataset-drawer"]').first
        cell.wait_for(state="visible")
        assert cell.inner_text().startswith("iris:v1"), cell.inner_text()
        assert page.locator(f'[row-id="{run_id}"]').filter(has_text="Training").count() >= 1
    shot(page, "mlflow-ui-runs-dataset")

    # 3. Registered model page: both versions listed.
    page.goto(f"{mlflow_ui.url}/#/models/{REGISTERED}")
    page.get_by_text(REGISTERED, exact=True).first.wait_for()
    for v in versions:
        link = page.locator(f'a[href="#/models/{REGISTERED}/versions/{v.version}"]').first
        link.wait_for(state="visible")
        assert link.inner_text().strip() == f"Version {v.version}"
    shot(page, "mlflow-ui-registered-model")
