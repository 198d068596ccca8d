"""The Data stage: load, profile, clean and version tables.

Light on purpose: importing ``core.data`` pulls in nothing heavy (pandas is
imported inside the modules that need it). Use the submodules directly:

* :mod:`core.data.io` — :func:`~core.data.io.read_table` (CSV / Parquet / JSON Lines
  from a path or uploaded bytes) → :class:`~core.data.io.LoadedTable`;
* :mod:`core.data.bundled` — the real data sets shipped in ``data/``;
* :mod:`core.data.profile` — :func:`~core.data.profile.profile_frame` → ``Profile``;
* :mod:`core.data.commands` — ``python -m core profile FILE``.
"""

from __future__ import annotations
