"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/versions`` create them; this
module is what queries use. Keep both in step."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrement needs INTEGER

cases = sa.Table(
    "cases", metadata,
    sa.Column("receipt_number", sa.String(48), primary_key=True),
    sa.Column("jurisdiction", sa.String(63), nullable=False),
    sa.Column("department", sa.String(63), nullable=False),
    sa.Column("service_code", sa.String(63), nullable=False),
    sa.Column("catalogue_version", sa.String(100), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),  # ServiceDefinition JSON snapshot
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("stage_code", sa.String(63)),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("last_sequence", sa.BigInteger),
    sa.Column("kecamatan", sa.String(80)),
    sa.Column("channel", sa.String(20)),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("due_date", sa.Date),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("overdue_reported", sa.Boolean, nullable=False),
)

case_history = sa.Table(
    "case_history", metadata,
    sa.Column("receipt_number", sa.String(48), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("stage_code", sa.String(63)),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("actor_role", sa.String(41)),
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("event_id", sa.String(200)),
    sa.Column("event_source", sa.String(200)),
    # Two clocks (migration 0003). NULL on rows written before it: read as ``at``.
    sa.Column("received_at", sa.DateTime(timezone=True)),
    sa.Column("counted_at", sa.DateTime(timezone=True)),
    sa.Column("late_reported", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("reporting_delay_days", sa.Integer, nullable=False, server_default=sa.text("0")),
)

applicants = sa.Table(
    "applicants", metadata,
    sa.Column("receipt_number", sa.String(48), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("nik", sa.String(16)),
    sa.Column("phone", sa.String(20)),
    sa.Column("email", sa.String(320)),
    sa.Column("address", sa.String(500)),
    comment="PRIVATE applicant data: never published, never logged",
)

processed_events = sa.Table(
    "processed_events", metadata,
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("receipt_number", sa.String(48)),
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # applied | refused | duplicate
    sa.Column("reason", sa.String(60)),
    sa.Column("detail", sa.Text),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

pending_events = sa.Table(
    "pending_events", metadata,
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("receipt_number", sa.String(48), nullable=False, index=True),
    sa.Column("sequence", sa.BigInteger, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(300), nullable=False),
    sa.Column("exchange", sa.String(100), nullable=False),
    sa.Column("routing_key", sa.String(255), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("receipt_number", sa.String(48)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), index=True),
    # W3C trace context of the event that caused the row (0005; the relay's span continues it)
    sa.Column("traceparent", sa.String(64)),
    sa.Column("tracestate", sa.String(512)),
)

sa.Index("ix_cases_open_due", cases.c.is_open, cases.c.due_date)
# Partial (0006): the SLA gauges' queries cost what is open or late, not the whole history.
sa.Index("ix_cases_open_jurisdiction", cases.c.jurisdiction, cases.c.overdue_reported,
         postgresql_where=cases.c.is_open, sqlite_where=cases.c.is_open)
sa.Index("ix_case_history_late", case_history.c.receipt_number,
         postgresql_where=case_history.c.late_reported,
         sqlite_where=case_history.c.late_reported)
