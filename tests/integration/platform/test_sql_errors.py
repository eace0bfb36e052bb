"""On real PostgreSQL: a failed write's error — its text, its traceback, the driver's exception
— carries no row value, for both of Pantau's engine factories, and is still classified as
before (class, SQLSTATE, tracking's conflict check)."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator

import psycopg2
import pytest
import sqlalchemy as sa

from pantau_platform.sql import engine_for
from pantau_platform.sql_insert import insert_rows
from pantau_tracking.adapters.database import create_engine
from pantau_tracking.adapters.failures import is_conflict, sqlstate
from tests.conftest import fresh_schema

NAME, NIK = "Budi Santoso", "3273012345678901"
FACTORIES: dict[str, Callable[[str], sa.Engine]] = {"platform": engine_for,
                                                      "tracking": create_engine}


@pytest.fixture(params=sorted(FACTORIES))
def engine(request: pytest.FixtureRequest, postgres_url: str) -> Iterator[sa.Engine]:
    with fresh_schema(postgres_url, "e") as url:
        engine = FACTORIES[request.param](url)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE applicants (id int PRIMARY KEY, name text UNIQUE,"
                " nik text NOT NULL CHECK (length(nik) = 16), born date)")
            connection.execute(sa.text("INSERT INTO applicants VALUES (1, :name, :nik, NULL)"),
                               {"name": NAME, "nik": NIK})
        yield engine
        engine.dispose()


def failure(engine: sa.Engine, statement: str, **values: object) -> sa.exc.DBAPIError:
    with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError) as caught:
        connection.execute(sa.text(statement), values)
    return caught.value


INSERT = "INSERT INTO applicants VALUES (:id, :name, :nik, CAST(:born AS date))"
CASES = {
    # the statement's values, the SQLSTATE, what the message still says
    "not null (Failing row contains …)": (dict(id=2, name=NAME + " II", nik=None, born=None),
                                          "23502", 'column "nik" of relation "applicants"'),
    "check (Failing row contains …)": (dict(id=2, name=NAME + " II", nik=NIK[:4], born=None),
                                       "23514", 'check constraint "applicants_nik_check"'),
    "unique (Key (name)=(…))": (dict(id=2, name=NAME, nik=NIK, born=None),
                                "23505", 'unique constraint "applicants_name_key"'),
    "bad input (the value in the message, and LINE 1 quoting the statement)": (
        dict(id=2, name=NAME + " II", nik=NIK, born=NAME), "22007",
        'invalid input syntax for type date: "…"'),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_row_value_in_the_error_or_its_traceback(engine: sa.Engine, case: str) -> None:
    values, code, still_says = CASES[case]
    error = failure(engine, INSERT, **values)
    shown = "".join(traceback.format_exception(error)) + str(error) + repr(error.orig)
    for secret in (NAME, NIK, NIK[:4], "Failing row", "DETAIL", "LINE 1"):
        assert secret not in shown, f"{secret!r} in {shown}"
    assert still_says in str(error) and still_says in str(error.orig)
    assert isinstance(error.orig, psycopg2.Error) and sqlstate(error.orig) == code
    assert is_conflict(error) is (code == "23505")


def test_the_batch_insert_path_and_a_failing_commit_are_rewritten_too(
        engine: sa.Engine) -> None:
    """``insert_rows`` (driver SQL: tracking's main write path) and a deferred constraint that
    fails only at COMMIT go through the same listener."""
    table = sa.Table("applicants", sa.MetaData(), autoload_with=engine)
    with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError) as caught:
        insert_rows(connection, table, [{"id": 3, "name": NAME + " III", "nik": None}])
    with engine.connect() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE later (nik text, CONSTRAINT later_nik UNIQUE (nik)"
            " DEFERRABLE INITIALLY DEFERRED)")
        connection.commit()
    with pytest.raises(sa.exc.DBAPIError) as at_commit, engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO later VALUES (:n), (:n)"), {"n": NIK})
    for error in (caught.value, at_commit.value):
        shown = "".join(traceback.format_exception(error))
        assert NAME not in shown and NIK not in shown and "DETAIL" not in shown, shown


def test_errors_without_a_server_message_are_left_alone(engine: sa.Engine) -> None:
    error = failure(engine, "SELECT * FROM no_such_table")
    assert 'relation "no_such_table" does not exist' in str(error)  # an identifier, kept
