"""``outbox.traceparent`` / ``tracestate``: the W3C trace context of the event that caused a row,
so the relay's publish span (and the consumer after it) continues that event's trace.

Nullable: rows written before this revision, and timer-made rows (overdue scan), have none.
``add_column`` works on SQLite and PostgreSQL alike (no batch mode needed).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("traceparent", sa.String(64), nullable=True))
    op.add_column("outbox", sa.Column("tracestate", sa.String(512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("tracestate")
        batch.drop_column("traceparent")
