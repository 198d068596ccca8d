"""End-to-end harness: a real ``streamlit run app.py`` server on a free loopback port,
a fresh workspace, and Debian's Chromium driven by Playwright (headless).

Screenshots go to ``test-artifacts/screenshots/`` (git-ignored), one per step.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    def __init__(self, url: str, home: Path, proc: subprocess.Popen, log: Path) -> None:
        self.url, self.home, self.proc, self.log = url, home, proc, log


def start_server(home: Path, extra_env: dict[str, str] | None = None, timeout: float = 120) -> AppServer:
    port = _free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(home), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    env.pop("MLFLOW_TRACKING_URI", None) if "MLFLOW_TRACKING_URI" not in (extra_env or {}) else None
    log = home / "server.log"
    home.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return AppServer(url, home, proc, log)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not answer on {url} in {timeout:.0f} s")


def stop_server(server: AppServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's Chromium is missing: apt-get install -y chromium (.ci/run does this).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def app_server(tmp_path: Path) -> Iterator[AppServer]:
    server = start_server(tmp_path / "workspace")
    yield server
    stop_server(server)


@pytest.fixture()
def page(browser, request):  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    SHOTS.mkdir(parents=True, exist_ok=True)
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        pg.screenshot(path=str(SHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def shot(pg, name: str) -> Path:  # noqa: ANN001
    """Save a full-page screenshot of the current state."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def wait_idle(pg, timeout: float = 120_000) -> None:  # noqa: ANN001
    """Wait until Streamlit has finished the current script run (no 'Running…' indicator)."""
    pg.wait_for_timeout(400)
    pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    pg.wait_for_timeout(200)


def choose(pg, box, option: str, timeout: float = 180_000) -> None:  # noqa: ANN001
    """Pick ``option`` in the select box ``box`` (a locator of the widget).

    A rerun that lands while the list is open (a background job finishing, a fragment's
    timer) closes it, so the list is reopened until the option shows, up to ``timeout`` ms.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout / 1000
    item = pg.get_by_role("option", name=option, exact=True)
    while True:
        wait_idle(pg)
        box.click()
        try:
            item.wait_for(state="visible", timeout=10_000)
            item.click(timeout=10_000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
            pg.keyboard.press("Escape")


def assert_no_error(pg) -> None:  # noqa: ANN001
    """No exception box and no Traceback text anywhere on the page."""
    assert pg.locator('[data-testid="stException"]').count() == 0, "an exception is shown"
    assert "Traceback" not in pg.content()
