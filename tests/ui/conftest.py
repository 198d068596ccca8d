"""AppTest helpers: scripts are addressed from the repo root."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def app_test(script: str, timeout: float = 90) -> AppTest:
    """``AppTest.from_file`` for a path relative to the repo root (e.g. ``pages/data.py``)."""
    return AppTest.from_file(str(ROOT / script), default_timeout=timeout)
