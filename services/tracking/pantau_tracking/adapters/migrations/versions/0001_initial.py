"""Initial tracking schema: cases, case_history, applicants (private), processed_events,
pending_events, outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("receipt_number", sa.String(48), primary_key=True),
        sa.Column("jurisdiction", sa.String(63), nullable=False),
        sa.Column("department", sa.String(63), nullable=False),
        sa.Column("service_code", sa.String(63), nullable=False),
        sa.Column("catalogue_version", sa.String(100), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
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
    op.create_index("ix_cases_open_due", "cases", ["is_open", "due_date"])
    op.create_table(
        "case_history",
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
    )
    op.create_table(
        "applicants",
        sa.Column("receipt_number", sa.String(48), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("nik", sa.String(16)),
        sa.Column("phone", sa.String(20)),
        sa.Column("email", sa.String(320)),
        sa.Column("address", sa.String(500)),
        comment="PRIVATE applicant data: never published, never logged",
    )
    op.create_table(
        "processed_events",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("receipt_number", sa.String(48)),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(60)),
        sa.Column("detail", sa.Text),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "pending_events",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("receipt_number", sa.String(48), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_pending_events_receipt_number", "pending_events", ["receipt_number"])
    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("exchange", sa.String(100), nullable=False),
        sa.Column("routing_key", sa.String(255), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("receipt_number", sa.String(48)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])


def downgrade() -> None:
    for table in ("outbox", "pending_events", "processed_events", "applicants", "case_history",
                  "cases"):
        op.drop_table(table)
