"""Names a person types that become paths, and the check that a derived path stays home.

A project name becomes an MLflow experiment *and* a folder under the artifact root, so
``../../tmp/evil`` used to write outside the workspace. Names are checked once, here, on
creation (a project or study that already exists under an older, looser name still opens):
letters, digits, ``_ . -``, no leading dot, 1–80 characters. Independently of the name
check, :func:`inside` resolves every derived path and refuses one that escapes its base —
the second wall in case a name reaches a path some other way.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import WorkbenchError

MAX_NAME = 80
_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,%d}" % (MAX_NAME - 1))


class UnsafeNameError(WorkbenchError):
    """A project or study name outside the safe character set."""


class PathEscapeError(WorkbenchError):
    """A path derived from a name resolves outside the folder it must stay in."""


def check_name(value: object, what: str = "project name") -> str:
    """Return ``value`` stripped if it is a safe name, else raise one sentence naming it.

    Raises:
        UnsafeNameError: blank, too long, a leading dot, or a character outside ``A-Z a-z 0-9 _ . -``.
    """
    text = str(value if value is not None else "").strip()
    if _SAFE.fullmatch(text):
        return text
    shown = text if len(text) <= 100 else text[:100] + "…"
    raise UnsafeNameError(f"The {what} must be 1–{MAX_NAME} letters, digits, '_', '.' or '-' and must not start "
                     f"with a dot. Got {shown!r} instead.")


def check_project(value: object) -> str:
    """A safe project name (see :func:`check_name`)."""
    return check_name(value, "project name")


def check_study(value: object) -> str:
    """A safe study name (see :func:`check_name`)."""
    return check_name(value, "study name")


def inside(base: Path | str, *parts: str) -> Path:
    """``base / parts`` resolved, refused when it is not ``base`` itself or below it.

    Symbolic links are followed (``resolve``), so a link pointing out of ``base`` is an escape too.

    Raises:
        PathEscapeError: the resolved path lies outside ``base``.
    """
    root = Path(base).expanduser().resolve()
    target = root.joinpath(*[str(p) for p in parts]).resolve()
    if target != root and root not in target.parents:
        joined = "/".join(str(p) for p in parts)
        raise PathEscapeError(f"The path {joined!r} leads outside {str(root)!r}; the workbench only writes "
                              "inside its workspace and artifact root.")
    return target


def project_artifact_location(artifact_root: str, name: str) -> str:
    """Where a new project's artifacts go: ``<root>/<name>``, checked to stay under a local (``file:``) root.

    A remote root (``s3://`` …) gets the plain join: there the name check is the guard.
    """
    if artifact_root.startswith("file:") or "://" not in artifact_root:
        from urllib.parse import unquote, urlparse

        local = unquote(urlparse(artifact_root).path) if artifact_root.startswith("file:") else artifact_root
        return inside(local, name).as_uri()
    return f"{artifact_root.rstrip('/')}/{name}"
