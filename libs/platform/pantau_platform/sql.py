"""SQL plumbing shared by the services' small SQL stores (SQLite by default, PostgreSQL in
production): intake's replay/idempotency/credential tables, publishing's citizen store.

* ``engine_for(url)``: one engine per process; SQLite files run in WAL mode with
  ``synchronous=NORMAL`` and a busy timeout, so several threads/processes (replicas on one
  host) can write small rows without serialising on fsync. ``postgresql://`` maps to psycopg2.
  Its errors carry no row values (``hide_parameters``, ``sql_errors.hide_row_values``).
* ``upsert(engine, table)``: the dialect's ``INSERT`` with ``ON CONFLICT`` support.
* ``ExpiryPurger``: deletes expired rows at most once per interval per process, piggybacking on
  writes (cheap: an index on ``expires_at``), so no separate janitor process is needed.
* ``create_tables(engine, metadata, lock_id)``: ``create_all`` that is safe when several replicas
  start at once on a fresh PostgreSQL database (serialised by an advisory lock; without it two
  ``CREATE TABLE`` for one name race and one replica dies at start-up). Each store passes its
  own lock id.
* ``unavailable_on_error(what, error)``: driver errors become the caller's ``error`` (its
  domain's "store unavailable"), so an HTTP edge answers 503 rather than crash.
* ``transact(engine, what, work, error)``: run ``work`` in a transaction; if the pooled
  connection turns out dead (the database restarted while it sat idle) it is retried once on a
  fresh one, which is why the ledger engine needs no per-checkout ``pre_ping`` round trip.
* ``ping(engine)``: does the database answer (readiness, outage probes)?
* ``ledger_engine_for(url)``: an engine for tables written one statement per call: autocommit
  (no BEGIN/COMMIT round trips) and, on PostgreSQL, ``synchronous_commit = off`` for the session
  (a commit returns without waiting for the WAL flush). A database crash may lose the last
  fraction of a second of rows; use it only where that is harmless (intake's replay and
  idempotency memories: the worst outcome is a duplicate forward that tracking's (source, id)
  deduplication absorbs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pantau_platform.sql_errors import hide_row_values

SQLITE_BUSY_TIMEOUT_MS = 10_000
T = TypeVar("T")


def engine_for(url: str, *, pre_ping: bool = True, **options: Any) -> sa.Engine:
    """An engine for ``url`` (``postgresql://`` is mapped to psycopg2). Its errors carry no
    row values: neither the statement's parameters (``hide_parameters``) nor the values
    PostgreSQL quotes in its own messages (``sql_errors.hide_row_values``)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    options.setdefault("hide_parameters", True)
    engine = hide_row_values(sa.create_engine(url, pool_pre_ping=pre_ping, **options))
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class StoreUnavailable(RuntimeError):
    """The default ``error`` of ``transact``/``unavailable_on_error``: a store is unreachable."""


def create_tables(engine: sa.Engine, metadata: sa.MetaData, lock_id: int) -> None:
    """Create missing tables; on PostgreSQL under a session advisory lock (session-level, since
    the ledger engines run in autocommit where a transaction lock would end at once) so
    concurrently starting replicas create each table exactly once."""
    if engine.dialect.name != "postgresql":
        _create_racing(engine, metadata)
        return
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
        try:
            metadata.create_all(connection)
            connection.commit()
        finally:
            connection.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
            connection.commit()


def _create_racing(engine: sa.Engine, metadata: sa.MetaData, attempts: int = 5) -> None:
    """SQLite has no advisory lock: processes sharing one file (intake's HTTP, ingress and
    outcomes processes in development) may create the same table at the same moment. The loser
    sees "already exists" or "database is locked"; ``create_all`` checks first, so trying again
    finds the winner's table."""
    for attempt in range(1, attempts + 1):
        try:
            metadata.create_all(engine)
            return
        except sa.exc.OperationalError as exc:
            transient = "already exists" in str(exc) or "locked" in str(exc)
            if not transient or attempt == attempts:
                raise
            time.sleep(0.05 * attempt)


def ledger_engine_for(url: str) -> sa.Engine:
    """An engine for the replay/idempotency tables; see the module docstring. Use it with
    ``transact`` (which stands in for the pre-ping)."""
    # Autocommit set once per connection (not per checkout, as execution_options would).
    engine = engine_for(url, pre_ping=False, isolation_level="AUTOCOMMIT")
    if engine.dialect.name == "postgresql":
        sa.event.listen(engine, "connect", _relaxed_commit)
    return engine


def _relaxed_commit(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET synchronous_commit TO OFF")
    finally:
        cursor.close()
    dbapi_connection.commit()  # psycopg2 opened a transaction for the SET


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a power cut may lose the last commits, never corrupts the file.
        # Acceptable for memories and small rarely written rows.
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
def unavailable_on_error(what: str, error: type[Exception] = StoreUnavailable) -> Iterator[None]:
    """Turn connection-level driver errors into ``error``."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError) as exc:
        raise error(f"{what}: {type(exc).__name__}") from exc


def transact(engine: sa.Engine, what: str, work: Callable[[sa.Connection], T],
             error: type[Exception] = StoreUnavailable) -> T:
    """``work(conn)`` inside ``engine.begin()``; one retry when the connection was found dead
    (SQLAlchemy invalidated it); connection-level failures become ``error``.

    The retry is safe for the ledgers' statements: a dead pooled connection fails when the
    statement is sent, before it ran; and their upserts are idempotent anyway.
    """
    for attempt in (1, 2):
        try:
            with engine.begin() as conn:
                return work(conn)
        except sa.exc.DBAPIError as exc:
            if attempt == 1 and exc.connection_invalidated:
                continue
            if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
                raise error(f"{what}: {type(exc).__name__}") from exc
            raise
        except sa.exc.TimeoutError as exc:  # pool exhausted
            raise error(f"{what}: {type(exc).__name__}") from exc
    raise AssertionError("unreachable")


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


def ping(engine: sa.Engine) -> bool:
    """True when the database answers ``SELECT 1`` (readiness, and the probe while the ingress
    holds a batch through an outage). Never raises."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure: not reachable (yet)
        return False
