"""SQL plumbing shared by intake's database adapters (SQLite by default, PostgreSQL in production).

* ``engine_for(url)``: one engine per process; SQLite files run in WAL mode with
  ``synchronous=NORMAL`` and a busy timeout, so several threads/processes (HTTP replicas on one
  host) can write the small replay/idempotency rows without serialising on fsync.
* ``upsert(engine, table)``: the dialect's ``INSERT`` with ``ON CONFLICT`` support — the atomic
  "insert if absent" both the replay check and the accepted-events memory rely on.
* ``ExpiryPurger``: deletes expired rows at most once per interval per process, piggybacking on
  writes (cheap: an index on ``expires_at``), so no separate janitor process is needed.
* ``unavailable_on_error``: driver errors become ``StoreUnavailable`` (the edge answers 503).
* ``relax_durability(conn)``: on PostgreSQL, ``SET LOCAL synchronous_commit = off`` for the
  current transaction — the commit returns without waiting for the WAL flush. Only for the
  replay/idempotency rows: a database crash may lose the last fraction of a second of them, and
  the worst outcome is a duplicate forward that tracking's (source, id) deduplication absorbs
  (a lost seen-signature row lets the replay through to the accepted-events check, which answers
  it as a retry). It never corrupts anything and spares an fsync per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pantau_intake.domain.store import StoreUnavailable

SQLITE_BUSY_TIMEOUT_MS = 10_000


def engine_for(url: str) -> sa.Engine:
    """An engine for ``url`` (``postgresql://`` is mapped to psycopg2)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a power cut may lose the last commits, never corrupts the file.
        # Acceptable for a replay/idempotency memory and for rarely written keys.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def upsert(engine: sa.Engine, table: sa.Table) -> Any:
    """``insert(table)`` of the engine's dialect, offering ``on_conflict_do_*``."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database {engine.dialect.name!r} (SQLite or PostgreSQL)")


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


@contextmanager
def unavailable_on_error(what: str) -> Iterator[None]:
    """Turn connection-level driver errors into ``StoreUnavailable``."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError) as exc:
        raise StoreUnavailable(f"{what}: {type(exc).__name__}") from exc


def relax_durability(conn: sa.Connection) -> None:
    """See the module docstring; a no-op outside PostgreSQL (SQLite uses synchronous=NORMAL)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


class ExpiryPurger:
    """Deletes rows of ``table`` whose ``expires_at`` is in the past, at most every ``interval``
    seconds (per process). A failed purge is ignored: it is retried at the next interval."""

    def __init__(self, engine: sa.Engine, table: sa.Table, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._table = table
        self._interval = interval
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def maybe_purge(self, now: datetime) -> int:
        """Purge if due; the number of rows deleted (0 when not due)."""
        with self._lock:
            tick = self._clock()
            if tick < self._next:
                return 0
            self._next = tick + self._interval
        try:
            with self._engine.begin() as conn:
                result = conn.execute(sa.delete(self._table).where(
                    self._table.c.expires_at < now))
                return int(result.rowcount or 0)
        except sa.exc.DBAPIError:
            return 0
