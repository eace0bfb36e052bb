"""Two clocks per history step: ``case_history`` gets ``received_at``, ``counted_at`` (both
nullable: rows written before this revision read them as ``at``), ``late_reported`` (false) and
``reporting_delay_days`` (0). Only columns are added (no table rewrite, no backfill): SQLite adds
them with ``ALTER TABLE`` inside alembic's batch mode, PostgreSQL with plain ``ADD COLUMN``
(constant defaults need no rewrite since PostgreSQL 11).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_history") as batch:
        batch.add_column(sa.Column("received_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("counted_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("late_reported", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("reporting_delay_days", sa.Integer, nullable=False,
                                   server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("case_history") as batch:
        for column in ("reporting_delay_days", "late_reported", "counted_at", "received_at"):
            batch.drop_column(column)
