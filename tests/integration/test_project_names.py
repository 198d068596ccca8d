"""Project names on a real store: a traversal name is refused before anything is written; old names still open."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.datasets import load_iris

from core.errors import WorkbenchError
from core.names import UnsafeNameError

ROOT = Path(__file__).resolve().parents[2]


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def test_cli_refuses_a_traversal_project_and_writes_nothing_outside(tmp_path: Path, settings) -> None:  # noqa: ANN001
    data = tmp_path / "input"
    data.mkdir()
    load_iris(as_frame=True).frame.to_csv(data / "iris.csv", index=False)
    before = _files(tmp_path)
    env = {**os.environ, "WORKBENCH_HOME": str(settings.home)}
    proc = subprocess.run(
        [sys.executable, "-m", "core", "--project", "../../tmp/evil", "label-sim", str(data / "iris.csv"),
         "--target", "target", "--strategy", "margin", "--budget", "20", "--batch", "10", "--init", "10",
         "--seeds", "1", "--json", str(data / "out.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("seed ")]
    assert lines == ["error: The project name must be 1–80 letters, digits, '_', '.' or '-' and must not start "
                     "with a dot. Got '../../tmp/evil' instead."]
    assert "Traceback" not in proc.stderr
    new = {p for p in _files(tmp_path) - before if settings.home not in p.parents and p != settings.home}
    assert new <= {data / "out.json"}  # only what the command was told to write (nothing: it failed first)
    assert not (tmp_path / "tmp").exists() and not (settings.home.parent.parent / "tmp" / "evil").exists()


def test_ensure_project_checks_new_names_only(tracker) -> None:  # noqa: ANN001
    with pytest.raises(UnsafeNameError):
        tracker.ensure_project("../escape")
    with pytest.raises(WorkbenchError):
        tracker.ensure_project(".hidden")
    exp_id = tracker.ensure_project("fine.name-1")
    exp = tracker.client.get_experiment(exp_id)
    assert exp.artifact_location == (Path(tracker.settings.home) / "artifacts" / "fine.name-1").resolve().as_uri()
    # An experiment created before the check (or by another tool) under a looser name still opens.
    legacy = tracker.client.create_experiment("old project (2024)")
    assert tracker.ensure_project("old project (2024)") == legacy
