"""``insert_rows``: many rows into one table, stored exactly as SQLAlchemy's ``executemany``
insert stores them, without its per-row parameter processing.

Why: the services write a batch's rows (tracking's history, dedup keys, outbox and log queue;
the log's leaves and nodes; intake's outcomes) in one statement per table, and SQLAlchemy's
``insertmanyvalues`` spends about 22 µs of Python per row building parameter dictionaries
before the driver sees them (measured on PostgreSQL, 1,000 outbox-shaped rows: 42–56 ms of CPU
against 21–28 ms for the driver's own ``execute_values`` and 25–30 ms for this module's pages;
``docs/performance.md``). At 5–8 rows per applied event that was a tenth of tracking's CPU.

How: each value goes through its column's own bind processor for the connection's dialect
(what SQLAlchemy applies: JSON serialisation, binary wrapping, …), then to the driver:

* PostgreSQL (psycopg2): multi-row ``VALUES`` pages, every value a parameter, executed through
  SQLAlchemy as driver SQL — its transaction, its error wrapping, ``hide_parameters`` — without
  its per-row work. It works in eventlet's green mode (``COPY`` does not).
* SQLite: the driver's ``executemany``.
* Anything else, or a statement this cannot reproduce exactly — a row without a column that
  has a Python-side default, rows with different keys, a column type that wraps its parameter
  in SQL (``bind_expression``) — goes through ``connection.execute(table.insert(), rows)``.

Runs in the caller's transaction; nothing is returned (no generated keys).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

PAGE_ROWS = 1000  # rows per multi-row VALUES statement on PostgreSQL


def insert_rows(connection: sa.Connection, table: sa.Table,
                rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by column key) into ``table`` on ``connection``."""
    if not rows:
        return
    plan = _plan(connection.dialect, table, rows)
    if plan is None:
        connection.execute(table.insert(), list(rows))
        return
    sql, columns = plan
    values = [tuple(row[key] if process is None else process(row[key])
                    for key, process in columns) for row in rows]
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(sql, values)
        return
    _insert_pages(connection, sql, values)


def _insert_pages(connection: sa.Connection, sql: str, values: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: ``PAGE_ROWS`` rows per multi-row ``VALUES`` statement, every value a
    parameter (one flat tuple; psycopg2 renders them in C), executed through SQLAlchemy: the
    statement joins the connection's transaction (autobegin), a driver error comes back as
    SQLAlchemy's (``OperationalError``…, a dropped connection invalidated) and an engine's
    ``hide_parameters`` keeps the row values out of its message (tracking: applicant data)."""
    prefix = sql.removesuffix("%s")
    row = "(" + ", ".join("%s" for _ in values[0]) + ")"
    for start in range(0, len(values), PAGE_ROWS):
        page = values[start:start + PAGE_ROWS]
        connection.exec_driver_sql(prefix + ", ".join([row] * len(page)),
                                   tuple(value for item in page for value in item))


Processor = Callable[[Any], Any] | None


def _plan(dialect: sa.Dialect, table: sa.Table,
          rows: Sequence[dict[str, Any]]) -> tuple[str, list[tuple[str, Processor]]] | None:
    """The driver statement and each column's bind processor, or None when only SQLAlchemy's
    own path stores these rows as it would."""
    if dialect.name not in ("sqlite", "postgresql") or dialect.driver not in ("pysqlite",
                                                                              "psycopg2"):
        return None
    keys = list(rows[0])
    if not keys:
        return None  # a row of defaults only: SQLAlchemy's own INSERT ... DEFAULT VALUES
    if any(len(row) != len(keys) or any(k not in row for k in keys) for row in rows):
        return None
    if any(key not in table.c for key in keys):
        return None
    missing = [c for c in table.c if c.key not in rows[0]]
    if any(c.default is not None for c in missing):
        return None  # SQLAlchemy would fill it in Python
    columns = [table.c[key] for key in keys]
    types = [c.type.dialect_impl(dialect) for c in columns]
    if any(getattr(t, "_has_bind_expression", False) for t in types):
        return None
    prepare = dialect.identifier_preparer
    names = ", ".join(prepare.format_column(c) for c in columns)
    target = prepare.format_table(table)
    marks = "%s" if dialect.name == "postgresql" else \
        "(" + ", ".join("?" for _ in columns) + ")"
    # identifiers quoted by the dialect from the table's own metadata; every value a parameter
    sql = f"INSERT INTO {target} ({names}) VALUES {marks}"  # noqa: S608
    return sql, [(key, t.bind_processor(dialect)) for key, t in zip(keys, types, strict=True)]
