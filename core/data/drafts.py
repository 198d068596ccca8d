"""Work in progress on the Data page that must survive a refresh, a restart or a kill.

The draft (which table is open, its recipe, the chosen target) is one small JSON
file per project, written atomically (temp file, fsync, rename), so a killed
process leaves either the old or the new draft — never a torn one. Uploaded
files are kept content-addressed in the workspace so the draft can reopen them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SourceKind = Literal["bundled", "upload", "version"]


@dataclass(frozen=True)
class Draft:
    """What the Data page had open."""

    name: str
    source_kind: SourceKind
    source_ref: str  # bundled key, stored upload path, or dataset version run id
    recipe: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    updated: float = 0.0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "project"


def _draft_path(home: Path, project: str) -> Path:
    return home / "drafts" / f"{_slug(project)}.json"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_draft(home: Path, project: str, draft: Draft) -> Path:
    path = _draft_path(home, project)
    payload = {**asdict(draft), "updated": time.time()}
    atomic_write_text(path, json.dumps(payload, indent=1, default=str))
    return path


def load_draft(home: Path, project: str) -> Draft | None:
    """The saved draft, or None (also when the file is unreadable: a draft is never worth a crash)."""
    path = _draft_path(home, project)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Draft(**{k: data[k] for k in Draft.__dataclass_fields__ if k in data})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def clear_draft(home: Path, project: str) -> None:
    _draft_path(home, project).unlink(missing_ok=True)


def store_upload(home: Path, data: bytes, filename: str) -> Path:
    """Keep an uploaded file in the workspace under its content hash; return its path."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    suffix = "".join(Path(filename).suffixes[-2:])[:20] or ".bin"
    path = home / "uploads" / f"{digest}-{_slug(Path(filename).stem)[:60]}{suffix}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return path
