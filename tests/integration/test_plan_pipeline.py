"""Pipelines on a real Prefect 3 server on loopback (one per module, started by the workbench's own code).

The ``monitor-and-retrain`` flow runs over a folder with a clean, an unreadable and a drifted batch: the
clean one changes nothing, the unreadable one fails at ``save-batch`` with the reader's sentence while
the next file still runs, and the drifted one ends in a retrain and a gate decision. Flow run and task
runs are read back from the Prefect API, the lineage from MLflow, the alerts from the workspace and a
webhook receiver on loopback.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.plan import PlanError
from core.plan import orchestrator as orch
from core.plan import runs as pr
from tests.conftest import make_settings


def _table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    color = rng.choice(["red", "blue"], n)
    y = np.where(x1 + 0.5 * x2 + (color == "red") > 0.5, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "y": y})


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded Prefect server of a throw-away workspace (``pipeline serve`` without the worker)."""
    import os

    saved = os.environ.pop("PREFECT_API_URL", None)
    settings = make_settings(tmp_path_factory.mktemp("prefect-ws"))
    try:
        status = orch.start(settings, worker=False, timeout=180)
        again = orch.start(settings, worker=False)  # found again, not doubled
        assert again.server.pid == status.server.pid and again.url == status.url
        yield status.url
    finally:
        try:
            from prefect.logging.handlers import APILogWorker

            APILogWorker.drain_all(timeout=5)  # send the flow-run logs before the server goes away
        finally:
            orch.stop(settings)
        if saved is not None:
            os.environ["PREFECT_API_URL"] = saved


@pytest.fixture()
def api_env(prefect_api: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    return prefect_api


class _Receiver(http.server.BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length", 0))
        _Receiver.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    _Receiver.bodies = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("WORKBENCH_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hook")
    yield _Receiver.bodies
    server.shutdown()
    server.server_close()


def test_monitor_and_retrain_over_a_folder(settings, tracker, api_env, webhook, tmp_path: Path) -> None:
    from core.monitor.demo import seed_example
    from core.plan.charter import Charter, save_charter
    from core.plan.flows import processed
    from core.plan.notify import alerts, mark_read

    _version, champion = seed_example(tracker, "loop", _table(240, 0), "toy", "y")
    save_charter(tracker, "loop", Charter(problem="toy loop", target="y", task="classification", metric="f1_macro",
                                          threshold=0.8, margin=0.0, drift_share=0.3))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _table(120, 5).to_csv(inbox / "a_clean.csv", index=False)
    (inbox / "b_broken.csv").write_text('x1,x2\n1,2,3,4\n"unterminated\n')
    _table(150, 7, shift=2.0).to_csv(inbox / "c_drifted.csv", index=False)
    params = {"project": "loop", "watch": str(inbox), "n_trials": 2, "export": False}

    run_id, state = pr.run_in_foreground(settings, "monitor-and-retrain", params)

    assert state.is_failed()  # the unreadable file fails the run — after the next file still ran
    row = pr.recent_runs(settings, limit=5, flow_run_id=run_id)[0]
    assert row.state == "Failed" and row.failed_task == "save-batch"
    assert row.error.startswith("b_broken.csv failed at save-batch: Line 2 of 'b_broken.csv' has 4 fields")
    tasks = pr.task_runs(settings, run_id)
    names = [t[0] for t in tasks]
    assert names.count("save-batch") == 3 and names.count("check-batch") == 2 and names.count("retrain-and-gate") == 1
    failed = [t for t in tasks if t[1] == "Failed"]
    assert [t[0] for t in failed] == ["save-batch"] and "has 4 fields but the header has 2" in failed[0][2]

    summaries = {Path(v["file"]).name: v["summary"] for v in processed(settings.home, "loop").values()}
    clean, drifted = summaries["a_clean.csv"], summaries["c_drifted.csv"]
    assert clean["file"] == "a_clean.csv" and clean["status"] == "clean" and "retrain_run" not in clean
    assert drifted["file"] == "c_drifted.csv" and drifted["status"] in ("promoted", "refused")

    # lineage from MLflow: retrain ← check ← batch; the gate is a compare run among the retrain's inputs
    retrain = tracker.get_run(drifted["retrain_run"])
    assert retrain.stage == "retrain"
    assert {drifted["check_run"], drifted["batch_run"], champion.run_id, drifted["gate_run"]} <= set(retrain.inputs)
    gate = tracker.get_run(drifted["gate_run"])
    assert gate.stage == "compare" and gate.params["metric"] == "f1_macro"  # the charter's metric
    assert gate.tags["workbench.gate.decision"] == ("passed" if drifted["status"] == "promoted" else "refused")
    batch = tracker.get_run(drifted["batch_run"])
    assert batch.tags["workbench.dataset.kind"] == "batch" and batch.tags["workbench.batch.file"].endswith("c_drifted.csv")
    assert len(tracker.runs("loop", stage="retrain")) == 1  # the clean batch did not retrain

    # processed files are remembered: a second run has nothing to do
    record = processed(settings.home, "loop")
    assert {Path(v["file"]).name: v["status"] for v in record.values()} == {
        "a_clean.csv": "clean", "b_broken.csv": "failed", "c_drifted.csv": drifted["status"]}
    run2, state2 = pr.run_in_foreground(settings, "monitor-and-retrain", params)
    assert state2.is_completed() and pr.task_runs(settings, run2) == []
    # another host (its own workspace record) still skips the saved batches: their keys are in MLflow
    (settings.home / "plan" / "loop" / "processed.json").unlink()
    run3, state3 = pr.run_in_foreground(settings, "monitor-and-retrain", params)
    assert [t[0] for t in pr.task_runs(settings, run3)] == ["save-batch"]  # only the unreadable file, again
    assert state3.is_failed()

    from core.cli import main

    import contextlib
    import io

    out = io.StringIO()  # not capsys: Prefect's console log handler must not bind to a per-test stream
    with contextlib.redirect_stdout(out):
        assert main(["pipeline", "runs", "--json", "--limit", "3"]) == 0
    listed = json.loads(out.getvalue())
    assert listed[0]["id"] == run3 and listed[0]["failed_task"] == "save-batch" and listed[0]["duration_s"] > 0

    # alerts: drift, the gate's outcome and the failed run, in the workspace and on the webhook
    kinds = {a.kind for a in alerts(settings.home, unread_only=True)}
    assert {"drift", "failed"} <= kinds and ({"promotion", "retrain"} & kinds)
    assert {b["kind"] for b in webhook} == kinds and all(a.delivered == "sent" for a in alerts(settings.home))
    unread = alerts(settings.home, unread_only=True)
    assert sum(a.kind == "failed" for a in unread) == 2  # the first and the third run
    assert mark_read(settings.home) == len(unread) == len(webhook) and alerts(settings.home, unread_only=True) == []


def test_schedules_pause_and_run_now_on_the_api(settings, api_env, tmp_path: Path) -> None:
    inbox = tmp_path / "drop"
    inbox.mkdir()
    dep = pr.schedule(settings, "monitor-and-retrain", "sched", cron="*/15 * * * *",
                        parameters={"watch": str(inbox), "n_trials": 2})
    row = next(d for d in pr.deployments(settings) if d.id == dep)
    assert (row.flow, row.name, row.schedule) == ("monitor-and-retrain", "sched", "cron */15 * * * *")
    assert row.parameters["watch"] == str(inbox) and not row.paused
    again = pr.schedule(settings, "monitor-and-retrain", "sched", interval_days=2, parameters={"watch": str(inbox)})
    assert again == dep  # changed, not doubled
    assert next(d for d in pr.deployments(settings) if d.id == dep).schedule == "every 2 days"
    pr.set_paused(settings, "monitor-and-retrain", "sched")
    assert next(d for d in pr.deployments(settings) if d.id == dep).paused
    run = pr.run_now(settings, "monitor-and-retrain", "sched")
    with pr.api(settings) as client:
        assert str(client.read_flow_run(run).deployment_id) == dep

    with pytest.raises(PlanError, match=r"cron expression '99 \* \* \* \*' does not parse"):
        pr.schedule(settings, "monitor-and-retrain", "sched", cron="99 * * * *", parameters={"watch": str(inbox)})
    with pytest.raises(PlanError, match="watch folder .* does not exist"):
        pr.schedule(settings, "monitor-and-retrain", "sched", cron="0 * * * *",
                      parameters={"watch": str(tmp_path / "nope")})
    with pytest.raises(PlanError, match="no pipeline 'tune' for project 'sched'"):
        pr.run_now(settings, "tune", "sched")


def test_unreachable_api_is_one_sentence(settings, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from core.cli import main
    from tests.integration.servers import free_port

    url = f"http://127.0.0.1:{free_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    st = orch.status(settings)
    assert not st.reachable and "does not answer" in st.message
    with pytest.raises(PlanError, match="the rest of the workbench keeps working"):
        pr.recent_runs(settings)
    assert main(["pipeline", "runs"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: The Prefect API at {url} does not answer")
    # bad input before any Prefect call: one sentence, exit 2
    assert main(["pipeline", "schedule", "monitor-and-retrain", "--cron", "every day", "--watch", str(settings.home)]) == 2
    assert capsys.readouterr().err.startswith("error: The cron expression 'every day' does not parse")
    assert main(["pipeline", "run", "monitor-and-retrain", "--watch", str(settings.home / "missing")]) == 2
    assert "does not exist; create it or pick another folder" in capsys.readouterr().err
    settings_free = make_settings(settings.home)  # the tracking store is untouched by the outage
    from core.tracking import Tracker

    assert Tracker.connect(settings_free).health().ok


def test_tune_and_scheduled_retrain_flows_and_the_export_step(settings, tracker, api_env, tmp_path: Path) -> None:
    from core.monitor.demo import seed_example
    from core.plan import stages

    seed_example(tracker, "sched2", _table(200, 1), "toy", "y")
    run_id, state = pr.run_in_foreground(settings, "tune", {"project": "sched2", "data": "toy", "target": "y",
                                                              "family": "linear", "n_trials": 2})
    assert state.is_completed() and [t[0] for t in pr.task_runs(settings, run_id)] == ["tune-study"]
    assert state.result().startswith("sched2-y/")  # the job's registered model, a new version

    run_id, state = pr.run_in_foreground(settings, "scheduled-retrain", {"project": "sched2", "n_trials": 2,
                                                                           "export": False})
    assert state.is_completed()
    assert [t[0] for t in pr.task_runs(settings, run_id)] == ["retrain-and-gate", "notify"]
    out = state.result()
    assert tracker.get_run(out["retrain_run"]).stage == "retrain" and tracker.get_run(out["gate_run"]).stage == "compare"

    exported = stages.export_champion(tracker, "sched2", tmp_path / "bundle")
    assert exported.equivalent and tracker.get_run(exported.run_id).stage == "deploy"
    assert (tmp_path / "bundle").is_dir()
