"""The map warm-up's child process (a numba compile worth up to a minute of CPU) ends with the server that
started it: a killed or restarted server leaves no orphan burning a core beside the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie nobody reaped has ended


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            pass
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def _wait(cond, what: str, timeout: float = 120.0):  # noqa: ANN001, ANN202 - a state, polled
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _parent(code: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env},
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _end(parent: subprocess.Popen, child: int | None) -> None:
    """After the test, pass or fail: neither the parent nor a child that outlived it keeps running."""
    parent.kill()
    if child is not None and _alive(child):
        os.kill(child, signal.SIGKILL)


def test_a_child_that_asked_to_die_with_its_parent_ends_when_the_parent_is_killed() -> None:
    # the child would sleep for ten minutes; only the death signal can end it within the wait
    child_code = "from core.label.embed import _die_with_parent; _die_with_parent(); import time; time.sleep(600)"
    parent = _parent(
        "import os, subprocess, sys\n"
        f"p = subprocess.Popen([sys.executable, '-c', {child_code!r}],"
        " env={**os.environ, 'WORKBENCH_WARMUP_PARENT': str(os.getpid())})\n"
        "sys.stdin.read()\n", {})
    child = None
    try:
        child = _wait(lambda: next((c for c in _children(parent.pid) if "_die_with_parent" in _cmdline(c)), None),
                      "the child to start")
        # killed before the child's prctl or after it, the child ends: by the death signal, or by finding its
        # parent gone when it checks
        parent.kill()
        parent.wait(timeout=60)
        _wait(lambda: not _alive(child), "the child to end with its parent")
    finally:
        _end(parent, child)


def test_warm_up_child_carries_its_parent_and_ends_with_a_killed_server(tmp_path: Path) -> None:
    cache = tmp_path / "numba"  # an empty numba cache: the child compiles for tens of seconds
    parent = _parent("from pathlib import Path; import sys\n"
                     "from core.label import embed\n"
                     f"embed.warm_up(Path({str(tmp_path)!r}))\n"
                     "sys.stdin.read()\n", {"NUMBA_CACHE_DIR": str(cache)})
    child = None
    try:
        child = _wait(lambda: next((c for c in _children(parent.pid) if "tiny_fit" in _cmdline(c)), None),
                      "the warm-up child to start")
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        assert f"WORKBENCH_WARMUP_PARENT={parent.pid}".encode() in environ
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=60)
        _wait(lambda: not _alive(child), "the warm-up child to end with the killed server")
    finally:
        _end(parent, child)
