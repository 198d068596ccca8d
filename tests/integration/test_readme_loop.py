"""The README's headless loop runs as printed on a fresh store (two tables → two registered models)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def readme_loop() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    start = text.index("A whole loop on a fresh store")
    block = text[start:].split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line]


@pytest.mark.slow
def test_the_readme_headless_loop_runs_as_printed(settings, tmp_path: Path) -> None:  # noqa: ANN001
    commands = readme_loop()
    assert len(commands) >= 8 and all(c[:3] == [".venv/bin/python", "-m", "core"] for c in commands)
    env = {**os.environ, "WORKBENCH_HOME": str(settings.home), "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("WORKBENCH_PROJECT", None)
    seen = []
    for argv in commands:
        argv = [sys.executable, *argv[1:]]
        argv = [str(tmp_path / "out") if a == "out/" else a for a in argv]
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        allowed = (0, 4) if argv[3] == "promote" else (0,)  # the gate may refuse: that is a verdict, exit 4
        assert done.returncode in allowed, f"{' '.join(argv[3:])}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr
        seen.append((argv[3], done.returncode, done.stdout))
    from core.tracking import Tracker
    from core.tracking.models import model_versions, project_models

    tracker = Tracker.connect(settings)
    assert project_models(tracker, "default") == ["default-species", "default-weather"]
    assert [mv.version for mv in model_versions(tracker, "default-species", sklearn_only=True)] == [2, 1]
    assert any(cmd == "export" and code == 0 for cmd, code, _ in seen)
