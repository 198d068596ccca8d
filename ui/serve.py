"""``python -m ui.serve [streamlit options]``: ``streamlit run app.py``, with the server warmed at start.

What ``make run`` starts. It is Streamlit's own command line in this process (every ``--server.*``
option works, e.g. ``--server.port 8600``), preceded by :func:`ui.warmup.start` so that opening the
store (creating a new one) and the first pages' imports happen while the server starts, not inside
the first person's page.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str] | None = None) -> None:
    from streamlit.web import cli

    from ui import warmup

    warmup.start()
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
