"""Alerts: a failed run, a drifted batch or a promotion, kept in the workspace until read, sent to a webhook.

Alerts are JSON lines in ``<workspace>/plan/alerts.jsonl`` (append-only, so several flow-run
processes can write at once); the ids read are in ``alerts_read.json``. When ``WORKBENCH_WEBHOOK_URL``
is set each alert is also POSTed there as JSON (``{"kind", "title", "message", "project", "link", ...}``);
a webhook that does not answer is noted on the alert, never fatal to the pipeline.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

KINDS = ("failed", "drift", "promotion", "retrain", "info")
WEBHOOK_ENV = "WORKBENCH_WEBHOOK_URL"
WEBHOOK_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Alert:
    id: str
    kind: str
    title: str
    message: str
    project: str
    created: float
    link: str = ""
    delivered: str = ""  # "" (no webhook), "sent", or the reason it was not


def _folder(home: Path) -> Path:
    path = Path(home) / "plan"
    path.mkdir(parents=True, exist_ok=True)
    return path


def raise_alert(home: Path, kind: str, title: str, message: str, *, project: str = "", link: str = "",
                webhook_url: str | None = None) -> Alert:
    """Store one alert and POST it to the webhook (``webhook_url`` or ``$WORKBENCH_WEBHOOK_URL``)."""
    alert = Alert(uuid.uuid4().hex[:12], kind if kind in KINDS else "info", title, message, project, time.time(), link)
    url = webhook_url if webhook_url is not None else os.environ.get(WEBHOOK_ENV, "")
    if url:
        alert = Alert(**{**asdict(alert), "delivered": post_webhook(url, alert)})
    with (_folder(home) / "alerts.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(alert)) + "\n")
    return alert


def post_webhook(url: str, alert: Alert) -> str:
    """POST the alert as JSON; return "sent" or one sentence saying why not."""
    import urllib.error
    import urllib.request

    body = json.dumps(asdict(alert)).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=WEBHOOK_TIMEOUT_S) as resp:  # noqa: S310 - the person's own URL
            return "sent" if resp.status < 400 else f"the webhook answered HTTP {resp.status}"
    except (urllib.error.URLError, OSError, ValueError) as err:
        return f"the webhook at {url} did not take the alert ({getattr(err, 'reason', err)})"


def alerts(home: Path, *, unread_only: bool = False, project: str | None = None) -> list[Alert]:
    """Stored alerts, newest first (a damaged line is skipped)."""
    path = Path(home) / "plan" / "alerts.jsonl"
    if not path.exists():
        return []
    read = _read_ids(home)
    out: list[Alert] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            alert = Alert(**json.loads(line))
        except (ValueError, TypeError):
            continue
        if unread_only and alert.id in read:
            continue
        if project is not None and alert.project and alert.project != project:
            continue
        out.append(alert)
    return sorted(out, key=lambda a: a.created, reverse=True)


def _read_ids(home: Path) -> set[str]:
    path = Path(home) / "plan" / "alerts_read.json"
    try:
        return set(json.loads(path.read_text()))
    except (OSError, ValueError):
        return set()


def mark_read(home: Path, ids: list[str] | None = None) -> int:
    """Mark ``ids`` (default: every alert) as read; return how many were unread."""
    unread = {a.id for a in alerts(home, unread_only=True)}
    chosen = unread if ids is None else unread & set(ids)
    path = _folder(home) / "alerts_read.json"
    from core.atomic import write_atomic

    write_atomic(path, json.dumps(sorted(_read_ids(home) | chosen)))
    return len(chosen)
