"""What the workbench is connected to, and whether it answers — for the sidebar and ``python -m core status``."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import Settings

if TYPE_CHECKING:  # pragma: no cover
    from core.tracking import Tracker

STORAGE_KINDS = {"postgresql": "PostgreSQL", "postgres": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite"}
PROBE_TIMEOUT_S = 5


@dataclass(frozen=True)
class BackendStatus:
    """One backend: its role, kind, where it is (password masked) and whether it answered."""

    role: str  # "tracking" | "tuning"
    kind: str  # "embedded SQLite" | "tracking server" | "journal file" | "PostgreSQL" | …
    where: str
    ok: bool
    message: str
    latency_ms: float

    @property
    def shared(self) -> bool:
        """True when several people / machines can use this backend at once."""
        return self.kind not in ("embedded SQLite", "journal file", "SQLite")


def mask(url: str) -> str:
    """``scheme://user:***@host/db`` — never show a password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", str(url))


def storage_kind(url_or_path: str) -> str:
    """Kind of an Optuna storage: ``journal file`` (a path) or the database engine of a URL."""
    text = str(url_or_path).strip()
    if "://" not in text or text.startswith("journal://"):
        return "journal file"
    scheme = text.split("://", 1)[0].split("+", 1)[0].lower()
    return STORAGE_KINDS.get(scheme, scheme)


def tracking_status(tracker: Tracker) -> BackendStatus:
    """Probe the MLflow store (a short ``/health`` GET first when it is a server)."""
    h = tracker.health()
    return BackendStatus("tracking", h.kind, mask(h.uri), h.ok, h.message, h.latency_ms)


def storage_status(url_or_path: str) -> BackendStatus:
    """Probe the Optuna storage without creating anything in it.

    A journal file answers when its folder is writable; a database when ``SELECT 1``
    returns within :data:`PROBE_TIMEOUT_S` seconds.
    """
    text = str(url_or_path).strip()
    kind = storage_kind(text)
    start = time.perf_counter()
    if kind == "journal file":
        folder = Path(text.removeprefix("journal://")).expanduser().resolve().parent
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent  # the folder is created on first use: check the nearest existing parent
        import os

        ok = probe.is_dir() and os.access(probe, os.W_OK)
        msg = "ok" if ok else f"The folder {folder} of the Optuna journal file is not writable; set OPTUNA_STORAGE."
        return BackendStatus("tuning", kind, text, ok, msg, (time.perf_counter() - start) * 1000)
    import sqlalchemy

    connect_args = {"connect_timeout": PROBE_TIMEOUT_S} if kind in ("PostgreSQL", "MySQL") else {}
    try:
        engine = sqlalchemy.create_engine(text, connect_args=connect_args, poolclass=sqlalchemy.pool.NullPool)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - driver errors vary; the person needs one sentence
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        msg = (f"The Optuna storage at {mask(text)} does not answer: {first}. Check OPTUNA_STORAGE and that the "
               f"database is running; studies already stored there are not affected.")
        return BackendStatus("tuning", kind, mask(text), False, msg, (time.perf_counter() - start) * 1000)
    return BackendStatus("tuning", kind, mask(text), True, "ok", (time.perf_counter() - start) * 1000)


def backend_status(settings: Settings, tracker: Tracker) -> tuple[BackendStatus, BackendStatus]:
    """(tracking, tuning) status of the backends ``settings`` point at."""
    return tracking_status(tracker), storage_status(settings.optuna_storage)
