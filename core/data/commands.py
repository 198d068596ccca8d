"""Data-stage commands for ``python -m core``: ``clean`` (recipe replay); ``profile`` joins here.

Shared by the loading and the cleaning helpers: additive edits only — each command lives in its
own module with a ``register_<name>(sub)`` function called below.
"""

from __future__ import annotations

from core.data.clean_cmd import register_clean
from core.data.profile_cmd import register_profile
from core.data.save_cmd import register_save


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    register_clean(sub)
    register_profile(sub)
    register_save(sub)
