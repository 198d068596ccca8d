"""The layering rules of shared/STYLE.md, checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _py_files(*dirs: str) -> list[Path]:
    return [p for d in dirs for p in (ROOT / d).rglob("*.py")]


def test_core_never_imports_streamlit() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _py_files("core") if "streamlit" in _imports(p)]
    assert offenders == []


def test_only_core_tracking_imports_mlflow() -> None:
    tracking = ROOT / "core" / "tracking"
    files = _py_files("core", "ui", "pages") + [ROOT / "app.py"]
    offenders = [str(p.relative_to(ROOT)) for p in files if "mlflow" in _imports(p) and tracking not in p.parents]
    assert offenders == []


def test_import_core_is_light() -> None:
    """`import core` and the CLI parser must not pull in the heavy libraries."""
    code = (
        "import sys, core, core.cli, core.config, core.errors, core.tracking, core.models; core.cli.build_parser();"
        "heavy = [m for m in ('mlflow','evidently','umap','optuna','onnxruntime','skl2onnx','modAL','sklearn','streamlit')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_code_passes_the_linter() -> None:
    """ruff (pinned in requirements-dev.txt, configured in pyproject.toml) finds nothing."""
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]


def test_every_file_compiles_on_this_python() -> None:
    """ruff parses newer syntax (3.12 f-strings) without a word; the interpreter we ship on must accept every file."""
    files = [ROOT / "app.py", *_py_files("core", "ui", "pages", "bench", "tests", "data")]
    for path in files:
        compile(path.read_text(), str(path), "exec")
