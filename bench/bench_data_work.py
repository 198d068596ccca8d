"""Work per Data-page rerun: store reads, file reads, recomputations and bytes sent, counted (not timed).

Usage: python bench/bench_data_work.py [--sessions 10] [--profile]

The load bench (bench_load.py) times 10 browsers on a shared 2-core machine, where the timings swing with
everyone else's work. This script counts what each rerun *does*, which does not depend on the machine:
MLflow client calls and SQL statements on the store, artifact downloads, Parquet / CSV reads, profile and
recipe recomputations, and the bytes of the messages the server sends to the browser.

It runs the sidebar and the Data page together (as ``app.py`` does) under AppTest, in one process, so
every session shares the process-wide caches the way the sessions of one server do:

1. session 1 opens the page, opens penguins, reruns idle three times, switches the source to
   *Saved version* and reruns;
2. sessions 2..N each open the page and penguins (what the other nine browsers of the load bench do);
3. a write to the store from outside (another tracker, as a tune worker or the CLI would), then a rerun.

``--profile`` prints cProfile's top functions of the idle reruns.
"""

from __future__ import annotations

import argparse
import builtins
import collections
import cProfile
import functools
import io
import os
import pstats
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the script runs on AppTest's script thread: a profile must be switched on there, not in main()
_SCRIPT = """
import builtins, runpy
from ui.sidebar import render_sidebar
prof = getattr(builtins, "_bench_profile", None) if getattr(builtins, "_bench_profiling", False) else None
if prof:
    prof.enable()
try:
    render_sidebar()
    runpy.run_path({page!r}, run_name="__page__")
finally:
    if prof:
        prof.disable()
"""


class Counts:
    """Counters of one step, filled by the wrappers installed by :func:`instrument`."""

    def __init__(self) -> None:
        self.c: collections.Counter[str] = collections.Counter()

    def add(self, name: str, n: int = 1) -> None:
        self.c[name] += n


NOW = Counts()


def _counting(owner: Any, name: str, label: str, size: Callable[[Any], int] | None = None) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        NOW.add(label, size(args) if size else 1)
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def instrument() -> None:
    """Count calls through (never replace) the library functions whose calls are the work."""
    import pandas as pd
    import sqlalchemy
    from mlflow.tracking import MlflowClient
    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

    import core.data.profile
    import core.data.recipe

    for name in dir(MlflowClient):
        if not name.startswith("_") and callable(getattr(MlflowClient, name)):
            _counting(MlflowClient, name, "mlflow calls")
    for name in ("download_artifacts", "list_artifacts"):
        _counting(MlflowClient, name, f"  {name}")
    _counting(MlflowClient, "search_runs", "  search_runs")
    _counting(pd, "read_parquet", "parquet reads")
    _counting(pd, "read_csv", "csv reads")
    _counting(core.data.profile, "profile_frame", "profiles computed")
    _counting(core.data.recipe, "replay", "recipe replays")
    _counting(ForwardMsgQueue, "enqueue", "bytes sent", size=lambda a: a[1].ByteSize())
    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute",
                            lambda *a, **k: NOW.add("sql statements"))


def _step(rows: list[tuple[str, Counts]], name: str, action: Callable[[], Any]) -> Any:
    global NOW
    NOW = Counts()
    out = action()
    rows.append((name, NOW))
    return out


def _open_penguins(at: Any) -> None:
    at.selectbox(key="data_bundled").set_value(next(o for o in at.selectbox(key="data_bundled").options
                                                    if "enguin" in o))
    at.button(key="data_open_bundled").click().run()


def run(sessions: int, profile: bool) -> list[tuple[str, Counts]]:
    from streamlit.testing.v1 import AppTest

    from core.config import Settings
    from core.tracking import Tracker

    script = _SCRIPT.format(page=str(ROOT / "pages" / "data.py"))
    rows: list[tuple[str, Counts]] = []

    def session(browser: str) -> Any:
        at = AppTest.from_string(script, default_timeout=300)
        at.session_state["wb_browser_id"] = browser
        return at

    at = session("1" * 32)
    _step(rows, "s1 first page", at.run)
    _step(rows, "s1 open penguins", lambda: _open_penguins(at))
    prof = cProfile.Profile() if profile else None
    builtins._bench_profile = prof  # type: ignore[attr-defined]
    for i in range(3):
        builtins._bench_profiling = True  # type: ignore[attr-defined]
        _step(rows, f"s1 rerun idle #{i + 1}", at.run)
        builtins._bench_profiling = False  # type: ignore[attr-defined]
    _step(rows, "s1 source: Saved version", lambda: at.radio(key="data_source_kind").set_value("Saved version").run())
    _step(rows, "s1 rerun (Saved version)", at.run)
    assert not at.exception, at.exception
    for k in range(2, sessions + 1):
        other = session(f"{k:x}" * 32 if k < 16 else f"{k:032x}")
        _step(rows, f"s{k} first page + open penguins", lambda o=other: (o.run(), _open_penguins(o)))
        assert not other.exception, other.exception
    Tracker.connect(Settings.from_env()).ensure_project("written-elsewhere")
    _step(rows, "s1 rerun after a write elsewhere", at.run)
    _step(rows, "s1 rerun idle again", at.run)
    assert not at.exception, at.exception
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())
    return rows


def _report(rows: list[tuple[str, Counts]], sessions: int) -> None:
    keys = ["mlflow calls", "  search_runs", "  list_artifacts", "  download_artifacts", "sql statements",
            "parquet reads", "csv reads", "profiles computed", "recipe replays", "bytes sent"]
    short = ["mlflow", "search", "list_art", "download", "sql", "parquet", "csv", "profile", "replay", "KB sent"]
    w = max(len(r[0]) for r in rows)
    print(f"\nData page + sidebar under AppTest, {sessions} sessions in one process (work counted, not timed)")
    print(f"{'step':<{w}}" + "".join(f"{s:>9}" for s in short))
    for name, counts in rows:
        vals = [counts.c.get(k, 0) for k in keys]
        vals[-1] = round(vals[-1] / 1024, 1)
        print(f"{name:<{w}}" + "".join(f"{v:>9}" for v in vals))
    later = [c for n, c in rows if n.startswith("s") and "+ open" in n]
    if later:
        print(f"sessions 2..{sessions}: {sum(c.c['mlflow calls'] for c in later)} MLflow calls, "
              f"{sum(c.c['sql statements'] for c in later)} SQL statements, "
              f"{sum(c.c['bytes sent'] for c in later) / 1024:.0f} KB sent in all")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--profile", action="store_true", help="cProfile the idle reruns")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-data-work-")) / "workspace"
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    saved = subprocess.run([sys.executable, "-m", "core", "save", str(ROOT / "data" / "penguins.csv"), "--target",
                            "species"], cwd=ROOT, env=env, capture_output=True, text=True)
    if saved.returncode != 0:
        raise SystemExit(f"python -m core save failed: {saved.stderr[-400:]}")
    os.environ["WORKBENCH_HOME"] = str(home)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.chdir(ROOT)
    instrument()
    _report(run(args.sessions, args.profile), args.sessions)


if __name__ == "__main__":
    main()
