"""Integration fixtures: real team servers (PostgreSQL 15 + ``mlflow server``), started once per session.

Tests that use them are marked ``postgres`` and ``slow``; the servers are started lazily, only when
such a test runs, and every process is stopped at the end of the session (or if start-up fails).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.servers import TeamServers, postgres_available, team_servers


@pytest.fixture(scope="session")
def team() -> Iterator[TeamServers]:
    """PostgreSQL 15 (``mlflow`` and ``optuna`` databases) and an MLflow server with proxied artifacts."""
    if not postgres_available():
        pytest.skip("PostgreSQL 15 binaries are not installed (/usr/lib/postgresql/15/bin; set WORKBENCH_PG_BIN).")
    with team_servers() as servers:
        yield servers
