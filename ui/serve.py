"""``python -m ui.serve [streamlit options]``: ``streamlit run app.py``, healthy once the server is warm.

What ``make run`` starts. It is Streamlit's own command line in this process (every ``--server.*``
option works, e.g. ``--server.port 8600``), preceded by :func:`ui.warmup.start`: opening the store
(creating a new one), the first pages' imports and Home's reads happen at start, not inside the first
person's page. ``/_stcore/health`` answers 503 "warming up" until that is done (at most
``warmup.GATE_S``), so a load balancer, a test or the browser's own connection check that waits for
health meets a server whose first page is quick; Streamlit's front end retries until it is ok.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
WARMING = "warming up"  # the health endpoint's body while the warm-up runs


def gate_health() -> bool:
    """Make Streamlit's readiness (what ``/_stcore/health`` reports) wait for :func:`ui.warmup.ready`.

    Returns False, leaving health as it was, on a Streamlit without the readiness property.
    """
    from streamlit.runtime.runtime import Runtime

    from ui import warmup

    original = Runtime.__dict__.get("is_ready_for_browser_connection")
    if not isinstance(original, property):
        logging.getLogger("workbench.serve").warning("Health is not held back during the warm-up: "
                                                     "this Streamlit has no readiness property.")
        return False
    if getattr(original.fget, "_workbench_gate", False):
        return True  # installed before

    async def ready(self: Runtime) -> tuple[bool, str]:
        ok, message = await original.fget(self)
        return (False, WARMING) if ok and not warmup.ready() else (ok, message)

    ready._workbench_gate = True  # type: ignore[attr-defined]  # installed once per process
    Runtime.is_ready_for_browser_connection = property(ready)  # type: ignore[method-assign]
    return True


def main(argv: list[str] | None = None) -> None:
    from streamlit.web import cli

    from ui import warmup
    from ui.frame import expect_navigation

    expect_navigation()  # a deep link opened first gets app.py's frame (the warm-up imports ui before any page)
    gate_health()
    warmup.start()
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
