"""Atomic file writes: a temp file private to this process and thread, then one rename.

Two tabs of one Streamlit server are two threads of one process, so a temp name built from the
process id alone is shared, and the second rename fails (the two-tab Label error). Every writer
that replaces a workspace file goes through :func:`write_atomic`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def write_atomic(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` so a reader sees the old or the new content, never a part."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding=encoding)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
