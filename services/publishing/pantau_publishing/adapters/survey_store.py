"""The SKM answers in the citizen store (``PANTAU_CITIZEN_DATABASE_URL``; SQLite in development,
PostgreSQL in production): implements ``service.ports.SurveyResponses``.

Table ``skm_responses``: the receipt (public id; the primary key is the one-answer-per-case
rule, enforced by the database, so two simultaneous posts still store one), the service place,
the month (``YYYY-MM``) and the nine scores. Deliberately no IP address, no user agent and no
timestamp finer than the month (docs/privacy.md). Tables are created at first use under the
schema lock ``SCHEMA_LOCK_ID`` (several portal replicas may start together).
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from pantau_platform.sql import create_tables, engine_for, transact, upsert
from pantau_publishing.domain.skm import FIELDS
from pantau_publishing.service.ports import SurveyResponse, SurveyUnavailable

SCHEMA_LOCK_ID = 0x50414E5441550301  # "PANTAU" + 0x0301: publishing's SKM table
_metadata = sa.MetaData()
responses = sa.Table(
    "skm_responses", _metadata,
    sa.Column("receipt_number", sa.String(64), primary_key=True),
    sa.Column("jurisdiction_code", sa.String(64), nullable=False),
    sa.Column("department_code", sa.String(64), nullable=False),
    sa.Column("service_code", sa.String(64), nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
    *(sa.Column(name, sa.SmallInteger, sa.CheckConstraint(f"{name} BETWEEN 1 AND 4"),
                nullable=False) for name in FIELDS),
    sa.Index("skm_responses_place", "jurisdiction_code", "department_code", "service_code"),
)


def _create(engine: sa.Engine) -> None:
    """Create the table; once more if another process created it between our check and our
    CREATE (SQLite has no advisory lock: two processes starting on one file can race)."""
    try:
        create_tables(engine, _metadata, SCHEMA_LOCK_ID)
    except sa.exc.OperationalError as exc:
        if "already exists" not in str(exc):
            raise
        create_tables(engine, _metadata, SCHEMA_LOCK_ID)


class SqlSurveyStore:
    """``SurveyResponses`` over SQLAlchemy; the engine and tables are made on first use."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: sa.Engine | None = None
        self._lock = threading.Lock()

    def _ready(self) -> sa.Engine:
        with self._lock:
            if self._engine is None:
                engine = engine_for(self._url)
                try:
                    _create(engine)
                except sa.exc.OperationalError as exc:
                    engine.dispose()
                    raise SurveyUnavailable(f"citizen store: {type(exc).__name__}") from exc
                self._engine = engine
            return self._engine

    def add(self, response: SurveyResponse) -> bool:
        engine = self._ready()
        row = {"receipt_number": response.receipt,
               "jurisdiction_code": response.jurisdiction,
               "department_code": response.department, "service_code": response.service,
               "month": response.month, **dict(zip(FIELDS, response.scores, strict=True))}
        statement = upsert(engine, responses).values(**row).on_conflict_do_nothing(
            index_elements=["receipt_number"])
        inserted = transact(engine, "skm answer", lambda c: c.execute(statement).rowcount,
                            SurveyUnavailable)
        return bool(inserted)

    def has_answered(self, receipt: str) -> bool:
        engine = self._ready()
        query = sa.select(sa.literal(1)).where(responses.c.receipt_number == receipt)
        return bool(transact(engine, "skm lookup",
                             lambda c: c.execute(query).first() is not None, SurveyUnavailable))

    def totals(self, jurisdiction: str, department: str,
               service: str) -> tuple[int, tuple[int, ...]]:
        engine = self._ready()
        query = sa.select(sa.func.count(), *(sa.func.coalesce(sa.func.sum(responses.c[name]), 0)
                                             for name in FIELDS)).where(
            responses.c.jurisdiction_code == jurisdiction,
            responses.c.department_code == department, responses.c.service_code == service)
        row = transact(engine, "skm totals", lambda c: c.execute(query).one(), SurveyUnavailable)
        return int(row[0]), tuple(int(v) for v in row[1:])

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
