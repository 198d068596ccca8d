"""Work of each page's first render after a full loop: store searches, downloads, trial reads — counted.

Usage: python bench/bench_page_work.py [--workspace DIR] [--pages tune,compare,monitor,deploy,plan] [--top N]

bench_app.py table 3 times each page's first render in Chromium; on a shared 2-core machine those times
swing with everyone's load. This script counts what a first render *does*, which the load does not change:
MLflow searches, run reads, artifact downloads, dataset loads, Optuna trial reads and SQL statements.

It runs the server's warm-up (``ui.warmup``: store open, first pages imported, Home's reads cached) and then
each page under AppTest twice in one process: ``first`` (a new session on a server that has not drawn the
page yet) and ``again`` (another new session: what the process-wide caches leave). The script thread is
profiled (cProfile enabled inside it), so the counts are the page's own. ``--workspace`` reuses a copy of a
looped workspace (bench_app.py builds one with the same headless commands); without it the loop runs here.
``--top N`` prints the N most expensive functions of each first render.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# label: (a piece of the file path, function name)
WATCH = {
    "searches": (("tracking/client.py", "search_runs"), ("tracking/client.py", "search_model_versions"),
                 ("tracking/client.py", "search_registered_models")),
    "get_run": (("tracking/client.py", "get_run"),),
    "downloads": (("tracking/client.py", "download_artifacts"),),
    "datasets": (("core/tracking/datasets.py", "load_dataset"),),
    "model loads": (("mlflow/sklearn/__init__.py", "load_model"), ("mlflow/pyfunc/__init__.py", "load_model")),
    "trial reads": (("optuna/study/study.py", "get_trials"),),
    "SQL": (("sqlalchemy/engine/base.py", "_execute_context"),),
}


def counts(stats: pstats.Stats) -> dict[str, int]:
    out = dict.fromkeys(WATCH, 0)
    for (path, _, name), (_, ncalls, *_rest) in stats.stats.items():  # type: ignore[attr-defined]
        for label, places in WATCH.items():
            if any(piece in path and name == fn for piece, fn in places):
                out[label] += ncalls
    return out


def render(page: str) -> tuple[float, pstats.Stats, str]:
    """One first render of ``pages/<page>.py`` in a new AppTest session, profiled in the script thread."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=600)
    prof = cProfile.Profile()
    threading.setprofile(lambda *_: prof.enable())  # the script runs on its own thread
    t0 = time.perf_counter()
    try:
        at.run()
    finally:
        threading.setprofile(None)
    took = time.perf_counter() - t0
    prof.create_stats()
    error = at.exception[0].value if at.exception else ""
    return took, pstats.Stats(prof), error


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, help="a full loop's workspace (copied; default: run the loop)")
    ap.add_argument("--pages", default="tune,compare,monitor,deploy,plan")
    ap.add_argument("--top", type=int, default=0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wb-page-work-"))
    home = tmp / "loop"
    if args.workspace:
        shutil.copytree(args.workspace, home)
    else:
        from bench.bench_app import full_loop

        print(f"full loop took {full_loop(home, tmp / 'export'):.0f} s")
    os.environ["WORKBENCH_HOME"] = str(home)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    import ui.warmup as warmup

    warmup.start(wait_for_server=False)
    warmup.wait(300)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; warm-up {warmup.took():.1f} s")
    header = f"{'page':<9} {'render':<6} {'s':>6}  " + "  ".join(f"{k:>11}" for k in WATCH)
    print(header)
    tops = []
    for page in args.pages.split(","):
        for tag in ("first", "again"):
            took, stats, error = render(page)
            c = counts(stats)
            print(f"{page:<9} {tag:<6} {took:6.2f}  " + "  ".join(f"{c[k]:>11}" for k in WATCH)
                  + (f"  ERROR {error}" if error else ""), flush=True)
            if tag == "first" and args.top:
                out = io.StringIO()
                pstats.Stats(stats, stream=out).sort_stats("cumulative").print_stats(
                    r"/(ui|core|pages)/|__init__.py:1\(<module>\)", args.top)
                tops.append(f"\n-- {page}, first render --\n" + out.getvalue().split("\n\n", 2)[-1])
    print("".join(tops))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
