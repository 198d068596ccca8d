"""Rows held by live labelling sessions, so two tabs on one version are asked different rows.

One small JSON file next to each label log (``<log>.reservations.json``) lists, per
session, the rows of its open batch and when the hold expires::

    {"version": 1, "sessions": [{"session": "3fa2c1d0", "owner": "browser:…", "client": "…",
                                 "server": "host:pid", "rows": [12, 40], "expires": 1764620000.0}]}

A session draws its batch with :meth:`Reservations.draw`: under an exclusive ``fcntl``
lock it reads the rows the *other* live sessions hold, lets the caller choose among
the rest, and writes its own record back (temp file, fsync, rename) — so two sessions
drawing at the same moment still get disjoint rows. A hold lasts
:data:`HOLD_SECONDS` and is renewed while the session is alive; a session that died
(a closed tab, a refresh, a killed server) stops renewing, and its rows are free again
when the hold expires — or at once, when the caller can tell the session is gone
(``is_dead``, e.g. Streamlit's list of active sessions on this server).

Reservations only decide which rows are *offered*; they never block a label. A row
labelled anyway by two sessions is caught by :meth:`core.label.labellog.LabelLog.append_checked`.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.atomic import write_atomic

HOLD_SECONDS = 180.0  # "a few minutes": long enough to label a batch, short enough for a dead tab


@dataclass(frozen=True)
class Reservation:
    """The rows one session holds until ``expires`` (epoch seconds)."""

    session: str
    rows: tuple[int, ...]
    expires: float
    owner: str = ""   # the person (browser or user identity), for display and debugging
    client: str = ""  # the server's own id of the session (Streamlit session id), for liveness checks
    server: str = ""  # host:pid of the server that runs the session

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Reservation:
        return cls(str(d["session"]), tuple(int(r) for r in d.get("rows", ())), float(d["expires"]),
                   str(d.get("owner", "")), str(d.get("client", "")), str(d.get("server", "")))


@dataclass(frozen=True)
class Reservations:
    """The reservation file of one label log; every method is safe across threads and processes."""

    path: Path

    @classmethod
    def for_log(cls, log_path: Path) -> Reservations:
        return cls(Path(log_path).with_suffix(".reservations.json"))

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(".lock")

    # --- reading -------------------------------------------------------------------------------
    def all(self) -> list[Reservation]:
        """Every record on disk, expired or not (an unreadable file counts as empty: holds are advisory)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [Reservation.from_dict(d) for d in data.get("sessions", [])]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return []

    def live(self, now: float | None = None, is_dead: Callable[[Reservation], bool] | None = None) -> list[Reservation]:
        """Records that still hold their rows: not expired and not known to be dead."""
        now = time.time() if now is None else now
        return [r for r in self.all() if r.expires > now and not (is_dead and is_dead(r))]

    def held_by_others(self, session: str, now: float | None = None,
                       is_dead: Callable[[Reservation], bool] | None = None) -> set[int]:
        """Rows in the live batches of sessions other than ``session``."""
        return {row for r in self.live(now, is_dead) if r.session != session for row in r.rows}

    def mine(self, session: str) -> Reservation | None:
        return next((r for r in self.all() if r.session == session), None)

    # --- writing -------------------------------------------------------------------------------
    def draw(self, session: str, choose: Callable[[set[int]], Iterable[int]], *, owner: str = "",
             client: str = "", server: str = "", hold: float = HOLD_SECONDS, now: float | None = None,
             is_dead: Callable[[Reservation], bool] | None = None) -> list[int]:
        """Choose rows while no other session can draw, and hold them for ``session``.

        Args:
            session: this session's id (its previous hold is replaced).
            choose: gets the rows other live sessions hold, returns the rows to hold (in order).
            hold: seconds the rows stay held unless renewed.
            is_dead: tells a record whose session is known to be gone (its rows are free at once).

        Returns:
            The chosen rows, as ``choose`` returned them.
        """
        with self._locked():
            now = time.time() if now is None else now
            live = self.live(now, is_dead)
            rows = [int(r) for r in choose({row for r in live if r.session != session for row in r.rows})]
            others = [r for r in live if r.session != session]
            mine = [Reservation(session, tuple(rows), now + hold, owner, client, server)] if rows else []
            self._write([*others, *mine])
        return rows

    def renew(self, session: str, *, hold: float = HOLD_SECONDS, now: float | None = None) -> bool:
        """Push this session's hold ``hold`` seconds ahead when less than half of it is left.

        Returns True when the file was written. Cheap to call on every rerun: it only reads.
        """
        now = time.time() if now is None else now
        current = self.mine(session)
        if current is None or current.expires - now > hold / 2:
            return False
        with self._locked():
            records = self.live(now)
            current = next((r for r in records if r.session == session), None)
            if current is None:  # expired meanwhile: its rows may be someone else's now
                return False
            records = [r for r in records if r.session != session]
            records.append(Reservation(session, current.rows, now + hold, current.owner, current.client,
                                       current.server))
            self._write(records)
        return True

    def release(self, session: str) -> None:
        """Drop this session's hold (its batch is finished or abandoned)."""
        with self._locked():
            records = self.all()
            if any(r.session == session for r in records):
                self._write([r for r in records if r.session != session and r.expires > time.time()])

    def _write(self, records: list[Reservation]) -> None:
        payload = {"version": 1, "sessions": [{**asdict(r), "rows": list(r.rows)} for r in records]}
        write_atomic(self.path, json.dumps(payload, separators=(",", ":")))

    def _locked(self) -> _Lock:
        return _Lock(self.lock_path)


class _Lock:
    """An exclusive ``flock`` on a side file (the data file itself is replaced by rename, so not lockable)."""

    def __init__(self, path: Path) -> None:
        self.path, self.fd = path, -1

    def __enter__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
