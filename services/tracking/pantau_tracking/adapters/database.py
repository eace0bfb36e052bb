"""Engine creation and programmatic migrations (``alembic upgrade head`` at start).

SQLite (default, a file in the state folder) or PostgreSQL when ``PANTAU_DATABASE_URL`` is set;
plain ``postgresql://`` URLs are accepted and use the psycopg2 driver.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from pantau_platform.sql_errors import hide_row_values

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x70616E74  # "pant": advisory lock id for tracking's migrations


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def create_engine(url: str) -> sa.Engine:
    """Database errors never carry row values (applicant data) into logs or dead letters:
    ``hide_parameters`` keeps a statement's parameters out, ``hide_row_values`` the values
    PostgreSQL quotes in its own messages (``pantau_platform.sql_errors``)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # values_plus_batch: an executemany UPDATE (a batch's case rows, SqlUnitOfWork.flush)
    # goes as pages of statements (psycopg2's execute_batch), not one round trip per row;
    # inserts keep SQLAlchemy's multi-row VALUES. Nothing here reads an executemany's rowcount,
    # which this mode does not report.
    return hide_row_values(sa.create_engine(
        url, pool_size=10, max_overflow=5, pool_pre_ping=True, hide_parameters=True,
        executemany_mode="values_plus_batch"))


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several instances may start together: one migrates, the others wait, then see
            # the schema at head. The lock is released at commit.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
