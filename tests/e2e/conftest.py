"""End-to-end harness: a real ``streamlit run app.py`` server on a free loopback port,
a fresh workspace, and Debian's Chromium driven by Playwright (headless).

Screenshots go to ``test-artifacts/screenshots/`` (git-ignored), one per step.
"""

from __future__ import annotations

import os
import re
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
LONG = 300_000  # ms: a step that runs model code (fit, evaluate, export, check) on a loaded 2-core machine
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


def start_server(home: Path, extra_env: dict[str, str] | None = None, timeout: float = 120,
                 make_run: bool = False) -> AppServer:
    """``streamlit run app.py`` on a free port of 127.0.0.1, once it answers its health check
    (``make_run``: ``python -m ui.serve``, what ``make run`` starts, healthy after its warm-up).

    A free port can be taken by another process (other test runs share the machine) between the probe and
    streamlit's bind: streamlit then exits with "Port … is not available" and a new port is tried. The server
    counts as up only when *this* process said it listens on the port and the port answers (a health answer
    alone could come from whoever took the port).
    """
    env = {**os.environ, "WORKBENCH_HOME": str(home), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    env.pop("MLFLOW_TRACKING_URI", None) if "MLFLOW_TRACKING_URI" not in (extra_env or {}) else None
    log = home / "server.log"
    home.mkdir(parents=True, exist_ok=True)
    deadline = time.time() + timeout
    for _attempt in range(5):
        port = _free_port()
        command = ["ui.serve"] if make_run else ["streamlit", "run", "app.py"]
        proc = subprocess.Popen(
            [sys.executable, "-m", *command, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        while time.time() < deadline:
            if proc.poll() is not None:
                if "is not available" in log.read_text():
                    proc.wait()
                    break  # the port was taken meanwhile: another one
                raise RuntimeError(f"streamlit exited early:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and proc.poll() is None and f":{port}" in log.read_text():
                        return AppServer(url, home, proc, log)
            except OSError:
                pass
            time.sleep(0.3)  # polling a server that is starting, not waiting a fixed time
        else:
            proc.kill()
            raise RuntimeError(f"streamlit did not answer on {url} in {timeout:.0f} s")
    raise RuntimeError(f"streamlit found no free port in 5 tries:\n{log.read_text()[-3000:]}")


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
        plain_new_context = b.new_context

        def new_context(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 — every context a test opens is tracked
            context = plain_new_context(*args, **kwargs)
            context.add_init_script(TRACK_SOCKET)
            return context

        b.new_context = new_context
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


# Streamlit marks a run in the DOM only once the server says it started, so right after a click the page
# still reads "notRunning". Every page records when it last sent to and heard from the server's socket;
# ``wait_idle`` waits until the server has answered what was sent last and the app is not running.
TRACK_SOCKET = """(() => {
  if (window.__wb) return;
  const wb = window.__wb = {sent: 0, recv: 0};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); this.addEventListener("message", () => { wb.recv = performance.now(); }); }
    send(data) { wb.sent = performance.now(); return super.send(data); }
  };
})();"""
IDLE = """([quiet, unanswered]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
  const wb = window.__wb, now = performance.now();
  if (!wb) return true;
  if (wb.sent > wb.recv && now - wb.sent < unanswered) return false;  // the server has not answered yet
  return now - Math.max(wb.sent, wb.recv) >= quiet;  // and the last messages were drawn
}"""


def wait_idle(pg, timeout: float = 120_000) -> None:  # noqa: ANN001
    """Wait until Streamlit has finished the script run the last action started (no 'Running…' indicator).

    The run is seen through the page's socket (``TRACK_SOCKET``): the server must have answered the last
    message sent, the app must read ``notRunning`` and no message may have come for ``quiet`` ms. A send
    the server never answers (none is known) stops being waited for after ``unanswered`` ms.
    """
    pg.wait_for_timeout(150)  # a key press or blur reaches the socket within a frame or two
    pg.wait_for_function(IDLE, arg=[300, 20_000], timeout=timeout, polling=100)


def choose(pg, box, option, timeout: float = 180_000, typed: str | None = None) -> None:  # noqa: ANN001
    """Pick ``option`` in the select box or multiselect ``box`` (a locator of the widget or its keyed container).

    ``option`` is the option's exact text, a pattern its text matches, or a locator of the option. A rerun
    that lands while the list is open (a background job finishing, a fragment's timer) closes it, so the
    list is reopened until the option shows and is taken, up to ``timeout`` ms. ``typed`` is typed into the
    box first (a long list is virtualised: typing filters it so the option is rendered).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    if isinstance(option, str):
        item = pg.get_by_role("option", name=option, exact=True)
    elif isinstance(option, re.Pattern):
        item = pg.get_by_role("option").filter(has_text=option)
    else:
        item = option
    target = box.locator("input").first if box.locator("input").count() else box  # not a chosen tag's ✕
    deadline = time.monotonic() + timeout / 1000
    while True:
        wait_idle(pg)
        target.click()
        try:
            if typed:
                pg.keyboard.press("ControlOrMeta+a")  # a retry replaces what the last try typed
                pg.keyboard.type(typed)
            item.first.wait_for(state="visible", timeout=10_000)
            item.first.click(timeout=10_000)
            if not isinstance(option, str | re.Pattern) or _shows(pg, box, option):  # the pick was taken
                return
        except PlaywrightTimeout:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"could not choose {option!r} in {box} within {timeout / 1000:.0f} s")
        pg.keyboard.press("Escape")


def _shows(pg, box, option: str | re.Pattern[str], timeout: float = 10_000) -> bool:  # noqa: ANN001
    """Whether ``box`` comes to show ``option``: in its text, a chosen tag or its (searchable) input's value."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        shown = box.first.inner_text().splitlines() + [i.input_value() for i in box.first.locator("input").all()]
        if any((option in piece) if isinstance(option, str) else option.search(piece) for piece in shown):
            return True
        if time.monotonic() > deadline:
            return False
        pg.wait_for_timeout(100)  # polling what the box shows, not waiting a fixed time


def assert_no_error(pg) -> None:  # noqa: ANN001
    """No exception box and no Traceback text anywhere on the page."""
    assert pg.locator('[data-testid="stException"]').count() == 0, "an exception is shown"
    assert "Traceback" not in pg.content()


def start_study(pg, name: str, trials: int) -> None:  # noqa: ANN001
    """On Tune's *New study*: set the budget and the name (each change's rerun over before the next) and start."""
    box = pg.get_by_label("Trials (budget)")
    box.fill(str(trials))
    box.press("Tab")
    wait_idle(pg)  # the budget's rerun is over before the name is typed
    study = pg.get_by_label("Study name", exact=True)
    study.fill(name)
    study.press("Tab")
    wait_idle(pg)
    assert box.input_value() == str(trials) and study.input_value() == name
    pg.get_by_role("button", name="Start study").click()
