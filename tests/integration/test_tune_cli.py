"""`python -m core tune` / `tune-worker`: a real run from a file, and bad inputs → exit 2 with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.tracking.models import model_versions
from core.tracking.tune import trial_children
from tests.tune_data import penguins, save_version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "tune-cli"
MODELS = (PROJECT, f"{PROJECT}-species")  # one registered model per project, or per target (issue 13 item 5)


def _run(capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001
    code = main(["--project", PROJECT, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_tune_from_a_file_registers_the_best_model(tracker, settings, tmp_path, capsys) -> None:  # noqa: ANN001
    frame = penguins()
    frame.loc[:4, "species"] = None  # rows without a target are left out, with a note
    frame.loc[5:9, "bill_length_mm"] = None
    frame["island"] = frame["island"].replace("Biscoe", "Bïscoe")
    path = tmp_path / "birds.csv"
    # a European export: semicolons, Latin-1, "n/a" for missing — read like an upload, not as one column
    frame.to_csv(path, index=False, sep=";", encoding="latin-1", na_rep="n/a")
    out_json = tmp_path / "result.json"
    code, out, err = _run(capsys, "tune", "--data", str(path), "--target", "species", "--model", "linear",
                          "--trials", "4", "--study", "cli-linear", "--json", str(out_json))
    assert code == 0, err
    assert "saved birds.csv as dataset version birds v1" in out
    assert "5 row(s) with a missing 'species' are left out" in out
    assert out.count("trial ") >= 4 and any(f"registered {m} v1" in out for m in MODELS)
    result = json.loads(out_json.read_text())
    assert result["study_name"] == "cli-linear" and result["model"]["version"] == 1
    assert result["n_complete"] + result["n_pruned"] + result["n_failed"] == 4
    # lineage: the study's parent run consumed the dataset version saved from the file
    parent = tracker.get_run(result["parent_run_id"])
    assert parent.inputs == (result["data_version"],)
    assert tracker.get_run(result["data_version"]).stage == "data"
    from core.tracking.datasets import load_dataset

    saved = load_dataset(tracker, result["data_version"])
    assert list(saved.columns) == list(frame.columns) and saved["bill_length_mm"].dtype.kind == "f"
    assert saved["bill_length_mm"].isna().sum() == 5 and "Bïscoe" in set(saved["island"])
    assert len(trial_children(tracker, PROJECT, result["parent_run_id"])) == 4
    assert result["model"]["name"] in MODELS and f"registered {result['model']['name']} v1" in out
    assert [v.version for v in model_versions(tracker, result["model"]["name"])] == [1]

    # a worker joining a study whose budget is spent does nothing and says so
    code, out, err = _run(capsys, "tune-worker", "--study", "cli-linear", "--storage", settings.optuna_storage)
    assert code == 0 and "done: " in out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--space", "{}"], "The search space is empty"),
        (["--space", '{"C": {"kind": "float", "low": 10, "high": 1}}'], "low > high (10 > 1)"),
        (["--space", '{"C": {"kind": "float", "low": 0, "high": 1, "log": true}}'], "log range that includes 0"),
        (["--target", "nope"], "The target column 'nope' is not in"),
        (["--folds", "30"], "folds must be an int in [2, 20]"),
        (["--metric", "rmse"], "is for regression"),
        (["--storage", "sqlite:////nonexistent-dir/x/optuna.db"], "Cannot reach the Optuna storage"),
        (["--data", "nosuch"], "No dataset version 'nosuch'"),
        (["--data", "missing.csv"], "does not exist"),
        (["--sampler", "gp"], "needs PyTorch"),
    ],
)
def test_bad_input_is_one_error_line(tracker, capsys, extra: list[str], needle: str) -> None:  # noqa: ANN001
    save_version(tracker, PROJECT, penguins(60))
    argv = {"--data": "penguins", "--target": "species", "--model": "linear", "--trials": "2"}
    rest = []
    for i in range(0, len(extra), 2):
        if extra[i] in argv:
            argv[extra[i]] = extra[i + 1]
        else:
            rest += extra[i : i + 2]
    if needle == "needs PyTorch":
        pytest.importorskip("optuna")
        try:
            import torch  # noqa: F401
        except ImportError:
            pass
        else:
            pytest.skip("torch is installed here, so the GP sampler works")
    code, out, err = _run(capsys, "tune", *[x for kv in argv.items() for x in kv], *rest)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err


def test_single_class_and_too_few_rows_are_refused(tracker, capsys) -> None:  # noqa: ANN001
    save_version(tracker, PROJECT, penguins(30).assign(species="Adelie"), name="one-class")
    code, _, err = _run(capsys, "tune", "--data", "one-class", "--target", "species", "--model", "knn", "--trials", "2")
    assert code == 2 and "single class ('Adelie')" in err and len(err.strip().splitlines()) == 1
    save_version(tracker, PROJECT, penguins(4), name="four", target="body_mass_g")
    code, _, err = _run(capsys, "tune", "--data", "four", "--target", "body_mass_g", "--model", "linear",
                        "--task", "regression", "--folds", "5", "--trials", "2")
    assert code == 2 and "4 row(s) with a target, fewer than the 5 cross-validation folds" in err


def test_real_process_exit_code_and_unknown_study(settings) -> None:  # noqa: ANN001
    env = {**os.environ, "WORKBENCH_HOME": str(settings.home)}
    proc = subprocess.run([sys.executable, "-m", "core", "tune-worker", "--study", "nope",
                           "--storage", settings.optuna_storage], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: No study named 'nope' in this Optuna storage; "
        "start it with `python -m core tune` or from the Tune page."]


RF_SPACE = '{"n_estimators": {"kind": "int", "low": 60, "high": 120}, "max_depth": {"kind": "int", "low": 2, "high": 8}}'


def _tune_process(settings, study: str, *extra: str) -> subprocess.Popen:  # noqa: ANN001
    env = {**os.environ, "WORKBENCH_HOME": str(settings.home), "MLFLOW_TRACKING_URI": settings.tracking_uri}
    return subprocess.Popen([sys.executable, "-m", "core", "--project", PROJECT, "tune", "--data", "penguins",
                             "--target", "species", "--model", "rf", "--trials", "20", "--pruner", "none",
                             "--space", RF_SPACE, "--study", study, "--storage", settings.optuna_storage, *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop_after_first_trial(settings, proc: subprocess.Popen, study_name: str) -> int:  # noqa: ANN001
    """SIGTERM ``proc`` once a trial has finished; return the finished trials seen while it was frozen.

    The process is frozen (SIGSTOP) while the count is read, so the count holds whatever the
    machine's load: at most one more trial can finish after it (the one running when stopped).
    """
    import signal
    import time

    from core.errors import TuneError
    from core.tune.storage import make_storage
    from core.tune.study import counted_trials, open_study

    storage = make_storage(settings.optuna_storage)
    deadline = time.time() + 600  # a bound on waiting for the state, not a budget
    while time.time() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            study, _ = open_study(storage, study_name)
        except TuneError:  # not created yet
            time.sleep(0.1)
            continue
        if counted_trials(study) >= 1:
            proc.send_signal(signal.SIGSTOP)
            seen = counted_trials(open_study(storage, study_name)[0])
            proc.send_signal(signal.SIGTERM)
            proc.send_signal(signal.SIGCONT)
            return seen
        time.sleep(0.1)
    raise AssertionError("no trial finished in time")


def test_a_stopped_tune_registers_only_a_fair_share_of_its_budget_or_when_asked(tracker, settings) -> None:  # noqa: ANN001
    save_version(tracker, PROJECT, penguins())
    proc = _tune_process(settings, "stopped-early")
    try:
        seen = _stop_after_first_trial(settings, proc, "stopped-early")
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert seen < 9, "the stop must come well before half of the 20 trials"
    assert proc.returncode == 0, out
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"stopped after {seen}") or last.startswith(f"stopped after {seen + 1}"), out
    assert "of 20 trials (under 50% of the budget), so no model was registered" in last
    assert "tune-worker --study stopped-early --finalize" in last and "--register-partial" in last
    assert all(model_versions(tracker, m) == [] for m in MODELS)

    # asked for it: the best model so far is registered, and the line says from how many trials it came
    proc = _tune_process(settings, "stopped-partial", "--register-partial")
    try:
        seen = _stop_after_first_trial(settings, proc, "stopped-partial")
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    last = out.strip().splitlines()[-1]
    name = last.split("→ registered ")[1].split(" v1 from ")[0]
    assert name in MODELS and last.endswith(" of 20 trials"), out
    assert int(last.split(" from ")[1].split()[0]) in (seen, seen + 1)
    assert [v.tags["workbench.study"] for v in model_versions(tracker, name)] == ["stopped-partial"]
