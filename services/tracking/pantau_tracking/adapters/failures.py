"""Which database errors mean "the database is away" (transient) — pure functions, no I/O.

A transient error says nothing about the message being applied: the connection was refused,
dropped or timed out, the server is starting up, shutting down or out of connection slots
("too many clients"), the transaction lost a serialization conflict or a deadlock, a lock or
statement timed out, the disk is full, the server is a read-only standby after a failover, or
SQLite answered "database is locked". The batch is then held and retried when the database
answers again (``SqlStore.unavailable`` / ``SqlStore.ping``); it is never dead-lettered.

Everything else (a constraint violation, a programming error, a value the schema refuses) is
*not* transient: the service layer isolates the message that causes it and dead-letters it.

PostgreSQL errors are classified by SQLSTATE: the ``pgcode`` a server error carries, or — for a
client-side failure such as "could not connect" / "server closed the connection unexpectedly",
which has none — by being an ``OperationalError`` at all. SQLite errors by their result code
(``sqlite_errorname``) or, when absent, their message.

A *conflict* (``is_conflict``) is neither: a unique-key violation. Two tracking instances that
take the same event (a department's retry delivered to both) or open the same case at the same
moment both pass their checks; the first commit wins and the second insert violates the key.
The service layer retries such a transaction a few times (it then sees the winner's commit)
before treating the error as the event's own.
"""

from __future__ import annotations

import sqlite3
from functools import cache

import psycopg2
import psycopg2.errorcodes
import psycopg2.errors
import sqlalchemy as sa

from pantau_platform.errors import causes

TRANSIENT_SQLSTATE_CLASSES = frozenset({
    "08",  # connection exception (refused, dropped, failed to establish)
    "40",  # transaction rollback: serialization failure, deadlock detected
    "53",  # insufficient resources: too many connections, disk full, out of memory
    "57",  # operator intervention: shutting down, starting up, pg_terminate_backend, timeout
    "58",  # system error: I/O error
})
TRANSIENT_SQLSTATES = frozenset({
    "25006",  # read_only_sql_transaction: connected to a standby during a failover
    "55P03",  # lock_not_available (lock_timeout)
    "55006",  # object_in_use
    "HV00N",  # fdw_unable_to_establish_connection
})
SQLITE_TRANSIENT_CODES = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL",
                          "SQLITE_CANTOPEN", "SQLITE_PROTOCOL")
SQLITE_TRANSIENT_MESSAGES = ("database is locked", "database table is locked",
                             "database schema is locked", "disk i/o error",
                             "database or disk is full", "unable to open database file",
                             "locking protocol")


@cache
def _sqlstates() -> dict[type, str]:
    """psycopg2's exception class of every SQLSTATE → that SQLSTATE (for errors built without
    a server answer, whose ``pgcode`` is None)."""
    found: dict[type, str] = {}
    for name in dir(psycopg2.errorcodes):
        code = getattr(psycopg2.errorcodes, name)
        if name.isupper() and isinstance(code, str) and len(code) == 5:
            try:
                found.setdefault(psycopg2.errors.lookup(code), code)
            except KeyError:
                continue
    return found


def sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE of a psycopg2 error (None for client-side failures)."""
    code = getattr(error, "pgcode", None)
    if isinstance(code, str) and code:
        return code
    return _sqlstates().get(type(error))


def _postgresql_transient(error: BaseException | None) -> bool | None:
    """True/False for a psycopg2 error, None when ``error`` is not one."""
    if not isinstance(error, psycopg2.Error):
        return None
    if isinstance(error, psycopg2.InterfaceError):  # "connection already closed"
        return True
    code = sqlstate(error)
    if code is None:
        # no SQLSTATE: the driver itself failed to reach or keep the server
        return isinstance(error, psycopg2.OperationalError)
    return code[:2] in TRANSIENT_SQLSTATE_CLASSES or code in TRANSIENT_SQLSTATES


def _sqlite_transient(error: BaseException | None) -> bool | None:
    if not isinstance(error, sqlite3.Error):
        return None
    if not isinstance(error, sqlite3.OperationalError):
        return False
    name = getattr(error, "sqlite_errorname", None)
    if isinstance(name, str) and name:
        return name.startswith(SQLITE_TRANSIENT_CODES)
    message = str(error).lower()
    return any(text in message for text in SQLITE_TRANSIENT_MESSAGES)


def is_transient(exc: BaseException) -> bool:
    """True if ``exc`` (a SQLAlchemy error, a DB-API error, or one raised ``from`` either)
    means the database is away for now; see the module docstring."""
    for error in causes(exc):
        verdict = _one(error)
        if verdict is not None:
            return verdict
    return False


def _one(error: BaseException) -> bool | None:
    """The verdict on one exception, or None to look at what caused it."""
    if isinstance(error, sa.exc.TimeoutError):  # the connection pool stayed exhausted
        return True
    if isinstance(error, sa.exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, sa.exc.InterfaceError):
            return True
        for verdict in (_postgresql_transient(error.orig), _sqlite_transient(error.orig)):
            if verdict is not None:
                return verdict
        return isinstance(error, sa.exc.OperationalError)
    for verdict in (_postgresql_transient(error), _sqlite_transient(error)):
        if verdict is not None:
            return verdict
    if isinstance(error, (ConnectionError, TimeoutError)):
        return True
    return None


def unavailable(exc: BaseException) -> str | None:
    """``"database"`` if ``exc`` means the database is away, else None (see ``is_transient``)."""
    return "database" if is_transient(exc) else None


UNIQUE_VIOLATION = "23505"


def is_conflict(exc: BaseException) -> bool:
    """True if ``exc`` (or what caused it) is a unique-key violation (PostgreSQL 23505, SQLite
    "UNIQUE constraint failed")."""
    for error in causes(exc):
        if isinstance(error, sa.exc.DBAPIError) and error.orig is not None:
            error = error.orig
        if isinstance(error, psycopg2.Error) and sqlstate(error) == UNIQUE_VIOLATION:
            return True
        if isinstance(error, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(error):
            return True
    return False
