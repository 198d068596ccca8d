"""Atomic file writes: a temp file of its own beside the target, flushed to disk, then one rename.

The temp name is unique per call (``tempfile.mkstemp``): two tabs of one Streamlit server are two
threads of one process, and a temp name built from the process id alone was shared, so the second
rename failed (the two-tab Label error). Every writer that replaces a workspace file goes through
:func:`write_atomic`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` so a reader sees the old or the new content, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data if isinstance(data, bytes) else data.encode(encoding))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
