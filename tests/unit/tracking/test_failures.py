"""Which database errors hold a batch (the database is away) and which are the event's own fault
— classified from real exception objects of psycopg2, sqlite3 and SQLAlchemy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg2
import psycopg2.errors as pg
import pytest
import sqlalchemy as sa

from pantau_contracts.envelope import ContractViolation, FieldProblem
from pantau_tracking.adapters.failures import is_conflict, is_transient, sqlstate, unavailable


def wrapped(cls: type[sa.exc.DBAPIError], orig: BaseException,
            **kwargs: bool) -> sa.exc.DBAPIError:
    """As SQLAlchemy raises a driver error: ``cls(statement, params, orig)``."""
    return cls("INSERT INTO cases ...", {}, orig, **kwargs)  # type: ignore[arg-type]


TRANSIENT = [
    pytest.param(wrapped(sa.exc.OperationalError, psycopg2.OperationalError(
        "server closed the connection unexpectedly\n\tThis probably means the server "
        "terminated abnormally")), id="connection-lost"),
    pytest.param(wrapped(sa.exc.OperationalError, psycopg2.OperationalError(
        'connection to server at "127.0.0.1", port 5432 failed: FATAL:  the database system is '
        "not yet accepting connections")), id="not-yet-accepting"),
    pytest.param(wrapped(sa.exc.OperationalError, psycopg2.OperationalError(
        'connection to server at "127.0.0.1", port 5432 failed: FATAL:  sorry, too many clients '
        "already")), id="too-many-clients-at-connect"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.AdminShutdown(
        "terminating connection due to administrator command")), id="pg_terminate_backend"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.CannotConnectNow(
        "the database system is starting up")), id="starting-up"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.CrashShutdown(
        "terminating connection because of crash of another server process")), id="crash"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.TooManyConnections(
        "sorry, too many clients already")), id="too-many-clients"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.SerializationFailure(
        "could not serialize access due to concurrent update")), id="serialization"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.DeadlockDetected("deadlock detected")),
                 id="deadlock"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.QueryCanceled(
        "canceling statement due to statement timeout")), id="statement-timeout"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.LockNotAvailable(
        "canceling statement due to lock timeout")), id="lock-timeout"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.DiskFull(
        "could not extend file: No space left on device")), id="disk-full"),
    pytest.param(wrapped(sa.exc.InternalError, pg.ReadOnlySqlTransaction(
        "cannot execute INSERT in a read-only transaction")), id="standby-after-failover"),
    pytest.param(wrapped(sa.exc.InterfaceError, psycopg2.InterfaceError(
        "connection already closed")), id="connection-closed"),
    pytest.param(wrapped(sa.exc.DBAPIError, psycopg2.DatabaseError("SSL SYSCALL error: EOF"),
                         connection_invalidated=True), id="invalidated"),
    pytest.param(sa.exc.TimeoutError("QueuePool limit of size 10 overflow 5 reached"),
                 id="pool-exhausted"),
    pytest.param(psycopg2.OperationalError("could not connect to server"), id="unwrapped"),
    pytest.param(wrapped(sa.exc.OperationalError, sqlite3.OperationalError(
        "database is locked")), id="sqlite-locked"),
    pytest.param(wrapped(sa.exc.OperationalError, sqlite3.OperationalError(
        "database table is locked")), id="sqlite-table-locked"),
    pytest.param(wrapped(sa.exc.OperationalError, sqlite3.OperationalError("disk I/O error")),
                 id="sqlite-io"),
    pytest.param(wrapped(sa.exc.OperationalError, sqlite3.OperationalError(
        "database or disk is full")), id="sqlite-full"),
]

POISON = [
    pytest.param(wrapped(sa.exc.IntegrityError, pg.UniqueViolation(
        "duplicate key value violates unique constraint")), id="unique"),
    pytest.param(wrapped(sa.exc.ProgrammingError, pg.UndefinedTable(
        'relation "cases" does not exist')), id="undefined-table"),
    pytest.param(wrapped(sa.exc.DataError, pg.NumericValueOutOfRange("integer out of range")),
                 id="out-of-range"),
    pytest.param(wrapped(sa.exc.DataError, pg.CharacterNotInRepertoire(
        "invalid byte sequence for encoding UTF8: 0x00")), id="nul-byte"),
    pytest.param(wrapped(sa.exc.OperationalError, pg.StatementTooComplex(
        "stack depth limit exceeded")), id="program-limit"),
    pytest.param(wrapped(sa.exc.OperationalError, sqlite3.OperationalError(
        "no such table: cases")), id="sqlite-no-table"),
    pytest.param(wrapped(sa.exc.IntegrityError, sqlite3.IntegrityError(
        "UNIQUE constraint failed: cases.receipt_number")), id="sqlite-unique"),
    pytest.param(AttributeError("'NoneType' object has no attribute 'receipt_number'"),
                 id="bug"),
    pytest.param(ContractViolation([FieldProblem("data", "missing", "an object")]),
                 id="contract"),
    pytest.param(ValueError("bad"), id="value"),
]


@pytest.mark.parametrize("exc", TRANSIENT)
def test_transient_errors_name_the_database(exc: BaseException) -> None:
    assert is_transient(exc)
    assert unavailable(exc) == "database"


@pytest.mark.parametrize("exc", POISON)
def test_the_events_own_errors_are_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc)
    assert unavailable(exc) is None


def test_sqlstate_from_the_server_code_or_the_class() -> None:
    assert sqlstate(pg.AdminShutdown("x")) == "57P01"
    assert sqlstate(pg.TooManyConnections("x")) == "53300"
    assert sqlstate(pg.SerializationFailure("x")) == "40001"
    assert sqlstate(psycopg2.OperationalError("x")) is None


def test_an_error_raised_from_a_transient_one_is_transient() -> None:
    cause = wrapped(sa.exc.OperationalError, pg.AdminShutdown("terminating connection"))
    try:
        try:
            raise cause
        except sa.exc.OperationalError as exc:
            raise RuntimeError("commit failed") from exc
    except RuntimeError as outer:
        assert unavailable(outer) == "database"
    try:
        try:
            raise cause
        except sa.exc.OperationalError:
            raise ValueError("unrelated bug while handling it")  # noqa: B904 - the point
    except ValueError as outer:
        assert unavailable(outer) is None  # only an explicit cause counts


def test_a_real_sqlite_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with pytest.raises(sa.exc.OperationalError) as caught:
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        assert "database is locked" in str(caught.value)
        assert unavailable(caught.value) == "database"
        with pytest.raises(sa.exc.OperationalError) as missing:
            with sa.create_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}").begin() as conn:
                conn.execute(sa.text("SELECT * FROM nowhere"))
        assert unavailable(missing.value) is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()


def test_a_real_refused_postgresql_connection() -> None:
    engine = sa.create_engine("postgresql+psycopg2://pantau:x@127.0.0.1:1/none",
                              connect_args={"connect_timeout": 2})
    try:
        with pytest.raises(sa.exc.OperationalError) as caught:
            with engine.connect():
                pass
        assert unavailable(caught.value) == "database"
    finally:
        engine.dispose()


@pytest.mark.parametrize("exc", [p for p in POISON if p.id in ("unique", "sqlite-unique")])
def test_unique_violations_are_conflicts_to_retry(exc: BaseException) -> None:
    assert is_conflict(exc) and not is_transient(exc)


@pytest.mark.parametrize("exc", [p for p in TRANSIENT + POISON
                                 if p.id not in ("unique", "sqlite-unique")])
def test_nothing_else_is_a_conflict(exc: BaseException) -> None:
    assert not is_conflict(exc)
