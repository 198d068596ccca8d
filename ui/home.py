"""Home's reads: the lineage picker's choices, and every cached read Home's first render makes.

:func:`prefetch` is what the start-up warm-up (``python -m ui.serve``) runs before the server answers
healthy: it fills the same ``st.cache_data`` entries Home and the sidebar read (store probe, project
list, the cards' snapshot, the charter's verdict, the default lineage graph), so the first person's Home
is served from memory. Entries are keyed by the store's write stamp: a write after the warm-up makes
the first page read again, never show something stale.
"""

from __future__ import annotations

from core.tracking.models import ModelVersionInfo
from ui import cache

MAX_CHOICES = 200  # root runs offered in the lineage picker (models first)


def lineage_choices(snap: cache.HomeSnapshot) -> list[tuple[str, str]]:
    """(label, run id) for the lineage picker: registered versions first, then root runs, newest first."""
    roots = [r for r in snap.runs if not r.tags.get("mlflow.parentRunId")]
    root_ids = {r.run_id for r in roots}
    choices = [(_version_label(v), v.run_id) for v in snap.versions if v.run_id in root_ids]
    choices += [(f"{r.stage} · {r.name or r.run_id[:8]} · {r.run_id[:8]}", r.run_id) for r in roots[:MAX_CHOICES]]
    return choices


def _version_label(v: ModelVersionInfo) -> str:
    return f"model {v.name} v{v.version}" + (f" ({', '.join(v.aliases)})" if v.aliases else "")


def prefetch(project: str) -> None:
    """Fill the cached reads of Home's first render for ``project`` (store errors propagate)."""
    from ui.verdict import champion_verdict

    if not cache.store_health().ok:
        return
    cache.projects()
    snap = cache.home_snapshot(project)
    champion_verdict(project)
    if choices := lineage_choices(snap):
        cache.lineage(project, choices[0][1])  # the picker's default
