"""``python -m core compare`` / ``promote``: exit codes 0 (done / passed), 4 (refused), 2 (bad input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.tracking.models import model_versions
from tests.compare_seed import build_seeded_home, use_copy

P = "irisproj"
M = "irisproj-species"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, _template_store: Path) -> Path:
    home = tmp_path_factory.mktemp("cmp-cli") / "workspace"
    build_seeded_home(home, _template_store)
    return home


@pytest.fixture()
def tracker(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    return use_copy(seeded, tmp_path / "ws", monkeypatch)


def champion(tracker) -> int | None:  # noqa: ANN001
    return next((mv.version for mv in model_versions(tracker, M) if "champion" in mv.aliases), None)


def test_compare_writes_json_and_logs_a_run(tracker, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:  # noqa: ANN001
    out = tmp_path / "cmp.json"
    assert main(["compare", "--models", "1", f"{M}/2", "--data", "iris:v1", "--json", str(out),
                 "--no-importance"]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "*" in text
    report = json.loads(out.read_text())
    assert report["best"]["accuracy"] == "v2" and report["rows"] == 45 and report["part"] == "test"
    assert report["metrics"]["v2"]["accuracy"] > report["metrics"]["v1"]["accuracy"]
    assert tracker.get_run(report["run_id"]).stage == "compare"


def test_promote_exit_codes(tracker, capsys: pytest.CaptureFixture) -> None:  # noqa: ANN001
    assert main(["promote", "--version", "1", "--data", "iris", "--metric", "accuracy", "--margin", "0.01"]) == 0
    assert "no champion yet" in capsys.readouterr().out
    assert champion(tracker) == 1
    assert main(["promote", "--version", "2", "--data", "iris", "--metric", "accuracy", "--margin", "0.9"]) == 4
    captured = capsys.readouterr()
    assert captured.out.startswith("REFUSED") and champion(tracker) == 1
    # the promotion metric is accuracy now (set by the first promotion): a silent switch is bad input
    assert main(["promote", "--version", "2", "--data", "iris", "--metric", "f1_macro", "--margin", "0.05"]) == 2
    assert "promotion metric of irisproj-species is 'accuracy'" in capsys.readouterr().err
    assert main(["promote", "--version", f"{M}/2", "--data", "iris", "--margin", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "significant" in out and "held-out rows: 45" in out and champion(tracker) == 2


def test_shadow_and_ab_run_headless_and_log_compare_runs(tracker, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:  # noqa: ANN001
    assert main(["promote", "--version", "1", "--data", "iris"]) == 0
    capsys.readouterr()
    out = tmp_path / "shadow.json"
    assert main(["shadow", "--data", "iris:v1", "--challengers", "2", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    shadow = json.loads(out.read_text())
    assert shadow["champion"] == "v1" and shadow["challengers"] == ["v2"] and shadow["rows"] == 45  # held out
    assert 0 < shadow["disagreement"]["v2"] < 1 and f"{shadow['disagreement']['v2']:.1%}" in text
    assert set(shadow["scores"]) == {"v1", "v2"}  # iris has labels: who was right
    run = tracker.get_run(shadow["run_id"])
    assert run.stage == "compare" and run.tags["workbench.compare.kind"] == "shadow"
    assert run.metrics["disagreement"] == pytest.approx(shadow["disagreement"]["v2"])

    assert main(["promote", "--version", "2", "--data", "iris", "--margin", "0.9"]) == 4  # refused ...
    assert main(["challenger", "--version", "2"]) == 0  # ... so v2 is the challenger of an A/B test
    assert "irisproj-species v2 is the challenger" in capsys.readouterr().out
    out = tmp_path / "ab.json"
    assert main(["ab", "--data", "iris", "--column", "species", "--fraction", "0.5", "--mde", "0.1",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    ab = json.loads(out.read_text())
    # all 150 rows given: the 105 training rows are left out, the 45 held-out rows are split
    assert (ab["champion"], ab["challenger"]) == ("v1", "v2") and ab["n_a"] + ab["n_b"] == 45
    assert ab["test"] == "two-proportion z-test" and ab["verdict"] in text
    assert "warning:" in text and "105 batch rows repeat rows a model was trained on" in text
    run = tracker.get_run(ab["run_id"])
    assert run.tags["workbench.compare.kind"] == "ab" and run.metrics["p_value"] == pytest.approx(ab["p_value"])


@pytest.mark.parametrize("argv", [
    ["shadow", "--data", "iris"],  # no champion yet
    ["ab", "--data", "iris", "--column", "species"],  # no champion / challenger
    ["ab", "--data", "iris", "--column", "nope", "--kind", "outcome"],
    ["ab", "--data", "iris", "--column", "species", "--test", "chi2"],
    ["ab", "--data", "iris", "--column", "species", "--fraction", "1.5", "--arm-column", "site"],
    ["challenger", "--version", "9"],
    ["ab", "--data", "iris", "--column", "sepal_length", "--kind", "outcome", "--arm-column", "nope"],
    ["promote", "--version", "2", "--data", "iris", "--margin", "-1"],
    ["promote", "--version", "9", "--data", "iris"],
    ["promote", "--version", "2", "--data", "nope"],
    ["promote", "--version", "2", "--data", "iris", "--metric", "rmse"],
    ["compare", "--models", "1", "1", "--data", "iris"],
    ["compare", "--models", "3", "--data", "iris"],
])
def test_bad_input_is_one_error_line(tracker, argv: list[str], capsys: pytest.CaptureFixture) -> None:  # noqa: ANN001
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0]
    assert champion(tracker) is None


def test_real_process_exit_code_and_usage_error(tracker) -> None:  # noqa: ANN001
    """The module entry point returns the same codes from a real interpreter."""
    root = Path(__file__).resolve().parents[2]
    assert main(["promote", "--version", "1", "--data", "iris"]) == 0
    refused = subprocess.run([sys.executable, "-m", "core", "promote", "--version", "2", "--data", "iris",
                              "--margin", "0.99"], cwd=root, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 4, refused.stderr[-500:]
    assert refused.stdout.startswith("REFUSED") and champion(tracker) == 1
    usage = subprocess.run([sys.executable, "-m", "core", "promote", "--data", "iris"], cwd=root,
                           capture_output=True, text=True, timeout=600)
    assert usage.returncode == 2 and usage.stderr.strip().startswith("error:")
