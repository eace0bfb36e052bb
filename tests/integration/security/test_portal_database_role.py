"""The portal's PostgreSQL role reads the transparency log and nothing else (issue 14, item 4).

``infra/postgres/portal-readonly.sql`` (run by ``infra/stack.sh up`` in tracking's database
``pantau``, and by the compose postgres init) makes ``pantau_portal``; a table tracking creates
later is covered by its event trigger. Uniquely named tables, dropped at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from tests.conftest import PG_URL

PORTAL_PASSWORD = "pantau_portal-dev-only"  # DEVELOPMENT (infra/lib/postgres.sh)


def in_database(url: str, database: str, user: str | None = None,
                password: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc if user is None else f"{user}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(("postgresql+psycopg2", netloc, f"/{database}", "", ""))


@pytest.fixture
def tables() -> Iterator[tuple[sa.Engine, str, str]]:
    owner = sa.create_engine(in_database(PG_URL, "pantau"))
    tag = uuid.uuid4().hex[:8]
    log, private = f"transparency_test_{tag}", f"applicants_test_{tag}"
    with owner.begin() as db:  # created as tracking would: by its role, after the script ran
        db.execute(sa.text(f"CREATE TABLE {log} (n int); INSERT INTO {log} VALUES (1)"))
        db.execute(sa.text(f"CREATE TABLE {private} (nik text); INSERT INTO {private} "
                           "VALUES ('3273010101010001')"))
    portal = sa.create_engine(in_database(PG_URL, "pantau", "pantau_portal", PORTAL_PASSWORD))
    try:
        yield portal, log, private
    finally:
        portal.dispose()
        with owner.begin() as db:
            db.execute(sa.text(f"DROP TABLE IF EXISTS {log}, {private}"))
        owner.dispose()


def refused(engine: sa.Engine, sql: str) -> bool:
    try:
        with engine.begin() as db:
            db.execute(sa.text(sql))
    except DBAPIError as exc:
        return "permission denied" in str(exc) or "read-only transaction" in str(exc)
    return False


def test_the_portal_role_selects_the_log_and_nothing_else(
        tables: tuple[sa.Engine, str, str]) -> None:
    portal, log, private = tables
    with portal.connect() as db:
        assert db.execute(sa.text(f"SELECT n FROM {log}")).scalar() == 1
    assert refused(portal, f"SELECT nik FROM {private}")
    assert refused(portal, f"INSERT INTO {log} VALUES (2)")
    assert refused(portal, f"CREATE TABLE transparency_mine_{uuid.uuid4().hex[:6]} (n int)")
