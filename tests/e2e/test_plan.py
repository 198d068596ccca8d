"""Journey: write a charter → start Prefect from the page → schedule monitor-and-retrain on a folder →
drop a drifted batch → Run now → the run completes on the worker, the retrain reaches the gate, the alerts show."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from tests.e2e.conftest import LONG, assert_no_error, shot, start_server, stop_server, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1800)]  # Prefect + a retrain, loaded


def _table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    color = rng.choice(["red", "blue"], n)
    y = np.where(x1 + 0.5 * x2 + (color == "red") > 0.5, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "y": y})


@pytest.fixture()
def seeded(tmp_path):
    from core.monitor.demo import seed_example
    from core.plan import orchestrator
    from core.tracking import Tracker
    from tests.conftest import make_settings

    home = tmp_path / "workspace"
    settings = make_settings(home)
    tracker = Tracker.connect(settings)
    seed_example(tracker, "default", _table(240, 0), "toy", "y")
    server = start_server(home, {"PREFECT_API_URL": ""})
    yield server, settings, tracker
    stop_server(server)
    orchestrator.stop(settings)  # the page started them detached: stop what this workspace started


def _fill(page, label: str, value: str) -> None:  # noqa: ANN001
    page.locator(f'input[aria-label="{label}"], textarea[aria-label="{label}"]').fill(value)


def _click(page, name: str) -> None:  # noqa: ANN001
    page.get_by_role("button", name=name).click()
    wait_idle(page, timeout=240_000)


def test_charter_pipeline_drifted_file_retrain_and_alert(seeded, page, tmp_path) -> None:
    server, settings, tracker = seeded
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    page.goto(f"{server.url}/plan")
    page.locator('input[aria-label="Problem statement"], textarea[aria-label="Problem statement"]').wait_for(
        timeout=LONG)
    wait_idle(page)

    _fill(page, "Problem statement", "Say yes or no from x1, x2 and the colour")
    _fill(page, "Prediction target (column)", "y")
    _fill(page, "Threshold the champion must reach", "0.8")
    _fill(page, "Drift share that triggers retraining", "0.3")
    _click(page, "Save charter")
    page.get_by_text("f1_macro ≥ 0.8").first.wait_for(timeout=LONG)
    shot(page, "plan-charter")

    _click(page, "Start")
    page.get_by_text("open the Prefect UI").wait_for(timeout=2 * LONG)  # a Prefect server and worker start
    _fill(page, "Watch folder (or glob) for new batch files", str(inbox))
    _fill(page, "Trials per retraining", "2")
    _fill(page, "Cron expression", "0 3 1 1 *")  # once a year: only Run now runs it during the test
    _click(page, "Save pipeline")
    page.get_by_role("button", name="Run now").wait_for(timeout=LONG)
    assert_no_error(page)
    shot(page, "plan-scheduled")

    _table(150, 7, shift=2.0).to_csv(inbox / "drifted.csv", index=False)
    landed = time.monotonic()
    _click(page, "Run now")
    page.get_by_text("Queued flow run").wait_for(timeout=LONG)
    deadline = time.monotonic() + 900  # a bound, not a budget: the flow imports, checks and retrains on a loaded box
    latest = page.get_by_text("Latest: monitor-and-retrain run")
    while True:  # the worker runs it; Refresh until the run is final
        _click(page, "Refresh")
        text = latest.inner_text() if latest.count() else ""
        if "Completed" in text or "Failed" in text or "Crashed" in text:
            break
        assert time.monotonic() < deadline, f"the run did not finish in 900 s (last: {text!r})"
    elapsed = time.monotonic() - landed
    assert "Completed" in text, text
    shot(page, "plan-run-done")

    retrains = tracker.runs("default", stage="retrain")
    assert len(retrains) == 1 and retrains[0].tags["workbench.retrain.decision"] in ("promoted", "refused")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("unread alert").wait_for(timeout=LONG)
    sidebar.get_by_text("drifted.csv drifted").wait_for()
    assert page.get_by_text("promoted").count() >= 1  # "v2 promoted" or "v2 not promoted"
    assert_no_error(page)
    shot(page, "plan-alerts")
    print(f"file landed → run final (gate decided) in {elapsed:.1f} s")
