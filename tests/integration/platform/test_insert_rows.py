"""``insert_rows`` stores exactly what SQLAlchemy's ``executemany`` insert stores, on both
databases, and falls back to it where it cannot (a Python-side default, uneven rows)."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pantau_platform.sql import engine_for
from pantau_platform.sql_insert import _plan, insert_rows


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


def table(metadata: sa.MetaData, name: str) -> sa.Table:
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("text", sa.String(300)),
        sa.Column("body", sa.LargeBinary),
        sa.Column("doc", sa.JSON),
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("count", sa.BigInteger),
        sa.Column("flag", sa.Boolean),
        sa.Column("colour", sa.Enum(Colour, native_enum=False)),
        sa.Column("made", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = engine_for(database_url)
    yield engine
    engine.dispose()


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
               max_size=40)
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | TEXT,
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
ROW = st.fixed_dictionaries({
    "text": st.none() | TEXT, "body": st.none() | st.binary(max_size=64), "doc": JSON,
    "at": st.none() | st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1),
                                   timezones=st.just(UTC)),
    "count": st.integers(-2**63, 2**63 - 1), "flag": st.none() | st.booleans(),
    "colour": st.none() | st.sampled_from(Colour)})


def stored(engine: sa.Engine, t: sa.Table) -> list[tuple[Any, ...]]:
    columns = [c for c in t.c if c.key not in ("id", "made")]
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(*columns).order_by(t.c.id))]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=30))
def test_the_same_rows_as_sqlalchemy(engine: sa.Engine, rows: list[dict[str, Any]]) -> None:
    metadata = sa.MetaData()
    ours, theirs = table(metadata, "ours"), table(metadata, "theirs")
    metadata.create_all(engine)
    try:
        assert _plan(engine.dialect, ours, rows) is not None  # the fast path, not the fallback
        with engine.begin() as connection:
            insert_rows(connection, ours, rows)
            connection.execute(theirs.insert(), rows)
        assert stored(engine, ours) == stored(engine, theirs)
    finally:
        metadata.drop_all(engine)


def test_a_python_default_or_uneven_rows_go_through_sqlalchemy(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    t = sa.Table("defaults", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(20)),
                 sa.Column("kind", sa.String(20), default="plain"))
    metadata.create_all(engine)
    try:
        assert _plan(engine.dialect, t, [{"name": "a"}]) is None
        assert _plan(engine.dialect, t, [{"name": "a", "kind": "x"}, {"name": "b"}]) is None
        with engine.begin() as connection:
            insert_rows(connection, t, [{"name": "a"}, {"name": "b"}])
            insert_rows(connection, t, [])
        with engine.connect() as connection:
            assert connection.execute(sa.select(t.c.name, t.c.kind).order_by(t.c.id)).all() \
                == [("a", "plain"), ("b", "plain")]
    finally:
        metadata.drop_all(engine)


def test_a_driver_error_is_sqlalchemys_and_hides_the_row_values(database_url: str) -> None:
    """An error comes back as SQLAlchemy's own (what the stores' "is the database away?"
    checks read), and an engine with ``hide_parameters`` keeps the values out of its text."""
    engine = engine_for(database_url, hide_parameters=True)
    metadata = sa.MetaData()
    t = sa.Table("unique_rows", metadata, sa.Column("name", sa.String(40), primary_key=True))
    metadata.create_all(engine)
    try:
        with pytest.raises(sa.exc.IntegrityError) as raised, engine.begin() as connection:
            insert_rows(connection, t, [{"name": "Siti Aminah"}, {"name": "Siti Aminah"}])
        assert "Siti" not in str(raised.value).split("[SQL:")[1]
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_rows_go_in_the_connections_own_transaction(engine: sa.Engine) -> None:
    """No transaction begun yet: the insert begins SQLAlchemy's (autobegin), so the caller's
    commit commits it and its rollback undoes it."""
    metadata = sa.MetaData()
    t = sa.Table("tx_rows", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(20)))
    metadata.create_all(engine)
    try:
        with engine.connect() as connection:
            insert_rows(connection, t, [{"name": "kept"}])
            assert connection.in_transaction()
            connection.commit()
            insert_rows(connection, t, [{"name": "undone"}])
            connection.rollback()
        with engine.connect() as connection:
            assert connection.execute(sa.select(t.c.name)).scalars().all() == ["kept"]
    finally:
        metadata.drop_all(engine)
