"""Optuna storages: a journal file on one machine (default), any RDB URL to scale out.

* a path (or ``journal:///path``): ``JournalStorage(JournalFileBackend(path))`` — safe for
  several worker processes on one machine (file lock), nothing to install or run;
* ``sqlite:///…``, ``postgresql://…``, ``mysql://…``: ``RDBStorage`` with a heartbeat
  (``HEARTBEAT_S``) so a trial whose worker died is failed by the next worker and
  re-queued once (``RetryHeartbeatStaleTrialCallback``, Optuna 5's name).

On the journal storage (no heartbeat) the same is done by :mod:`core.tune.records`,
which fails the RUNNING trials of dead worker processes on this machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import TuneError

if TYPE_CHECKING:  # pragma: no cover
    import optuna

HEARTBEAT_S = 30
GRACE_S = 90
LOCK_GRACE_S = 10
RDB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")


def mask_url(url: str) -> str:
    """Hide a password in a storage URL (for messages and MLflow params)."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", str(url))


def is_journal(url_or_path: str) -> bool:
    return "://" not in str(url_or_path) or str(url_or_path).startswith("journal://")


def make_storage(url_or_path: str | Path) -> optuna.storages.BaseStorage:
    """Open (creating if needed) the Optuna storage at ``url_or_path``.

    Raises:
        TuneError: unknown scheme, or the storage cannot be opened / reached.
    """
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock, JournalStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    text = str(url_or_path).strip()
    if not text:
        raise TuneError("The Optuna storage is blank; give a journal file path or a database URL.")
    if is_journal(text):
        path = Path(text.removeprefix("journal://")).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # A worker killed while appending leaves the lock behind; writes take milliseconds,
            # so a 10 s grace period (Optuna's default: 30 s) frees it sooner without risk.
            lock = JournalFileSymlinkLock(str(path), grace_period=LOCK_GRACE_S)
            return JournalStorage(JournalFileBackend(str(path), lock_obj=lock))
        except OSError as err:
            raise TuneError(f"Cannot open the Optuna journal file {path}: {err.strerror or err}.") from err
    scheme = text.split("://", 1)[0].split("+", 1)[0]
    if scheme not in RDB_SCHEMES:
        raise TuneError(f"The Optuna storage must be a journal file path or a database URL "
                        f"({', '.join(s + '://' for s in RDB_SCHEMES)}…). Got {mask_url(text)!r} instead.")
    engine: dict[str, Any] = {}
    if scheme in ("postgresql", "postgres"):
        engine = {"connect_args": {"connect_timeout": 5}, "pool_pre_ping": True}
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # RetryHeartbeatStaleTrialCallback is "experimental"
            return RDBStorage(
                text,
                engine_kwargs=engine,
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
            )
    except Exception as err:  # noqa: BLE001 - driver errors vary; the person needs one sentence
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:300].rstrip('. ')
        raise TuneError(f"Cannot reach the Optuna storage at {mask_url(text)}: {first}. "
                        f"Check the URL, that the database is running, and its driver is installed.") from err


@dataclass(frozen=True)
class StudySummary:
    """One study in a storage, for listing / resuming."""

    name: str
    n_trials: int
    best_value: float | None
    datetime_start: Any
    config_json: str


def list_studies(storage: optuna.storages.BaseStorage) -> list[StudySummary]:
    """Studies of the storage created by the workbench (newest first)."""
    import optuna

    out = []
    for s in optuna.get_all_study_summaries(storage, include_best_trial=True):
        cfg = s.user_attrs.get("workbench.config")
        if not cfg:
            continue
        best = s.best_trial.value if s.best_trial is not None else None
        out.append(StudySummary(s.study_name, s.n_trials, best, s.datetime_start, cfg))
    return sorted(out, key=lambda s: (s.datetime_start is not None, s.datetime_start), reverse=True)
