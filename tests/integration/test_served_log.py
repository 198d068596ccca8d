"""The bundle server's prediction log: real server → Parquet rows that match the requests → Monitor.

A real ``serve.py`` process on loopback writes the log; ``core.monitor.served`` reads it back; the
window, label join, resource drift and ``python -m core monitor --served`` run on what it wrote.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.deploy.serve_log import PredictionLog
from core.errors import MonitorError
from core.monitor.served import join_labels, read_served, served_batch, served_features
from core.monitor.served_resource import resource_drift
from tests.integration.test_bundle_server import ROW, Server, _bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _bundle(tmp_path_factory.mktemp("served"), "classification")


def _serve_module():
    spec = importlib.util.spec_from_file_location("_t_serve", Path("core/deploy/serve_bundle.py").resolve())
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_logged_rows_match_the_requests(bundle: Path, tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    sent: list[tuple[str, dict, dict, int]] = []
    srv = Server(bundle, "--log-dir", str(log_dir), "--log-flush-seconds", "0.2", "--log-flush-rows", "4")
    try:
        bodies = [{"rows": [ROW]}, {"rows": [{**ROW, "length": None, "island": None}, {**ROW, "depth": 15}]},
                  {"columns": {"length": [39.0], "depth": [18], "island": [None]}}] + \
                 [{"rows": [{**ROW, "length": 35.0 + i}]} for i in range(6)]
        for i, body in enumerate(bodies):
            status, data, _ = srv.request("POST", "/predict", json.dumps(body).encode(),
                                          {"Content-Type": "application/json", "X-Request-ID": f"req-{i}"})
            answer = json.loads(data)
            assert status == 200 and answer["request_id"] == f"req-{i}"
            sent.append((f"req-{i}", body, answer, len(answer["predictions"])))
        assert srv.post({"rows": [{"nope": 1}]})[0] == 400  # a refused request is not a scored row
        status, answer = srv.post({"rows": [ROW]})  # no X-Request-ID: the server makes one
        sent.append((answer["request_id"], {"rows": [ROW]}, answer, 1))
    finally:
        assert srv.stop() == 0  # graceful: what is buffered is written before the process exits
    log = read_served(log_dir)
    assert len(log) == sum(n for *_, n in sent)
    assert log.attrs["features"] == ["length", "depth", "island"] and log.attrs["task"] == "classification"
    assert log.attrs["latency_baseline"]["p50_ms"] > 0  # measured at export, carried by every file
    for rid, body, answer, n in sent:
        got = log[log["request_id"] == rid].sort_values("row")
        rows = body["rows"] if "rows" in body else [dict(zip(body["columns"], v)) for v in zip(*body["columns"].values())]
        assert got["row"].tolist() == list(range(n)) and (got["request_rows"] == n).all()
        assert got["prediction"].tolist() == [str(p) for p in answer["predictions"]]
        assert np.allclose(got["probability"], np.max(answer["probabilities"], axis=1))
        for name in ("length", "depth"):
            want = [np.nan if r[name] is None else float(r[name]) for r in rows]
            assert np.allclose(got[name].to_numpy(float), want, equal_nan=True)  # raw units, as sent
        assert got["island"].tolist() == [r["island"] for r in rows]
        assert (got["latency_ms"] > 0).all()
    assert log["served_at"].is_monotonic_increasing
    assert not list(log_dir.glob(".*.tmp"))


def test_an_unwritable_log_folder_is_said_at_start_and_the_server_still_serves(bundle: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    srv = Server(bundle, "--log-dir", str(blocker / "log"))
    try:
        assert srv.post({"rows": [ROW]})[0] == 200
    finally:
        assert srv.stop() == 0
    out = srv.proc.stdout.read()
    assert "cannot be written" in out and "WITHOUT a prediction log" in out and "Traceback" not in out
    assert not (blocker.parent / "log").exists()


def _in_process_log(folder: Path, n: int, **options) -> tuple[PredictionLog, list[dict]]:
    """Real predictions of the bundle's model through the bundle's own input path, logged in-process."""
    serve = _serve_module()
    model = serve.Model(str(BUNDLE_MODEL[0] / "model.onnx"), str(BUNDLE_MODEL[0] / "schema.json"), threads=1)
    log, why = PredictionLog.open(str(folder), model.schema, **options)
    assert log is not None, why
    answers = []
    rng = np.random.default_rng(0)
    for i in range(n):
        body = {"rows": [{**ROW, "length": float(rng.normal(41, 4))}]}
        values, k = model.values(body)
        feeds, _ = model.feeds(values)
        out = model.run(feeds)
        log.add(f"r{i}", 0.0002 + 0.00001 * (i % 7), values, k, out)
        answers.append(out)
    return log, answers


BUNDLE_MODEL: list[Path] = []


@pytest.fixture(autouse=True)
def _model(bundle: Path) -> None:
    BUNDLE_MODEL[:] = [bundle]


def test_sampling_and_the_size_cap_bound_the_log(tmp_path: Path) -> None:
    log, _ = _in_process_log(tmp_path / "sampled", 2000, sample=0.25, flush_rows=10**9)
    log.close()
    assert 350 < log.logged < 650 and len(read_served(tmp_path / "sampled")) == log.logged
    capped, _ = _in_process_log(tmp_path / "capped", 0, max_bytes=12_000, flush_rows=10**9)
    serve = _serve_module()
    model = serve.Model(str(BUNDLE_MODEL[0] / "model.onnx"), str(BUNDLE_MODEL[0] / "schema.json"), threads=1)
    for batch in range(12):
        body = {"rows": [{**ROW, "depth": float(d)} for d in range(50)]}
        values, k = model.values(body)
        capped.add(f"b{batch}", 0.001, values, k, model.run(model.feeds(values)[0]))
        assert capped.flush()
    files = sorted((tmp_path / "capped").glob("predictions-*.parquet"))
    assert capped.files == 12 and capped.deleted > 0 and len(files) == 12 - capped.deleted
    assert sum(f.stat().st_size for f in files) <= 12_000 or len(files) == 1
    assert read_served(tmp_path / "capped")["request_id"].iloc[-1] == "b11"  # the newest rows are kept


def test_window_labels_and_resource_drift(tmp_path: Path) -> None:
    log, answers = _in_process_log(tmp_path / "log", 40, flush_rows=10**9)
    log.close()
    frame = read_served(tmp_path / "log")
    first, last = frame["served_at"].min(), frame["served_at"].max()
    assert len(read_served(tmp_path / "log", since=first.isoformat(), until=(last + pd.Timedelta("1s")).isoformat())) == 40
    with pytest.raises(MonitorError, match="no rows served from 2000-01-01 .* until 2000-01-02.*it holds rows from"):
        read_served(tmp_path / "log", since="2000-01-01", until="2000-01-02")
    with pytest.raises(MonitorError, match="ISO date-time"):
        read_served(tmp_path / "log", since="yesterday-ish")
    with pytest.raises(MonitorError, match="no prediction-log folder"):
        read_served(tmp_path / "nowhere")
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"request_id": ["r0", "r1", "r2", "zzz"], "species": ["Adelie", "Gentoo", "Dream", "x"]}).to_csv(labels, index=False)
    joined = join_labels(frame, labels)
    assert (joined.matched, joined.unmatched_rows, joined.unmatched_labels) == (3, 37, 1)
    assert joined.labelled["request_id"].tolist() == ["r0", "r1", "r2"] and joined.target == "species"
    nothing = tmp_path / "nothing.csv"
    pd.DataFrame({"request_id": ["a", "b"], "species": ["Adelie", "Gentoo"]}).to_csv(nothing, index=False)
    with pytest.raises(MonitorError, match="None of the 2 request ids"):
        join_labels(frame, nothing)
    drift = resource_drift(frame, p99_rise=1.0, baseline={"p50_ms": 0.05, "p99_ms": 0.06})
    assert drift.drifted and drift.p99_ms == pytest.approx(np.percentile(frame["latency_ms"], 99))
    assert "more than the allowed rise of +100%" in drift.finding and sum(p.rows for p in drift.points) == 40
    calm = resource_drift(frame, p99_rise=1.0, baseline={"p50_ms": 0.2, "p99_ms": 0.26})
    assert not calm.drifted and "within" in calm.finding
    batch = served_batch(tmp_path / "log", labels=labels)
    assert list(batch.table.frame.columns) == ["length", "depth", "island", "species"] and len(batch.table.frame) == 3
    path = next((tmp_path / "log").glob("predictions-*.parquet"))
    assert list(served_features(path, pd.read_parquet(path)).columns) == ["length", "depth", "island"]


def test_monitor_served_gives_a_check_run(tmp_path: Path, settings, tracker, capsys) -> None:
    from tests.integration.deploy_fixtures import PROJECT, seed_model

    seed_model(tracker, "hgb", "classification")
    log, _ = _in_process_log(tmp_path / "log", 30, flush_rows=10**9)
    log.flush()
    more, _ = _in_process_log(tmp_path / "log", 30, flush_rows=10**9)  # a second file, as a restarted server writes
    more.close()
    code = main(["--project", PROJECT, "monitor", "--reference", "toy", "--served", str(tmp_path / "log"),
                 "--p99-rise", "1.0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "dataset drift:" in out.out and "served: 60 requests, 60 rows" in out.out and "resource drift:" in out.out
    runs = tracker.runs(PROJECT, stage="monitor")
    assert len(runs) == 1
    assert runs[0].metrics["served_rows"] == 60 and runs[0].metrics["served_p99_ms"] > 0
    assert main(["--project", PROJECT, "monitor", "--reference", "toy", "--served", str(tmp_path / "log"),
                 "--since", "2001-01-01", "--until", "2001-01-02"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "no rows served" in err[0]
    # the Plan pipeline watching the log folder saves each log file as a batch of the model's features only
    from core.plan.flows import batch_files
    from core.plan.stages import save_batch
    from core.tracking.datasets import load_dataset

    files = batch_files(str(tmp_path / "log"))
    assert [f.name for f in files] == sorted(f.name for f in (tmp_path / "log").glob("predictions-*.parquet"))
    saved = save_batch(tracker, PROJECT, files[0])
    assert saved.rows == 30
    assert list(load_dataset(tracker, saved.run_id).columns) == ["length", "depth", "island"]


def _served_page() -> None:
    from core.config import Settings
    from core.tracking import Tracker
    from ui.served import served_section

    served_section(Tracker.connect(Settings.from_env()), "deployproj")


def test_monitor_section_shows_latency_against_the_baseline_and_saves_the_window(tmp_path: Path, settings,
                                                                                 tracker) -> None:
    from streamlit.testing.v1 import AppTest

    log, _ = _in_process_log(tmp_path / "log", 30, flush_rows=10**9)
    log.close()
    at = AppTest.from_function(_served_page, default_timeout=300).run()
    at.text_input(key="wb_served_folder").input(str(tmp_path / "nowhere"))
    at.button[0].click().run()  # the form's submit button
    assert not at.exception and "no prediction-log folder" in at.error[0].value
    at.text_input(key="wb_served_folder").input(str(tmp_path / "log"))
    at.number_input(key="wb_served_rise").set_value(0.05)
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert [m.label for m in at.metric] == ["Rows served", "Rows / s", "p50 (one row)", "p99 (one row)"]
    assert at.metric[0].value == "30"
    assert any("Resource drift: " in w.value and "+5%" in w.value for w in [*at.warning, *at.success])
    at.button(key="wb_served_save").click().run()
    assert not at.exception and "Saved as" in at.success[-1].value
    from core.tracking.datasets import dataset_versions

    assert any(v.name == "served-log" for v in dataset_versions(tracker, "deployproj"))
