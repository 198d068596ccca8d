"""Reading a table file for the headless commands that train, check or score models on it.

``tune --data FILE``, ``monitor`` with file references, ``label-sim`` and ``export --check
FILE`` read files the way the Data page reads an upload (encoding, delimiter and duplicate
names sniffed: a semicolon-separated or Latin-1 file is read right, not as one column),
then treat the usual missing tokens (``NA``, ``n/a``, ``null``, ``-`` …) as missing and make
token-free numeric text numeric — what the person would confirm on the Data page, and what
``pandas.read_csv`` does for well-formed files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

NO_LIMIT = 1 << 40  # the upload limit is for the browser; a command reads what the machine can hold


def read_for_models(path: str | Path) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The table in ``path`` and the reader's notes.

    Raises:
        DataError: the file is missing, empty, binary or not a table (one sentence).
    """
    from core.data.io import read_table
    from core.data.recipe import DEFAULT_MISSING_TOKENS, Recipe, Step, replay

    loaded = read_table(path, max_bytes=NO_LIMIT)
    done = replay(loaded.frame, Recipe((Step("missing_tokens", {"tokens": list(DEFAULT_MISSING_TOKENS)}),)),
                  mode="fit")
    return done.frame, loaded.notes
