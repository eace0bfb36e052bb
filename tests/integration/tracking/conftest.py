"""Fixtures shared by tracking's integration tests: a migrated engine on each database. A test of
what only PostgreSQL has (query plans, exported snapshots) narrows it with ``ON_POSTGRESQL``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from pantau_tracking.adapters.database import create_engine, migrate


def migrated(url: str) -> Iterator[sa.Engine]:
    engine = create_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """Tracking's schema on SQLite, then on PostgreSQL (``database_url`` is parametrised)."""
    yield from migrated(database_url)


# ``database_url`` is parametrised over both databases; this runs a test on PostgreSQL only
# (rather than skipping its SQLite run: a skip would read as something missing).
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
