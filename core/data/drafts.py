"""Work in progress on the Data page that must survive a refresh, a restart or a kill.

The draft (which table is open, its recipe, the chosen target) is one small JSON
file per (project, person), written atomically (temp file, fsync, rename), so a killed
process leaves either the old or the new draft — never a torn one. Uploaded
files are kept content-addressed in the workspace so the draft can reopen them.

"Person" is an opaque identity string from the UI (a signed-in user, or a random id
the browser keeps in a cookie; see ``ui/identity.py``). It is hashed into the file
name, so an e-mail address never appears on disk and no identity can reach outside
``drafts/<project>/``::

    <home>/drafts/<project>/<sha256(identity)[:24]>.json

Drafts written before drafts were per person (``<home>/drafts/<project>.json``) are
offered once, to the first person who opens the project without a draft of their
own: :func:`load_draft` moves the old file into that person's place with one atomic
rename, so exactly one person ever gets it and nobody else sees it afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.atomic import write_atomic
from core.errors import DataError

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


def _legacy_path(home: Path, project: str) -> Path:
    return home / "drafts" / f"{_slug(project)}.json"


def _draft_path(home: Path, project: str, identity: str) -> Path:
    if not identity:
        raise DataError("A draft needs the identity of the person it belongs to; got an empty identity.")
    person = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]
    return home / "drafts" / _slug(project) / f"{person}.json"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new content, never half."""
    write_atomic(path, text)


def save_draft(home: Path, project: str, identity: str, draft: Draft) -> Path:
    """Replace this person's draft of ``project`` atomically; return its path."""
    path = _draft_path(home, project, identity)
    payload = {**asdict(draft), "updated": time.time()}
    atomic_write_text(path, json.dumps(payload, indent=1, default=str))
    return path


def load_draft(home: Path, project: str, identity: str) -> Draft | None:
    """This person's saved draft, or None (also when the file is unreadable: a draft is never worth a crash).

    Without a draft of their own, the person claims the project's pre-per-person draft, if any
    (an atomic rename: one claimant wins, later visitors never see it).
    """
    path = _draft_path(home, project, identity)
    if not path.exists():
        legacy = _legacy_path(home, project)
        if legacy.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(legacy, path)  # racing claimants: the loser's source is gone (OSError)
            except OSError:
                return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Draft(**{k: data[k] for k in Draft.__dataclass_fields__ if k in data})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def clear_draft(home: Path, project: str, identity: str) -> None:
    _draft_path(home, project, identity).unlink(missing_ok=True)


def store_upload(home: Path, data: bytes, filename: str) -> Path:
    """Keep an uploaded file in the workspace under its content hash; return its path."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    suffix = "".join(Path(filename).suffixes[-2:])[:20] or ".bin"
    path = home / "uploads" / f"{digest}-{_slug(Path(filename).stem)[:60]}{suffix}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)  # two sessions uploading the same bytes at once each use their own temp file
    return path
